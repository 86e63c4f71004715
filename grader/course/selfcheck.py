"""Self-checks for students: the public checks, run on the functions defined in a notebook.

This runs in the student's own kernel, without a sandbox: it is for feedback while working, not
for grades (those come from `grader grade`). Values still go through grader.wire, so a function
is judged exactly as the grader would judge it.
"""
import html

import numpy as np

from ..sandbox import probes, wire
from ..sandbox.server import base_names, changed, snapshot
from ..checks.core import checks_for, run_check
from ..sandbox.student import StudentError, arg_name, mutation_message
from ..checks.topics import TOPICS


class LocalStudent:
    """The interface of grader.student.Student, calling functions from a namespace directly."""

    def __init__(self, namespace, signatures):
        self.namespace, self.signatures = namespace, signatures
        self.kept, self.generators = {}, {}

    def _keep(self, obj):
        self.kept[len(self.kept) + 1] = obj
        return len(self.kept)

    # wire.decode's resolver, as in the student process
    def handle(self, hid):
        return self.kept[hid]

    def generator(self, key, seed):
        return self.generators.setdefault(key, np.random.default_rng(seed))

    def probe(self, name, args):
        return probes.build(name, *args)

    def _run(self, fn, args, errstate=None):
        f = self.namespace.get(fn)
        if not callable(f):
            raise StudentError(f"{fn} is not defined yet (run the cell that defines it)")
        node, buffers = wire.encode(list(args))
        args = wire.decode(node, b"".join(buffers), self)  # fresh copies, handles resolved
        watched = snapshot(args, {id(obj) for obj in self.kept.values()})
        try:
            with np.errstate(**(errstate or {})):
                value = f(*args)
        except NotImplementedError:
            raise StudentError(f"{fn} is not implemented yet (it raises NotImplementedError)",
                               kind="NotImplementedError")
        except Exception as exc:
            raise StudentError(f"{fn} raised {type(exc).__name__}: {exc}", kind=type(exc).__name__,
                               bases=base_names(exc))
        names = [arg_name(p, self.signatures.get(fn, ())) for p in changed(watched)]
        if names:
            raise StudentError(mutation_message(fn, names))
        return value

    def _plain(self, value, opaque=()):
        node, buffers = wire.encode(wire.keep_positions(value, set(opaque)), keep=self._keep)
        return wire.decode(node, b"".join(buffers))

    def call(self, fn, *args, opaque=(), errstate=None):
        return self._plain(self._run(fn, args, errstate), opaque)

    def call_many(self, fn, arglists, pick=None):
        out = []
        for args in arglists:
            value = self._run(fn, args)
            if pick is not None:
                if not isinstance(value, (tuple, list)) or len(value) <= pick:
                    raise StudentError(f"{fn} should return a tuple")
                value = value[pick]
            out.append(value)
        return self._plain(out)


def run(topic, namespace, seed=0):
    """CheckResults of the public checks of `topic` on the functions in `namespace`."""
    module = TOPICS[topic]
    student = LocalStudent(namespace, module.FUNCTIONS)
    return [run_check(c, student, topic, seed) for c in checks_for(module, hidden=False)]


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
