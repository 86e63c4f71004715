"""Checks for topic 5, moving averages with bias correction (exercise-api.md section 5).

The usual mistakes are recognisable from the first values of a constant sequence
(grading-notes.md), so each comparison carries them as named alternatives.
"""
import numpy as np

from .. import values
from ..core import Check, NotJudged, StudentError
from ..compare import Fail, agrees, assert_close, mismatch
from ..tolerances import LONG_SEQUENCE_CPU

ID = "moving_average"
TITLE = "Moving averages"
FUNCTIONS = {"ema": ("thetas", "beta"), "ema_bias_corrected": ("thetas", "beta")}


def weights(t, beta):
    """v_t = sum_k (1 - beta) beta^(t-k) theta_k: the recursion unrolled, t = 1..T."""
    k = np.arange(1, t + 1)
    return (1 - beta) * beta ** (t - k)


def unrolled(thetas, beta, first=None, weight=None):
    """v_1..v_T from the closed form (not the recursion students write). `first` replaces v_1
    (the 'start from theta_1' mistake); `weight` swaps in another weighting."""
    thetas = np.asarray(thetas, dtype=float)
    flat = thetas.reshape(len(thetas), -1)
    out = np.empty_like(flat)
    if first is not None:  # v_1 = theta_1, then the recursion as usual
        out[0] = flat[0]
        for t in range(1, len(flat)):
            out[t] = beta * out[t - 1] + (1 - beta) * flat[t]
        return out.reshape(thetas.shape)
    for t in range(1, len(flat) + 1):
        out[t - 1] = (weight or weights)(t, beta) @ flat[:t]
    return out.reshape(thetas.shape)


def steps(n, ndim):
    return np.arange(1, n + 1, dtype=float).reshape((-1,) + (1,) * (ndim - 1))


def corrected(v, beta, shift=0):
    with np.errstate(divide="ignore", invalid="ignore"):
        return v / (1 - beta ** (steps(len(v), v.ndim) + shift))


def ema_alternatives(thetas, beta):
    ignored = [] if beta == 0.9 else [(unrolled(thetas, 0.9), "beta is ignored: the result is "
                                       "the average for beta = 0.9 (use the beta argument)")]
    return ignored + [
        (unrolled(thetas, beta, first=True), "it starts from v_1 = theta_1; the spec starts from "
         "v_0 = 0, so v_1 = (1 - beta) theta_1"),
        (unrolled(thetas, beta, weight=lambda t, b: b * (1 - b) ** (t - np.arange(1, t + 1))),
         "the weights are swapped: v_t = beta v_(t-1) + (1 - beta) theta_t"),
        (corrected(unrolled(thetas, beta), beta), "it is bias-corrected; ema is the plain "
         "moving average (the correction belongs in ema_bias_corrected)"),
    ]


def corrected_alternatives(thetas, beta):
    v = unrolled(thetas, beta)
    fed_back = np.empty_like(v)
    prev = np.zeros(v.shape[1:])
    for t in range(len(v)):  # the corrected value fed back into the recursion
        prev = (beta * prev + (1 - beta) * thetas[t]) / (1 - beta ** (t + 1))
        fed_back[t] = prev
    ignored = [] if beta == 0.9 else [(corrected(unrolled(thetas, 0.9), 0.9), "beta is ignored: "
                                       "the result is the one for beta = 0.9 (use the argument)")]
    return ignored + [
        (v, "there is no bias correction: divide v_t by (1 - beta^t)"),
        (v / (1 - beta) if beta < 1 else v, "it divides by 1 - beta instead of 1 - beta^t"),
        (corrected(v, beta, shift=-1), "it divides by 1 - beta^(t-1): t is counted from 1, so "
         "the first divisor is 1 - beta"),
        (corrected(v, beta, shift=+1), "it divides by 1 - beta^(t+1): t is counted from 1, so "
         "the first divisor is 1 - beta"),
        (fed_back, "the corrected value is fed back into the recursion; correct each v_t "
         "without changing v itself"),
        (corrected(unrolled(thetas, beta, first=True), beta), "it starts from v_1 = theta_1; "
         "the spec starts from v_0 = 0"),
    ]


def call(student, fn, thetas, beta, cpu_seconds=None):
    return values.array(student.call(fn, thetas, beta, cpu_seconds=cpu_seconds),
                        f"{fn}(thetas, beta)", shape=np.shape(thetas))


def own_ema(student, thetas, beta, cpu_seconds=None):
    """The student's own ema of these thetas, or NotJudged if it fails on them (then a failure
    of ema_bias_corrected, which is usually built on it, may be ema's)."""
    student.fresh_worker()  # not an ema that remembers what ema_bias_corrected was given
    try:
        return call(student, "ema", thetas, beta, cpu_seconds)
    except (Fail, StudentError) as exc:
        raise NotJudged("ema", f"ema fails on these inputs too ({exc})") from None


