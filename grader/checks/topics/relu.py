"""Checks for topic 4, ReLU (exercise-api.md section 4)."""
import numpy as np

from .. import values
from ..core import Check, assert_backward_uses_its_cache
from ..compare import Fail, Tol, assert_close
from ..gradcheck import assert_gradient, avoid_kinks, numerical_gradients

ID = "relu"
TITLE = "ReLU"
FUNCTIONS = {"relu_forward": ("x",), "relu_backward": ("dout", "cache")}
EXACT = Tol(rtol=0, atol=0)


def mixed(rng, shape):
    """Inputs of both signs and several scales, with some exact zeros."""
    x = rng.normal(0, 1, size=shape) * 10.0 ** rng.integers(-2, 3, size=shape)
    x.flat[rng.choice(x.size, size=max(1, x.size // 8), replace=False)] = 0.0
    return x


def forward(student, x):
    out, cache = values.parts(student.call("relu_forward", x, opaque=(1,)), "relu_forward",
                              ("out", "cache"))
    return values.array(out, "out", shape=x.shape), cache


def backward(student, dout, cache):
    return values.array(student.call("relu_backward", dout, cache), "dx", shape=dout.shape)


# -- public checks ------------------------------------------------------------------------------

def forward_values(student, rng):
    for shape in ((6, 5), (1, 7), (7, 1)):  # batches (N, D), as the spec has them
        x = mixed(rng, shape)
        raw = values.parts(student.call("relu_forward", x, opaque=(1,)), "relu_forward",
                           ("out", "cache"))[0]
        if (isinstance(raw, np.ndarray) and raw.shape != x.shape
                and raw.shape == np.max(x, 0).shape and np.array_equal(raw, np.max(x, 0))):
            raise Fail("out is the maximum of each column: np.max reduces over an axis; use "
                       "np.maximum(x, 0), which compares elementwise")
        out = values.array(raw, "out", shape=x.shape)
        assert_close(out, np.maximum(x, 0), f"relu_forward(x) for x of shape {shape}", tol=EXACT,
                     alternatives=[(np.abs(x), "it is |x|; negative inputs must give 0"),
                                   (np.minimum(x, 0), "it keeps the negative part; ReLU is "
                                    "max(x, 0)"),
                                   (x * (x < 0), "it keeps the negative part; ReLU is max(x, 0)"),
                                   (x, "negative inputs are passed through; they must give 0")])


def forward_float(student, rng):
    x = np.array([[-2.0, -0.5, 0.0], [0.5, 2.0, -1e-300]])
    out, _ = forward(student, x)  # a mask or an integer array fails here
    assert_close(out, np.maximum(x, 0), "relu_forward on a small example", tol=EXACT)


def forward_leaves_x_alone(student, rng):
    """Every call is watched for changes to its arguments; a second forward pass of the same x
    must give the same, right, answer."""
    x = mixed(rng, (5, 4))
    forward(student, x)
    out, _ = forward(student, x)
    assert_close(out, np.maximum(x, 0), "relu_forward of the same x a second time", tol=EXACT)


def backward_leaves_dout_alone(student, rng):
    x = avoid_kinks(rng.normal(size=(5, 4)))  # no zeros: only the in-place question matters
    dout = rng.normal(size=x.shape)
    _, cache = forward(student, x)
    backward(student, dout, cache)
    dx = backward(student, dout, cache)
    assert_close(dx, dout * (x > 0), "relu_backward of the same dout and cache a second time",
                 tol=EXACT)


def backward_gradient(student, rng):
    x = avoid_kinks(rng.normal(0, 1, size=(6, 5)))  # central differences never straddle 0
    dout = rng.normal(size=x.shape)
    _, cache = forward(student, x)
    dx = backward(student, dout, cache)
    numeric, = numerical_gradients(
        lambda arglists: student.call_many("relu_forward", arglists, pick=0), [x], [0], dout)
    assert_gradient(dx, numeric, "dx", alternatives=[
        (dout * (dout > 0), "it looks at the sign of dout; the gate is the sign of the input x"),
        (dout, "it is dout everywhere; it must be 0 where x < 0")])


def backward_own_cache(student, rng):
    first, second = (avoid_kinks(rng.normal(size=(5, 4))) for _ in range(2))
    dout = rng.normal(size=first.shape)
    assert_backward_uses_its_cache(lambda x: forward(student, x)[1],
                                   lambda cache: [backward(student, dout, cache)],
                                   first, second, ["dx"])


def backward_at_zero(student, rng):
    x = np.array([[0.0, -1.0, 2.0], [0.0, 3.0, 0.0]])
    dout = np.array([[5.0, 6.0, 7.0], [8.0, 9.0, 10.0]])
    _, cache = forward(student, x)
    dx = backward(student, dout, cache)
    at_zero = x == 0
    if np.any(dx[at_zero] != 0):
        raise Fail(f"at x == 0 exactly dx is {dx[at_zero]}, but the spec's gradient there is 0: "
                   "use the mask x > 0 (not x >= 0)")
    assert_close(dx, dout * (x > 0), "dx for x with exact zeros", tol=EXACT)


# -- hidden checks ------------------------------------------------------------------------------

def hidden_forward(student, rng, ref):
    shape = tuple(int(s) for s in rng.integers(1, 7, size=2))
    x = mixed(rng, shape)
    out, _ = forward(student, x)
    assert_close(out, ref.relu_forward(x)[0], f"relu_forward on random x of shape {shape}",
                 tol=EXACT)


def hidden_backward(student, rng, ref):
    shape = tuple(int(s) for s in rng.integers(1, 7, size=2))
    x, dout = mixed(rng, shape), rng.normal(size=shape)
    _, cache = forward(student, x)
    assert_close(backward(student, dout, cache), ref.relu_backward(dout, ref.relu_forward(x)[1]),
                 f"relu_backward on random x of shape {shape}", tol=EXACT, alternatives=[
                     (dout * (x >= 0), "at x == 0 it passes dout; the gradient there is 0 (use "
                      "x > 0)"),
                     (dout * (dout > 0), "it looks at the sign of dout; the gate is the sign of x")])


CHECKS = [
    Check("forward: max(x, 0) for batches of several shapes", "relu_forward", 2, forward_values),
    Check("forward: a float array", "relu_forward", 1, forward_float),
    Check("forward: leaves x unchanged", "relu_forward", 0.5, forward_leaves_x_alone),
    Check("backward: leaves dout unchanged", "relu_backward", 0.5, backward_leaves_dout_alone),
    Check("backward: dx matches the numerical gradient away from 0", "relu_backward", 2,
          backward_gradient),
    Check("backward: uses the cache it is given", "relu_backward", 0.5, backward_own_cache),
    Check("backward: the gradient at exactly 0 is 0", "relu_backward", 1.5, backward_at_zero),
    Check("hidden: forward on fresh inputs", "relu_forward", 1, hidden_forward, hidden=True),
    Check("hidden: backward on fresh inputs", "relu_backward", 1, hidden_backward, hidden=True),
]
