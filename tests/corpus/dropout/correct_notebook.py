"""Correct alternative, written like a student's notebook: explicit if/else, a boolean keep mask,
and the scaling done in a separate step with a comment on why."""
import numpy as np


def dropout_forward(x, p, train=True, rng=None):
    # p = probability of DROPPING a unit
    if p < 0 or p >= 1:
        raise ValueError("p has to be between 0 (inclusive) and 1 (exclusive)")

    if train == False:
        out = x.copy()
        cache = (None, p, False)
        return out, cache

    if rng == None:
        rng = np.random.default_rng()

    keep_prob = 1 - p
    mask = rng.random(size=x.shape) > p      # True = keep (prob. 1 - p)
    out = x * mask
    out = out / keep_prob                     # inverted dropout: rescale now, not at test time
    cache = (mask, p, True)
    return out, cache


def dropout_backward(dout, cache):
    mask, p, was_training = cache
    if not was_training:
        return dout.copy()
    dx = dout * mask
    dx = dx / (1 - p)
    return dx
