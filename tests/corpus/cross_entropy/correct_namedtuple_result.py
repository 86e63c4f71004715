"""Correct alternative: softmax_cross_entropy returns a namedtuple (loss, dlogits) -- a tuple, as
torch.max and friends return -- and the log-softmax comes from a shifted log-partition function."""
from collections import namedtuple

import numpy as np

LossAndGrad = namedtuple("LossAndGrad", ["loss", "dlogits"])


def cross_entropy(p, q):
    p = np.asarray(p, dtype=float)
    q = np.asarray(q, dtype=float)
    total = 0.0
    for p_i, q_i in zip(p[p > 0], q[p > 0]):
        total -= p_i * (np.log(q_i) if q_i > 0 else -np.inf)
    return float(total)


def empirical_cross_entropy(samples, q):
    with np.errstate(divide="ignore"):
        bits = -np.log2(np.asarray(q, dtype=float))[samples]
    return float(bits.sum() / bits.shape[0])


def _log_partition(logits):
    top = logits.max(axis=1)
    return top + np.log(np.exp(logits - top[:, None]).sum(axis=1))


def softmax(logits):
    return np.exp(logits - _log_partition(logits)[:, None])


def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    log_z = _log_partition(logits)
    loss = float(np.sum(log_z - logits[np.arange(n), labels]) / n)
    grad = np.exp(logits - log_z[:, None])
    grad[np.arange(n), labels] -= 1.0
    return LossAndGrad(loss, grad / n)
