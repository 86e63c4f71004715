"""Correct alternative: the mask from rng.choice([0, 1], p=[p, 1 - p]); kept entries written with
np.where; the cache is a dict holding a boolean mask and p."""
import numpy as np


def dropout_forward(x, p, train=True, rng=None):
    if not (0.0 <= p < 1.0):
        raise ValueError(f"expected 0 <= p < 1, got p={p!r}")
    if not train:
        return x + 0.0, {"train": False}
    rng = rng if rng is not None else np.random.default_rng()
    keep = rng.choice([0, 1], p=[p, 1 - p], size=x.shape).astype(bool)
    out = np.where(keep, x / (1 - p), 0.0)
    return out, {"train": True, "keep": keep, "p": p}


def dropout_backward(dout, cache):
    if not cache["train"]:
        return dout + 0.0
    return np.where(cache["keep"], dout / (1 - cache["p"]), 0.0)
