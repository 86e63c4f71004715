"""Correct alternative, written the way a student fills in a notebook: explicit loops, a
preallocated J filled column by column, and the Jacobians built entry by entry."""
import math

import numpy as np


def numerical_jacobian(f, x, h=1e-6):
    m = len(x)
    p = len(f(x))
    J = np.zeros((p, m))
    for j in range(m):
        x_plus = x.copy()
        x_minus = x.copy()
        x_plus[j] = x_plus[j] + h
        x_minus[j] = x_minus[j] - h
        J[:, j] = (f(x_plus) - f(x_minus)) / (2 * h)   # column j: how every output moves with x_j
    return J


def sigmoid_jacobian(z):
    m = len(z)
    J = np.zeros((m, m))
    for i in range(m):
        if z[i] >= 0:
            s = 1 / (1 + math.exp(-z[i]))
        else:
            s = math.exp(z[i]) / (1 + math.exp(z[i]))
        J[i, i] = s * (1 - s)       # off-diagonal: output i does not depend on z_j
    return J


def softmax_jacobian(z):
    m = len(z)
    biggest = max(z)
    exps = [math.exp(v - biggest) for v in z]
    total = sum(exps)
    s = [e / total for e in exps]
    J = np.zeros((m, m))
    for i in range(m):
        for j in range(m):
            if i == j:
                J[i, j] = s[i] * (1 - s[i])
            else:
                J[i, j] = -s[i] * s[j]
    return J


def chain_jacobians(jacobians):
    result = jacobians[0]
    for k in range(1, len(jacobians)):
        result = np.dot(jacobians[k], result)    # J_k goes on the left
    return result


def scalar_chain_grad(jacobians, grad_out):
    g = grad_out.copy()
    for k in range(len(jacobians) - 1, -1, -1):
        g = np.dot(jacobians[k].T, g)
    return g
