"""Ben's cross-entropy."""
"""Reference solution: cross-entropy (topic 1). Never shipped to students."""
import numpy as np


def cross_entropy(p, q):
    """H(p, q) = -sum_i p_i ln q_i in nats. p, q: (K,) distributions.

    Terms with p_i = 0 contribute 0 (even where q_i = 0); p_i > 0 with q_i = 0 gives inf.
    """
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    support = p > 0
    with np.errstate(divide="ignore"):
        return float(-np.sum(p[support] * np.log2(q[support])))


def empirical_cross_entropy(samples, q):
    """-(1/N) sum_i log2 q[samples[i]], in bits. samples: (N,) ints indexing q."""
    with np.errstate(divide="ignore"):
        return float(-np.mean(np.log2(np.asarray(q, dtype=float)[samples])))


def softmax(logits):
    """logits (N, C) -> probabilities (N, C), each row summing to 1.

    Subtracting each row's maximum changes nothing mathematically and keeps exp() finite.
    """
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)


def softmax_cross_entropy(logits, labels):
    """logits (N, C), labels (N,) ints -> (loss, dlogits (N, C)).

    loss = mean_n -ln softmax(logits)[n, labels[n]]; computed from log-softmax directly, so a
    true class with probability below 1e-308 still gives its exact (large) loss.
    d loss / d logits = (softmax - onehot) / N.
    """
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), labels].mean()
    dlogits = np.exp(log_probs)
    dlogits[np.arange(n), labels] -= 1.0
    return float(loss), dlogits / n
