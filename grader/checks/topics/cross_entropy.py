"""Checks for topic 1, cross-entropy (exercise-api.md section 1).

Public checks use the definitions and hand-derived values only (no general stable softmax lives
here); hidden checks compare with solutions/cross_entropy.py on fresh random inputs.
"""
import math

import numpy as np

from .. import values
from ..core import Check
from ..compare import Fail, Tol, assert_close
from ..gradcheck import Forward, assert_gradient, own_gradients
from ..tolerances import LSE_ROUND_OFF, ROW_SUM

ID = "cross_entropy"
TITLE = "Cross-entropy"
FUNCTIONS = {
    "cross_entropy": ("p", "q"),
    "empirical_cross_entropy": ("samples", "q"),
    "softmax": ("logits",),
    "softmax_cross_entropy": ("logits", "labels"),
}

LN2, LN3 = math.log(2), math.log(3)
SIGN = (-1.0, "the minus sign is missing (H = -sum p ln q is never negative)")


def entropy_factors(k):
    return [(1 / LN2, "it is in bits; cross_entropy is in nats (use np.log)"),
            (1 / math.log(10), "use the natural log np.log, not log10"),
            (1 / k, "it is averaged over the outcomes; H is a sum over them"), SIGN]


def empirical_factors(n, k):
    return [(LN2, "it is in nats; the estimate is in bits (use np.log2)"),
            (n, "it is a sum; the estimate averages over the N samples"),
            (n / k, "it divides by the number of outcomes; divide by the number of samples N"),
            SIGN]


def loss_factors(n):
    return [(n, "it is summed over the batch; the loss is the mean (divide by N)"),
            (1 / LN2, "it is in bits; use the natural log"), SIGN]


def gradient_factors(n, c):
    return [(n, "the loss is a mean, so its gradient is divided by N"),
            (-1, "it is onehot - softmax; the gradient is softmax - onehot")] + (
        [(n / c, "it is divided by the number of classes C; divide by the batch size N")]
        if n != c else [])


def distribution(rng, k):
    p = rng.uniform(0.05, 1.0, k)
    return p / p.sum()


def show(a):
    """A short one-line rendering of an input, for messages."""
    return np.array2string(np.asarray(a), precision=4, separator=", ",
                           max_line_width=10 ** 6, threshold=12).replace("\n", "")


def definition(p, q):
    """H(p, q) on a q with no zeros."""
    return float(-np.sum(p * np.log(q)))


def naive_softmax(z):
    """exp/sum straight from the definition: fine for the moderate logits it is used on."""
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def onehot(labels, c):
    return np.eye(c)[labels]


def check_rows_are_distributions(probs, what):
    """Name the usual normalization mistakes from the sums of the returned array."""
    rows, cols, total = probs.sum(axis=1), probs.sum(axis=0), probs.sum()
    if np.allclose(rows, 1, rtol=0, atol=ROW_SUM) and np.all(probs >= 0):
        return
    if np.any(probs < 0):
        raise Fail(f"{what} has negative entries; probabilities are never negative")
    if np.allclose(cols, 1, rtol=0, atol=ROW_SUM):
        raise Fail(f"{what}: each column sums to 1 instead of each row; normalize over axis=1 "
                   "(one distribution per example)")
    if np.isclose(total, 1, rtol=0, atol=ROW_SUM):
        raise Fail(f"{what}: the whole array sums to 1; each row must sum to 1 (sum over axis=1 "
                   "with keepdims=True)")
    raise Fail(f"{what}: the rows do not sum to 1 (they sum to {show(rows)})")


# -- public checks ------------------------------------------------------------------------------

def cross_entropy_values(student, rng):
    cases = [(np.full(4, 0.25), np.full(4, 0.25)),
             (np.array([0.5, 0.25, 0.25]), np.array([0.25, 0.25, 0.5])),
             (distribution(rng, 6), distribution(rng, 6))]
    for p, q in cases:
        got = values.scalar(student.call("cross_entropy", p, q), "cross_entropy(p, q)")
        assert_close(got, definition(p, q), f"cross_entropy(p={show(p)}, q={show(q)})",
                     factors=entropy_factors(len(p)),
                     alternatives=[(definition(q, p), "p and q are swapped: H(p, q) = "
                                    "-sum_i p_i ln q_i weights the log of the model q by the true p")])


