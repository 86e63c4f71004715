"""Functions the grader hands to student code, e.g. the f given to numerical_jacobian.

A check sends wire.Probe(name, *args); the student process builds the function here from those
plain arguments and passes it to the student's code. The grader builds the same function on its
own side to know what it should give.
"""
import numpy as np


def _takes_vector(f, m):
    def checked(x):
        x = np.asarray(x, dtype=float)
        if x.shape != (m,):
            raise ValueError(f"f takes a 1-D array of shape ({m},), got one of shape {x.shape}")
        return f(x)
    return checked


def tanh_affine(w, b):
    """x (m,) -> tanh(W x + b) (p,), with W (p, m): smooth, curved, any p and m."""
    return _takes_vector(lambda x: np.tanh(w @ x + b), w.shape[1])


def cubic(w):
    """x (m,) -> (W x)^3 (p,): strongly curved, so forward differences are off by O(h)."""
    return _takes_vector(lambda x: (w @ x) ** 3, w.shape[1])


def sine(w):
    """x (m,) -> sin(W x) (p,): with large W, a third derivative so large that the central
    difference with h = 1e-4 or 1e-5 differs visibly from the one with h = 1e-6."""
    return _takes_vector(lambda x: np.sin(w @ x), w.shape[1])


BUILDERS = {"tanh_affine": tanh_affine, "cubic": cubic, "sine": sine}


def build(name, *args):
    if name not in BUILDERS:
        raise ValueError(f"unknown probe {name!r}")
    return BUILDERS[name](*args)
