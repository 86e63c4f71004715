"""Numerical gradients, compared element by element with the student's analytic ones.

All in float64. The student's forward function is evaluated at every perturbed point in one
batched call (`Forward.many`), so a full gradient costs one round trip to the student process.
Student code could tell such a batch from an ordinary call, so a few points of every batch are
evaluated again with ordinary calls (`Forward.one`): a forward that answers differently for the
same input fails.
"""
from dataclasses import dataclass

import numpy as np

from . import values
from .compare import Fail, explain, mismatch
from ..sandbox.student import StudentError
from .tolerances import GRAD_FLOOR, GRAD_TOL, H, KINK_MARGIN, LOCATE, RECHECK, RECHECKS

__all__ = ["Forward", "Inconsistent", "own_gradients", "numerical_gradients", "assert_gradient",
           "norm_relative_error", "round_off_floor",
           "avoid_kinks", "H", "GRAD_TOL", "KINK_MARGIN"]


class Inconsistent(Fail):
    """A student function answered the same input differently in a batch and alone."""


@dataclass(frozen=True)
class Forward:
    """A student function as numerical_gradients evaluates it: `fn(*args, *extra)`, keeping only
    element `pick` of what it returns (the output of a function that returns (out, cache))."""

    student: object
    fn: str
    pick: int | None = None
    extra: tuple = ()
    prepare: object = None   # turns the perturbed arguments into the call's (e.g. nests them)
    # what the function's other checks send as `opaque` (a forward's cache stays behind): an
    # ordinary call here must look exactly like those, or a function could tell them apart
    opaque: tuple = (1,)

    def args(self, perturbed):
        return list(self.prepare(perturbed) if self.prepare else perturbed) + list(self.extra)

    def many(self, arglists):
        return self.student.call_many(self.fn, [self.args(a) for a in arglists], pick=self.pick)

    def one(self, args):
        value = self.student.call(self.fn, *self.args(args), opaque=self.opaque)
        if self.pick is None:
            return value
        if not isinstance(value, (tuple, list)) or len(value) <= self.pick:
            raise Fail(f"{self.fn} should return a tuple, but returned {values.kind(value)}")
        return value[self.pick]


def norm_relative_error(analytic, numeric):
    a, n = np.ravel(analytic), np.ravel(numeric)
    denom = np.linalg.norm(a) + np.linalg.norm(n)
    return 0.0 if denom == 0 else float(np.linalg.norm(a - n) / denom)


def perturbed(args, i, h=H):
    """Argument lists with args[i] moved by +h and -h in each entry, in that order."""
    out = []
    for j in range(args[i].size):
        for sign in (1.0, -1.0):
            moved = args[i].copy()
            moved.flat[j] += sign * h
            out.append([*args[:i], moved, *args[i + 1:]])
    return out


def _output(value, dout, what):
    """One output of the function, validated before any arithmetic: a float64 array of dout's
    shape, or a number when dout is a number."""
    if np.ndim(dout) == 0:
        return values.scalar(value, what)
    return values.array(value, what, shape=np.shape(dout))


def numerical_gradients(f, args, wrt, dout, h=H, rng=None):
    """Central-difference gradients of L = sum(f(*args) * dout) with respect to args[i], i in wrt.

    f is a Forward (a student function; then `rng` picks the points evaluated again alone) or
    a grader-side function of a list of argument lists. Returns arrays shaped like args[i].
    """
    arglists, spans = [], []
    for i in wrt:
        start = len(arglists)
        arglists += perturbed(args, i, h)
        spans.append((i, start))
    name = f.fn if isinstance(f, Forward) else "the function"
    raw = f.many(arglists) if isinstance(f, Forward) else f(arglists)
    if not isinstance(raw, list) or len(raw) != len(arglists):
        raise Fail(f"{name} did not return one value per call")
    outs = [_output(o, dout, f"{name}'s output near the input") for o in raw]
    if isinstance(f, Forward):
        recheck(f, arglists, outs, dout, rng)
    grads = []
    for i, start in spans:
        n = args[i].size
        with np.errstate(invalid="ignore", over="ignore"):  # non-finite outputs fail later
            losses = np.array([float(np.sum(o * dout)) for o in outs[start:start + 2 * n]])
            grads.append(((losses[0::2] - losses[1::2]) / (2 * h)).reshape(args[i].shape))
    return grads


