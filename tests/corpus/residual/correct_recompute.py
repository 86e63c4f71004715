"""Correct alternative: the cache holds only the inputs (copied), and the backward recomputes the
forward pass from them before going back through it."""
import numpy as np


def _hidden(x, W1, b1):
    z = x @ W1.T + b1
    return z, np.maximum(z, 0)


def residual_forward(x, W1, b1, W2, b2):
    _, h = _hidden(x, W1, b1)
    out = x + (h @ W2.T + b2)
    return out, tuple(np.array(a, copy=True) for a in (x, W1, b1, W2, b2))


def residual_backward(dout, cache):
    x, W1, b1, W2, b2 = cache
    z, h = _hidden(x, W1, b1)
    dF = dout                      # the branch F and the skip both receive dout
    dW2 = dF.T @ h
    db2 = dF.sum(axis=0)
    dh = dF @ W2
    dz = np.where(z > 0, dh, 0)
    dW1 = dz.T @ x
    db1 = dz.sum(axis=0)
    dx_branch = dz @ W1
    dx_skip = dout
    return dx_skip + dx_branch, dW1, db1, dW2, db2
