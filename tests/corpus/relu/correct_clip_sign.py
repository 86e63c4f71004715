"""Correct alternative: np.clip for the forward pass and a tuple cache holding np.sign(x)."""
import numpy as np


def relu_forward(x):
    return np.clip(x, 0, None), (np.sign(x), x.shape)


def relu_backward(dout, cache):
    sign, shape = cache
    assert dout.shape == shape
    return np.where(sign > 0, dout, 0.0)
