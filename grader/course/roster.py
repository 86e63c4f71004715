"""Results seen per student: which submission counts for each topic, and the student's total.

Every output built from a batch (CSV, feedback pages, class report, Gradescope, PrairieLearn)
uses these rules, so that they all show the same scores:
- a result belongs to the unit it was graded as: its topic, or, for a file with no known topic,
  its assignment name;
- when a student handed in several files for one unit, the best score counts (ties: the first
  file in path order); the others are still shown, marked as not counted;
- a student's total is the sum over units of the counted scores.
"""
import os
import re

from ..checks.topics import TOPIC_IDS


def unit(result):
    """The topic a result was graded as, else its assignment name (an ungradable file)."""
    return result.get("topic") or result.get("assignment") or "submission"


def unit_order(name):
    return (TOPIC_IDS.index(name), "") if name in TOPIC_IDS else (len(TOPIC_IDS), name)


def by_student(results):
    """{student: {unit: [results, the counted one first]}}, students sorted, units in topic
    order."""
    grouped = {}
    for r in sorted(results, key=lambda r: r["submission"]):
        grouped.setdefault(r.get("student") or "", {}).setdefault(unit(r), []).append(r)
    out = {}
    for student in sorted(grouped):
        units = grouped[student]
        out[student] = {}
        for name in sorted(units, key=unit_order):
            rs = units[name]
            best = max(rs, key=lambda r: r["score"])  # max() keeps the first of equal scores
            out[student][name] = [best] + [r for r in rs if r is not best]
    return out


def counted(units):
    """{unit: the result that counts} for one student's units."""
    return {name: rs[0] for name, rs in units.items()}


def total(units):
    """(score, max_score) of one student: the counted results summed."""
    chosen = counted(units).values()
    return (round(sum(r["score"] for r in chosen), 6),
            round(sum(r["max_score"] for r in chosen), 6))


def topics_in(results):
    """The topics that occur in results, in the course's order."""
    present = {r.get("topic") for r in results}
    return [t for t in TOPIC_IDS if t in present]


def safe_name(text):
    """A file or folder name made from a student-controlled string: letters, digits, '.', '_'
    and '-' only, never hidden, never empty, never '.' or '..'."""
    name = re.sub(r"[^\w.-]", "_", str(text)).lstrip(".")
    return name[:100] or "_"


def safe_names(names):
    """{name: distinct safe_name(name)}: a suffix tells apart names that clean to the same."""
    out, used = {}, set()
    for name in names:
        base = candidate = safe_name(name)
        k = 2
        while candidate.lower() in used:
            candidate, k = f"{base}-{k}", k + 1
        used.add(candidate.lower())
        out[name] = candidate
    return out


def points(x):
    """A score as people write it: 7.5, 10, 0.25."""
    return f"{x:g}"


def as_one_student(results):
    """{unit: [results, the counted one first]} of results that all belong to one student
    (a platform grades one student's files at a time, whatever their folders are called)."""
    return by_student([dict(r, student="") for r in results]).get("", {})


def summary(units):
    """Plain-text lines: each file's score, notes and errors, and the files not counted."""
    lines = []
    for name, rs in units.items():
        for i, r in enumerate(rs):
            file = os.path.basename(r["submission"].rstrip("/\\")) or r["submission"]
            if r.get("error"):
                lines.append(f"{file} could not be graded: {r['error']}")
                continue
            line = f"{file} ({name}): {points(r['score'])} / {points(r['max_score'])}"
            if i:
                line += " (not counted: another file for this topic scored at least as much)"
            lines.append(line)
            lines += [f"  note: your code raised {e}" for e in r.get("load_errors", [])]
    return lines
