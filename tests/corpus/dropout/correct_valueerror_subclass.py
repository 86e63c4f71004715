"""Correct alternative: a custom exception for a bad rate, derived from ValueError (so `except
ValueError` catches it); int8 mask from rng.random() >= p; a namedtuple cache."""
from collections import namedtuple
import numpy as np

DropCache = namedtuple("DropCache", "mask keep_prob")


class DropoutRateError(ValueError):
    """p outside [0, 1)."""


def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise DropoutRateError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), DropCache(None, 1.0)
    rng = rng if rng is not None else np.random.default_rng()
    mask = (rng.random(x.shape) >= p).astype(np.int8)
    return x * mask / (1 - p), DropCache(mask, 1 - p)


def dropout_backward(dout, cache):
    if cache.mask is None:
        return dout.copy()
    return dout * cache.mask / cache.keep_prob
