"""Correct alternative: recursion for the chain rule, the Jacobian from np.column_stack of a
generator, the sigmoid Jacobian as 1 / (4 cosh^2(z/2)) and softmax's as s_i (delta_ij - s_j)."""
import numpy as np


def numerical_jacobian(f, x, h=1e-6):
    def column(j):
        e = np.zeros_like(x, dtype=float)
        e[j] = 1.0
        return (f(x + h * e) - f(x - h * e)) / (2 * h)
    return np.column_stack([column(j) for j in range(len(x))])


def sigmoid_jacobian(z):
    return np.diag(0.25 / np.cosh(0.5 * np.asarray(z, dtype=float)) ** 2)


def softmax_jacobian(z):
    shifted = np.exp(z - z.max())
    s = shifted / shifted.sum()
    return s[:, None] * (np.eye(len(z)) - s[None, :])


def chain_jacobians(jacobians):
    if len(jacobians) == 1:
        return jacobians[0].copy()
    return jacobians[-1] @ chain_jacobians(jacobians[:-1])


def scalar_chain_grad(jacobians, grad_out):
    if not jacobians:
        return grad_out
    return scalar_chain_grad(jacobians[:-1], jacobians[-1].T @ grad_out)
