"""Checks for topic 4, ReLU (exercise-api.md section 4)."""
import numpy as np

from .. import values
from ..core import Check, assert_backward_uses_its_cache, forward_and_cache
from ..compare import Fail, assert_close
from ..gradcheck import Forward, assert_gradient, avoid_kinks, own_gradients
from ..tolerances import EXACT

ID = "relu"
TITLE = "ReLU"
FUNCTIONS = {"relu_forward": ("x",), "relu_backward": ("dout", "cache")}
# Both sides of the kink, far below any step a gradient check takes: a threshold such as
# x > 1e-8 or a clip at +-1e-12 shows here.
TINY = np.array([1e-300, -1e-300, 1e-12, -1e-12, 1e-7, -1e-7, 5e-324, -5e-324])


def mixed(rng, shape):
    """Inputs of both signs and several scales (1e-2 .. 1e2), with some exact zeros and some
    tiny values on both sides of 0."""
    x = rng.normal(0, 1, size=shape) * 10.0 ** rng.integers(-2, 3, size=shape)
    spots = rng.choice(x.size, size=min(x.size, max(2, x.size // 4)), replace=False)
    x.flat[spots[: len(spots) // 2]] = 0.0
    x.flat[spots[len(spots) // 2:]] = rng.choice(TINY, size=len(spots) - len(spots) // 2)
    return x


def forward(student, x):
    out, cache = values.parts(student.call("relu_forward", x, opaque=(1,)), "relu_forward",
                              ("out", "cache"))
    return values.array(out, "out", shape=x.shape), cache


def cache_of(student, x):
    return forward_and_cache(student, "relu_forward", x)[1]


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
        assert_relu(out, x, f"relu_forward(x) for x of shape {shape}", alternatives=[
            (np.abs(x), "it is |x|; negative inputs must give 0"),
            (np.minimum(x, 0), "it keeps the negative part; ReLU is max(x, 0)"),
            (x * (x < 0), "it keeps the negative part; ReLU is max(x, 0)"),
            (x, "negative inputs are passed through; they must give 0")])


def forward_float(student, rng):
    x = np.array([[-2.0, -0.5, 0.0], [0.5, 2.0, -1e-300]])
    out, _ = forward(student, x)  # a mask or an integer array fails here
    assert_close(out, np.maximum(x, 0), "relu_forward on a small example", tol=EXACT)


def assert_relu(out, x, what, alternatives=()):
    """out is max(x, 0) exactly; a mistake only at tiny inputs is named as a threshold."""
    bad = out != np.maximum(x, 0)
    if bad.any() and np.all(np.abs(x[bad]) < 1e-6) and not alternatives_match(out, alternatives):
        raise Fail(f"{what}: tiny inputs next to 0 come out wrong (x = {x[bad][:4].tolist()} "
                   f"gives {out[bad][:4].tolist()}): ReLU is exactly max(x, 0), with no "
                   "threshold")
    assert_close(out, np.maximum(x, 0), what, tol=EXACT, alternatives=alternatives)


def alternatives_match(out, alternatives):
    return any(np.array_equal(out, alt) for alt, _ in alternatives)


def forward_near_zero(student, rng):
    """Tiny inputs on both sides of the kink, and large ones: ReLU has no threshold and no
    scale, so every one must come out exactly."""
    x = np.concatenate([TINY, [1e8, -1e8, 1e-3, -1e-3]]).reshape(2, -1)
    out, _ = forward(student, x)
    assert_relu(out, x, f"relu_forward(x) for tiny x on both sides of 0 and large x")


def forward_leaves_x_alone(student, rng):
    """Every call is watched for changes to its arguments; a second forward pass of the same x
    must give the same answer as the first (whether right is judged elsewhere)."""
    x = mixed(rng, (5, 4))
    first, _ = forward(student, x)
    second, _ = forward(student, x)
    if not np.all(np.isfinite(second)):
        raise Fail("out contains NaN or inf")
    if not np.array_equal(first, second):
        raise Fail("relu_forward of the same x gave a different out the second time: does it "
                   "keep state between calls?")


def backward_leaves_dout_alone(student, rng):
    """The call itself is watched for changes to dout; the same dout and cache a second time
    must give the same dx (whether it is right is judged elsewhere)."""
    x = avoid_kinks(rng.normal(size=(5, 4)))
    dout = rng.normal(size=x.shape)
    cache = cache_of(student, x)
    first = backward(student, dout, cache)
    second = backward(student, dout, cache)
    if not np.all(np.isfinite(second)):
        raise Fail("dx contains NaN or inf")
    if not np.array_equal(first, second):
        raise Fail("relu_backward of the same dout and cache gave a different dx the second "
                   "time: does it change its cache, or keep state between calls?")


def backward_gradient(student, rng):
    """dx against the gradient of the spec's ReLU and, if it differs, of the student's own
    forward (a backward that is right for its own forward is not charged for the forward)."""
    x = avoid_kinks(rng.normal(0, 1, size=(6, 5)) * 10.0 ** rng.integers(-1, 3, size=(6, 5)))
    dout = rng.normal(size=x.shape)
    out, cache = forward_and_cache(student, "relu_forward", x)
    dx = backward(student, dout, cache)
    own = own_gradients(Forward(student, "relu_forward", pick=0), [x], [0], dout, rng,
                        np.maximum(x, 0), out)
    assert_gradient(dx, dout * (x > 0), "dx", also=own and own[0], alternatives=[
        (dout * (dout > 0), "it looks at the sign of dout; the gate is the sign of the input x"),
        (-dout * (x > 0), "it has the wrong sign: dx = dout where x > 0"),
        (dout, "it is dout everywhere; it must be 0 where x < 0")])


def backward_own_cache(student, rng):
    """Two layers: forward A, forward B of another shape, then backward A with A's cache."""
    first = avoid_kinks(rng.normal(size=(5, 4)))
    second = avoid_kinks(rng.normal(size=(3, 6)))
    dout = rng.normal(size=first.shape)
    assert_backward_uses_its_cache(lambda x: cache_of(student, x),
                                   lambda cache: [backward(student, dout, cache)],
                                   first, second, ["dx"])


def backward_at_zero(student, rng):
    x = np.array([[0.0, -1.0, 2.0, 1e-300, -1e-300], [0.0, 3.0, 0.0, -1e-12, 1e-12]])
    dout = rng.uniform(1, 10, size=x.shape)
    dx = backward(student, dout, cache_of(student, x))
    at_zero = x == 0
    if np.any(dx[at_zero] != 0):
        raise Fail(f"at x == 0 exactly dx is {dx[at_zero]}, but the spec's gradient there is 0: "
                   "use the mask x > 0 (not x >= 0)")
    tiny = (np.abs(x) < 1e-6) & ~at_zero
    if np.any(dx[tiny] != dout[tiny] * (x[tiny] > 0)):
        raise Fail(f"for tiny x next to 0 ({x[tiny].tolist()}) dx is {dx[tiny].tolist()}, "
                   f"expected {(dout[tiny] * (x[tiny] > 0)).tolist()}: the gate is exactly "
                   "x > 0, with no threshold")
    assert_close(dx, dout * (x > 0), "dx for x with exact zeros", tol=EXACT)


# -- hidden checks ------------------------------------------------------------------------------

def hidden_forward(student, rng, ref):
    shape = tuple(int(s) for s in rng.integers(1, 7, size=2))
    x = mixed(rng, shape)
    out, _ = forward(student, x)
    assert_relu(out, x, f"relu_forward on random x of shape {shape}")


def hidden_backward(student, rng, ref):
    shape = tuple(int(s) for s in rng.integers(1, 7, size=2))
    x, dout = mixed(rng, shape), rng.normal(size=shape)
    cache = cache_of(student, x)
    assert_close(backward(student, dout, cache), ref.relu_backward(dout, ref.relu_forward(x)[1]),
                 f"relu_backward on random x of shape {shape}", tol=EXACT, alternatives=[
                     (dout * (x >= 0), "at x == 0 it passes dout; the gradient there is 0 (use "
                      "x > 0)"),
                     (dout * (dout > 0), "it looks at the sign of dout; the gate is the sign of x")])


CHECKS = [
    Check("forward: max(x, 0) for batches of several shapes", "relu_forward", 2, forward_values),
    Check("forward: a float array", "relu_forward", 0.5, forward_float),
    Check("forward: tiny inputs on both sides of 0, and large ones", "relu_forward", 0.5,
          forward_near_zero),
    Check("forward: leaves x unchanged", "relu_forward", 0.5, forward_leaves_x_alone),
    Check("backward: leaves dout unchanged", "relu_backward", 0.5, backward_leaves_dout_alone),
    Check("backward: dx matches the numerical gradient away from 0", "relu_backward", 2,
          backward_gradient),
    Check("backward: uses the cache it is given", "relu_backward", 0.5, backward_own_cache),
    Check("backward: the gradient at exactly 0 is 0", "relu_backward", 1.5, backward_at_zero),
    Check("hidden: forward on fresh inputs", "relu_forward", 1, hidden_forward, hidden=True),
    Check("hidden: backward on fresh inputs", "relu_backward", 1, hidden_backward, hidden=True),
]
