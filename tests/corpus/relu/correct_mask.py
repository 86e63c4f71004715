"""Correct alternative: the cache is the boolean mask x > 0 (the sign pattern), not x."""
import numpy as np


def relu_forward(x):
    mask = x > 0
    return np.where(mask, x, 0.0), mask


def relu_backward(dout, cache):
    return dout * cache
