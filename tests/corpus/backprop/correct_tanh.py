"""Correct alternative: sigmoid(z) = (1 + tanh(z/2)) / 2 (tanh never overflows), sigmoid'(z) =
(1 - tanh(z/2)^2) / 4, einsum for the products, and the gradients collected top-down then
reversed."""
import numpy as np


def sigmoid(z):
    return 0.5 * (1.0 + np.tanh(0.5 * z))


def sigmoid_prime(z):
    t = np.tanh(0.5 * z)
    return 0.25 * (1.0 - t * t)


def mlp_forward(params, x):
    a = x
    for w, b in params:
        a = sigmoid(np.einsum("ni,oi->no", a, w) + b)
    return a


def output_delta(a_L, y, z_L):
    return np.multiply(a_L - y, sigmoid_prime(z_L))


def hidden_delta(delta_next, W_next, z):
    return np.einsum("nk,kj->nj", delta_next, W_next) * sigmoid_prime(z)


def layer_grads(delta, a_prev):
    return np.einsum("no,ni->oi", delta, a_prev), np.einsum("no->o", delta)


def mlp_loss_and_grads(params, x, y):
    zs, activations = [], [x]
    for w, b in params:
        zs.append(np.einsum("ni,oi->no", activations[-1], w) + b)
        activations.append(sigmoid(zs[-1]))
    err = activations[-1] - y
    loss = 0.5 * np.einsum("no,no->", err, err)
    top_down = []
    delta = output_delta(activations[-1], y, zs[-1])
    for l in range(len(params) - 1, -1, -1):
        top_down.append(layer_grads(delta, activations[l]))
        if l:
            delta = hidden_delta(delta, params[l][0], zs[l - 1])
    return float(loss), top_down[::-1]
