"""Correct alternative: vectorized in blocks. Inside a block of B steps the unrolled recursion is a
lower-triangular (B, B) matrix of powers of beta; the block's last value carries into the next.
No negative powers of beta, so it stays finite for long sequences and any beta in [0, 1)."""
import numpy as np

BLOCK = 256


def _block_weights(n, beta):
    i = np.arange(n)[:, None]
    j = np.arange(n)[None, :]
    lag = i - j
    return np.where(lag >= 0, (1 - beta) * beta ** np.maximum(lag, 0), 0.0)


def ema(thetas, beta):
    thetas = np.asarray(thetas, dtype=float)
    flat = thetas.reshape(len(thetas), -1)
    out = np.empty_like(flat)
    carry = np.zeros(flat.shape[1])
    for start in range(0, len(flat), BLOCK):
        chunk = flat[start:start + BLOCK]
        n = len(chunk)
        decay = beta ** np.arange(1, n + 1)          # beta^(i+1): how much of the carry is left
        out[start:start + n] = _block_weights(n, beta) @ chunk + decay[:, None] * carry
        carry = out[start + n - 1]
    return out.reshape(thetas.shape)


def ema_bias_corrected(thetas, beta):
    v = ema(thetas, beta)
    t = np.arange(1, len(v) + 1, dtype=float)
    return v / (1 - np.power(beta, t)).reshape((-1,) + (1,) * (v.ndim - 1))
