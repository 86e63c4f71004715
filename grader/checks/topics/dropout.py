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
from ..core import Check, Generator, NotJudged, StudentError, using
from ..compare import Fail, agrees, assert_close
from ..stats import FALSE_FAILURE, binomial_interval, mean_interval
from ..tolerances import ROUND_OFF

ID = "dropout"
TITLE = "Dropout"
FUNCTIONS = {"dropout_forward": ("x", "p", "train=True", "rng=None"),
             "dropout_backward": ("dout", "cache")}


def inputs(rng, shape):
    return rng.uniform(1, 2, size=shape)


def forward(student, x, p, train=True, rng=None):
    """(out, cache); with train=True and rng=None both are left out of the call, so that their
    defaults are what is tested."""
    return forwards(student, [(x, p, train, rng)])[0]


def forwards(student, calls):
    """[(out, cache)] of the calls (x, p, train, rng) made in order, in one round trip."""
    arglists = [(x, p) if train is True and rng is None else (x, p, train, rng)
                for x, p, train, rng in calls]
    results = student.call_many("dropout_forward", arglists, opaque=(1,))
    checked = []
    for (x, *_), result in zip(calls, results):
        out, cache = values.parts(result, "dropout_forward", ("out", "cache"))
        out = values.array(out, "out", shape=x.shape)
        if not np.all(np.isfinite(out)):
            raise Fail("out contains NaN or inf: every entry is 0 or x / (1 - p)")
        checked.append((out, cache))
    return checked


def dropped(out):
    """The mask read from the output (inputs have no zeros): only where entries are 0, whatever
    the kept ones were scaled by (the scale is judged by a check of its own)."""
    return out == 0


def check_scale(out, x, p):
    """Every kept entry is x / (1 - p); the usual other scales are named."""
    kept = out != 0
    if np.allclose(out[kept], x[kept] / (1 - p), rtol=ROUND_OFF.rtol, atol=0):
        return
    for scale, sentence in ((1 / max(p, 1e-300), "kept entries are divided by p; inverted "
                             "dropout divides by the keep probability 1 - p"),
                            (1.0, "kept entries are not scaled; inverted dropout divides them "
                             "by 1 - p so that the expected output equals x"),
                            (1 - p, "kept entries are multiplied by 1 - p; inverted dropout "
                             "divides by it")):
        if np.allclose(out[kept], x[kept] * scale, rtol=ROUND_OFF.rtol, atol=0):
            raise Fail(f"with p = {p:.3g}: {sentence}")
    raise Fail(f"with p = {p:.3g}, some entries of out are neither 0 nor x / (1 - p)")


def normal_rates(p):
    """Dropped fractions of masks drawn from a standard normal instead of a uniform, compared
    with p or 1 - p either way round (keep where z < 1 - p, z >= p, ...)."""
    phi = lambda t: 0.5 * (1 + math.erf(t / math.sqrt(2)))
    return {1 - phi(1 - p), phi(p), 1 - phi(p), phi(1 - p)}


def check_fraction(out, x, p):
    """The dropped fraction within its Chernoff interval: a correct dropout fails this with
    probability below FALSE_FAILURE (1e-9). A cause is named only when the fraction is also
    inside the interval of that cause's rate."""
    fraction = dropped(out).mean()
    lo, hi = binomial_interval(x.size, p)
    if lo <= fraction <= hi:
        return
    seen = (f"with p = {p:.3g}, {fraction:.4f} of {x.size} entries are dropped, where a correct "
            f"dropout drops between {lo:.4f} and {hi:.4f} (it fails with probability below "
            f"{FALSE_FAILURE:g})")
    inside = lambda rate: (binomial_interval(x.size, rate)[0] <= fraction
                           <= binomial_interval(x.size, rate)[1])
    if inside(1 - p):
        raise Fail(f"p is the probability of dropping, not of keeping: {seen}, about 1 - p. "
                   "Keep each entry with probability 1 - p")
    if any(inside(r) for r in normal_rates(p)):
        raise Fail(f"the mask looks drawn from a normal distribution, not a uniform one: {seen}, "
                   "which is the rate a standard normal draw gives. Draw uniform numbers in "
                   "[0, 1) (rng.random) and drop where they are below p")
    raise Fail(f"the dropped fraction is wrong: {seen}")


@functools.lru_cache(maxsize=None)
def count_variance_interval(m, p, rows):
    """Acceptance interval for mean over rows of (c - m p)^2 / (m p (1 - p)), c ~ Binomial(m, p):
    the variance of the count per row, relative to independent drops (1 on average)."""
    k = np.arange(m + 1)
    pmf = np.array([math.comb(m, i) * p ** i * (1 - p) ** (m - i) for i in k])
    return mean_interval((k - m * p) ** 2 / (m * p * (1 - p)), pmf, rows, FALSE_FAILURE / 2)


