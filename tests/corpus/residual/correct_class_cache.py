"""Correct alternative: a small layer object as the cache (it keeps what it needs as attributes and
computes its own gradients), with the ReLU derivative as a float array."""
import numpy as np


class _BlockTape:
    def __init__(self, x, W1, W2, z):
        self.x, self.W1, self.W2 = x, W1, W2
        self.relu_grad = (z > 0).astype(np.float64)
        self.h = z * self.relu_grad

    def grads(self, dout):
        dW2 = np.dot(dout.T, self.h)
        db2 = np.sum(dout, axis=0)
        dz = np.dot(dout, self.W2) * self.relu_grad
        dW1 = np.dot(dz.T, self.x)
        db1 = np.sum(dz, axis=0)
        return dout + np.dot(dz, self.W1), dW1, db1, dW2, db2


def residual_forward(x, W1, b1, W2, b2):
    z = np.dot(x, W1.T) + b1
    tape = _BlockTape(x, W1, W2, z)
    return x + np.dot(tape.h, W2.T) + b2, tape


def residual_backward(dout, cache):
    return cache.grads(dout)
