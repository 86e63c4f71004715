"""Checks for topic 7, inverted dropout (exercise-api.md section 7).

Inputs come from U(1, 2): no zeros, so the mask can be read off the output and most checks are
exact. Only counts are random; each statistical threshold comes from grader.stats with its
false-failure bound written next to it. No check compares a student's mask with a mask drawn
from the same seed: rand < 1 - p, rand >= p, binomial and choice are all correct and all differ.
"""
import functools
import math

import numpy as np

from .. import values
from ..core import Check
from ..compare import Fail, Tol, assert_close, mismatch
from ..stats import FALSE_FAILURE, binomial_interval, mean_interval
from ..core import StudentError
from ..core import Generator

ID = "dropout"
TITLE = "Dropout"
FUNCTIONS = {"dropout_forward": ("x", "p", "train=True", "rng=None"),
             "dropout_backward": ("dout", "cache")}
ROUND_OFF = Tol(rtol=1e-12, atol=0)


def inputs(rng, shape):
    return rng.uniform(1, 2, size=shape)


def forward(student, x, p, train=True, rng=None):
    """(out, cache); with train=True and rng=None both are left out of the call, so that their
    defaults are what is tested."""
    args = (x, p) if train is True and rng is None else (x, p, train, rng)
    out, cache = values.parts(student.call("dropout_forward", *args, opaque=(1,)),
                              "dropout_forward", ("out", "cache"))
    return values.array(out, "out", shape=x.shape), cache


def dropped(out, x, p):
    """The mask read from the output, after checking every entry is 0 or x / (1 - p)."""
    kept = out != 0
    if (0 < p and np.allclose(out[kept], x[kept] / p, rtol=1e-12, atol=0)
            and abs((~kept).mean() - (1 - p)) < abs((~kept).mean() - p)):
        raise Fail(f"with p = {p:.3g}, about 1 - p of the entries are dropped and the kept ones are "
                   "divided by p: p is the probability of dropping, not of keeping (keep with "
                   "probability 1 - p and divide by 1 - p)")
    if not np.allclose(out[kept], x[kept] / (1 - p), rtol=1e-12, atol=0):
        for scale, sentence in ((1 / max(p, 1e-300), "kept entries are divided by p; inverted "
                                 "dropout divides by the keep probability 1 - p"),
                                (1.0, "kept entries are not scaled; inverted dropout divides them "
                                 "by 1 - p so that the expected output equals x"),
                                (1 - p, "kept entries are multiplied by 1 - p; inverted dropout "
                                 "divides by it")):
            if np.allclose(out[kept], x[kept] * scale, rtol=1e-12, atol=0):
                raise Fail(f"with p = {p:.3g}: {sentence}")
        raise Fail(f"with p = {p:.3g}, some entries of out are neither 0 nor x / (1 - p)")
    return ~kept


@functools.lru_cache(maxsize=None)
def count_variance_interval(m, p, rows):
    """Acceptance interval for mean over rows of (c - m p)^2 / (m p (1 - p)), c ~ Binomial(m, p):
    the variance of the count per row, relative to independent drops (1 on average)."""
    k = np.arange(m + 1)
    pmf = np.array([math.comb(m, i) * p ** i * (1 - p) ** (m - i) for i in k])
    return mean_interval((k - m * p) ** 2 / (m * p * (1 - p)), pmf, rows)


# -- public checks ------------------------------------------------------------------------------

def check_fraction(out, x, p):
    """The dropped fraction within its Chernoff interval: a correct dropout fails this with
    probability below FALSE_FAILURE (1e-9)."""
    fraction = dropped(out, x, p).mean()
    lo, hi = binomial_interval(x.size, p)
    if not lo <= fraction <= hi:
        swapped = " (about 1 - p: p is the probability of dropping, not of keeping)" \
            if abs(fraction - (1 - p)) < abs(fraction - p) else ""
        raise Fail(f"with p = {p:.3g}, {fraction:.4f} of {x.size} entries are dropped; a correct "
                   f"dropout drops between {lo:.4f} and {hi:.4f} (it fails with probability "
                   f"below {FALSE_FAILURE:g}){swapped}")


