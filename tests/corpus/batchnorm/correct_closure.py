"""Correct alternative: the cache is a closure that computes the gradients; statistics via
np.average and ddof-free explicit corrections."""
import numpy as np


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    n = x.shape[0]
    mu = np.average(x, axis=0)
    var = np.average((x - mu) ** 2, axis=0)
    std = np.sqrt(var + eps)
    x_hat = (x - mu) / std
    g = np.copy(gamma)

    def backprop(dout):
        dx_hat = dout * g
        mean_dx_hat = dx_hat.mean(axis=0)
        proj = (dx_hat * x_hat).mean(axis=0)
        dx = (dx_hat - mean_dx_hat - x_hat * proj) / std
        return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)

    return g * x_hat + beta, backprop


def batchnorm_backward(dout, cache):
    return cache(dout)


def update_running_stats(running_mean, running_var, x, momentum=0.9):
    n = x.shape[0]
    mu = np.average(x, axis=0)
    unbiased = np.average((x - mu) ** 2, axis=0) * (n / (n - 1))
    return (np.add(momentum * running_mean, (1 - momentum) * mu),
            np.add(momentum * running_var, (1 - momentum) * unbiased))


def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
    return gamma * ((x - running_mean) * (running_var + eps) ** -0.5) + beta
