"""Statistical acceptance intervals: the false-failure bound holds and is not wasteful."""
import math

import numpy as np
import pytest

from grader.checks.stats import FALSE_FAILURE, binomial_interval, binomial_outside_probability


@pytest.mark.parametrize("n", [100, 10_000, 100_000])
@pytest.mark.parametrize("p", [0.1, 0.25, 0.5, 0.8])
def test_exact_false_failure_probability_is_below_the_bound(n, p):
    lo, hi = binomial_interval(n, p)
    assert lo < p < hi
    assert binomial_outside_probability(n, p, lo, hi) <= FALSE_FAILURE


@pytest.mark.parametrize("n,p,notes", [(10_000, 0.1, .0185), (10_000, 0.5, .0305),
                                       (100_000, 0.8, .0077), (100_000, 0.25, .0084)])
def test_interval_is_close_to_the_six_sigma_tolerances_in_the_notes(n, p, notes):
    lo, hi = binomial_interval(n, p)
    assert max(hi - p, p - lo) == pytest.approx(notes, rel=0.1)


def test_interval_is_tighter_than_hoeffding():
    n, p = 100_000, 0.1
    lo, hi = binomial_interval(n, p)
    hoeffding = math.sqrt(math.log(2 / FALSE_FAILURE) / (2 * n))
    assert hi - p < hoeffding and p - lo < hoeffding


def test_swapped_convention_is_far_outside():
    # dropping with probability 1 - p instead of p, at p = 0.1, n = 1e5
    lo, hi = binomial_interval(100_000, 0.1)
    assert not lo <= 0.9 <= hi
    assert binomial_outside_probability(100_000, 0.9, lo, hi) == pytest.approx(1.0)


def test_mean_interval_reduces_to_the_binomial_one():
    from grader.checks.stats import mean_interval
    for p in (0.1, 0.5, 0.8):
        lo, hi = mean_interval([0, 1], [1 - p, p], 10_000)
        blo, bhi = binomial_interval(10_000, p)
        assert lo == pytest.approx(blo, abs=1e-6) and hi == pytest.approx(bhi, abs=1e-6)


def test_mean_interval_bound_holds_exactly_on_a_small_case():
    """Exact distribution of the sum of n iid draws by convolution: the probability outside
    the interval is below the bound (alpha = 1e-3 here so that the check has teeth)."""
    import numpy as np
    from grader.checks.stats import mean_interval
    values, probs, n, alpha = np.arange(5), np.array([0.1, 0.2, 0.4, 0.2, 0.1]), 60, 1e-3
    lo, hi = mean_interval(values, probs, n, alpha)
    dist = np.array([1.0])
    for _ in range(n):
        dist = np.convolve(dist, probs)
    means = np.arange(len(dist)) / n
    outside = dist[(means < lo) | (means > hi)].sum()
    assert 0 < outside <= alpha
    assert lo < 2 < hi


def test_variance_statistic_of_row_counts():
    """The dropout check's statistic: mean over rows of (count - m p)^2 / (m p (1 - p)) for
    counts ~ Binomial(m, p). Its interval contains 1 and excludes 0 (a fixed count per row)."""
    import math
    import numpy as np
    from grader.checks.stats import mean_interval
    m, p, rows = 100, 0.5, 1000
    k = np.arange(m + 1)
    pmf = np.array([math.comb(m, i) * p ** i * (1 - p) ** (m - i) for i in k])
    lo, hi = mean_interval((k - m * p) ** 2 / (m * p * (1 - p)), pmf, rows)
    assert 0.5 < lo < 1 < hi < 1.6


def test_the_independence_statistic_does_not_depend_on_the_rate():
    """dropout's per-row variance statistic is taken around the observed rate: independent
    masks at the spec's rate and at a wrong one (whose own check charges it) all land inside
    the interval, and rows that drop the same number of entries, or together, land outside."""
    from grader.checks.topics.dropout import variance_ratio_interval
    rows, cols = 400, 100
    lo, hi = variance_ratio_interval(cols, 0.5, rows)
    rng = np.random.default_rng(0)

    def statistic(mask):
        counts = mask.sum(axis=1)
        q = counts.mean() / cols
        return np.mean((counts - cols * q) ** 2) / (cols * q * (1 - q))
    for rate in (0.5, 0.31, 0.69, 0.2):
        for _ in range(50):
            assert lo <= statistic(rng.random((rows, cols)) < rate) <= hi
    same_count = np.array([rng.permutation(cols) < cols // 2 for _ in range(rows)])
    assert statistic(same_count) < lo
    blocks = np.repeat(rng.random((rows, cols // 10)) < 0.5, 10, axis=1)  # 10 entries together
    assert statistic(blocks) > hi
