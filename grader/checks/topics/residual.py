"""Checks for topic 8, residual connections (exercise-api.md section 8)."""
import numpy as np

from .. import values
from ..core import Check, assert_backward_uses_its_cache
from ..compare import Fail, Tol, assert_close
from ..gradcheck import H, assert_gradient, numerical_gradients

ID = "residual"
TITLE = "Residual connections"
FUNCTIONS = {"residual_forward": ("x", "W1", "b1", "W2", "b2"),
             "residual_backward": ("dout", "cache")}
NAMES = ("dx", "dW1", "db1", "dW2", "db2")
KINK_MARGIN = 100 * H  # every pre-activation at least this far from ReLU's kink at 0


def block(rng, n, d, hidden, scale=1.0):
    x = rng.normal(size=(n, d))
    w1, b1 = scale * rng.normal(size=(hidden, d)) / np.sqrt(d), scale * rng.normal(size=hidden)
    w2, b2 = scale * rng.normal(size=(d, hidden)) / np.sqrt(hidden), rng.normal(size=d)
    return [x, w1, b1, w2, b2]


def away_from_kinks(rng, make):
    """Draw arguments until no pre-activation x W1^T + b1 lies within KINK_MARGIN of 0, so that
    central differences never straddle the kink (a draw fails with probability ~1e-2)."""
    for _ in range(100):
        args = make()
        if np.all(np.abs(args[0] @ args[1].T + args[2]) > KINK_MARGIN):
            return args
    raise RuntimeError("could not draw inputs away from ReLU's kink")


def formula(x, w1, b1, w2, b2):
    return x + np.maximum(x @ w1.T + b1, 0) @ w2.T + b2


def forward(student, args):
    out, cache = values.parts(student.call("residual_forward", *args, opaque=(1,)),
                              "residual_forward", ("out", "cache"))
    return values.array(out, "out", shape=args[0].shape), cache


def backward(student, dout, cache, args):
    got = values.parts(student.call("residual_backward", dout, cache), "residual_backward", NAMES)
    return [values.array(g, name, shape=a.shape) for g, name, a in zip(got, NAMES, args)]


def outputs(student):
    return lambda arglists: student.call_many("residual_forward", arglists, pick=0)


# -- public checks ------------------------------------------------------------------------------

def forward_formula(student, rng):
    # N, D, H all different: a transpose cannot hide; scale 4 puts pre-activations well past 6
    args = block(rng, 5, 4, 6, scale=4.0)
    x, w1, b1, w2, b2 = args
    out, _ = forward(student, args)
    f = np.maximum(x @ w1.T + b1, 0) @ w2.T + b2
    assert_close(out, formula(*args), "out", alternatives=[
        (f, "the skip connection is missing: out = x + F(x)"),
        (np.maximum(x + (x @ w1.T + b1) @ w2.T + b2, 0), "ReLU is applied after the addition; "
         "here it is inside F: out = x + relu(x W1^T + b1) W2^T + b2"),
        (x + np.maximum(x @ w1.T + b1, 0) @ w2.T, "b2 is missing"),
        (x + np.maximum(x @ w1.T, 0) @ w2.T + b2, "b1 is missing"),
        (x + (x @ w1.T + b1) @ w2.T + b2, "there is no ReLU between the two layers"),
        (x + np.clip(x @ w1.T + b1, 0, 6) @ w2.T + b2, "it clips at 6 (ReLU6); ReLU has no "
         "upper bound: relu(z) = max(z, 0)"),
    ])


UNGATED = "dz is not gated by the ReLU: multiply dout W2 by relu'(z) = (z > 0)"
RELU_ON_GRADIENT = ("ReLU is applied to the gradient; the backward pass gates it instead: "
                    "dz = (dout W2) * (z > 0)")


def mistakes(args, dout):
    """Gradients as the usual backward mistakes compute them: name -> [(value, sentence)]."""
    x, w1, b1, w2, b2 = args
    z = x @ w1.T + b1
    h = np.maximum(z, 0)
    wrong_dz = {UNGATED: dout @ w2, RELU_ON_GRADIENT: np.maximum(dout @ w2, 0)}
    return {
        "dx": [(dout, "dx is exactly dout: the path through F (dz W1) is missing; dx = dout + "
                "dz W1")] + [(dout + dz @ w1, why) for why, dz in wrong_dz.items()],
        "dW1": [(dz.T @ x, why) for why, dz in wrong_dz.items()],
        "db1": [(dz.sum(axis=0), why) for why, dz in wrong_dz.items()],
        "dW2": [(dout.T @ z, "dW2 uses z; the second layer sees h = relu(z), so dW2 = dout^T h")],
        "db2": [],
    }


