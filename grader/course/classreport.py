"""The class report: one self-contained HTML page for the instructor.

Score distribution per topic (inline SVG histograms), the most common mistakes (failing checks
grouped by their diagnosis), what could not be graded and why, the scores of every student, and
the protections that were in force.
"""
import re
import statistics

from .. import __version__
from ..checks.topics import TOPICS
from . import roster
from .htmlpage import esc, page, table
from .roster import points

MAX_NAMES = 5  # students named per mistake


def write(path, results, protections=None, meta=None):
    with open(path, "w", encoding="utf-8", errors="backslashreplace") as f:
        f.write(as_html(results, protections, meta))


def as_html(results, protections=None, meta=None):
    meta = meta or {}
    students = roster.by_student(results)
    topics = roster.topics_in(results)
    graded = sum(not r.get("error") for r in results)
    parts = ["<h1>Class report</h1>",
             f"<p class=\"sub\">{len(students)} students, {len(results)} submissions "
             f"({graded} graded, {len(results) - graded} could not be graded); seed "
             f"{esc(meta.get('seed', '?'))}; hidden checks "
             f"{'on' if meta.get('hidden_checks') else 'off'}; grader {esc(__version__)}</p>"]
    parts += distribution_section(students, topics)
    parts += mistakes_section(results)
    parts += ungradable_section(results)
    parts += scores_section(students, topics)
    parts += protections_section(protections)
    return page("Class report", "\n".join(parts))


# --- score distributions

def topic_scores(students, topic):
    """The counted (score, max_score) of every student who handed something in for `topic`."""
    out = []
    for units in students.values():
        if topic in units:
            r = units[topic][0]
            out.append((r["score"], r["max_score"]))
    return out


def distribution_section(students, topics):
    out = ["<h2>Score distribution per topic</h2>"]
    if not topics:
        return out + ["<p>No submission had a topic.</p>"]
    rows, plots = [], []
    for topic in topics:
        scores = topic_scores(students, topic)
        values = [s for s, _ in scores]
        top = max(m for _, m in scores)
        rows.append([esc(TOPICS[topic].TITLE if topic in TOPICS else topic), str(len(values)),
                     points(round(statistics.mean(values), 2)),
                     points(round(statistics.median(values), 2)), points(top),
                     str(sum(s >= m > 0 for s, m in scores)), str(sum(s == 0 for s in values))])
        plots.append(histogram(topic, scores))
    out.append(table(["topic", "students", "mean", "median", "out of", "full marks",
                      "zero"], rows, numeric=(1, 2, 3, 4, 5, 6)))
    out.append("<div class=\"plots\">" + "\n".join(plots) + "</div>")
    return out


def histogram(topic, scores, bins=10, width=300, height=150):
    """An inline SVG bar chart of the students' scores as a fraction of the maximum."""
    counts = [0] * bins
    for score, top in scores:
        fraction = score / top if top else 0.0
        counts[min(int(fraction * bins), bins - 1)] += 1
    tallest = max(counts) or 1
    left, bottom, top_pad = 28, 22, 14
    plot_w, plot_h = width - left - 16, height - bottom - top_pad
    bar_w = plot_w / bins
    shapes = []
    for i, n in enumerate(counts):
        h = plot_h * n / tallest
        x, y = left + i * bar_w, top_pad + plot_h - h
        shapes.append(f'<rect x="{x + 1:.1f}" y="{y:.1f}" width="{bar_w - 2:.1f}" '
                      f'height="{h:.1f}" fill="#3a6ea5"><title>{i * 100 // bins}-'
                      f'{(i + 1) * 100 // bins}%: {n}</title></rect>')
        if n:
            shapes.append(f'<text x="{x + bar_w / 2:.1f}" y="{y - 3:.1f}" font-size="10" '
                          f'text-anchor="middle">{n}</text>')
    axis_y = top_pad + plot_h
    shapes.append(f'<line x1="{left}" y1="{axis_y}" x2="{left + plot_w}" y2="{axis_y}" '
                  'stroke="#333"/>')
    for fraction in (0, 0.5, 1):
        x = left + plot_w * fraction
        shapes.append(f'<text x="{x:.1f}" y="{axis_y + 14}" font-size="10" '
                      f'text-anchor="middle">{int(fraction * 100)}%</text>')
    shapes.append(f'<text x="{left - 4}" y="{top_pad + 4}" font-size="10" text-anchor="end">'
                  f'{tallest}</text>')
    name = TOPICS[topic].TITLE if topic in TOPICS else topic
    label = f"{name}: students per score band ({len(scores)} students)"
    return (f'<figure><svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
            f'height="{height}" viewBox="0 0 {width} {height}" role="img" '
            f'aria-label="{esc(label)}"><title>{esc(label)}</title>{"".join(shapes)}</svg>'
            f"<figcaption>{esc(name)}: share of the maximum score</figcaption></figure>")


# --- common mistakes

NUMBER = re.compile(r"[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?")
ARRAY = re.compile(r"\[[^\[\]]*(\[[^\[\]]*\][^\[\]]*)*\]")


