"""Ben's Jacobians."""
"""Reference solution: matrix calculus and the chain rule (topic 2). Never shipped to students."""
import numpy as np


def numerical_jacobian(f, x, h=1e-6):
    """f maps (m,) -> (p,); returns J (p, m), J[i, j] = (f(x + h e_j)_i - f(x - h e_j)_i) / (2h)."""
    x = np.asarray(x, dtype=float)
    columns = []
    for j in range(x.size):
        step = np.zeros_like(x)
        step[j] = h
        columns.append((np.asarray(f(x + step)) - np.asarray(f(x))) / h)
    return np.stack(columns, axis=1)


def sigmoid_jacobian(z):
    """z (m,) -> (m, m) Jacobian of the elementwise sigmoid: diag(s (1 - s))."""
    s = 1.0 / (1.0 + np.exp(-z))
    return np.diag(s * (1 - s))


def softmax_jacobian(z):
    """z (m,) -> (m, m) Jacobian of softmax: diag(s) - s s^T."""
    e = np.exp(z - z.max())
    s = e / e.sum()
    return np.diag(s) - np.outer(s, s)


def chain_jacobians(jacobians):
    """[J_1, ..., J_n] with J_k = dy_k / dy_(k-1) -> dy_n / dx = J_n ... J_2 J_1."""
    out = jacobians[0]
    for jac in jacobians[1:]:
        out = jac @ out
    return out


def scalar_chain_grad(jacobians, grad_out):
    """dz/dx = (J_n ... J_1)^T grad_out, as successive vector-Jacobian products (no matrix
    product of Jacobians is ever formed)."""
    g = grad_out
    for jac in reversed(jacobians):
        g = jac.T @ g
    return g
