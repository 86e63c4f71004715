"""Gus's batch norm: unbiased variance everywhere."""
"""Reference solution: batch normalization (topic 6). Never shipped to students."""
import numpy as np


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    """Training mode. x (N, D), gamma (D,), beta (D,) -> out (N, D), cache.

    mu = mean(x, axis 0); var = biased variance; x_hat = (x - mu) / sqrt(var + eps);
    out = gamma * x_hat + beta.
    """
    mu = x.mean(axis=0)
    var = x.var(axis=0, ddof=1)  # unbiased is better, right?
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)


def batchnorm_backward(dout, cache):
    """dout (N, D) -> dx (N, D), dgamma (D,), dbeta (D,).

    dbeta = sum dout; dgamma = sum dout * x_hat; with g = dout * gamma,
    dx = inv_std * (g - mean(g) - x_hat * mean(g * x_hat))   (all means over the batch).
    """
    x_hat, gamma, inv_std = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    g = dout * gamma
    dx = inv_std * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0))
    return dx, dgamma, dbeta


def update_running_stats(running_mean, running_var, x, momentum=0.9):
    """new = momentum * old + (1 - momentum) * batch statistic; unbiased (N - 1) variance."""
    new_mean = momentum * running_mean + (1 - momentum) * x.mean(axis=0)
    new_var = momentum * running_var + (1 - momentum) * x.var(axis=0, ddof=1)
    return new_mean, new_var


def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
    """Inference mode: normalize with the running statistics. Works for any N, including 1."""
    return gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
