"""Reference solution: exponential moving averages with bias correction (topic 5).
Never shipped to students."""
import numpy as np


def ema(thetas, beta):
    """thetas (T, ...) -> v (T, ...): v_t = beta v_(t-1) + (1 - beta) theta_t, v_0 = 0."""
    thetas = np.asarray(thetas, dtype=float)
    v = np.empty_like(thetas)
    prev = np.zeros(thetas.shape[1:])
    for t in range(len(thetas)):
        prev = beta * prev + (1 - beta) * thetas[t]
        v[t] = prev
    return v


def ema_bias_corrected(thetas, beta):
    """v_hat_t = v_t / (1 - beta^t), t counted from 1."""
    v = ema(thetas, beta)
    t = np.arange(1, len(v) + 1).reshape((-1,) + (1,) * (v.ndim - 1))
    return v / (1 - beta ** t)
