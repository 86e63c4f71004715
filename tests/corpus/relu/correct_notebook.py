"""Correct alternative, written the way a student fills in a notebook: copies and boolean
indexing, with x itself as the cache."""
import numpy as np


def relu_forward(x):
    out = x.copy()          # copy, so that x is left alone
    out[out < 0] = 0
    cache = x
    return out, cache


def relu_backward(dout, cache):
    x = cache
    dx = dout.copy()        # copy, so that dout is left alone
    dx[x <= 0] = 0          # no gradient where x <= 0 (0 at exactly 0)
    return dx