def cross_entropy_zeros(student, rng):
    p, q = np.array([0.5, 0.5, 0.0, 0.0]), np.array([0.25, 0.25, 0.5, 0.0])
    got = values.scalar(student.call("cross_entropy", p, q), "cross_entropy(p, q)")
    if math.isnan(got):
        raise Fail(f"cross_entropy(p={show(p)}, q={show(q)}) is nan: a term with p_i = 0 is 0 "
                   "even where q_i = 0 (0 ln 0 counts as 0); sum only over the p_i > 0")
    assert_close(got, math.log(4), f"cross_entropy(p={show(p)}, q={show(q)})",
                 factors=entropy_factors(len(p)))
    p, q = np.array([0.5, 0.5, 0.0]), np.array([0.5, 0.0, 0.5])
    got = values.scalar(student.call("cross_entropy", p, q), "cross_entropy(p, q)")
    if got != math.inf:
        raise Fail(f"cross_entropy(p={show(p)}, q={show(q)}) is {got}, but must be inf: the "
                   "model gives probability 0 to an outcome that happens (do not clip q or add "
                   "an epsilon inside the log)")


def empirical_values(student, rng):
    q = distribution(rng, 5)
    samples = rng.integers(0, 5, size=37)
    cases = [(np.array([0, 1, 2, 0]), np.array([0.5, 0.25, 0.25])),  # 1.5 bits exactly
             (samples, q),
             # outcomes never observed, one of them impossible (q = 0): only the samples count
             (np.array([1, 0, 1, 1]), np.array([0.25, 0.5, 0.0, 0.25]))]
    for s, q in cases:
        got = values.scalar(student.call("empirical_cross_entropy", s, q),
                            "empirical_cross_entropy(samples, q)")
        expected = float(-np.mean(np.log2(q[s])))
        what = f"empirical_cross_entropy(samples={show(s)}, q={show(q)})"
        if not np.isfinite(got) and np.isfinite(expected):
            raise Fail(f"{what} is {got}, but only the observed outcomes count: "
                       "-(1/N) sum_i log2 q[samples[i]] (an outcome never observed adds nothing, "
                       "even where q is 0)")
        assert_close(got, expected, what, factors=empirical_factors(len(s), len(q)))


def softmax_rows(student, rng):
    logits = rng.normal(0, 2, size=(5, 3))
    probs = values.array(student.call("softmax", logits), "softmax(logits)", shape=logits.shape)
    check_rows_are_distributions(probs, "softmax(logits) for logits of shape (5, 3)")
    assert_close(probs, naive_softmax(logits), "softmax(logits) for logits of shape (5, 3)")
    shift = rng.normal(0, 5, size=(5, 1))
    shifted = values.array(student.call("softmax", logits + shift), "softmax(logits + c)",
                           shape=logits.shape)
    assert_close(shifted, probs, "softmax(logits + c) with a constant c per row (it must equal "
                 "softmax(logits))")


STABLE_LOGITS = np.array([[1e4, 1e4 - 1, -1e4],
                          [-1e4, -1e4 + 2, -1e4 + 1],
                          [0.0, 0.0, 0.0]])
# exp of each row shifted by its maximum: [0, -1, -2e4], [-2, 0, -1], [0, 0, 0]
STABLE_EXP = np.array([[1.0, math.exp(-1), 0.0], np.exp([-2.0, 0.0, -1.0]), [1.0, 1.0, 1.0]])
STABLE_PROBS = STABLE_EXP / STABLE_EXP.sum(axis=1, keepdims=True)


def softmax_stable(student, rng):
    probs = values.array(student.call("softmax", STABLE_LOGITS), "softmax(logits)",
                         shape=STABLE_LOGITS.shape)
    what = f"softmax(logits={show(STABLE_LOGITS)})"
    if not np.all(np.isfinite(probs)):
        raise Fail(f"{what} contains nan or inf: exp overflows (or a whole row underflows to 0); "
                   "subtract each row's own maximum, logits.max(axis=1, keepdims=True), before "
                   "exponentiating")
    no_keepdims = STABLE_EXP / STABLE_EXP.sum(axis=1)
    try:
        assert_close(probs, STABLE_PROBS, what, alternatives=[
            (no_keepdims, "the row sums are broadcast along the wrong axis: keep them as a "
             "column (sum(axis=1, keepdims=True))")])
    except Fail as exc:
        if np.allclose(probs.sum(axis=1), 1, rtol=0, atol=ROW_SUM):
            raise Fail(f"{exc}. Each row sums to 1, but the values are off at this scale: do not "
                       "clip or rescale the logits; subtract each row's own maximum (softmax is "
                       "unchanged by that) before exponentiating")
        raise


def loss_tol(logits):
    """The round-off of the loss and of dlogits: log-sum-exp is off by ~eps * max|logits| per
    row whatever the formula, and so is softmax - onehot where softmax ~ 1 (measured: 2e-15 at
    |logits| ~ 100 on entries of 1e-13); allow 1000 times that on top of the default."""
    scale = max(1.0, float(np.abs(logits).max()))
    return Tol(floor=LSE_ROUND_OFF * np.finfo(float).eps * scale)


