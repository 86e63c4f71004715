"""The class's scores as CSV: one row per student, one column per topic, and the total."""
import csv
import io

from . import roster
from .roster import points


def as_csv(results):
    """CSV text. A topic a student handed nothing in for is an empty cell; the total adds the
    counted scores (see roster)."""
    topics = roster.topics_in(results)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["student", *topics, "total"])
    for student, units in roster.by_student(results).items():
        chosen = roster.counted(units)
        row = [spreadsheet_safe(student)]
        row += [points(chosen[t]["score"]) if t in chosen else "" for t in topics]
        row.append(points(roster.total(units)[0]))
        writer.writerow(row)
    return out.getvalue()


def spreadsheet_safe(text):
    """A student-controlled cell that a spreadsheet will not run as a formula."""
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def write(path, results):
    with open(path, "w", encoding="utf-8", errors="backslashreplace", newline="") as f:
        f.write(as_csv(results))
