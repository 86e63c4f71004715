"""Correct alternative: keep where rng.random(x.shape) < 1 - p (the other valid comparison), the
cache an instance of a small class that does its own backward."""
import numpy as np


class DropoutCache:
    def __init__(self, keep=None, keep_prob=1.0):
        self.keep = keep
        self.keep_prob = keep_prob

    def backward(self, dout):
        if self.keep is None:
            return dout.copy()
        return dout * self.keep / self.keep_prob


def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError("p is the drop probability and must be in [0, 1)")
    if not train:
        return x.copy(), DropoutCache()
    if rng is None:
        rng = np.random.default_rng()
    keep_prob = 1 - p
    keep = rng.random(x.shape) < keep_prob
    return x * keep / keep_prob, DropoutCache(keep, keep_prob)


def dropout_backward(dout, cache):
    return cache.backward(dout)