def sce_parts(student, logits, labels, shape):
    loss, dlogits = values.parts(student.call("softmax_cross_entropy", logits, labels),
                                 "softmax_cross_entropy", ("loss", "dlogits"))
    return values.scalar(loss, "the loss"), values.array(dlogits, "dlogits", shape=shape)


def sce_loss(student, rng):
    n, c = 6, 4
    logits, labels = rng.normal(0, 1.5, size=(n, c)), rng.integers(0, c, size=n)
    loss, _ = sce_parts(student, logits, labels, (n, c))
    log_probs = np.log(naive_softmax(logits))
    if not math.isfinite(loss):
        raise Fail(f"the loss is {loss} for ordinary logits (|z| < 10): a log of 0 or of a "
                   "negative number? If dlogits is made by subtracting 1 from the probabilities "
                   "in place, take the loss before that, or work on a copy")
    if loss < 0:
        raise Fail(f"the loss is {loss:.6g}, but cross-entropy is never negative: with the "
                   "log-sum-exp trick, add the maximum back: lse = max + log(sum(exp(z - max)))")
    rows = np.arange(n)
    shifted = logits - logits.max(axis=1, keepdims=True)
    whole_batch = [z - np.log(np.exp(z).sum()) for z in (logits, shifted)]
    assert_close(loss, float(np.mean(-log_probs[rows, labels])), "the loss",
                 tol=loss_tol(logits), factors=loss_factors(n), alternatives=[
                     (float(np.mean(-log_probs[:, labels])), "it averages log_probs[:, labels], an "
                      "N x N block; pick each row's own label: log_probs[np.arange(N), labels]"),
                     *[(float(np.mean(-w[rows, labels])), "the log-sum-exp is taken over the "
                        "whole batch; take it per row (axis=1, keepdims=True)") for w in whole_batch]])


def sce_gradient(student, rng):
    n, c = 6, 4
    logits, labels = rng.normal(0, 1.5, size=(n, c)), rng.integers(0, c, size=n)
    _, dlogits = sce_parts(student, logits, labels, (n, c))
    assert_close(dlogits, (naive_softmax(logits) - onehot(labels, c)) / n,
                 "dlogits, which should be (softmax(logits) - onehot(labels)) / N,",
                 factors=gradient_factors(n, c))


def sce_consistent(student, rng):
    n, c = 5, 3
    logits, labels = rng.normal(0, 1.5, size=(n, c)), rng.integers(0, c, size=n)
    loss, dlogits = sce_parts(student, logits, labels, (n, c))

    spec = float(np.mean(-np.log(naive_softmax(logits))[np.arange(n), labels]))
    own = own_gradients(Forward(student, "softmax_cross_entropy", pick=0, opaque=()),
                        [logits, labels], [0], 1.0, rng, spec, loss)
    # where the student's loss is the spec's, its gradient must be the spec's
    numeric = own[0] if own is not None else (naive_softmax(logits) - onehot(labels, c)) / n
    assert_gradient(dlogits, numeric, "dlogits (compared with the numerical gradient of your "
                    "own loss)", factors=[(n, "the loss is a mean, so divide the gradient by N"),
                                          (1 / n, "the loss or the gradient has an extra 1/N")])


SCE_LOGITS = np.array([[1e4, -1e4, 0.0],
                       [0.0, 1e4, 1e4],
                       [-1e4, -1e4, -1e4],
                       [5e3, -5e3, 1e4]])
SCE_LABELS = np.array([1, 0, 2, 0])
# per-row losses log-sum-exp(row) - row[label]: 2e4, 1e4 + ln 2, ln 3, 5e3
SCE_LOSS = (2e4 + (1e4 + LN2) + LN3 + 5e3) / 4
SCE_DLOGITS = np.array([[1.0, -1.0, 0.0],
                        [-1.0, 0.5, 0.5],
                        [1 / 3, 1 / 3, -2 / 3],
                        [-1.0, 0.0, 1.0]]) / 4


