"""Correct alternative, written like a student's notebook: a loop over features, a namedtuple
cache, and the backward derived per feature by hand."""
from collections import namedtuple

import numpy as np

Cache = namedtuple("Cache", ["x", "mean", "var", "gamma", "eps"])


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    N, D = x.shape
    out = np.zeros((N, D))
    means = np.zeros(D)
    variances = np.zeros(D)
    for j in range(D):
        col = x[:, j]
        m = np.sum(col) / N
        v = np.sum((col - m) ** 2) / N          # biased: divide by N in training mode
        means[j], variances[j] = m, v
        out[:, j] = gamma[j] * (col - m) / np.sqrt(v + eps) + beta[j]
    return out, Cache(x.copy(), means, variances, gamma.copy(), eps)


def batchnorm_backward(dout, cache):
    x, means, variances, gamma, eps = cache
    N, D = x.shape
    dx = np.zeros((N, D))
    dgamma = np.zeros(D)
    dbeta = np.zeros(D)
    for j in range(D):
        s = np.sqrt(variances[j] + eps)
        xhat = (x[:, j] - means[j]) / s
        dbeta[j] = np.sum(dout[:, j])
        dgamma[j] = np.sum(dout[:, j] * xhat)
        dxhat = dout[:, j] * gamma[j]
        # d out_i / d x_k through x_hat: (delta_ik - 1/N - xhat_i xhat_k / N) / s
        for k in range(N):
            total = 0.0
            for i in range(N):
                delta = 1.0 if i == k else 0.0
                total += dxhat[i] * (delta - 1.0 / N - xhat[i] * xhat[k] / N)
            dx[k, j] = total / s
    return dx, dgamma, dbeta


def update_running_stats(running_mean, running_var, x, momentum=0.9):
    N, D = x.shape
    new_mean = np.zeros(D)
    new_var = np.zeros(D)
    for j in range(D):
        m = np.mean(x[:, j])
        v = np.sum((x[:, j] - m) ** 2) / (N - 1)   # unbiased for the running estimate
        new_mean[j] = momentum * running_mean[j] + (1 - momentum) * m
        new_var[j] = momentum * running_var[j] + (1 - momentum) * v
    return new_mean, new_var


def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
    N, D = x.shape
    out = np.empty((N, D))
    for n in range(N):
        out[n] = gamma * (x[n] - running_mean) / np.sqrt(running_var + eps) + beta
    return out
