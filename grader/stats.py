"""Statistical checks with a computed false-failure bound.

A check that counts random events (dropped units, say) must never fail correct code by bad luck.
`binomial_interval` gives an acceptance interval whose probability of rejecting a correct
implementation is provably at most `alpha` (Chernoff's bound with the exact KL divergence);
`binomial_outside_probability` computes that probability exactly, to show how conservative it is.
"""
import math

import numpy as np

FALSE_FAILURE = 1e-9  # default bound on the probability that a correct implementation fails


def kl_bernoulli(a, p):
    """KL(Bernoulli(a) || Bernoulli(p)), the exponent of Chernoff's bound."""
    def term(x, y):
        return 0.0 if x == 0 else x * math.log(x / y)
    return term(a, p) + term(1 - a, 1 - p)


def binomial_interval(n, p, alpha=FALSE_FAILURE):
    """(lo, hi) with P(K/n < lo) + P(K/n > hi) <= alpha for K ~ Binomial(n, p).

    Each side gets alpha/2 via P(K >= n a) <= exp(-n KL(a || p)) for a > p (and symmetrically).
    """
    if not 0 < p < 1:
        return (p, p)
    target = math.log(2 / alpha) / n

    def solve(inside, outside):
        # bisection for the point where n KL(a || p) = log(2 / alpha), between p and the edge
        for _ in range(200):
            mid = (inside + outside) / 2
            if kl_bernoulli(mid, p) < target:
                inside = mid
            else:
                outside = mid
        return outside

    hi = 1.0 if kl_bernoulli(1.0, p) < target else solve(p, 1.0)
    lo = 0.0 if kl_bernoulli(0.0, p) < target else solve(p, 0.0)
    return (lo, hi)


def binomial_outside_probability(n, p, lo, hi):
    """Exact P(K/n < lo or K/n > hi) for K ~ Binomial(n, p), summed in log space."""
    k = np.arange(n + 1)
    logpmf = (math.lgamma(n + 1) - np.array([math.lgamma(i + 1) + math.lgamma(n - i + 1) for i in k])
              + k * math.log(p) + (n - k) * math.log1p(-p))
    outside = (k < lo * n) | (k > hi * n)
    return float(np.exp(logpmf[outside]).sum())
