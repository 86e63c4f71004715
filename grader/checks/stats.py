"""Statistical checks with a computed false-failure bound.

A check that counts random events (dropped units, say) must never fail correct code by bad luck.
`binomial_interval` gives an acceptance interval whose probability of rejecting a correct
implementation is provably at most `alpha` (Chernoff's bound with the exact KL divergence);
`binomial_outside_probability` computes that probability exactly, to show how conservative it is.
"""
import functools
import math

import numpy as np

from .tolerances import FALSE_FAILURE  # the bound on the probability that correct code fails


def kl_bernoulli(a, p):
    """KL(Bernoulli(a) || Bernoulli(p)), the exponent of Chernoff's bound."""
    def term(x, y):
        return 0.0 if x == 0 else x * math.log(x / y)
    return term(a, p) + term(1 - a, 1 - p)


def boundary(inside, outside, is_inside, steps=60):
    """Bisection between a point where is_inside holds and one where it does not; returns the
    outer end of the final bracket (so the result itself is outside, i.e. conservative). 60
    halvings take any bracket of these intervals below a float's resolution."""
    for _ in range(steps):
        mid = (inside + outside) / 2
        if is_inside(mid):
            inside = mid
        else:
            outside = mid
    return outside


@functools.lru_cache(maxsize=1024)  # the same few (n, p) come back for every submission
def binomial_interval(n, p, alpha=FALSE_FAILURE):
    """(lo, hi) with P(K/n < lo) + P(K/n > hi) <= alpha for K ~ Binomial(n, p).

    Each side gets alpha/2 via P(K >= n a) <= exp(-n KL(a || p)) for a > p (and symmetrically).
    """
    if not 0 < p < 1:
        return (p, p)
    target = math.log(2 / alpha) / n  # the point where n KL(a || p) = log(2 / alpha)
    acceptable = lambda a: kl_bernoulli(a, p) < target
    return tuple(edge if acceptable(edge) else boundary(p, edge, acceptable, 200)
                 for edge in (0.0, 1.0))


def binomial_outside_probability(n, p, lo, hi):
    """Exact P(K/n < lo or K/n > hi) for K ~ Binomial(n, p), summed in log space."""
    k = np.arange(n + 1)
    logpmf = (math.lgamma(n + 1) - np.array([math.lgamma(i + 1) + math.lgamma(n - i + 1) for i in k])
              + k * math.log(p) + (n - k) * math.log1p(-p))
    outside = (k < lo * n) | (k > hi * n)
    return float(np.exp(logpmf[outside]).sum())


def mean_interval(values, probs, n, alpha=FALSE_FAILURE):
    """(lo, hi) with P(mean of n iid draws < lo) + P(mean > hi) <= alpha, for draws of a known
    discrete distribution (values with probabilities probs).

    Chernoff's bound with the exact moment generating function: P(mean >= a) <=
    exp(-n I(a)) with I(a) = sup_l (l a - log E[exp(l V)]), each side getting alpha / 2.
    binomial_interval is the case values = (0, 1).
    """
    v = np.asarray(values, dtype=float)
    logp = np.log(np.asarray(probs, dtype=float))
    mu = float(np.exp(logp) @ v)
    target = math.log(2 / alpha) / n

    def log_mgf(lam):
        t = lam * v + logp
        top = t.max()
        return top + math.log(np.exp(t - top).sum())

    def tilted(lam):
        """Mean and variance of V under the distribution tilted by exp(l V)."""
        w = np.exp(lam * v + logp - log_mgf(lam))
        mean = float(w @ v)
        return mean, float(w @ (v - mean) ** 2)

    def rate(a):
        """I(a): the l maximizing l a - log M(l) has tilted mean a. It is found by Newton's
        method (the derivative of the tilted mean is the tilted variance) kept inside a
        bracket that halves where a step would leave it. Any l gives l a - log M(l) <= I(a), so
        an l short of the best only widens the interval."""
        lo_l, hi_l = (0.0, 1.0) if a > mu else (-1.0, 0.0)
        while (tilted(hi_l)[0] < a) if a > mu else (tilted(lo_l)[0] > a):
            if a > mu:
                hi_l *= 2
            else:
                lo_l *= 2
            if abs(lo_l) > 1e6 or hi_l > 1e6:
                break
        lam = (lo_l + hi_l) / 2
        for _ in range(100):
            mean, var = tilted(lam)
            if mean < a:
                lo_l = lam
            else:
                hi_l = lam
            step = lam + (a - mean) / var if var > 0 else None
            lam_next = step if step is not None and lo_l < step < hi_l else (lo_l + hi_l) / 2
            if lam_next == lam or hi_l - lo_l <= 1e-15 * max(1.0, abs(lam)):
                break
            lam = lam_next
        return lam * a - log_mgf(lam)

    acceptable = lambda a: rate(a) < target
    # an edge that is acceptable: even the most extreme mean is not rare enough to reject
    return tuple(edge if acceptable(edge) else boundary(mu, edge, acceptable)
                 for edge in (float(v.min()), float(v.max())))