def own_gradients(f, args, wrt, dout, rng, spec_out, out=None):
    """Numerical gradients of the student's own forward `f`, for judging a backward pass when
    that forward is wrong: None where the forward gives the spec's output `spec_out` at `args`
    (then its backward must give the spec's gradient: a forward that is right here but odd
    nearby earns its backward nothing), or where its outputs cannot be used (wrong shape or
    type: the forward's mistake, judged by its own checks). A forward that answers a batch
    differently from ordinary calls, or an input differently after other calls than in a fresh
    process, still fails (Inconsistent). `out`: the forward's output at `args` when the check
    already has it (from the ordinary call that made the cache): it is not asked for again."""
    try:
        base = _output(f.one(args) if out is None else out, dout, f"{f.fn}'s output")
        if not mismatch(base, spec_out).any():
            return None
        # wrong here, so its backward may be excused: it must be wrong here from the loaded
        # state too, not because of what it was called with before (or how often)
        f.student.fresh_worker()
        again = _output(f.one(args), dout, f"{f.fn}'s output")
        if mismatch(again, base, RECHECK).any():
            raise Inconsistent(f"{f.fn} answers differently for the same input: {_show(base)} "
                               f"after the grader's earlier calls, {_show(again)} in a fresh "
                               "process. A correct function gives the same result for the same "
                               "input, whatever was called before")
        return numerical_gradients(f, args, wrt, dout, rng=rng)
    except Inconsistent:
        raise
    except (Fail, StudentError):
        return None


def recheck(f, arglists, outs, dout, rng):
    """Evaluate RECHECKS points of a batch again with ordinary calls: a correct function gives
    the same result for the same input, so a difference means the batch was answered apart."""
    if rng is None:
        raise TypeError("numerical_gradients of a student function needs the check's rng")
    for k in rng.choice(len(arglists), size=min(RECHECKS, len(arglists)), replace=False):
        alone = _output(f.one(arglists[k]), dout, f"{f.fn}'s output")
        batched = np.asarray(outs[k], float)
        if mismatch(alone, batched, RECHECK).any():
            raise Inconsistent(f"{f.fn} answers differently for the same input: called alone "
                               f"it gave {_show(alone)}, and within the grader's batch of calls "
                               f"{_show(batched)}. A correct function gives the same result for "
                               "the same input, however it is called")


def _show(a):
    a = np.asarray(a, float)
    return np.array2string(a.ravel()[:4], precision=6, separator=", ") + \
        (" ..." if a.size > 4 else "")


def round_off_floor(out, dout, h=H):
    """The round-off of a central-difference gradient of sum(f * dout) whose value is `out`,
    as an absolute allowance on the error's norm (GRAD_FLOOR times eps * sum|out * dout| / h
    per entry)."""
    terms = float(np.sum(np.abs(np.asarray(out, float) * dout)))
    return GRAD_FLOOR * np.finfo(float).eps * terms / h


def assert_gradient(analytic, numeric, what, factors=(), alternatives=(), tol=GRAD_TOL,
                    also=None, floor=0.0):
    """Fail unless the analytic gradient matches the numerical one (norm-relative error), or
    `also` (the gradient of the student's own forward, when that differs from the spec's: a
    backward right for its own forward is not charged for the forward's mistake).

    factors and alternatives name known mistakes, as in compare.assert_close.
    """
    a, n = np.asarray(analytic, float), np.asarray(numeric, float)
    if a.shape != n.shape:
        raise Fail(f"{what} has shape {a.shape}, expected {n.shape} (the shape of the input)")
    if (also is not None and np.shape(also) == a.shape and np.all(np.isfinite(a))
            and np.all(np.isfinite(also)) and norm_relative_error(a, also) <= tol):
        return
    if not np.all(np.isfinite(n)):
        raise Fail(f"{what} cannot be checked: the numerical gradient is not finite (the "
                   "function returns nan or inf near this input)")
    if not np.all(np.isfinite(a)):
        raise Fail(f"{what} {explain(a, n, ~np.isfinite(a))}")
    err = norm_relative_error(a, n)
    if err <= tol or np.linalg.norm(a - n) <= floor * np.sqrt(a.size):
        return
    for alt, sentence in alternatives:
        if np.shape(alt) == a.shape and norm_relative_error(a, alt) <= tol:
            raise Fail(f"{what}: {sentence}")
    own = ""
    if also is not None and np.shape(also) == a.shape and norm_relative_error(also, n) > tol:
        own = (". It is not the gradient of your own forward function either (which differs "
               "from the spec's: see that function's checks)")
    raise Fail(f"{what} does not match the numerical gradient (relative error {err:.2g}): "
               f"it {explain(a, n, mismatch(a, n, LOCATE), factors)}{own}")


def avoid_kinks(x, kinks=(0.0,), margin=KINK_MARGIN):
    """Move entries that lie within `margin` of a kink to exactly `margin` away from it, so that
    central differences never straddle a point where the function is not differentiable."""
    x = np.array(x, dtype=float)
    for k in kinks:
        near = np.abs(x - k) < margin
        x[near] = k + np.where(x[near] >= k, margin, -margin)
    return x
