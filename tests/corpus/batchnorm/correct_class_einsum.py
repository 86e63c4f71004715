"""Correct alternative: a small class instance as the cache, np.einsum for the batch sums, and the
compact backward (1/N) inv_std (N dxhat - sum dxhat - xhat sum(dxhat xhat))."""
import numpy as np


class BNCache:
    __slots__ = ("x_hat", "gamma", "inv_std", "n")

    def __init__(self, x_hat, gamma, inv_std, n):
        self.x_hat, self.gamma, self.inv_std, self.n = x_hat, gamma, inv_std, n


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    n = x.shape[0]
    mu = np.einsum("nd->d", x) / n
    xc = x - mu
    var = np.einsum("nd,nd->d", xc, xc) / n
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = xc * inv_std
    return x_hat * gamma + beta, BNCache(x_hat, np.array(gamma, dtype=float), inv_std, n)


def batchnorm_backward(dout, cache):
    n, x_hat = cache.n, cache.x_hat
    dbeta = np.einsum("nd->d", dout)
    dgamma = np.einsum("nd,nd->d", dout, x_hat)
    dx_hat = dout * cache.gamma
    dx = (cache.inv_std / n) * (n * dx_hat - np.einsum("nd->d", dx_hat)
                                - x_hat * np.einsum("nd,nd->d", dx_hat, x_hat))
    return dx, dgamma, dbeta


def update_running_stats(running_mean, running_var, x, momentum=0.9):
    n = x.shape[0]
    mu = np.einsum("nd->d", x) / n
    xc = x - mu
    unbiased = np.einsum("nd,nd->d", xc, xc) / (n - 1)
    return (momentum * running_mean + (1 - momentum) * mu,
            momentum * running_var + (1 - momentum) * unbiased)


def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
    return np.einsum("nd,d->nd", x - running_mean, gamma / np.sqrt(running_var + eps)) + beta
