"""Ben's backprop."""
"""Reference solution: backpropagation in the notes' sigmoid network (topic 3).
Never shipped to students.

Layers l = 1..L, W_l (n_l, n_(l-1)), b_l (n_l,); Z_l = A_(l-1) W_l^T + b_l, A_l = sigmoid(Z_l);
J = 1/2 sum over the batch of ||a_L - y||^2.
"""
import numpy as np


def sigmoid(z):
    """Elementwise 1 / (1 + e^-z), without overflow for |z| up to 1e3."""
    e = np.exp(-np.abs(z))  # never overflows
    return np.where(z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def sigmoid_prime(z):
    """sigmoid'(z) = s (1 - s)."""
    s = sigmoid(z)
    return s * (1 - s)


def mlp_forward(params, x):
    a = x
    for w, b in params:
        a = sigmoid(a @ w.T + b)
    return a


def output_delta(a_L, y, z_L):
    """delta_L = dJ/dz_L = (a_L - y) * sigmoid'(z_L), shape (N, n_L)."""
    return (a_L - y) * sigmoid_prime(a_L)


def hidden_delta(delta_next, W_next, z):
    """delta_l = (delta_(l+1) W_(l+1)) * sigmoid'(z_l), shape (N, n_l)."""
    return (delta_next @ W_next) * sigmoid_prime(z)


def layer_grads(delta, a_prev):
    """dW_l = delta_l^T a_(l-1) (n_l, n_(l-1)); db_l = sum of delta_l over the batch (n_l,)."""
    return delta.T @ a_prev, delta.sum(axis=0)


def mlp_loss_and_grads(params, x, y):
    """(J, [(dW_1, db_1), ..., (dW_L, db_L)])."""
    activations, zs = [x], []
    for w, b in params:
        zs.append(activations[-1] @ w.T + b)
        activations.append(sigmoid(zs[-1]))
    loss = 0.5 * float(np.sum((activations[-1] - y) ** 2))
    delta = output_delta(activations[-1], y, zs[-1])
    grads = [None] * len(params)
    for layer in reversed(range(len(params))):
        grads[layer] = layer_grads(delta, activations[layer])
        if layer > 0:
            delta = hidden_delta(delta, params[layer][0], zs[layer - 1])
    return loss, grads
