"""Correct alternative: the cache is the output itself (out > 0 exactly where x > 0), returned as
`return out, out`, a common way to write it."""
import numpy as np


def relu_forward(x):
    out = np.maximum(x, 0)
    return out, out


def relu_backward(dout, cache):
    out = cache
    return dout * (out > 0)
