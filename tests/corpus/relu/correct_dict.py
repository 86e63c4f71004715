"""Correct alternative: out = x * (x > 0), a dict cache holding the positions of the positive
entries as flat indices, and dx rebuilt from them."""
import numpy as np


def relu_forward(x):
    out = x * (x > 0)
    return out, {"shape": x.shape, "active": np.flatnonzero(x > 0)}


def relu_backward(dout, cache):
    dx = np.zeros(cache["shape"])
    dx.flat[cache["active"]] = dout.flat[cache["active"]]
    return dx