def diagnosis(message):
    """(key, text) of a failure's diagnosis. A message names what is wrong, then why, after
    ': ' ("running_mean with momentum 0.8: the weights are swapped: new = ..."), and may add
    detail in later sentences. The diagnosis is the first sentence without its subject, if
    what remains stands alone (four words besides numbers; "got 1, expected 2" does not), else
    the whole first sentence. The key hides numbers and arrays, which depend on each student's
    inputs, so that the same mistake on different inputs falls in one group."""
    first = re.split(r"(?<=\.)\s+(?=[A-Z])", message.strip(), maxsplit=1)[0]
    subject, _, rest = first.partition(": ")
    text = rest if len(NUMBER.sub(" ", ARRAY.sub(" ", rest)).split()) >= 4 else first
    key = NUMBER.sub("#", ARRAY.sub("[…]", text))
    return " ".join(key.split()), text


def mistakes(results):
    """Failing checks grouped by (function, diagnosis), most students first: a list of dicts
    with function, text, example message, students (sorted), and failing checks counted."""
    groups = {}
    for r in results:
        for c in r.get("checks", []):
            if c["passed"] or c.get("grader_error"):
                continue
            key, text = diagnosis(c["message"] or "failed")
            g = groups.setdefault((r.get("topic"), c["function"], key), {
                "topic": r.get("topic"), "function": c["function"], "text": text,
                "example": c["message"], "students": set(), "checks": 0})
            g["students"].add(r.get("student") or r["submission"])
            g["checks"] += 1
    out = sorted(groups.values(), key=lambda g: (-len(g["students"]), -g["checks"],
                                                 g["function"], g["text"]))
    for g in out:
        g["students"] = sorted(g["students"])
    return out


def mistakes_section(results, limit=30):
    found = mistakes(results)
    out = ["<h2>Most common mistakes</h2>"]
    if not found:
        return out + ["<p>No check failed.</p>"]
    out.append("<p class=\"muted\">Failing checks grouped by the diagnosis their message "
               "gives (numbers, which depend on each student's inputs, are ignored when "
               "grouping).</p>")
    rows = []
    for g in found[:limit]:
        names = ", ".join(esc(s) for s in g["students"][:MAX_NAMES])
        if len(g["students"]) > MAX_NAMES:
            names += f" and {len(g['students']) - MAX_NAMES} more"
        detail = f"<div class=\"msg\">{esc(g['text'])}</div>"
        if g["example"] != g["text"]:
            detail += f"<div class=\"muted msg\">e.g. {esc(g['example'])}</div>"
        rows.append([str(len(g["students"])), str(g["checks"]),
                     f"<code>{esc(g['function'])}</code>", detail, names])
    out.append(table(["students", "failed checks", "function", "diagnosis", "who"], rows,
                     numeric=(0, 1)))
    if len(found) > limit:
        out.append(f"<p class=\"muted\">{len(found) - limit} rarer mistakes not shown.</p>")
    return out


# --- what could not be graded

def ungradable_section(results):
    out = ["<h2>Could not be graded</h2>"]
    failed = [r for r in results if r.get("error")]
    if failed:
        out.append(table(["student", "file", "why"],
                         [[esc(r.get("student", "")), esc(r["submission"]),
                           f"<span class=\"msg\">{esc(r['error'])}</span>"] for r in failed]))
    else:
        out.append("<p>Every submission was graded.</p>")
    broken = [(r, c) for r in results for c in r.get("checks", []) if c.get("grader_error")]
    if broken:
        out.append("<h3>Errors in the grader itself</h3><p>These checks failed because of a "
                   "bug in the grader, not in the submissions.</p>")
        out.append(table(["student", "file", "check", "message"],
                         [[esc(r.get("student", "")), esc(r["submission"]), esc(c["name"]),
                           f"<span class=\"msg\">{esc(c['message'])}</span>"]
                          for r, c in broken]))
    return out


# --- scores per student

def scores_section(students, topics):
    out = ["<h2>Scores per student</h2>"]
    rows = []
    for student, units in students.items():
        chosen = roster.counted(units)
        score, top = roster.total(units)
        rows.append([esc(student)] + [points(chosen[t]["score"]) if t in chosen else ""
                                      for t in topics] + [f"{points(score)} / {points(top)}"])
    out.append(table(["student", *map(esc, topics), "total"], rows,
                     numeric=tuple(range(1, len(topics) + 2))))
    return out


# --- protections

def flatten(value, prefix=""):
    """[(dotted key, text)] of a nested dict, in its own order: rendered without knowing its
    keys, so new protections show up as they are added."""
    if isinstance(value, dict):
        out = []
        for k, v in value.items():
            out += flatten(v, f"{prefix}.{k}" if prefix else str(k))
        return out
    if isinstance(value, bool):
        return [(prefix, "yes" if value else "no")]
    if isinstance(value, (list, tuple)):
        return [(prefix, ", ".join(map(str, value)))]
    return [(prefix, str(value))]


def protections_section(protections):
    out = ["<h2>Protections in force</h2>"]
    if not protections:
        return out + ["<p>Not recorded (no submission ran in this batch, e.g. every result "
                      "came from the journal or could not be graded).</p>"]
    out.append(table(["protection", "value"],
                     [[f"<code>{esc(k)}</code>", esc(v)] for k, v in flatten(protections)]))
    return out