def sce_stable(student, rng):
    loss, dlogits = sce_parts(student, SCE_LOGITS, SCE_LABELS, SCE_LOGITS.shape)
    if not math.isfinite(loss):
        raise Fail(f"the loss is {loss} for logits around +-1e4: exp(1e4) overflows (inf / inf "
                   "is nan), and the log of a true-class probability that underflowed to 0 is "
                   "-inf. Compute the log-softmax directly: shifted - log(sum(exp(shifted))), "
                   "with shifted = z - max(z) per row")
    if loss < 0:
        raise Fail(f"the loss is {loss:.6g}, but cross-entropy is never negative: with the "
                   "log-sum-exp trick, add the maximum back: lse = max + log(sum(exp(z - max)))")
    if loss < SCE_LOSS / 10:
        raise Fail(f"the loss is {loss:.6g}, expected {SCE_LOSS:.6g}: when the true class has a "
                   "tiny probability the loss is large; clipping the probability or adding an "
                   "epsilon inside the log caps it. Compute the log-softmax directly")
    assert_close(loss, SCE_LOSS, "the loss for logits around +-1e4", tol=loss_tol(SCE_LOGITS),
                 factors=loss_factors(4))
    if not np.all(np.isfinite(dlogits)):
        raise Fail("dlogits contains nan or inf for logits around +-1e4: compute softmax with "
                   "each row's maximum subtracted")
    assert_close(dlogits, SCE_DLOGITS, "dlogits for logits around +-1e4",
                 factors=gradient_factors(4, 3))


# -- hidden checks ------------------------------------------------------------------------------

def hidden_cross_entropy(student, rng, ref):
    k = int(rng.integers(3, 9))
    p, q = distribution(rng, k), distribution(rng, k)
    p[rng.integers(k)] = 0.0
    p /= p.sum()
    got = values.scalar(student.call("cross_entropy", p, q), "cross_entropy(p, q)")
    assert_close(got, ref.cross_entropy(p, q), "cross_entropy on random distributions",
                 factors=entropy_factors(k))


def hidden_empirical(student, rng, ref):
    k = int(rng.integers(3, 9))
    q = distribution(rng, k)
    samples = rng.integers(0, k, size=int(rng.integers(10, 100)))
    got = values.scalar(student.call("empirical_cross_entropy", samples, q),
                        "empirical_cross_entropy(samples, q)")
    assert_close(got, ref.empirical_cross_entropy(samples, q),
                 "empirical_cross_entropy on random samples",
                 factors=empirical_factors(len(samples), k))


def hidden_softmax(student, rng, ref):
    n, c = rng.integers(2, 9, size=2)
    logits = rng.normal(0, 1, size=(n, c)) * 10.0 ** rng.uniform(-1, 3, size=(n, 1))
    got = values.array(student.call("softmax", logits), "softmax(logits)", shape=(n, c))
    what = "softmax on random logits of scales 0.1 to 1000"
    check_rows_are_distributions(got, what)
    assert_close(got, ref.softmax(logits), what)


def hidden_sce(student, rng, ref):
    n, c = (int(v) for v in rng.integers(2, 9, size=2))
    logits = rng.normal(0, 1, size=(n, c)) * 10.0 ** rng.uniform(-1, 3, size=(n, 1))
    labels = rng.integers(0, c, size=n)
    loss, dlogits = sce_parts(student, logits, labels, (n, c))
    ref_loss, ref_dlogits = ref.softmax_cross_entropy(logits, labels)
    assert_close(loss, ref_loss, "the loss on a random batch", tol=loss_tol(logits),
                 factors=loss_factors(n))
    assert_close(dlogits, ref_dlogits, "dlogits on a random batch", tol=loss_tol(logits),
                 factors=gradient_factors(n, c))


CHECKS = [
    Check("cross_entropy: values in nats", "cross_entropy", 1, cross_entropy_values),
    Check("cross_entropy: zero probabilities", "cross_entropy", 1, cross_entropy_zeros),
    Check("empirical_cross_entropy: mean in bits", "empirical_cross_entropy", 1, empirical_values),
    Check("softmax: one distribution per row", "softmax", 1, softmax_rows),
    Check("softmax: stable for |logits| ~ 1e4", "softmax", 1, softmax_stable),
    Check("softmax_cross_entropy: loss is the batch mean", "softmax_cross_entropy", 1, sce_loss),
    Check("softmax_cross_entropy: dlogits = (softmax - onehot) / N", "softmax_cross_entropy", 1,
          sce_gradient),
    Check("softmax_cross_entropy: dlogits matches the numerical gradient of the loss",
          "softmax_cross_entropy", 0.5, sce_consistent),
    Check("softmax_cross_entropy: stable for |logits| ~ 1e4", "softmax_cross_entropy", 1,
          sce_stable),
    Check("hidden: cross_entropy on fresh inputs", "cross_entropy", 0.25, hidden_cross_entropy,
          hidden=True),
    Check("hidden: empirical_cross_entropy on fresh inputs", "empirical_cross_entropy", 0.25,
          hidden_empirical, hidden=True),
    Check("hidden: softmax on fresh inputs", "softmax", 0.5, hidden_softmax, hidden=True),
    Check("hidden: softmax_cross_entropy on fresh inputs", "softmax_cross_entropy", 0.5,
          hidden_sce, hidden=True),
]