def corrected_call(student, thetas, beta, cpu_seconds=None):
    """ema_bias_corrected(thetas, beta); if it fails where ema fails too, it is not judged."""
    try:
        return call(student, "ema_bias_corrected", thetas, beta, cpu_seconds)
    except (Fail, StudentError) as exc:
        if isinstance(exc, StudentError) and exc.timed_out():
            raise
        own_ema(student, thetas, beta, cpu_seconds)
        raise


def assert_corrected(student, got, thetas, beta, what, expected=None):
    """ema_bias_corrected judged on its own step: it must be the spec's v_hat, or the bias
    correction of the student's own ema where that differs from the spec's (the ema's mistake
    is charged to ema)."""
    thetas = np.asarray(thetas, dtype=float)
    expected = corrected(unrolled(thetas, beta), beta) if expected is None else expected
    if agrees(got, expected):
        return
    try:
        v = own_ema(student, thetas, beta)
    except NotJudged:
        v = None
    if v is not None and mismatch(v, unrolled(thetas, beta)).any():
        if agrees(got, corrected(v, beta)):
            return
    assert_close(got, expected, what, alternatives=corrected_alternatives(thetas, beta))


# -- public checks ------------------------------------------------------------------------------

def ema_recursion(student, rng):
    thetas = rng.normal(2, 1, size=7)
    for beta in (0.9, 0.5):
        got = call(student, "ema", thetas, beta)
        assert_close(got, unrolled(thetas, beta), f"ema with beta = {beta}",
                     alternatives=ema_alternatives(thetas, beta))


def constant_sequence(student, rng):
    thetas, beta = np.full(20, 5.0), 0.9
    got = corrected_call(student, thetas, beta)
    if not np.all(np.isfinite(got)):
        t = int(np.argmax(~np.isfinite(got))) + 1
        raise Fail(f"ema_bias_corrected is {got[t - 1]} at t = {t} for a constant sequence: "
                   "t is counted from 1, so the divisor 1 - beta^t is never 0")
    assert_corrected(student, got, thetas, beta, "ema_bias_corrected of the constant sequence "
                     "5, 5, ... (bias correction must give exactly 5 at every t)", thetas)


def corrected_random(student, rng):
    """Values of several magnitudes: a tolerance or an epsilon that is absolute shows on the
    large ones, a relative one on the small ones."""
    for scale, beta in ((1.0, 0.8), (1e4, 0.95), (1e-4, 0.5)):
        thetas = scale * rng.normal(-1, 2, size=9)
        got = corrected_call(student, thetas, beta)
        assert_corrected(student, got, thetas, beta, f"ema_bias_corrected with beta = {beta} "
                         f"for values of size ~{scale:g}")


def ema_vectors(student, rng):
    thetas, beta = rng.normal(size=(6, 3, 2)), 0.7
    assert_close(call(student, "ema", thetas, beta), unrolled(thetas, beta),
                 "ema of a sequence of (3, 2) arrays", alternatives=ema_alternatives(thetas, beta))


def corrected_vectors(student, rng):
    thetas, beta = rng.normal(size=(6, 3, 2)), 0.7
    got = corrected_call(student, thetas, beta)
    assert_corrected(student, got, thetas, beta, "ema_bias_corrected of a sequence of (3, 2) "
                     "arrays")


def ema_beta_zero(student, rng):
    thetas = rng.normal(size=(5, 2))
    assert_close(call(student, "ema", thetas, 0.0), thetas, "ema with beta = 0 (it must equal "
                 "the sequence itself)")


def corrected_beta_zero(student, rng):
    thetas = rng.normal(size=(5, 2))
    got = corrected_call(student, thetas, 0.0)
    if not np.all(np.isfinite(got)):
        raise Fail("ema_bias_corrected with beta = 0 is not finite: with t counted from 1, "
                   "1 - 0^t = 1 (t = 0 would divide by 0)")
    assert_corrected(student, got, thetas, 0.0, "ema_bias_corrected with beta = 0 (it must "
                     "equal the sequence)", thetas)


# A long sequence: T = 20000 with beta = 0.9. beta^-t overflows from t = 6737 on (0.9^-t >
# 1.8e308), and a weighted sum recomputed at every step (about T^2 powers, many of them
# subnormal) takes over 8 s, four times its CPU limit, while one pass takes about 5 ms and the
# slowest correct alternative seen 0.25 s (LONG_SEQUENCE_CPU).
LONG_T, LONG_BETA = 20_000, 0.9


