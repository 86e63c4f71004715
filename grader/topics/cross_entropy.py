"""Checks for topic 1, cross-entropy (exercise-api.md section 1).

Public checks use the definitions and hand-derived values only (no general stable softmax lives
here); hidden checks compare with solutions/cross_entropy.py on fresh random inputs.
"""
import math

import numpy as np

from .. import values
from ..checks import Check
from ..compare import Fail, assert_close
from ..gradcheck import assert_gradient, numerical_gradients

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


def distribution(rng, k):
    p = rng.uniform(0.05, 1.0, k)
    return p / p.sum()


def show(a):
    return np.array2string(np.asarray(a), precision=3, separator=", ")


def definition(p, q):
    """H(p, q) on a q with no zeros."""
    return float(-np.sum(p * np.log(q)))


def naive_softmax(z):
    """exp/sum straight from the definition: fine for the moderate logits it is used on."""
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def onehot(labels, c):
    return np.eye(c)[labels]


# -- public checks ------------------------------------------------------------------------------

def cross_entropy_values(student, rng):
    cases = [(np.full(4, 0.25), np.full(4, 0.25)),
             (np.array([0.5, 0.25, 0.25]), np.array([0.25, 0.25, 0.5])),
             (distribution(rng, 6), distribution(rng, 6))]
    for p, q in cases:
        got = values.scalar(student.call("cross_entropy", p, q), "cross_entropy(p, q)")
        assert_close(got, definition(p, q), f"cross_entropy(p={show(p)}, q={show(q)})",
                     factors=[(1 / LN2, "it is in bits; cross_entropy is in nats (use np.log)"),
                              (1 / math.log(10), "use the natural log np.log, not log10"),
                              SIGN],
                     alternatives=[(definition(q, p), "p and q are swapped: H(p, q) = "
                                    "-sum_i p_i ln q_i weights the log of the model q by the true p")])


def cross_entropy_zeros(student, rng):
    p, q = np.array([0.5, 0.5, 0.0, 0.0]), np.array([0.25, 0.25, 0.5, 0.0])
    got = values.scalar(student.call("cross_entropy", p, q), "cross_entropy(p, q)")
    if math.isnan(got):
        raise Fail(f"cross_entropy(p={show(p)}, q={show(q)}) is nan: a term with p_i = 0 is 0 "
                   "even where q_i = 0 (0 ln 0 counts as 0); sum only over the p_i > 0")
    assert_close(got, math.log(4), f"cross_entropy(p={show(p)}, q={show(q)})")
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
             (samples, q)]
    for s, q in cases:
        got = values.scalar(student.call("empirical_cross_entropy", s, q),
                            "empirical_cross_entropy(samples, q)")
        expected = float(-np.mean(np.log2(q[s])))
        assert_close(got, expected, f"empirical_cross_entropy(samples={show(s)}, q={show(q)})",
                     factors=[(LN2, "it is in nats; the estimate is in bits (use np.log2)"),
                              (len(s), "it is a sum; the estimate averages over the N samples"),
                              SIGN])


def softmax_rows(student, rng):
    logits = rng.normal(0, 2, size=(5, 3))
    probs = values.array(student.call("softmax", logits), "softmax(logits)", shape=logits.shape)
    by_column = np.exp(logits) / np.exp(logits).sum(axis=0, keepdims=True)
    assert_close(probs, naive_softmax(logits), "softmax(logits) for logits of shape (5, 3)",
                 alternatives=[(by_column, "each column sums to 1 instead of each row: "
                                "normalize over axis=1 (one distribution per example)")])
    shift = rng.normal(0, 5, size=(5, 1))
    shifted = values.array(student.call("softmax", logits + shift), "softmax(logits + c)",
                           shape=logits.shape)
    assert_close(shifted, probs, "softmax(logits + c) with a constant c per row (it must equal "
                 "softmax(logits))")


STABLE_LOGITS = np.array([[1e4, 1e4 - 1, -1e4],
                          [-1e4, -1e4 + 2, -1e4 + 1],
                          [0.0, 0.0, 0.0]])
# softmax of each row, written from the row shifted by its maximum: [0, -1, -2e4], [-2, 0, -1], [0, 0, 0]
STABLE_PROBS = np.array([np.array([1.0, math.exp(-1), 0.0]) / (1 + math.exp(-1)),
                         np.exp([-2.0, 0.0, -1.0]) / np.exp([-2.0, 0.0, -1.0]).sum(),
                         [1 / 3, 1 / 3, 1 / 3]])


def softmax_stable(student, rng):
    probs = values.array(student.call("softmax", STABLE_LOGITS), "softmax(logits)",
                         shape=STABLE_LOGITS.shape)
    if not np.all(np.isfinite(probs)):
        raise Fail("softmax of logits around +-1e4 contains nan or inf: exp overflows (or a "
                   "whole row underflows to 0). Subtract each row's own maximum, "
                   "logits.max(axis=1, keepdims=True), before exponentiating")
    assert_close(probs, STABLE_PROBS, f"softmax(logits={show(STABLE_LOGITS)})")


def sce_loss(student, rng):
    n, c = 6, 4
    logits, labels = rng.normal(0, 1.5, size=(n, c)), rng.integers(0, c, size=n)
    loss, _ = values.parts(student.call("softmax_cross_entropy", logits, labels),
                           "softmax_cross_entropy", ("loss", "dlogits"))
    expected = float(np.mean(-np.log(naive_softmax(logits)[np.arange(n), labels])))
    assert_close(values.scalar(loss, "loss"), expected, "the loss",
                 factors=[(n, "it is summed over the batch; the loss is the mean (divide by N)"),
                          (1 / LN2, "it is in bits; use the natural log"), SIGN])


