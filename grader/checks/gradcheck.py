"""Numerical gradients, compared element by element with the student's analytic ones.

All in float64. The student's forward function is evaluated at every perturbed point in one
batched call (`evaluate`), so a full gradient costs one round trip to the student process.
"""
import numpy as np

from .compare import Fail, explain, mismatch, Tol

H = 1e-5
# Norm-relative error allowed between an analytic and a central-difference gradient. Correct
# layers measured at most 5.1e-10 over 300 seeds (grading-notes.md), so this leaves a margin
# over 1000x; real bugs give 1e-2 .. 1.
GRAD_TOL = 1e-6
# Entry-level tolerance used only to point at *which* entries are wrong in a failure message.
LOCATE = Tol(rtol=1e-4, atol=1e-5)


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


def numerical_gradients(evaluate, args, wrt, dout, h=H):
    """Central-difference gradients of L = sum(f(*args) * dout) with respect to args[i], i in wrt.

    evaluate(list of argument lists) -> list of outputs of f, all of dout's shape.
    Returns a list of arrays shaped like args[i].
    """
    arglists, spans = [], []
    for i in wrt:
        start = len(arglists)
        arglists += perturbed(args, i, h)
        spans.append((i, start))
    outs = evaluate(arglists)
    grads = []
    for i, start in spans:
        n = args[i].size
        with np.errstate(invalid="ignore", over="ignore"):  # non-finite outputs fail later
            losses = np.array([float(np.sum(np.asarray(o, float) * dout))
                               for o in outs[start:start + 2 * n]])
            grads.append(((losses[0::2] - losses[1::2]) / (2 * h)).reshape(args[i].shape))
    return grads


def assert_gradient(analytic, numeric, what, factors=(), alternatives=(), tol=GRAD_TOL):
    """Fail unless the analytic gradient matches the numerical one (norm-relative error).

    factors and alternatives name known mistakes, as in compare.assert_close.
    """
    a, n = np.asarray(analytic, float), np.asarray(numeric, float)
    if a.shape != n.shape:
        raise Fail(f"{what} has shape {a.shape}, expected {n.shape} (the shape of the input)")
    if not np.all(np.isfinite(n)):
        raise Fail(f"{what} cannot be checked: the numerical gradient is not finite (the "
                   "function returns nan or inf near this input)")
    if not np.all(np.isfinite(a)):
        raise Fail(f"{what} {explain(a, n, ~np.isfinite(a))}")
    err = norm_relative_error(a, n)
    if err <= tol:
        return
    for alt, sentence in alternatives:
        if np.shape(alt) == a.shape and norm_relative_error(a, alt) <= tol:
            raise Fail(f"{what}: {sentence}")
    raise Fail(f"{what} does not match the numerical gradient (relative error {err:.2g}): "
               f"it {explain(a, n, mismatch(a, n, LOCATE), factors)}")


def avoid_kinks(x, kinks=(0.0,), margin=100 * H):
    """Move entries that lie within `margin` of a kink to exactly `margin` away from it, so that
    central differences never straddle a point where the function is not differentiable."""
    x = np.array(x, dtype=float)
    for k in kinks:
        near = np.abs(x - k) < margin
        x[near] = k + np.where(x[near] >= k, margin, -margin)
    return x
