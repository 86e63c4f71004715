"""Correct alternative: one uniform number per element drawn as a flat vector and reshaped, the
scaled mask built with np.divide, and a closure as the cache."""
import numpy as np


def dropout_forward(x, p, train=True, rng=None):
    p = float(p)
    if not 0.0 <= p < 1.0:
        raise ValueError("p out of range [0, 1)")
    if not train:
        return np.copy(x), (lambda dout: np.copy(dout))
    gen = np.random.default_rng() if rng is None else rng
    u = gen.uniform(0.0, 1.0, size=x.size).reshape(x.shape)
    mask = np.divide((u >= p).astype(float), 1.0 - p)
    return np.multiply(x, mask), (lambda dout: np.multiply(dout, mask))


def dropout_backward(dout, cache):
    return cache(dout)
