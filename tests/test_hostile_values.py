"""No value a student function returns can make a check fail with a "grader error", raise out of
run_checks, or make the grader allocate far more than the inputs: every check sees only
call/call_many, so a fake Student that returns hostile values stands for any submission."""
import tracemalloc

import numpy as np
import pytest

from grader.checks.core import checks_for, run_checks
from grader.checks.topics import TOPICS
from grader.course.grading import find_solutions, load_reference
from grader.sandbox.calls import carried
from grader.sandbox.wire import Opaque

SOLUTIONS = find_solutions()


def deep(levels):
    value = 1.0
    for _ in range(levels):
        value = [value]
    return value


def first_array(args):
    return next((a for a in args if isinstance(a, np.ndarray)), np.zeros(3))


# Each maker turns a call's arguments into the value the fake function returns.
HOSTILE = {
    "huge int": lambda args: 10 ** 400,
    "negative huge int": lambda args: -(10 ** 5000),
    "bool": lambda args: True,
    "None": lambda args: None,
    "nan": lambda args: float("nan"),
    "inf": lambda args: float("inf"),
    "nested lists": lambda args: [[1, [2.0]], [3]],
    "nested 15 deep": lambda args: deep(15),
    "0-d array": lambda args: np.array(2.5),
    "0-d nan array": lambda args: np.array(np.nan),
    "empty array": lambda args: np.empty((0,)),
    "empty 2-d array": lambda args: np.empty((0, 3)),
    "opaque handle": lambda args: Opaque(7, "Secret"),
    "tuple of huge ints": lambda args: (10 ** 400, 10 ** 400, 10 ** 400, 10 ** 400, 10 ** 400),
    "tuple of handles": lambda args: (Opaque(1, "A"), Opaque(2, "B"), Opaque(3, "C")),
    "pairs of lists": lambda args: (1.0, [(np.zeros(2), [1, 2])] * 4),
    # arrays that broadcast against the input: (n, 1) and (1, n) instead of (n,) or (n, d)
    "column that broadcasts": lambda args: first_array(args).reshape(-1, 1),
    "row that broadcasts": lambda args: first_array(args).reshape(1, -1),
    "column in a tuple": lambda args: (first_array(args).reshape(-1, 1),) * 5,
    "float32 like the input": lambda args: first_array(args).astype(np.float32),
    "complex like the input": lambda args: first_array(args).astype(complex),
    "ints like the input": lambda args: first_array(args).astype(int),
    "nan like the input": lambda args: np.full(first_array(args).shape, np.nan),
    "inf like the input in a tuple": lambda args: (np.full(first_array(args).shape, np.inf),
                                                   Opaque(1, "cache")),
    "huge values like the input": lambda args: np.full(first_array(args).shape, 1e308),
}


class HostileStudent:
    """The Student interface, every function returning what `make` gives for its arguments."""

    def __init__(self, make):
        self.make = make

    def call(self, fn, *args, opaque=(), errstate=None, cpu_seconds=None):
        return self.make(args)

    def call_many(self, fn, arglists, pick=None, opaque=()):
        return [self.make(args) for args in arglists]

    def call_chain(self, fn, first, rest, take=(0,)):
        results = [self.make(list(first))]
        for args in rest:  # as Student.call_chain: on while the elements passed on are arrays
            passed_on = carried(results[-1], take, list(first))
            if passed_on is None:
                break
            results.append(self.make([*passed_on, *args]))
        return results

    def fresh_worker(self):
        pass


@pytest.mark.parametrize("kind", HOSTILE)
@pytest.mark.parametrize("topic", TOPICS)
def test_hostile_values_fail_checks_without_a_grader_error(topic, kind):
    module, ref = TOPICS[topic], load_reference(SOLUTIONS, topic)
    tracemalloc.start()
    try:
        with np.errstate(all="ignore"):
            results = run_checks(checks_for(module, hidden=True), HostileStudent(HOSTILE[kind]),
                                 topic, 0, ref)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    errors = [(r.name, r.message) for r in results if r.grader_error]
    assert not errors
    assert not any(r.passed for r in results if r.name.startswith("hidden"))
    # The largest input any check builds is ~40000 floats; a comparison that broadcast a
    # (n, 1) reply against (n,) would need n^2 of them.
    assert peak < 200e6, peak


def test_hostile_values_are_described_plainly():
    module, ref = TOPICS["cross_entropy"], load_reference(SOLUTIONS, "cross_entropy")
    results = run_checks(checks_for(module, hidden=True), HostileStudent(HOSTILE["huge int"]),
                         "cross_entropy", 0, ref)
    assert "an integer with 401 digits" in results[0].message
