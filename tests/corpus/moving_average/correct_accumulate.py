"""Correct alternative: the recursion through itertools.accumulate (works for scalars and arrays
alike, since v_0 = 0 broadcasts), and the divisor 1 - beta^t computed as -expm1(t log beta)."""
import itertools

import numpy as np


def ema(thetas, beta):
    thetas = np.asarray(thetas, dtype=float)
    step = lambda v, theta: beta * v + (1 - beta) * theta
    values = itertools.accumulate(thetas, step, initial=np.zeros(thetas.shape[1:]))
    return np.stack(list(values)[1:]) if len(thetas) else thetas.copy()


def ema_bias_corrected(thetas, beta):
    v = ema(thetas, beta)
    t = np.arange(1, len(v) + 1)
    with np.errstate(divide="ignore"):
        log_beta = np.log(beta) if beta > 0 else -np.inf
    divisor = -np.expm1(t * log_beta)  # 1 - beta^t, accurate when beta^t is close to 1
    return v / divisor[(slice(None),) + (None,) * (v.ndim - 1)]
