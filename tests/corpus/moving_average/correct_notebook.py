"""Correct alternative, written like a student's notebook: a list built in a for loop, t counted
from 1 with enumerate, and np.array at the end."""
import numpy as np


def ema(thetas, beta):
    v = 0
    vs = []
    for theta in thetas:
        v = beta * v + (1 - beta) * theta   # v_t = beta * v_(t-1) + (1 - beta) * theta_t
        vs.append(v)
    return np.array(vs, dtype=float).reshape(np.shape(thetas))


def ema_bias_corrected(thetas, beta):
    v = ema(thetas, beta)
    v_hat = []
    for t, v_t in enumerate(v, start=1):
        v_hat.append(v_t / (1 - beta ** t))   # bias correction, t starts at 1
    return np.array(v_hat).reshape(v.shape)
