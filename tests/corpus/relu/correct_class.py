"""Correct alternative: out = (x + |x|) / 2, a small class instance as the cache, and the
backward with np.heaviside (whose value at exactly 0 is its second argument, here 0)."""
import numpy as np


class ReluCache:
    def __init__(self, x):
        self.x = x.copy()


def relu_forward(x):
    return (x + np.abs(x)) / 2, ReluCache(x)


def relu_backward(dout, cache):
    return dout * np.heaviside(cache.x, 0.0)
