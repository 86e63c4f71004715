"""Correct alternative: flatten each step to a vector, loop once, and debias by the running total
of the weights (the moving average of a sequence of ones is exactly 1 - beta^t)."""
import numpy as np


def _running(thetas, beta):
    thetas = np.asarray(thetas, dtype=float)
    flat = thetas.reshape(thetas.shape[0], -1)
    v = np.zeros(flat.shape[1])
    weight = 0.0
    values, weights = np.empty_like(flat), np.empty(len(flat))
    for t in range(len(flat)):
        v = beta * v + (1.0 - beta) * flat[t]
        weight = beta * weight + (1.0 - beta)
        values[t], weights[t] = v, weight
    return values.reshape(thetas.shape), weights


def ema(thetas, beta):
    return _running(thetas, beta)[0]


def ema_bias_corrected(thetas, beta):
    v, w = _running(thetas, beta)
    return v / w.reshape((-1,) + (1,) * (v.ndim - 1))
