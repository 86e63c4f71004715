"""Correct alternative: every function returning several values returns a namedtuple (a tuple),
e.g. forward -> Forward(out, cache); the cache is a plain tuple."""
from collections import namedtuple

import numpy as np

Forward = namedtuple("Forward", ["out", "cache"])
Grads = namedtuple("Grads", ["dx", "dgamma", "dbeta"])
RunningStats = namedtuple("RunningStats", ["running_mean", "running_var"])


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    centered = x - mu
    std = np.sqrt(np.mean(centered ** 2, axis=0) + eps)
    x_hat = centered / std
    return Forward(gamma * x_hat + beta, (x_hat, std, gamma))


def batchnorm_backward(dout, cache):
    x_hat, std, gamma = cache
    n = dout.shape[0]
    dx_hat = dout * gamma
    dx = (dx_hat - dx_hat.sum(axis=0) / n - x_hat * (dx_hat * x_hat).sum(axis=0) / n) / std
    return Grads(dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0))


def update_running_stats(running_mean, running_var, x, momentum=0.9):
    return RunningStats(momentum * running_mean + (1 - momentum) * x.mean(axis=0),
                        momentum * running_var + (1 - momentum) * x.var(axis=0, ddof=1))


def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
    return gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
