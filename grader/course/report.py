"""Rendering results: a readable text report, or one JSON object (docs/exercise-api.md)."""
import json
import unicodedata


def as_json(results, protections=None, meta=None):
    """The JSON document of a batch: one line per result (json's C encoder writes those; the
    indenting one is pure Python, and slow for a class of thousands), the rest indented."""
    rest = dict(meta or {})
    if protections:
        rest["isolation"] = protections
    lines = ",\n".join("    " + json.dumps(r) for r in results)
    text = '{\n  "results": ' + (f"[\n{lines}\n  ]" if results else "[]")
    for key, value in rest.items():
        text += f",\n  {json.dumps(key)}: " + json.dumps(value, indent=2).replace("\n", "\n  ")
    return text + "\n}"


def clean(text):
    """`text` safe to print on a terminal: every control or format character (ESC, CR, backspace,
    newline, bidirectional overrides, ...) shown as an escape such as \\x1b, so that nothing a
    student wrote into a file name or a message can move the cursor or hide a line."""
    text = str(text)
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() or c == " " else _escape(c) for c in text)


def _escape(c):
    if unicodedata.category(c) == "Zs":  # another kind of space: harmless
        return " "
    code = ord(c)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def score(x):
    return f"{x:g}"


def describe_protections(p):
    """One line of what is in force, and one more per thing that is not protected."""
    parts = [
        "separate process",
        p.get("uid", ""),
        "own pid namespace" if p.get("pid_namespace") else "no pid namespace",
        "own IPC namespace" if p.get("ipc_namespace") else "",
        "own session keyring" if p.get("session_keyring") else "",
        f"network: {p.get('network', '?')}",
        f"filesystem: {p.get('filesystem', '?')}",
        f"cgroups: {p['cgroups']}" if p.get("cgroups") else "",
        f"time limits: {p['time_limits']}" if p.get("time_limits") else "",
    ]
    lines = ["; ".join(x for x in parts if x)]
    lines += [f"not protected: {gap}" for gap in p.get("not_protected", [])]
    return "\n".join(lines)


def as_text(results, protections=None, meta=None, verbose=False):
    lines = []
    if meta:
        lines.append(f"seed {meta.get('seed')}; hidden checks "
                     f"{'on' if meta.get('hidden_checks') else 'off (public checks only)'}")
    if protections:
        lines += [clean(line) for line in
                  ("isolation: " + describe_protections(protections)).splitlines()]
    if lines:
        lines.append("")
    width = max([len(clean(r["submission"])) for r in results] + [10])
    for r in results:
        head = f"{clean(r['submission']):<{width}}  {clean(r['topic'] or '-'):<15} "
        head += f"{score(r['score']):>5} / {score(r['max_score']):<4}"
        lines.append(head)
        for note in r.get("notes", []):
            lines.append(f"    note: {clean(note)}")
        if r.get("error"):
            lines.append(f"    error: {clean(r['error'])}")
            continue
        for e in r.get("load_errors", [])[:5]:
            lines.append(f"    note: running your code: {clean(e)}")
        passed = [c for c in r["checks"] if c["passed"]]
        for c in r["checks"]:
            if c["passed"] and not verbose:
                continue
            mark = "ok  " if c["passed"] else "FAIL"
            lines.append(f"    {mark} {clean(c['name'])} "
                         f"[{score(c['score'])}/{score(c['max_score'])}]")
            if c["message"]:
                lines.append(f"         {clean(c['message'])}")
        if not verbose and passed:
            lines.append(f"    ok   {len(passed)} of {len(r['checks'])} checks passed")
    graded = [r for r in results if not r.get("error")]
    lines.append("")
    summary = f"{len(results)} submission(s)"
    if graded:
        total = sum(r["score"] for r in graded) / len(graded)
        summary += f"; mean score of the graded ones {total:.2f}"
    failed = len(results) - len(graded)
    if failed:
        summary += f"; {failed} could not be graded"
    lines.append(summary)
    return "\n".join(lines)