def backward_dx(student, rng):
    args = away_from_kinks(rng, lambda: block(rng, 5, 4, 6))
    dout = rng.normal(size=args[0].shape)
    _, cache = forward(student, args)
    dx = backward(student, dout, cache, args)[0]
    numeric, = numerical_gradients(outputs(student), args, [0], dout)
    assert_gradient(dx, numeric, "dx", alternatives=[
        (numeric - dout, "the skip path is missing from dx: the identity passes dout straight "
         "through, so add dout")] + mistakes(args, dout)["dx"])


def backward_params(student, rng):
    for size in ((5, 4, 6), (4, 1, 1)):  # D = H = 1: b1, b2 of shape (1,), not scalars
        params_of_a_block(student, rng, *size)


def params_of_a_block(student, rng, n, d, hidden):
    args = away_from_kinks(rng, lambda: block(rng, n, d, hidden))
    dout = rng.normal(size=args[0].shape)
    _, cache = forward(student, args)
    grads = backward(student, dout, cache, args)
    numeric = numerical_gradients(outputs(student), args, [1, 2, 3, 4], dout)
    n = args[0].shape[0]
    wrong = mistakes(args, dout)
    for got, num, name in zip(grads[1:], numeric, NAMES[1:]):
        assert_gradient(got, num, name, alternatives=wrong[name], factors=[
            (1 / n, f"it is averaged over the batch; parameter gradients sum over the N = {n} "
             "examples")])


def cache_of_its_own_call(student, rng):
    first = away_from_kinks(rng, lambda: block(rng, 4, 3, 5))
    second = away_from_kinks(rng, lambda: block(rng, 4, 3, 5))
    dout = rng.normal(size=first[0].shape)
    assert_backward_uses_its_cache(lambda args: forward(student, args)[1],
                                   lambda cache: backward(student, dout, cache, first),
                                   first, second, NAMES)


def identity_path(student, rng):
    """With F's weights at zero the block is exactly the identity, and so is its gradient."""
    n, d, hidden = 4, 3, 5
    x = rng.normal(size=(n, d))
    zeros = [np.zeros((hidden, d)), np.zeros(hidden), np.zeros((d, hidden)), np.zeros(d)]
    out, cache = forward(student, [x, *zeros])
    if not np.array_equal(out, x):
        raise Fail("with W1, b1, W2, b2 all zero, out must be exactly x (the block is the "
                   "identity)")
    dout = rng.normal(size=(n, d))
    dx = backward(student, dout, cache, [x, *zeros])[0]
    if not np.array_equal(dx, dout):
        raise Fail("with W1, b1, W2, b2 all zero, dx must be exactly dout: the skip path "
                   "carries the gradient unchanged")
    # W1 = b1 = 0 makes every pre-activation exactly 0, where relu's gradient is 0 (exercise 4):
    # F is then constant, whatever W2 is
    args = [x, zeros[0], zeros[1], rng.normal(size=(d, hidden)), zeros[3]]
    out, cache = forward(student, args)
    grads = backward(student, dout, cache, args)
    if not np.array_equal(out, x):
        raise Fail("with W1, b1, b2 zero, relu(0) = 0, so out must be exactly x")
    if not (np.array_equal(grads[0], dout) and not grads[1].any() and not grads[2].any()):
        raise Fail("with W1 = 0 and b1 = 0 every pre-activation is exactly 0, where relu's "
                   "gradient is 0 (as in exercise 4): dx must be exactly dout and dW1, db1 zero. "
                   "Gate with z > 0, not z >= 0")


