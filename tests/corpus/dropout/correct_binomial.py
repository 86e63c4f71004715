"""Correct alternative: the keep mask from rng.binomial(1, 1 - p), an integer 0/1 array; the cache
is (mask, scale) and the backward applies both."""
import numpy as np


def dropout_forward(x, p, train=True, rng=None):
    if p < 0 or p >= 1:
        raise ValueError("dropout rate p must satisfy 0 <= p < 1")
    if not train:
        return np.array(x, copy=True), ("identity",)
    if rng is None:
        rng = np.random.default_rng()
    keep = rng.binomial(1, 1 - p, size=x.shape)
    scale = 1.0 / (1.0 - p)
    return x * keep * scale, ("train", keep, scale)


def dropout_backward(dout, cache):
    if cache[0] == "identity":
        return np.array(dout, copy=True)
    _, keep, scale = cache
    return dout * keep * scale
