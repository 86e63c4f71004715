"""Correct alternative: the cache is a dict of the inputs and the pre-activation; the backward
gates on h > 0 (the same set as z > 0) and uses einsum for the parameter gradients."""
import numpy as np


def residual_forward(x, W1, b1, W2, b2):
    z = np.einsum("nd,hd->nh", x, W1) + b1
    h = np.where(z > 0, z, 0.0)
    out = x + np.einsum("nh,dh->nd", h, W2) + b2
    return out, {"x": x, "h": h, "W1": W1, "W2": W2}


def residual_backward(dout, cache):
    x, h, W1, W2 = cache["x"], cache["h"], cache["W1"], cache["W2"]
    dW2 = np.einsum("nd,nh->dh", dout, h)
    db2 = np.einsum("nd->d", dout)
    dz = np.einsum("nd,dh->nh", dout, W2) * (h > 0)
    dW1 = np.einsum("nh,nd->hd", dz, x)
    db1 = np.einsum("nh->h", dz)
    dx = dout + np.einsum("nh,hd->nd", dz, W1)
    return dx, dW1, db1, dW2, db2
