"""Statistical acceptance intervals: the false-failure bound holds and is not wasteful."""
import math

import pytest

from grader.stats import FALSE_FAILURE, binomial_interval, binomial_outside_probability


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