def long_sequence(fn):
    """T = 20000 must finish within the call time limit (one pass, not a sum per step) and stay
    finite (no beta^-t)."""
    bias_corrected = fn == "ema_bias_corrected"

    def check(student, rng):
        thetas, beta = rng.normal(size=LONG_T), LONG_BETA
        try:
            got = corrected_call(student, thetas, beta, LONG_SEQUENCE_CPU) if bias_corrected \
                else call(student, fn, thetas, beta, LONG_SEQUENCE_CPU)
        except StudentError as exc:
            if (exc.timed_out() or exc.out_of_memory()) and bias_corrected:
                own_ema(student, thetas, beta, LONG_SEQUENCE_CPU)  # not judged if ema is slow
            if exc.timed_out() or exc.out_of_memory():
                raise Fail(f"{exc}: for T = {LONG_T} the work must grow like T, not T^2: "
                           "compute the average in one pass with the recursion v_t = "
                           "beta v_(t-1) + (1 - beta) theta_t, not a weighted sum recomputed at "
                           "every step")
            raise
        head = unrolled(thetas[:50], beta)
        if bias_corrected:
            assert_corrected(student, got[:50], thetas[:50], beta,
                             f"the first 50 values of {fn} for T = {LONG_T}")
        else:
            assert_close(got[:50], head, f"the first 50 values of {fn} for T = {LONG_T}")
        if not np.all(np.isfinite(got)):
            raise Fail(f"{fn} for T = {LONG_T} becomes NaN or inf at t = "
                       f"{int(np.argmin(np.isfinite(got))) + 1}: a power such as beta^-t "
                       "overflows on long sequences; use the recursion v_t = beta v_(t-1) + "
                       "(1 - beta) theta_t")
        # the last values from the unrolled sum; weights below 0.9^600 ~ 2e-28 are negligible
        t_total, recent = len(thetas), thetas[-600:]
        tail = np.array([(1 - beta) * (beta ** np.arange(len(recent) - 1 - j, -1, -1))
                         @ recent[:len(recent) - j] for j in (2, 1, 0)])
        if bias_corrected:
            tail /= 1 - beta ** (t_total - np.array([2, 1, 0]))
        if bias_corrected and mismatch(got[-3:], tail).any():
            v = own_ema(student, thetas, beta, LONG_SEQUENCE_CPU)
            if agrees(got[-3:], corrected(v, beta)[-3:]):
                return  # the correction of its own ema, whose mistake is charged to ema
        assert_close(got[-3:], tail, f"the last 3 values of {fn} for T = {LONG_T}")
    return check


# -- hidden checks ------------------------------------------------------------------------------

def fresh(rng):
    shape = (int(rng.integers(1, 40)),) + tuple(int(s) for s in rng.integers(1, 4, size=int(rng.integers(0, 3))))
    return rng.normal(rng.normal(0, 3), 1, size=shape), float(rng.uniform(0, 0.99))


def hidden_ema(student, rng, ref):
    thetas, beta = fresh(rng)
    assert_close(call(student, "ema", thetas, beta), ref.ema(thetas, beta),
                 f"ema on a random sequence of shape {thetas.shape} with beta = {beta:.3f}",
                 alternatives=ema_alternatives(thetas, beta))


def hidden_corrected(student, rng, ref):
    thetas, beta = fresh(rng)
    got = corrected_call(student, thetas, beta)
    assert_corrected(student, got, thetas, beta, f"ema_bias_corrected on a random sequence of "
                     f"shape {thetas.shape} with beta = {beta:.3f}",
                     ref.ema_bias_corrected(thetas, beta))


CHECKS = [
    Check("ema: the recursion from v_0 = 0", "ema", 2, ema_recursion),
    Check("ema_bias_corrected: a constant sequence stays constant", "ema_bias_corrected", 2,
          constant_sequence),
    Check("ema_bias_corrected: a random sequence", "ema_bias_corrected", 1, corrected_random),
    Check("ema: a sequence of arrays", "ema", 0.75, ema_vectors),
    Check("ema_bias_corrected: a sequence of arrays", "ema_bias_corrected", 0.75,
          corrected_vectors),
    Check("ema: beta = 0 returns the sequence", "ema", 0.5, ema_beta_zero),
    Check("ema_bias_corrected: beta = 0 returns the sequence", "ema_bias_corrected", 0.5,
          corrected_beta_zero),
    Check(f"ema: T = {LONG_T} within the time limit", "ema", 0.25, long_sequence("ema")),
    Check(f"ema_bias_corrected: T = {LONG_T} within the time limit", "ema_bias_corrected", 0.25,
          long_sequence("ema_bias_corrected")),
    Check("hidden: ema on fresh inputs", "ema", 1, hidden_ema, hidden=True),
    Check("hidden: ema_bias_corrected on fresh inputs", "ema_bias_corrected", 1, hidden_corrected,
          hidden=True),
]
