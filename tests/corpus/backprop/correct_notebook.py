"""Correct alternative, written the way a student fills in a notebook: the sigmoid with z clipped
to [-500, 500] (no overflow), lists of z's and a's, the backward loop written out by hand."""
import numpy as np


def sigmoid(z):
    z = np.clip(z, -500, 500)    # exp(500) is still finite, and sigmoid(+-500) is 0 or 1 anyway
    return 1.0 / (1.0 + np.exp(-z))


def sigmoid_prime(z):
    return sigmoid(z) * (1.0 - sigmoid(z))


def mlp_forward(params, x):
    a = x
    for (W, b) in params:
        z = np.dot(a, W.T) + b
        a = sigmoid(z)
    return a


def output_delta(a_L, y, z_L):
    return (a_L - y) * sigmoid_prime(z_L)


def hidden_delta(delta_next, W_next, z):
    return np.dot(delta_next, W_next) * sigmoid_prime(z)


def layer_grads(delta, a_prev):
    dW = np.dot(delta.T, a_prev)
    db = np.sum(delta, axis=0)
    return dW, db


def mlp_loss_and_grads(params, x, y):
    L = len(params)
    # forward pass, remembering everything
    a_list = [x]
    z_list = []
    for l in range(L):
        W, b = params[l]
        z = np.dot(a_list[l], W.T) + b
        z_list.append(z)
        a_list.append(sigmoid(z))
    a_L = a_list[L]
    loss = 0.5 * np.sum((a_L - y) ** 2)

    # backward pass
    grads = [None] * L
    delta = output_delta(a_L, y, z_list[L - 1])
    l = L - 1
    while l >= 0:
        dW, db = layer_grads(delta, a_list[l])
        grads[l] = (dW, db)
        if l > 0:
            W_next = params[l][0]
            delta = hidden_delta(delta, W_next, z_list[l - 1])
        l = l - 1
    return float(loss), grads
