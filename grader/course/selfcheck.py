"""Self-checks for students: the public checks, run on the functions defined in a notebook.

This runs in the student's own kernel, without a sandbox: it is for feedback while working, not
for grades (those come from `grader grade`). Values still go through grader.wire, so a function
is judged exactly as the grader would judge it.
"""
import html

from ..checks.core import checks_for, run_checks
from ..checks.topics import TOPICS
from ..sandbox.student import InProcess, Student


def LocalStudent(namespace, signatures):
    """A Student whose functions are those of `namespace`, called in this process."""
    return Student(lambda: InProcess(namespace), signatures=signatures, in_notebook=True)


def run(topic, namespace, seed=0):
    """CheckResults of the public checks of `topic` on the functions in `namespace`."""
    module = TOPICS[topic]
    student = LocalStudent(namespace, module.FUNCTIONS)
    return run_checks(checks_for(module, hidden=False), student, topic, seed)


class Report:
    """What check() returns: a table that renders as HTML in Jupyter and as text elsewhere."""

    def __init__(self, topic, results):
        self.topic, self.results = topic, results
        self.score = sum(r.score for r in results)
        self.max_score = sum(r.max_score for r in results)
        self.hidden_points = sum(c.points for c in TOPICS[topic].CHECKS if c.hidden)

    @property
    def summary(self):
        return (f"{self.topic}: {self.score:g} / {self.max_score:g} on the public checks (the "
                f"grade adds hidden checks on fresh inputs, worth {self.hidden_points:g} more)")

    def __repr__(self):
        lines = [self.summary]
        for r in self.results:
            lines.append(f"  {'ok  ' if r.passed else 'FIX '} {r.name}")
            if not r.passed:
                lines.append(f"       {r.message}")
        return "\n".join(lines)

    def _repr_html_(self):
        rows = "".join(
            f"<tr><td>{'&#9989;' if r.passed else '&#10060;'}</td><td>{html.escape(r.function)}</td>"
            f"<td>{html.escape(r.name)}</td><td>{html.escape(r.message)}</td></tr>"
            for r in self.results)
        return (f"<p>{html.escape(self.summary)}</p><table><tr><th></th><th>function</th><th>check</th>"
                f"<th>what to fix</th></tr>{rows}</table>")


def check(topic, namespace):
    if topic not in TOPICS:
        raise ValueError(f"unknown topic {topic!r}; expected one of {', '.join(TOPICS)}")
    return Report(topic, run(topic, namespace))
