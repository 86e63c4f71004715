"""Correct alternative: the CS231n staged computational graph, every intermediate in a tuple cache,
backward walking the graph node by node."""
import numpy as np


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    N, D = x.shape
    mu = 1.0 / N * np.sum(x, axis=0)            # step 1: mean
    xmu = x - mu                                # step 2: centre
    sq = xmu ** 2                               # step 3
    var = 1.0 / N * np.sum(sq, axis=0)          # step 4: biased variance
    sqrtvar = np.sqrt(var + eps)                # step 5
    ivar = 1.0 / sqrtvar                        # step 6
    xhat = xmu * ivar                           # step 7
    gammax = gamma * xhat                       # step 8
    out = gammax + beta                         # step 9
    cache = (xhat, gamma, xmu, ivar, sqrtvar, var, eps)
    return out, cache


def batchnorm_backward(dout, cache):
    xhat, gamma, xmu, ivar, sqrtvar, var, eps = cache
    N, D = dout.shape
    # step 9
    dbeta = np.sum(dout, axis=0)
    dgammax = dout
    # step 8
    dgamma = np.sum(dgammax * xhat, axis=0)
    dxhat = dgammax * gamma
    # step 7
    divar = np.sum(dxhat * xmu, axis=0)
    dxmu1 = dxhat * ivar
    # step 6
    dsqrtvar = -1.0 / (sqrtvar ** 2) * divar
    # step 5
    dvar = 0.5 * 1.0 / np.sqrt(var + eps) * dsqrtvar
    # step 4
    dsq = 1.0 / N * np.ones((N, D)) * dvar
    # step 3
    dxmu2 = 2 * xmu * dsq
    # step 2
    dx1 = dxmu1 + dxmu2
    dmu = -1 * np.sum(dxmu1 + dxmu2, axis=0)
    # step 1
    dx2 = 1.0 / N * np.ones((N, D)) * dmu
    dx = dx1 + dx2
    return dx, dgamma, dbeta


def update_running_stats(running_mean, running_var, x, momentum=0.9):
    N = x.shape[0]
    mu = np.sum(x, axis=0) / N
    unbiased = np.sum((x - mu) ** 2, axis=0) / (N - 1)
    running_mean = momentum * running_mean + (1 - momentum) * mu
    running_var = momentum * running_var + (1 - momentum) * unbiased
    return running_mean, running_var


def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
    xhat = (x - running_mean) / np.sqrt(running_var + eps)
    return gamma * xhat + beta
