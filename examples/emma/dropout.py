"""Emma's dropout."""
"""Reference solution: inverted dropout (topic 7). Never shipped to students."""
import numpy as np


def dropout_forward(x, p, train=True, rng=None):
    """Drop each element with probability p, scale the kept ones by 1 / (1 - p).

    Returns (out, cache); in inference (train=False) out is x itself (unchanged values).
    """
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    mask = (rng.random(x.shape) < p) / p
    return x * mask, mask


def dropout_backward(dout, cache):
    """The gradient through the same mask and scale; unchanged when not training."""
    return dout.copy() if cache is None else dout * cache