def sce_gradient(student, rng):
    n, c = 6, 4
    logits, labels = rng.normal(0, 1.5, size=(n, c)), rng.integers(0, c, size=n)
    _, dlogits = values.parts(student.call("softmax_cross_entropy", logits, labels),
                              "softmax_cross_entropy", ("loss", "dlogits"))
    dlogits = values.array(dlogits, "dlogits", shape=(n, c))
    assert_close(dlogits, (naive_softmax(logits) - onehot(labels, c)) / n,
                 "dlogits, which should be (softmax(logits) - onehot(labels)) / N,",
                 factors=[(n, "the loss is a mean, so its gradient is divided by N"),
                          (-1, "it is onehot - softmax; the gradient is softmax - onehot")])


def sce_consistent(student, rng):
    n, c = 5, 3
    logits, labels = rng.normal(0, 1.5, size=(n, c)), rng.integers(0, c, size=n)
    _, dlogits = values.parts(student.call("softmax_cross_entropy", logits, labels),
                              "softmax_cross_entropy", ("loss", "dlogits"))
    dlogits = values.array(dlogits, "dlogits", shape=(n, c))

    def losses(arglists):
        out = student.call_many("softmax_cross_entropy", arglists, pick=0)
        return [values.scalar(v, "the loss") for v in out]

    numeric, = numerical_gradients(losses, [logits, labels], wrt=[0], dout=1.0)
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
    loss, dlogits = values.parts(student.call("softmax_cross_entropy", SCE_LOGITS, SCE_LABELS),
                                 "softmax_cross_entropy", ("loss", "dlogits"))
    loss = values.scalar(loss, "the loss")
    if not math.isfinite(loss):
        raise Fail(f"the loss is {loss} for logits around +-1e4 where the true class has a tiny "
                   "probability: log(softmax) takes log(0) after underflow. Compute the log-"
                   "softmax directly: shifted - log(sum(exp(shifted))), shifted = z - max(z)")
    if loss < SCE_LOSS / 2:
        raise Fail(f"the loss is {loss:.6g}, expected {SCE_LOSS:.6g}: when the true class has a "
                   "tiny probability the loss is large; clipping the probability or adding an "
                   "epsilon inside the log caps it. Compute the log-softmax directly")
    assert_close(loss, SCE_LOSS, "the loss for logits around +-1e4")
    dlogits = values.array(dlogits, "dlogits", shape=SCE_LOGITS.shape)
    if not np.all(np.isfinite(dlogits)):
        raise Fail("dlogits contains nan or inf for logits around +-1e4: compute softmax with "
                   "each row's maximum subtracted")
    assert_close(dlogits, SCE_DLOGITS, "dlogits for logits around +-1e4")


# -- hidden checks ------------------------------------------------------------------------------

def hidden_cross_entropy(student, rng, ref):
    k = int(rng.integers(3, 9))
    p, q = distribution(rng, k), distribution(rng, k)
    p[rng.integers(k)] = 0.0
    p /= p.sum()
    got = values.scalar(student.call("cross_entropy", p, q), "cross_entropy(p, q)")
    assert_close(got, ref.cross_entropy(p, q), "cross_entropy on random distributions")
    samples = rng.integers(0, k, size=int(rng.integers(10, 100)))
    got = values.scalar(student.call("empirical_cross_entropy", samples, q),
                        "empirical_cross_entropy(samples, q)")
    assert_close(got, ref.empirical_cross_entropy(samples, q),
                 "empirical_cross_entropy on random samples")


def hidden_softmax(student, rng, ref):
    n, c = rng.integers(2, 9, size=2)
    logits = rng.normal(0, 1, size=(n, c)) * 10.0 ** rng.uniform(-1, 3, size=(n, 1))
    got = values.array(student.call("softmax", logits), "softmax(logits)", shape=(n, c))
    assert_close(got, ref.softmax(logits), "softmax on random logits of scales 0.1 to 1000")


def hidden_sce(student, rng, ref):
    n, c = rng.integers(2, 9, size=2)
    logits = rng.normal(0, 1, size=(n, c)) * 10.0 ** rng.uniform(-1, 3, size=(n, 1))
    labels = rng.integers(0, c, size=n)
    loss, dlogits = values.parts(student.call("softmax_cross_entropy", logits, labels),
                                 "softmax_cross_entropy", ("loss", "dlogits"))
    ref_loss, ref_dlogits = ref.softmax_cross_entropy(logits, labels)
    assert_close(values.scalar(loss, "the loss"), ref_loss, "the loss on a random batch")
    assert_close(values.array(dlogits, "dlogits", shape=(n, c)), ref_dlogits,
                 "dlogits on a random batch")


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
    Check("hidden: cross_entropy on fresh inputs", "cross_entropy", 0.5, hidden_cross_entropy,
          hidden=True),
    Check("hidden: softmax on fresh inputs", "softmax", 0.5, hidden_softmax, hidden=True),
    Check("hidden: softmax_cross_entropy on fresh inputs", "softmax_cross_entropy", 0.5,
          hidden_sce, hidden=True),
]