def inference_factors(p):
    return [(1 / (1 - p), "it is scaled by 1 / (1 - p); inverted dropout scales only in training "
             "and leaves inference alone"),
            (1 - p, "it is multiplied by 1 - p; that is the old (non-inverted) dropout, here "
             "inference leaves x alone")]


def inference_out(student, rng):
    x, p = inputs(rng, (20, 7)), 0.4
    out, _ = forward(student, x, p, train=False)
    assert_close(out, x, "out when not training (it must be x itself)", tol=ROUND_OFF,
                 factors=inference_factors(p))


def inference_dx(student, rng):
    x, p = inputs(rng, (20, 7)), 0.4
    _, cache = forward(student, x, p, train=False)
    dout = rng.normal(size=x.shape)
    dx = values.array(student.call("dropout_backward", dout, cache), "dx", shape=x.shape)
    assert_close(dx, dout, "dx after a forward pass that was not training (it must be dout)",
                 tol=ROUND_OFF, factors=inference_factors(p))


def kept_are_scaled(student, rng):
    for p in (0.3, 0.0):
        x = inputs(rng, (200, 50))
        out, _ = forward(student, x, p, rng=Generator(rng.integers(2 ** 32)))
        mask = dropped(out, x, p)
        if p == 0 and mask.any():
            raise Fail("with p = 0 nothing may be dropped")


def dropped_fraction(student, rng):
    for p in (0.1, 0.8):  # asymmetric rates: at p = 0.5 a swapped convention is invisible
        x = inputs(rng, (200, 100))
        out, _ = forward(student, x, p, rng=Generator(rng.integers(2 ** 32)))
        check_fraction(out, x, p)


def independent_elements(student, rng):
    """Each element is dropped independently: no row or column is all kept or all dropped,
    no two rows share a mask, and the number dropped per row varies as Binomial(100, 1/2)."""
    rows, cols, p = 400, 100, 0.5
    x = inputs(rng, (rows, cols))
    out, _ = forward(student, x, p, rng=Generator(rng.integers(2 ** 32)))
    mask = dropped(out, x, p)
    # A correct mask fails one of these with probability below 1e-25 (union bounds over
    # 500 lines of 2 * 2^-100 or 2 * 2^-400, and 400^2 / 2 row pairs of 2^-100).
    for axis, what in ((1, "row"), (0, "column")):
        counts = mask.sum(axis=axis)
        if np.any(counts == 0) or np.any(counts == mask.shape[axis]):
            raise Fail(f"a whole {what} is kept or dropped together: draw one independent "
                       "number per element (an array of x's shape), not one per row or column")
    if len(np.unique(mask, axis=0)) < rows:
        raise Fail("two rows have exactly the same mask: draw a mask of x's full shape, not "
                   "one row broadcast over the batch")
    counts = mask.sum(axis=1)
    statistic = np.mean((counts - cols * p) ** 2) / (cols * p * (1 - p))
    lo, hi = count_variance_interval(cols, p, rows)  # P(a correct dropout lands outside) <= 1e-9
    if not lo <= statistic <= hi:
        raise Fail(f"the number of dropped entries per row varies {statistic:.3f} times as much "
                   f"as independent drops do (a correct dropout gives between {lo:.3f} and "
                   f"{hi:.3f}, failing with probability below {FALSE_FAILURE:g}): "
                   + ("every row drops the same number of entries; each element must be "
                      "dropped independently" if statistic < lo else "the drops are correlated"))
    # The total dropped varies between calls: 20 calls of Binomial(10^4, 1/2) all equal has
    # probability below max_k P(k)^19 < 0.008^19 ~ 1e-40.
    small = x[:100]
    outs = student.call_many("dropout_forward", [[small, p, True, Generator(rng.integers(2 ** 32))]
                                                 for _ in range(20)], pick=0)
    totals = {int(np.count_nonzero(values.array(out, "out", shape=small.shape) == 0))
              for out in outs}
    if len(totals) == 1:
        raise Fail(f"every call drops exactly {totals.pop()} of {small.size} entries: the "
                   "number dropped must vary, each element being dropped independently (not a "
                   "fixed number chosen without replacement)")


