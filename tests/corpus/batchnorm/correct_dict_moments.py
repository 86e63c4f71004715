"""Correct alternative: variance as E[x^2] - E[x]^2, a dict cache holding x, mu, var and eps,
and a backward that derives dvar and dmu by the chain rule from them (no x_hat kept)."""
import numpy as np


def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = np.maximum((x * x).mean(axis=0) - mu * mu, 0.0)
    std = np.sqrt(var + eps)
    out = gamma * (x - mu) / std + beta
    return out, {"x": x.copy(), "mu": mu, "var": var, "eps": eps, "gamma": gamma.copy()}


def batchnorm_backward(dout, cache):
    x, mu, var, eps, gamma = cache["x"], cache["mu"], cache["var"], cache["eps"], cache["gamma"]
    n = x.shape[0]
    centered = x - mu
    inv_std = (var + eps) ** -0.5
    x_hat = centered * inv_std
    dbeta = dout.sum(axis=0)
    dgamma = np.sum(dout * x_hat, axis=0)
    dx_hat = dout * gamma
    dvar = np.sum(dx_hat * centered, axis=0) * -0.5 * inv_std ** 3
    dmu = -inv_std * dx_hat.sum(axis=0) - 2.0 * dvar * centered.mean(axis=0)
    dx = dx_hat * inv_std + dvar * 2.0 * centered / n + dmu / n
    return dx, dgamma, dbeta


def update_running_stats(running_mean, running_var, x, momentum=0.9):
    n = x.shape[0]
    mu = x.mean(axis=0)
    biased = np.maximum((x * x).mean(axis=0) - mu * mu, 0.0)
    new_mean = running_mean * momentum + mu * (1.0 - momentum)
    new_var = running_var * momentum + biased * n / (n - 1) * (1.0 - momentum)
    return new_mean, new_var


def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
    scale = gamma / np.sqrt(running_var + eps)      # fold into one affine map
    shift = beta - running_mean * scale
    return x * scale + shift
