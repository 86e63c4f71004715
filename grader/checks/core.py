"""Checks and how they run.

A check is a small function about one student function. Public checks take (student, rng) and
need nothing but the spec (properties, closed forms, numerical gradients), so students can run
them. Hidden checks take (student, rng, ref) and compare with the reference module on fresh
inputs. A check passes by returning and fails by raising `Fail` (or a `StudentError` from a call).

A check that needs another student function's result (a backward needs its forward's cache)
makes that call inside `using(function)`: if the call fails or its result is unusable, the check
is not judged, and `run_checks` says which failing check of that function it waits for. One
cause is reported once: a later check that fails with the same message points at the first.
"""
import contextlib
import re
import traceback
import zlib
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..sandbox import probes
from ..sandbox.student import StudentError, tolerating_mutation
from ..sandbox.wire import Generator, Probe as GraderFunction
from . import values
from .compare import Fail

# The vocabulary topic files use besides numpy: Check, Fail, StudentError (with its predicates
# raised(name), timed_out(), out_of_memory()), and two kinds of argument the grader builds in the
# student process: Generator(seed), a numpy Generator; GraderFunction(name, *args), one of
# grader.sandbox.probes, whose grader-side twin build_locally() returns.
__all__ = ["Check", "CheckResult", "Fail", "StudentError", "Generator", "GraderFunction",
           "NotJudged", "using", "build_locally", "run_check", "run_checks", "checks_for",
           "assert_backward_uses_its_cache"]


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
    waits_for: str = ""    # not judged: the student function whose result it could not use
    call_failed: bool = False  # the failure is a call that raised or could not run

    def as_json(self):
        """The spec's fields, plus `hidden` and `grader_error` only when they are true (a check
        not judged says so in its message)."""
        out = {"name": self.name, "function": self.function, "score": self.score,
               "max_score": self.max_score, "passed": self.passed, "message": self.message}
        out.update({flag: True for flag in ("hidden", "grader_error") if getattr(self, flag)})
        return out


class NotJudged(Exception):
    """A check could not judge its function: another student function it needs (`function`)
    failed or gave a result that cannot be used. str(exc) says what happened to that call."""

    def __init__(self, function, message):
        super().__init__(message)
        self.function = function


@contextlib.contextmanager
def using(function):
    """Calls of another student function whose result a check needs: if one of them fails, the
    check is not judged (NotJudged) instead of blaming the function it is about. A change such a
    call makes to its arguments does not stop it (that is `function`'s own checks' failure), but
    if the check then fails, it is not judged either: the result may be what is wrong."""
    try:
        with tolerating_mutation(function):
            yield
    except (Fail, StudentError) as exc:
        raise NotJudged(function, str(exc)) from None


def forward_and_cache(student, fn, *args):
    """(out, cache) of the student's forward call `fn(*args)` made for a backward check: the
    cache stays in the student process and `out` is not validated (a wrong `out` is the
    forward's mistake; the backward is then judged against the gradient of the spec's forward
    or of the student's own, which starts from this `out`). If the call fails, the check is
    not judged."""
    with using(fn):
        return values.parts(student.call(fn, *args, opaque=(1,)), fn, ("out", "cache"))


def check_rng(seed, topic, name):
    """A generator of its own per check, so a check's inputs do not depend on which others ran."""
    return np.random.default_rng([seed, zlib.crc32(topic.encode()), zlib.crc32(name.encode())])


def run_check(check, student, topic, seed, ref=None):
    rng = check_rng(seed, topic, check.name)
    result = CheckResult(check.name, check.function, 0.0, float(check.points), False, "",
                         check.hidden)
    watched = hasattr(student, "tainted")  # a Student (tests pass simpler stand-ins)
    if watched:
        student.tainted = set()
    try:
        with np.errstate(all="ignore"):  # student values may be nan or inf: the checks say so
            check.run(student, rng, ref) if check.hidden else check.run(student, rng)
    except (Fail, StudentError) as exc:
        culprit = min(student.tainted - {check.function}, default=None) if watched else None
        if culprit is not None:  # a result it needed (see using) came from a call that changed
            # its arguments in place: this check cannot tell whose mistake it sees
            return _not_judged(result, NotJudged(culprit, f"{culprit} changes its arguments in "
                                                          "place, so what it returned cannot "
                                                          "be trusted"))
        result.message = str(exc)
        result.call_failed = isinstance(exc, StudentError)
        return result
    except NotJudged as exc:
        return _not_judged(result, exc)
    except Exception as exc:  # a bug in the grader, never the student's fault: make it loud
        result.message = ("grader error (not a problem with your code): "
                          f"{type(exc).__name__}: {exc} | {traceback.format_exc(limit=-2)!r}")
        result.grader_error = True
        return result
    result.score, result.passed = float(check.points), True
    return result