def variance_ratio_interval(m, p, rows):
    """Acceptance interval for the variance of the per-row counts around the observed rate q,
    relative to m q (1 - q), so that a wrong rate (judged by its own check) does not look like
    dependent drops. With A = mean (c - m p)^2 and q the observed rate, the statistic is
    (A - m^2 (q - p)^2) / (m q (1 - q)). A correct dropout has A / (m p (1 - p)) inside
    count_variance_interval and |q - p| <= delta except with probability FALSE_FAILURE / 2
    each, so outside the returned interval with probability below FALSE_FAILURE."""
    lo, hi = count_variance_interval(m, p, rows)
    q_lo, q_hi = binomial_interval(m * rows, p, FALSE_FAILURE / 2)
    delta = max(p - q_lo, q_hi - p)
    spread = [q * (1 - q) for q in (q_lo, q_hi, p) if 0 < q < 1]
    var = p * (1 - p)
    return ((lo * var - m * delta ** 2) / max(spread), hi * var / min(spread))


# -- public checks ------------------------------------------------------------------------------

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


def judge_dx(dx, dout, out, x, p, what, alternatives=()):
    """dx of the forward call that gave `out` (inputs without zeros): dout through that call's
    mask, divided by 1 - p, or the exact gradient of the student's own forward (dout * out / x)
    when its scale differs (that is the forward's mistake, charged there)."""
    kept = out != 0
    own = dout * out / x
    spec = dout * kept / (1 - p)
    if agrees(dx, own, ROUND_OFF) or agrees(dx, spec, ROUND_OFF):
        return
    named = [(dout, "dx is dout unchanged: multiply it by the forward call's mask and divide "
              "by 1 - p"),
             (dout * kept, "the kept gradients are not scaled by 1 / (1 - p)"),
             (dout * kept / max(p, 1e-300), "the kept gradients are divided by p; divide by "
              "1 - p"),
             (dout * ~kept / (1 - p), "dx flows through the dropped entries; it must flow "
              "through the kept ones"), *alternatives]
    for alt, sentence in named:
        if agrees(dx, alt, ROUND_OFF):
            raise Fail(f"{what}: {sentence}")
    nonzero = dx != 0
    if (np.allclose(dx[nonzero], dout[nonzero] / (1 - p), rtol=ROUND_OFF.rtol, atol=0)
            and not np.array_equal(nonzero, kept)):
        raise Fail(f"{what}: dx is dout / (1 - p) on a different set of entries than the forward "
                   "call kept: the backward pass must use the mask in the cache it is given, not "
                   "draw a new mask or reuse another call's")
    assert_close(dx, spec, what, tol=ROUND_OFF)


def inference_dx(student, rng):
    x, p = inputs(rng, (20, 7)), 0.4
    with using("dropout_forward"):
        out, cache = forward(student, x, p, train=False)
    dout = rng.normal(size=x.shape)
    dx = values.array(student.call("dropout_backward", dout, cache), "dx", shape=x.shape)
    if agrees(dx, dout * out / x, ROUND_OFF):
        return  # right for its own forward call (whose output is judged by its own check)
    assert_close(dx, dout, "dx after a forward pass that was not training (it must be dout)",
                 tol=ROUND_OFF, factors=inference_factors(p))


def kept_are_scaled(student, rng):
    """Exact, not statistical: some hundreds of kept entries say as much as thousands."""
    for p in (0.3, 0.0):
        x = inputs(rng, (40, 25))
        out, _ = forward(student, x, p, rng=Generator(rng.integers(2 ** 32)))
        if p == 0 and dropped(out).any():
            raise Fail("with p = 0 nothing may be dropped")
        if (0 < p and np.allclose(out[out != 0], x[out != 0] / p, rtol=ROUND_OFF.rtol, atol=0)):
            raise Fail(f"with p = {p:.3g}, the kept entries are divided by p: p is the "
                       "probability of dropping, not of keeping (keep with probability 1 - p "
                       "and divide by 1 - p)")
        check_scale(out, x, p)


def dropped_fraction(student, rng):
    for p in (0.1, 0.8):  # asymmetric rates: at p = 0.5 a swapped convention is invisible
        x = inputs(rng, (200, 100))
        out, _ = forward(student, x, p, rng=Generator(rng.integers(2 ** 32)))
        check_fraction(out, x, p)