def deep_stack(student, rng):
    """Ten residual blocks with small weights, chained through the student's forward and
    backward: the input gradient must match the numerical gradient of the spec's stack. With
    these weights it stays about the size of dout, where the same stack without skip
    connections shrinks it ~1e-7 times (a vanished gradient is named as such)."""
    depth, n, d, hidden = 10, 3, 4, 5

    def make():
        x = rng.normal(size=(n, d))
        return [x] + [a for _ in range(depth) for a in block(rng, n, d, hidden, scale=0.3)[1:]]

    def stack(x, layers):
        zs = []
        for w1, b1, w2, b2 in layers:
            zs.append(x @ w1.T + b1)
            x = formula(x, w1, b1, w2, b2)
        return x, zs

    for _ in range(100):  # away from every kink in the stack
        flat = make()
        layers = [flat[1 + 4 * i: 5 + 4 * i] for i in range(depth)]
        if all(np.all(np.abs(z) > KINK_MARGIN) for z in stack(flat[0], layers)[1]):
            break
    caches, h = [], flat[0]
    for layer in layers:
        h, cache = forward(student, [h, *layer])
        caches.append(cache)
    dout = rng.normal(size=(n, d))
    g = dout
    for layer, cache in zip(reversed(layers), reversed(caches)):
        g = backward(student, g, cache, [g, *layer])[0]
    numeric, = numerical_gradients(lambda arglists: [stack(a[0], layers)[0] for a in arglists],
                                   [flat[0]], [0], dout)
    plain = plain_stack_gradient(flat[0], layers, dout)
    size = np.linalg.norm(g) / np.linalg.norm(dout)
    assert_gradient(g, numeric, f"dx through {depth} residual blocks", alternatives=[
        (plain, "it is the gradient of the same stack without skip connections, which has "
         "vanished: add the skip path (dout) to dx")] + ([] if size > 1e-2 else [
            (g, f"it has vanished ({size:.1g} times dout); with skip connections it stays about "
             "the size of dout")]))


def plain_stack_gradient(x, layers, dout):
    """The input gradient of the same blocks without skip connections (for contrast)."""
    hs, zs = [x], []
    for w1, b1, w2, b2 in layers:
        zs.append(hs[-1] @ w1.T + b1)
        hs.append(np.maximum(zs[-1], 0) @ w2.T + b2)
    g = dout
    for (w1, b1, w2, b2), z in zip(reversed(layers), reversed(zs)):
        g = ((g @ w2) * (z > 0)) @ w1
    return g


# -- hidden checks ------------------------------------------------------------------------------

def hidden_forward(student, rng, ref):
    n, d, hidden = (int(v) for v in rng.integers(2, 8, size=3))
    args = block(rng, n, d, hidden)
    out, _ = forward(student, args)
    assert_close(out, ref.residual_forward(*args)[0], f"out for N, D, H = {n}, {d}, {hidden}")


def hidden_backward(student, rng, ref):
    n, d, hidden = (int(v) for v in rng.integers(2, 8, size=3))
    args = away_from_kinks(rng, lambda: block(rng, n, d, hidden))
    dout = rng.normal(size=(n, d))
    _, cache = forward(student, args)
    expected = ref.residual_backward(dout, ref.residual_forward(*args)[1])
    wrong = mistakes(args, dout)
    wrong["dx"].append((expected[0] - dout, "the skip path is missing from dx: add dout"))
    for got, e, name in zip(backward(student, dout, cache, args), expected, NAMES):
        assert_close(got, e, f"{name} for N, D, H = {n}, {d}, {hidden}", alternatives=wrong[name])


CHECKS = [
    Check("forward: x + relu(x W1^T + b1) W2^T + b2", "residual_forward", 1.5, forward_formula),
    Check("backward: dx matches the numerical gradient", "residual_backward", 1.5, backward_dx),
    Check("backward: dW1, db1, dW2, db2 match numerical gradients", "residual_backward", 2,
          backward_params),
    Check("identity: zero weights give out = x and dx = dout exactly", "residual_backward", 1,
          identity_path),
    Check("backward: uses the cache it is given", "residual_backward", 0.5,
          cache_of_its_own_call),
    Check("composite: the gradient survives 10 stacked blocks", "residual_backward", 1.5,
          deep_stack),
    Check("hidden: forward on fresh inputs", "residual_forward", 0.5, hidden_forward, hidden=True),
    Check("hidden: backward on fresh inputs", "residual_backward", 1.5, hidden_backward,
          hidden=True),
]
