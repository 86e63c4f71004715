"""Feedback files for students: DIR/<student>/<topic>.html and .md, one per student and topic.

A page shows the score, every check with its points, each failure's message and the errors the
code raised when it ran. It shows nothing else about a check: no inputs, no expected values,
no seed beyond what the check's own message says.
"""
import os
import re

from ..checks.topics import TOPICS
from . import roster
from .htmlpage import esc, page, table
from .roster import points


LOAD_ERRORS = ("Your code raised these errors when it was run, before the checks; the checks "
               "used whatever it had defined:")


def title_of(unit):
    return TOPICS[unit].TITLE if unit in TOPICS else unit


def write(directory, results):
    """Write every student's pages under `directory`; returns the paths written."""
    students = roster.by_student(results)
    folders = roster.safe_names(students)
    written = []
    for student, units in students.items():
        folder = os.path.join(directory, folders[student])
        os.makedirs(folder, exist_ok=True)
        files = roster.safe_names(units)
        for unit, rs in units.items():
            base = os.path.join(folder, files[unit])
            for suffix, render in ((".html", as_html), (".md", as_markdown)):
                with open(base + suffix, "w", encoding="utf-8", errors="backslashreplace") as f:
                    f.write(render(student, unit, rs))
                written.append(base + suffix)
    return written


def file_name(result):
    return os.path.basename(result["submission"].rstrip("/\\")) or result["submission"]


def headline(rs):
    best = rs[0]
    text = f"{points(best['score'])} / {points(best['max_score'])}"
    if len(rs) > 1:
        text += f" (the best of {len(rs)} files handed in for this topic)"
    return text


# --- HTML

def as_html(student, unit, rs):
    title = f"{title_of(unit)}: feedback for {student}"
    parts = [f"<h1>{esc(title_of(unit))}</h1>",
             f"<p class=\"sub\">Feedback for <strong>{esc(student)}</strong></p>",
             f"<p class=\"score\">Score: {esc(headline(rs))}</p>"]
    for i, r in enumerate(rs):
        heading = f"File {esc(file_name(r))}: {points(r['score'])} / {points(r['max_score'])}"
        if i:
            heading += " (not counted: another file scored at least as much)"
        parts.append(f"<h2>{heading}</h2>")
        parts.append(result_html(r))
    return page(title, "\n".join(parts))


def result_html(r):
    if r.get("error"):
        return (f"<p class=\"failure msg\">This file could not be graded: {esc(r['error'])}</p>")
    out = []
    if r.get("load_errors"):
        items = "".join(f"<li class=\"msg\">{esc(e)}</li>" for e in r["load_errors"])
        out.append(f"<div class=\"note\"><p>{LOAD_ERRORS}</p><ul>{items}</ul></div>")
    checks = r.get("checks", [])
    passed = sum(bool(c["passed"]) for c in checks)
    out.append(f"<p>{passed} of {len(checks)} checks passed.</p>")
    rows = [[esc(c["name"]), f"<code>{esc(c['function'])}</code>",
             f"{points(c['score'])} / {points(c['max_score'])}",
             "<span class=\"pass\">passed</span>" if c["passed"]
             else "<span class=\"fail\">failed</span>"] for c in checks]
    if rows:
        out.append(table(["check", "function", "points", "result"], rows, numeric=(2,)))
    failures = [c for c in checks if not c["passed"]]
    if failures:
        out.append("<h3>What to fix</h3>")
    for c in failures:
        out.append(f"<div class=\"failure\"><p><strong>{esc(c['name'])}</strong> "
                   f"({points(c['score'])} / {points(c['max_score'])})</p>"
                   f"<p class=\"msg\">{esc(c['message'] or 'failed')}</p></div>")
    return "\n".join(out)


# --- Markdown

def md(text, block=False):
    """Text safe in Markdown: no HTML tag can open, emphasis, code, link and table characters
    are escaped, and, for text that starts lines (`block`), so is a leading heading, quote or
    list marker; line breaks are kept."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;")  # no tag can open
    text = re.sub(r"([\\`*_\[\]|~])", r"\\\1", text)
    start = r"(?m)^" if block else r"(?<=\n)"  # where a line of the text starts a line
    text = re.sub(start + r"([ \t]*)([#+>-])", r"\1\\\2", text)
    text = re.sub(start + r"([ \t]*\d+)\.", r"\1\\.", text)
    return text.replace("\r", "").replace("\n", "  \n")


def as_markdown(student, unit, rs):
    lines = [f"# {md(title_of(unit))}", "", f"Feedback for **{md(student)}**", "",
             f"**Score: {md(headline(rs))}**", ""]
    for i, r in enumerate(rs):
        heading = f"## File {md(file_name(r))}: {points(r['score'])} / {points(r['max_score'])}"
        if i:
            heading += " (not counted: another file scored at least as much)"
        lines += [heading, ""] + result_markdown(r)
    return "\n".join(lines).rstrip() + "\n"


def result_markdown(r):
    if r.get("error"):
        return [f"This file could not be graded: {md(r['error'])}", ""]
    out = []
    if r.get("load_errors"):
        out += [LOAD_ERRORS, ""]
        out += [f"- {md(e)}" for e in r["load_errors"]] + [""]
    checks = r.get("checks", [])
    passed = sum(bool(c["passed"]) for c in checks)
    out += [f"{passed} of {len(checks)} checks passed.", ""]
    if checks:
        out += ["| check | function | points | result |", "|---|---|---:|---|"]
        out += [f"| {md(c['name'])} | {md(c['function'])} | "
                f"{points(c['score'])} / {points(c['max_score'])} | "
                f"{'passed' if c['passed'] else '**failed**'} |" for c in checks]
        out.append("")
    failures = [c for c in checks if not c["passed"]]
    if failures:
        out += ["### What to fix", ""]
    for c in failures:
        out += [f"**{md(c['name'])}** ({points(c['score'])} / {points(c['max_score'])})", "",
                md(c["message"] or "failed", block=True), ""]
    return out
