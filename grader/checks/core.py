"""Checks and how they run.

A check is a small function about one student function. Public checks take (student, rng) and
need nothing but the spec (properties, closed forms, numerical gradients), so students can run
them. Hidden checks take (student, rng, ref) and compare with the reference module on fresh
inputs. A check passes by returning and fails by raising `Fail` (or a `StudentError` from a call).
"""
import traceback
import zlib
from dataclasses import asdict, dataclass
from typing import Callable

import numpy as np

from ..sandbox import probes
from ..sandbox.student import StudentError
from ..sandbox.wire import Generator, Probe as GraderFunction
from .compare import Fail

# The vocabulary topic files use besides numpy: Check, Fail, StudentError (with its predicates
# raised(name), timed_out(), out_of_memory()), and two kinds of argument the grader builds in the
# student process: Generator(seed), a numpy Generator; GraderFunction(name, *args), one of
# grader.sandbox.probes, whose grader-side twin build_locally() returns.
__all__ = ["Check", "CheckResult", "Fail", "StudentError", "Generator", "GraderFunction",
           "build_locally", "run_check", "checks_for", "assert_backward_uses_its_cache"]


def build_locally(function):
    """The grader's own copy of a GraderFunction, to know what it gives."""
    return probes.build(function.name, *function.args)


@dataclass(frozen=True)
class Check:
    name: str
    function: str
    points: float
    run: Callable
    hidden: bool = False


@dataclass
class CheckResult:
    name: str
    function: str
    score: float
    max_score: float
    passed: bool
    message: str
    hidden: bool = False
    grader_error: bool = False

    def as_json(self):
        """The spec's fields, plus `hidden` and `grader_error` only when they are true."""
        out = asdict(self)
        for flag in ("hidden", "grader_error"):
            if not out[flag]:
                del out[flag]
        return out


def check_rng(seed, topic, name):
    """A generator of its own per check, so a check's inputs do not depend on which others ran."""
    return np.random.default_rng([seed, zlib.crc32(topic.encode()), zlib.crc32(name.encode())])


def run_check(check, student, topic, seed, ref=None):
    rng = check_rng(seed, topic, check.name)
    result = CheckResult(check.name, check.function, 0.0, float(check.points), False, "",
                         check.hidden)
    try:
        check.run(student, rng, ref) if check.hidden else check.run(student, rng)
    except (Fail, StudentError) as exc:
        result.message = str(exc)
        return result
    except Exception as exc:  # a bug in the grader, never the student's fault: make it loud
        result.message = ("grader error (not a problem with your code): "
                          f"{type(exc).__name__}: {exc} | {traceback.format_exc(limit=-2)!r}")
        result.grader_error = True
        return result
    result.score, result.passed = float(check.points), True
    return result


def assert_backward_uses_its_cache(forward, backward, first, second, names):
    """`forward(args)` returns a cache, `backward(cache)` a list of arrays named `names`. The
    backward of a forward call must not change when another forward call (on `second`) comes
    between them: everything it needs must be in its cache, not in a global from the last call."""
    alone = backward(forward(first))
    cache = forward(first)
    forward(second)
    interleaved = backward(cache)
    for a, b, name in zip(alone, interleaved, names):
        if not np.all(np.isfinite(a)):
            raise Fail(f"{name} contains NaN or inf")
        if not np.array_equal(a, b):
            raise Fail(f"{name} changes when another forward call comes between a forward call "
                       "and its backward: the backward pass must use only the cache it is given "
                       "(not values kept in a global variable or attribute from the last call)")


def checks_for(topic_module, hidden):
    return [c for c in topic_module.CHECKS if hidden or not c.hidden]
