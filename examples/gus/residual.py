"""Gus's residual block."""
"""Reference solution: a residual block (topic 8). Never shipped to students.

out = x + relu(x W1^T + b1) W2^T + b2 with x (N, D), W1 (H, D), b1 (H,), W2 (D, H), b2 (D,).
"""
import numpy as np


def residual_forward(x, W1, b1, W2, b2):
    z = x @ W1.T + b1
    h = np.maximum(z, 0.0)
    return x + h @ W2.T + b2, (x, z, h, W1, W2)


def residual_backward(dout, cache):
    """-> (dx, dW1, db1, dW2, db2). The skip path passes dout to dx unchanged."""
    x, z, h, W1, W2 = cache
    dW2, db2 = dout.T @ h, dout.sum(axis=0)
    dz = (dout @ W2) * (z > 0)
    dW1, db1 = dz.T @ x, dz.sum(axis=0)
    return dz @ W1, dW1, db1, dW2, db2