def fresh_mask_per_call(student, rng):
    x, p = inputs(rng, (50, 40)), 0.5
    generator = Generator(rng.integers(2 ** 32))
    first, _ = forward(student, x, p, rng=generator)
    second, _ = forward(student, x, p, rng=generator)
    # identical masks from independent draws: probability 2^-2000
    if np.array_equal(first != 0, second != 0):
        raise Fail("two calls with the same generator gave the same mask: draw a new mask at "
                   "every call (do not reseed or cache it)")
    first, _ = forward(student, x, p)
    if np.array_equal(first, x):
        raise Fail("dropout_forward(x, p), with train and rng left at their defaults, dropped "
                   "nothing: train defaults to True")
    second, _ = forward(student, x, p)
    if np.array_equal(first != 0, second != 0):
        raise Fail("two calls with rng=None gave the same mask: use a fresh "
                   "np.random.default_rng() when no generator is given")


def same_state_same_mask(student, rng):
    x, p = inputs(rng, (30, 20)), 0.3
    seed = rng.integers(2 ** 32)
    first, _ = forward(student, x, p, rng=Generator(seed))
    second, _ = forward(student, x, p, rng=Generator(seed))
    dropped(first, x, p)  # a valid dropout output, to begin with
    if not np.array_equal(first, second):
        raise Fail("two generators in the same state gave different masks: draw the mask from "
                   "the rng argument (not from np.random's global state)")


def backward_same_mask(student, rng):
    for p in (0.2, 0.7):
        x = inputs(rng, (40, 30))
        out, cache = forward(student, x, p, rng=Generator(rng.integers(2 ** 32)))
        forward(student, x, p, rng=Generator(rng.integers(2 ** 32)))  # another call in between
        dout = rng.normal(size=x.shape)
        dx = values.array(student.call("dropout_backward", dout, cache), "dx", shape=x.shape)
        mask = ~dropped(out, x, p)
        what = f"dx with p = {p} (dout through the forward's mask, scaled by 1 / (1 - p))"
        alternatives = [
            (dout * mask, "the kept gradients are not scaled by 1 / (1 - p)"),
            (dout * mask / p, "the kept gradients are divided by p; divide by 1 - p"),
            (dout * ~mask / (1 - p), "dx flows through the dropped entries; it must flow "
             "through the kept ones")]
        named = [sentence for alt, sentence in alternatives if not mismatch(dx, alt, ROUND_OFF).any()]
        if not named and not np.array_equal(dx != 0, mask):
            raise Fail(f"with p = {p}, dx is zero where the forward pass kept x, or nonzero "
                       "where it dropped it: the backward pass must use the mask in the cache "
                       "it is given, not draw a new mask (or reuse the last call's)")
        assert_close(dx, dout * out / x, what, tol=ROUND_OFF, alternatives=alternatives)


def backward_where_x_is_zero(student, rng):
    """Inputs with exact zeros, as after a ReLU: the mask cannot be read off the output there.
    The same generator state gives the same mask (spec), so a forward call on the same shape
    without zeros shows the mask the backward pass must use."""
    p = 0.4
    without_zeros = inputs(rng, (30, 20))
    x_shape = without_zeros.shape
    x = np.where(rng.random(x_shape) < 0.3, 0.0, without_zeros)
    seed = rng.integers(2 ** 32)
    kept = ~dropped(forward(student, without_zeros, p, rng=Generator(seed))[0], without_zeros, p)
    out, cache = forward(student, x, p, rng=Generator(seed))
    if not np.array_equal(out != 0, kept & (x != 0)):
        raise Fail("cannot check dx where x is 0: two generators in the same state gave "
                   "different masks (see the check on the same generator state)")
    dout = rng.normal(size=x_shape)
    dx = values.array(student.call("dropout_backward", dout, cache), "dx", shape=x_shape)
    if not np.all(np.isfinite(dx)):
        raise Fail("dx is NaN or inf where x is 0 (zeros are common after a ReLU): do not "
                   "recover the mask by dividing out by x; keep the mask itself in the cache")
    assert_close(dx, dout * kept / (1 - p), f"dx with p = {p} for x with exact zeros",
                 tol=ROUND_OFF, alternatives=[
                     (dout * (out != 0) / (1 - p), "dx is 0 where x was 0 but kept: the mask "
                      "read from the output (out != 0) is also 0 where x is 0 (common after a "
                      "ReLU); keep the mask itself in the cache")])


