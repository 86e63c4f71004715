"""Chloe's ReLU."""
"""Reference solution: ReLU (topic 4). Never shipped to students."""
import numpy as np


def relu_forward(x):
    """x (any shape) -> (max(x, 0), cache)."""
    return np.maximum(x, 0.0), x


def relu_backward(dout, cache):
    """dout where x > 0, else 0 (the gradient at exactly 0 is 0)."""
    return dout * (cache >= 0)
