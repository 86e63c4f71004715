"""Correct alternative: functools.reduce for the forward pass, a recursive backward pass that
returns the delta it receives from above, the sigmoid via logaddexp, and the loss with np.vdot."""
from functools import reduce

import numpy as np


def sigmoid(z):
    return np.exp(-np.logaddexp(0.0, -z))


def sigmoid_prime(z):
    # s (1 - s) = e^-z / (1 + e^-z)^2, in logs so that nothing overflows
    return np.exp(-z - 2.0 * np.logaddexp(0.0, -z))


def mlp_forward(params, x):
    return reduce(lambda a, layer: sigmoid(a @ layer[0].T + layer[1]), params, x)


def output_delta(a_L, y, z_L):
    return (a_L - y) * sigmoid_prime(z_L)


def hidden_delta(delta_next, W_next, z):
    return (W_next.T @ delta_next.T).T * sigmoid_prime(z)


def layer_grads(delta, a_prev):
    return (a_prev.T @ delta).T, np.ones(delta.shape[0]) @ delta


def mlp_loss_and_grads(params, x, y):
    def backprop(layer, a_prev):
        """Forward from `layer` on; returns (loss, delta of this layer, grads from here up)."""
        w, b = params[layer]
        z = a_prev @ w.T + b
        a = sigmoid(z)
        if layer == len(params) - 1:
            err = (a - y).ravel()
            loss, delta = 0.5 * float(np.vdot(err, err)), output_delta(a, y, z)
            above = []
        else:
            loss, delta_above, above = backprop(layer + 1, a)
            delta = hidden_delta(delta_above, params[layer + 1][0], z)
        return loss, delta, [layer_grads(delta, a_prev)] + above

    loss, _, grads = backprop(0, x)
    return loss, grads