def rejects_bad_p(student, rng):
    x = inputs(rng, (3, 4))
    for p in (1.0, -0.1, 1.5):
        try:
            student.call("dropout_forward", x, p, True, Generator(rng.integers(2 ** 32)))
        except StudentError as exc:
            if not exc.raised("ValueError"):
                raise Fail(f"dropout_forward(x, p={p}) should raise ValueError, but: {exc}")
            continue
        raise Fail(f"dropout_forward(x, p={p}) returned; p must be in [0, 1), so it should raise "
                   "ValueError")


# -- hidden checks ------------------------------------------------------------------------------

def hidden_forward(student, rng, ref):
    """Fresh shapes and rates: the fraction within its bound and the scale. The reference is
    used only for what is not random (inference)."""
    p = float(rng.uniform(0.05, 0.95))
    x = inputs(rng, (int(rng.integers(100, 300)), int(rng.integers(50, 200))))
    out, _ = forward(student, x, p, rng=Generator(rng.integers(2 ** 32)))
    check_fraction(out, x, p)
    test_out, _ = forward(student, x, p, train=False)
    assert_close(test_out, ref.dropout_forward(x, p, train=False)[0], "out when not training",
                 tol=ROUND_OFF, factors=inference_factors(p))


def hidden_backward(student, rng, ref):
    p = float(rng.uniform(0.05, 0.95))
    x = inputs(rng, (int(rng.integers(20, 100)), int(rng.integers(20, 100))))
    out, cache = forward(student, x, p, rng=Generator(rng.integers(2 ** 32)))
    dout = rng.normal(size=x.shape)
    dx = values.array(student.call("dropout_backward", dout, cache), "dx", shape=x.shape)
    assert_close(dx, dout * out / x, f"dx with p = {p:.3f}", tol=ROUND_OFF, factors=[
        (1 - p, "the kept gradients are not divided by 1 - p")])


CHECKS = [
    Check("inference: out is x", "dropout_forward", 0.25, inference_out),
    Check("inference: dx is dout", "dropout_backward", 0.25, inference_dx),
    Check("forward: kept entries are x / (1 - p)", "dropout_forward", 1, kept_are_scaled),
    Check("forward: the dropped fraction is p (p = 0.1 and 0.8)", "dropout_forward", 1.5,
          dropped_fraction),
    Check("forward: elements are dropped independently", "dropout_forward", 1.5,
          independent_elements),
    Check("forward: a fresh mask at every call", "dropout_forward", 1, fresh_mask_per_call),
    Check("forward: the same generator state gives the same mask", "dropout_forward", 1,
          same_state_same_mask),
    Check("backward: the forward's mask and scale", "dropout_backward", 1, backward_same_mask),
    Check("backward: where x is exactly 0", "dropout_backward", 0.5, backward_where_x_is_zero),
    Check("forward: p outside [0, 1) raises ValueError", "dropout_forward", 1, rejects_bad_p),
    Check("hidden: forward at a random rate and shape", "dropout_forward", 0.5, hidden_forward,
          hidden=True),
    Check("hidden: backward at a random rate and shape", "dropout_backward", 0.5,
          hidden_backward, hidden=True),
]
