"""Numerical gradients compared element by element, in float64, with diagnoses."""
import numpy as np
import pytest

from grader.checks.compare import Fail
from grader.checks.gradcheck import (GRAD_TOL, Forward, assert_gradient, avoid_kinks,
                                     norm_relative_error, numerical_gradients, own_gradients)


def matmul_grads(x, w, dout):
    return dout @ w.T, x.T @ dout


def evaluate_matmul(arglists):
    return [a[0] @ a[1] for a in arglists]


@pytest.fixture
def problem():
    rng = np.random.default_rng(1)
    x, w = rng.normal(size=(5, 3)), rng.normal(size=(3, 4))  # unequal sizes: N=5, D=3, H=4
    return x, w, rng.normal(size=(5, 4))


def test_numerical_gradients_of_a_product(problem):
    x, w, dout = problem
    dx, dw = numerical_gradients(evaluate_matmul, [x, w], wrt=[0, 1], dout=dout)
    ex, ew = matmul_grads(x, w, dout)
    assert norm_relative_error(dx, ex) < 1e-9 and norm_relative_error(dw, ew) < 1e-9
    assert_gradient(ex, dx, "dx")


def test_one_wrong_entry_in_many_is_caught_and_located(problem):
    x, w, dout = problem
    dx, = numerical_gradients(evaluate_matmul, [x, w], wrt=[0], dout=dout)
    wrong = dx.copy()
    wrong[3, 1] *= 1.05  # one entry of 15, off by 5%
    with pytest.raises(Fail, match=r"differs in 1 of 15 entries; the largest difference is at \[3, 1\]"):
        assert_gradient(wrong, dx, "dx")


def test_a_constant_factor_is_named(problem):
    x, w, dout = problem
    dx, = numerical_gradients(evaluate_matmul, [x, w], wrt=[0], dout=dout)
    with pytest.raises(Fail, match="exactly 5 times too large: N = 5"):
        assert_gradient(5 * dx, dx, "dx", factors=[(5, "N = 5 is the batch size")])


def test_nan_in_an_analytic_gradient_fails(problem):
    x, w, dout = problem
    dx, = numerical_gradients(evaluate_matmul, [x, w], wrt=[0], dout=dout)
    bad = dx.copy()
    bad[0, 0] = np.nan
    with pytest.raises(Fail, match="NaN"):
        assert_gradient(bad, dx, "dx")


def test_norm_relative_error_edge_cases():
    assert norm_relative_error(np.zeros(3), np.zeros(3)) == 0.0
    assert norm_relative_error(np.ones(3), -np.ones(3)) == 1.0


def test_tolerance_has_a_wide_margin_over_correct_code():
    # softmax-like smooth function, analytic vs central difference: far below GRAD_TOL
    rng = np.random.default_rng(2)
    x = rng.normal(size=(4, 6))
    dout = rng.normal(size=(4, 6))
    f = lambda a: [np.tanh(v[0]) * 3 for v in a]
    num, = numerical_gradients(f, [x], wrt=[0], dout=dout)
    err = norm_relative_error(3 * (1 - np.tanh(x) ** 2) * dout, num)
    assert err < GRAD_TOL / 1000


def test_kinks_are_avoided():
    x = np.array([-1.0, -1e-9, 0.0, 2e-4, 5.0])
    moved = avoid_kinks(x, margin=1e-3)
    assert np.all(np.abs(moved) >= 1e-3)
    assert moved[0] == -1.0 and moved[-1] == 5.0
    assert np.sign(moved[1]) == -1 and np.sign(moved[3]) == 1
    # relu's numerical gradient at a kink is 0.5; away from kinks it is exact
    relu = lambda a: [np.maximum(v[0], 0) for v in a]
    near, = numerical_gradients(relu, [np.array([0.0])], wrt=[0], dout=np.ones(1))
    away, = numerical_gradients(relu, [avoid_kinks(np.array([0.0]))], wrt=[0], dout=np.ones(1))
    assert near[0] == pytest.approx(0.5) and away[0] == pytest.approx(1.0)


class Squares:
    """A student whose forward gives (x ** 2 + shift, None), recording every call made."""

    def __init__(self, shift=0.0):
        self.shift, self.calls = shift, []

    def call(self, fn, x, opaque=(), errstate=None, cpu_seconds=None):
        self.calls.append("call")
        return x ** 2 + self.shift, None

    def call_many(self, fn, arglists, pick=None, opaque=()):
        self.calls.append("call_many")
        return [a[0] ** 2 + self.shift for a in arglists]

    def fresh_worker(self):
        self.calls.append("fresh_worker")


def test_own_gradients_does_not_ask_again_for_an_output_it_was_given():
    """The output of the forward call that made a cache is the output at those inputs: given
    it, own_gradients calls nothing when it is the spec's, and starts from it otherwise."""
    x, dout, rng = np.array([0.5, -1.5, 2.0]), np.array([1.0, 2.0, -1.0]), np.random.default_rng(0)
    right = Squares()
    assert own_gradients(Forward(right, "f", pick=0), [x], [0], dout, rng, x ** 2,
                         out=x ** 2) is None
    assert right.calls == []
    shifted = Squares(shift=1.0)  # a forward off by a constant: its own gradient is the spec's
    own = own_gradients(Forward(shifted, "f", pick=0), [x], [0], dout, rng, x ** 2,
                        out=x ** 2 + 1.0)
    assert shifted.calls[:2] == ["fresh_worker", "call"]  # asked again, from the loaded state
    assert "call_many" in shifted.calls
    np.testing.assert_allclose(own[0], 2 * x * dout, rtol=1e-6)
