"""Array comparison explains how values differ, in words a student can act on."""
import numpy as np
import pytest

from grader.checks.compare import Fail, Tol, assert_close, constant_factor, mismatch


def message(actual, expected, **kw):
    with pytest.raises(Fail) as info:
        assert_close(actual, expected, "dx", **kw)
    return str(info.value)


E = np.arange(1.0, 13.0).reshape(3, 4) * 0.37


def test_equal_within_tolerance_passes():
    assert_close(E * (1 + 1e-9), E, "dx")
    assert_close(np.array([np.inf, 1.0]), np.array([np.inf, 1.0]), "v")


def test_shape_and_transpose():
    assert "shape (4, 3), expected (3, 4) (transposed?)" in message(E.T, E)
    sq = np.arange(9.0).reshape(3, 3) + 1
    assert message(sq.T, sq) == "dx is transposed"


def test_nan_and_inf_are_named_with_a_position():
    a = E.copy()
    a[1, 2] = np.nan
    assert "contains NaN in 1 of 12 entries (first at [1, 2])" in message(a, E)
    assert "contains inf" in message(np.full(3, np.inf), np.ones(3))


def test_nan_never_passes_a_tolerance():
    assert mismatch(np.array([np.nan]), np.array([1.0])).all()


def test_expected_inf_is_reported_when_missed():
    assert message(np.array([27.6]), np.array([np.inf])) == "dx is 27.6 at [0], expected inf"


def test_constant_factors_are_named():
    assert message(E * 8, E, factors=[(8, "N = 8 is the batch size")]) == \
        "dx is exactly 8 times too large: N = 8 is the batch size"
    assert "exactly 2 times too small" in message(E / 2, E, factors=[(0.5, "half")])
    assert message(-E, E) == "dx has the wrong sign"
    assert "is 3.3 times too large (a constant factor" in message(E * 3.3, E)


def test_zero_offset_and_localized_errors():
    assert message(np.zeros_like(E), E) == "dx is all zeros"
    assert message(E + 0.5, E) == "dx is off by a constant 0.5 in every entry"
    a = E.copy()
    a[:, 1] *= 1.1
    assert message(a, E) == "dx is wrong in column(s) 1 and right in the others"
    a = E.copy()
    a[2] += np.array([0.3, -0.1, 0.2, 0.4])
    assert message(a, E) == "dx is wrong in row(s) 2 and right in the others"
    a = E.copy()
    a[0, 0] += 1
    a[1, 1] += 2
    assert message(a, E) == ("dx differs in 2 of 12 entries; the largest difference is at "
                             "[1, 1]: got 4.22, expected 2.22")


def test_named_alternatives_win():
    biased = E * 0.9
    assert message(biased, E, alternatives=[(biased, "it uses the biased variance")]) == \
        "dx: it uses the biased variance"


def test_scalars():
    assert message(np.float64(2.0), np.float64(3.0)) == "dx is 2, expected 3"


def test_tolerance_is_data():
    assert_close(E * (1 + 1e-4), E, "dx", tol=Tol(rtol=1e-3, atol=0))
    with pytest.raises(Fail):
        assert_close(E * (1 + 1e-4), E, "dx", tol=Tol(rtol=1e-5, atol=0))


def test_constant_factor_fit():
    c, resid = constant_factor(E * -0.25, E)
    assert c == pytest.approx(-0.25) and resid < 1e-12
    assert constant_factor(E + 1, E)[1] > 1e-3