def independent_elements(student, rng):
    """Each element is dropped independently: no row or column is all kept or all dropped,
    no two rows share a mask, and the number dropped per row varies as a binomial does (at
    whatever rate the function drops: the rate has a check of its own)."""
    rows, cols, p = 400, 100, 0.5
    x = inputs(rng, (rows, cols))
    out, _ = forward(student, x, p, rng=Generator(rng.integers(2 ** 32)))
    mask = dropped(out)
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
    q = counts.mean() / cols
    statistic = np.mean((counts - cols * q) ** 2) / (cols * q * (1 - q))
    lo, hi = variance_ratio_interval(cols, p, rows)  # P(correct code outside) < 1e-9
    if not lo <= statistic <= hi:
        seen = (f"the number of dropped entries per row varies {statistic:.3f} times as much as "
                f"independent drops at the same rate would (a correct dropout gives between "
                f"{lo:.3f} and {hi:.3f}, failing with probability below {FALSE_FAILURE:g})")
        raise Fail(f"every row drops the same number of entries, or nearly: {seen}. Each "
                   "element must be dropped independently" if statistic < lo else
                   f"entries of a row are dropped together more often than chance: {seen}. "
                   "Each element must be dropped independently")
    # The total dropped varies between calls: 20 calls of Binomial(1000, 1/2) all equal has
    # probability below max_k P(k)^19 < 0.026^19 ~ 1e-30.
    small = x[:10]
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
    (first, _), (second, _) = forwards(student, [(x, p, True, generator)] * 2)
    # identical masks from independent draws: probability 2^-2000
    if np.array_equal(first != 0, second != 0):
        raise Fail("two calls with the same generator gave the same mask: draw a new mask at "
                   "every call (do not reseed or cache it)")
    (first, _), (second, _) = forwards(student, [(x, p, True, None)] * 2)
    if np.array_equal(first, x):
        raise Fail("dropout_forward(x, p), with train and rng left at their defaults, dropped "
                   "nothing: train defaults to True")
    if np.array_equal(first != 0, second != 0):
        raise Fail("two calls with rng=None gave the same mask: use a fresh "
                   "np.random.default_rng() when no generator is given")


def same_state_same_mask(student, rng):
    x, p = inputs(rng, (30, 20)), 0.3
    seed = rng.integers(2 ** 32)
    (first, _), (second, _) = forwards(student, [(x, p, True, Generator(seed)),
                                                 (x, p, True, Generator(seed))])
    if not np.array_equal(first != 0, second != 0):
        raise Fail("two generators in the same state gave different masks: draw the mask from "
                   "the rng argument (not from np.random's global state)")


def backward_same_mask(student, rng):
    """Two dropout layers: forward A, forward B with another rate and shape, then backward A
    with A's cache."""
    for p, other in ((0.2, 0.6), (0.7, 0.1)):
        x = inputs(rng, (40, 30))
        with using("dropout_forward"):
            (out, cache), _ = forwards(student, [
                (x, p, True, Generator(rng.integers(2 ** 32))),
                (inputs(rng, (25, 35)), other, True, Generator(rng.integers(2 ** 32)))])
        dout = rng.normal(size=x.shape)
        dx = values.array(student.call("dropout_backward", dout, cache), "dx", shape=x.shape)
        judge_dx(dx, dout, out, x, p, f"dx with p = {p} (after another layer's forward call "
                 f"with p = {other})")


def backward_where_x_is_zero(student, rng):
    """Inputs with exact zeros, as after a ReLU: the mask cannot be read off the output there.
    The same generator state gives the same mask (spec), so a forward call on the same shape
    without zeros shows the mask the backward pass must use."""
    p = 0.4
    without_zeros = inputs(rng, (30, 20))
    x_shape = without_zeros.shape
    x = np.where(rng.random(x_shape) < 0.3, 0.0, without_zeros)
    seed = rng.integers(2 ** 32)
    with using("dropout_forward"):
        (reference, _), (out, cache) = forwards(student, [
            (without_zeros, p, True, Generator(seed)), (x, p, True, Generator(seed))])
    kept = reference != 0
    if not np.array_equal(out != 0, kept & (x != 0)):
        raise NotJudged("dropout_forward", "two generators in the same state gave different "
                        "masks, so the mask where x is 0 is unknown")
    scale = np.where(kept, reference / without_zeros, 0.0)  # the forward's own scale
    dout = rng.normal(size=x_shape)
    dx = values.array(student.call("dropout_backward", dout, cache), "dx", shape=x_shape)
    if not np.all(np.isfinite(dx)):
        raise Fail("dx is NaN or inf where x is 0 (zeros are common after a ReLU): do not "
                   "recover the mask by dividing out by x; keep the mask itself in the cache")
    if agrees(dx, dout * scale, ROUND_OFF):
        return  # the exact gradient of its own forward call
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
    few = x[:20]  # inference is exact: a few rows will do
    (out, _), (test_out, _) = forwards(student, [(x, p, True, Generator(rng.integers(2 ** 32))),
                                                 (few, p, False, None)])
    check_fraction(out, x, p)
    check_scale(out, x, p)
    assert_close(test_out, ref.dropout_forward(few, p, train=False)[0], "out when not training",
                 tol=ROUND_OFF, factors=inference_factors(p))


def hidden_backward(student, rng, ref):
    p = float(rng.uniform(0.05, 0.95))
    x = inputs(rng, (int(rng.integers(20, 100)), int(rng.integers(20, 100))))
    with using("dropout_forward"):
        out, cache = forward(student, x, p, rng=Generator(rng.integers(2 ** 32)))
    dout = rng.normal(size=x.shape)
    dx = values.array(student.call("dropout_backward", dout, cache), "dx", shape=x.shape)
    judge_dx(dx, dout, out, x, p, f"dx with p = {p:.3f}")


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