def _not_judged(result, exc):
    result.message = (f"not judged: {result.function} needs a usable result of {exc.function}, "
                      f"and {first_sentence(str(exc))}")
    result.waits_for = exc.function
    return result


def first_sentence(message):
    """The cause a message names: up to its first full stop (not a decimal point). A message
    names the cause, and often its fix after a colon or semicolon, in its first sentence."""
    return re.split(r"(?<![\d.])\.(?:\s|$)", message, maxsplit=1)[0]


def run_checks(checks, student, topic, seed, ref=None):
    """All `checks` in order, each cause reported once: a check not judged because of another
    function points at the first failing check of that function, and a check that fails with the
    same cause as an earlier one of the same function points at it instead of repeating it."""
    results = []
    for check in checks:
        result = run_check(check, student, topic, seed, ref)
        if result.waits_for:
            first = next((r for r in results if r.function == result.waits_for
                          and not r.passed and not r.waits_for), None)
            if first is not None:
                result.message = (f"not judged because of '{first.name}': {result.function} "
                                  f"needs a usable result of {result.waits_for}, so fix that "
                                  "first")
        elif not result.passed and not result.grader_error:
            cause = _cause(result)
            same = next((r for r in results if not r.passed and not r.waits_for
                         and (_cause(r) == cause and (r.function == result.function
                                                      or _shared(r) and _shared(result))
                              or r.function == result.function and r.call_failed
                              and first_sentence(r.message) in result.message)),
                        None)
            if same is not None:
                result.message = f"because of '{same.name}' (the same cause)"
        results.append(result)
    return results


def _shared(result):
    """A failed call whose cause may be the submission's rather than its function's (code that
    did not load, so nothing is defined; a process that is gone). A function that is not
    implemented yet, or whose notebook cell was not run yet, is its own cause, however many
    others are in the same state."""
    return result.call_failed and not re.search(r"is not (implemented|defined) yet",
                                                result.message)


def _cause(result):
    """A failure's first sentence with the function's own name and the numbers left out, so
    that 'f is not defined' and 'g is not defined' after one syntax error are the same cause,
    and so are one wrong return type seen at two shapes."""
    text = re.sub(rf"\b{re.escape(result.function)}\b", "<function>",
                  first_sentence(result.message))
    return re.sub(r"[-+]?\d[\d.e+-]*", "#", text)


def assert_backward_uses_its_cache(forward, backward, first, second, names):
    """`forward(args)` returns a cache, `backward(cache)` a list of arrays named `names`. The
    backward of a forward call must not change when another forward call (on `second`) comes
    between them: everything it needs must be in its cache, not in a global from the last call."""
    alone = backward(forward(first))
    cache = forward(first)
    forward(second)
    try:
        interleaved = backward(cache)
    except StudentError as exc:
        raise Fail(f"the backward pass fails when another forward call (on other inputs) comes "
                   "between a forward call and its backward: it must use only the cache it is "
                   f"given, not values kept from the last call ({exc})") from None
    for a, b, name in zip(alone, interleaved, names):
        if not np.all(np.isfinite(a)):
            raise Fail(f"{name} contains NaN or inf")
        if not np.array_equal(a, b):
            raise Fail(f"{name} changes when another forward call comes between a forward call "
                       "and its backward: the backward pass must use only the cache it is given "
                       "(not values kept in a global variable or attribute from the last call)")


def checks_for(topic_module, hidden):
    return [c for c in topic_module.CHECKS if hidden or not c.hidden]
