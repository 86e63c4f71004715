"""Checks for topic 8, residual connections (exercise-api.md section 8)."""
import numpy as np

from .. import values
from ..core import (Check, NotJudged, StudentError, assert_backward_uses_its_cache,
                    forward_and_cache, using)
from ..compare import Fail, agrees, assert_close, mismatch
from ..gradcheck import (GRAD_TOL, Forward, Inconsistent, assert_gradient, norm_relative_error,
                         numerical_gradients, own_gradients, recheck, round_off_floor)
from ..tolerances import IDENTITY, KINK_MARGIN

ID = "residual"
TITLE = "Residual connections"
FUNCTIONS = {"residual_forward": ("x", "W1", "b1", "W2", "b2"),
             "residual_backward": ("dout", "cache")}
NAMES = ("dx", "dW1", "db1", "dW2", "db2")


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
    """x + relu(x W1^T + b1) W2^T + b2; also for arguments stacked on a leading axis (every
    perturbed point of a numerical gradient at once)."""
    def t(w):  # W^T, of one matrix or of each in a stack
        return np.swapaxes(w, -1, -2)
    return x + np.maximum(x @ t(w1) + b1[..., None, :], 0) @ t(w2) + b2[..., None, :]


def forward(student, args):
    return checked_forward(student.call("residual_forward", *args, opaque=(1,)), args)


def forwards(student, arglists):
    """forward on each argument list, in one round trip (the calls are as in forward)."""
    return [checked_forward(value, args) for value, args in
            zip(student.call_many("residual_forward", arglists, opaque=(1,)), arglists)]


def checked_forward(value, args):
    out, cache = values.parts(value, "residual_forward", ("out", "cache"))
    return values.array(out, "out", shape=args[0].shape), cache


def forward_call(student, args):
    """(out, cache) for a backward check (core.forward_and_cache)."""
    return forward_and_cache(student, "residual_forward", *args)


def cache_of(student, args):
    return forward_call(student, args)[1]


def backward(student, dout, cache):
    return backward_parts(student.call("residual_backward", dout, cache))


def backward_parts(value):
    """The five returned arrays, not yet validated: each check validates the ones it judges."""
    return values.parts(value, "residual_backward", NAMES)


def grad(raw, i, shape):
    return values.array(raw[i], NAMES[i], shape=shape)


def outputs(student):
    return Forward(student, "residual_forward", pick=0)


def spec_gradients(args, wrt, dout):
    return numerical_gradients(lambda arglists: list(formula(*map(np.stack, zip(*arglists)))),
                               args, wrt, dout)


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
    out, cache = forward_call(student, args)
    dx = grad(backward(student, dout, cache), 0, args[0].shape)
    spec, = spec_gradients(args, [0], dout)
    own = own_gradients(outputs(student), args, [0], dout, rng, formula(*args), out)
    assert_gradient(dx, spec, "dx", also=own and own[0], alternatives=[
        (spec - dout, "the skip path is missing from dx: the identity passes dout straight "
         "through, so add dout")] + mistakes(args, dout)["dx"])


def backward_params(student, rng):
    for size in ((5, 4, 6), (4, 1, 1)):  # D = H = 1: b1, b2 of shape (1,), not scalars
        params_of_a_block(student, rng, *size)


def params_of_a_block(student, rng, n, d, hidden):
    args = away_from_kinks(rng, lambda: block(rng, n, d, hidden))
    dout = rng.normal(size=args[0].shape)
    out, cache = forward_call(student, args)
    raw = backward(student, dout, cache)
    spec = spec_gradients(args, [1, 2, 3, 4], dout)
    own = own_gradients(outputs(student), args, [1, 2, 3, 4], dout, rng,
                        formula(*args), out) or [None] * 4
    wrong = mistakes(args, dout)
    floor = round_off_floor(formula(*args), dout)  # dW1, db1 of a unit almost never active
    for i, (num, mine, name) in enumerate(zip(spec, own, NAMES[1:]), 1):
        assert_gradient(grad(raw, i, args[i].shape), num, name, also=mine, floor=floor,
                        alternatives=wrong[name], factors=[
                            (1 / n, f"it is averaged over the batch; parameter gradients sum "
                             f"over the N = {n} examples")])


def cache_of_its_own_call(student, rng):
    """Two blocks: forward A, forward B of other sizes, then backward A with A's cache."""
    first = away_from_kinks(rng, lambda: block(rng, 4, 3, 5))
    second = away_from_kinks(rng, lambda: block(rng, 2, 5, 3))
    dout = rng.normal(size=first[0].shape)

    def gradients(cache):
        raw = backward(student, dout, cache)
        return [grad(raw, i, a.shape) for i, a in enumerate(first)]
    assert_backward_uses_its_cache(lambda args: cache_of(student, args), gradients, first, second,
                                   NAMES)


def identity_forward(student, rng):
    """With F's weights at zero the block is exactly the identity; with W1 = b1 = 0 every
    pre-activation is exactly 0, where relu gives 0, whatever W2 is."""
    n, d, hidden = 4, 3, 5
    x = rng.normal(size=(n, d))
    zeros = [np.zeros((hidden, d)), np.zeros(hidden), np.zeros((d, hidden)), np.zeros(d)]
    (out, _), (out_w2, _) = forwards(student, [
        [x, *zeros], [x, zeros[0], zeros[1], rng.normal(size=(d, hidden)), zeros[3]]])
    if not np.array_equal(out, x):
        raise Fail("with W1, b1, W2, b2 all zero, out must be exactly x (the block is the "
                   "identity)")
    if not np.array_equal(out_w2, x):
        raise Fail("with W1, b1, b2 zero, relu(0) = 0, so out must be exactly x")


def identity_path(student, rng):
    """With F's weights at zero the gradient of the block is exactly the identity's."""
    n, d, hidden = 4, 3, 5
    x = rng.normal(size=(n, d))
    zeros = [np.zeros((hidden, d)), np.zeros(hidden), np.zeros((d, hidden)), np.zeros(d)]
    dout = rng.normal(size=(n, d))
    dx = grad(backward(student, dout, cache_of(student, [x, *zeros])), 0, x.shape)
    if not np.array_equal(dx, dout) and not right_for_own_forward([dx], [x, *zeros], [0], dout,
                                                                  student, rng):
        raise Fail("with W1, b1, W2, b2 all zero, dx must be exactly dout: the skip path "
                   "carries the gradient unchanged")
    # W1 = b1 = 0 makes every pre-activation exactly 0, where relu's gradient is 0 (exercise 4):
    # F is then constant, whatever W2 is
    args = [x, zeros[0], zeros[1], rng.normal(size=(d, hidden)), zeros[3]]
    raw = backward(student, dout, cache_of(student, args))
    grads = [grad(raw, i, a.shape) for i, a in enumerate(args[:3])]
    if not (np.array_equal(grads[0], dout) and not grads[1].any() and not grads[2].any()) \
            and not right_for_own_forward(grads, args, [0, 1, 2], dout, student, rng):
        raise Fail("with W1 = 0 and b1 = 0 every pre-activation is exactly 0, where relu's "
                   "gradient is 0 (as in exercise 4): dx must be exactly dout and dW1, db1 zero; "
                   "gate with z > 0, not z >= 0")


def right_for_own_forward(grads, args, wrt, dout, student, rng):
    """The gradients are those of the student's own forward, where that differs from the
    spec's (the forward's mistake is charged to the forward)."""
    try:
        out = forward(student, args)[0]
    except (Fail, StudentError):
        return False
    if not np.array_equal(out, formula(*args)):
        own = own_gradients(outputs(student), args, wrt, dout, rng, formula(*args))
        return own is not None and all(norm_relative_error(g, o) <= GRAD_TOL
                                       for g, o in zip(grads, own))
    return False


def near_kink(student, rng):
    """Pre-activations a hair above and below 0 (+-5e-10 and +-1e-12, far inside any step a
    gradient check takes): the gate is exactly z > 0, with no threshold, on both sides."""
    n, d, hidden = 4, 3, 4
    x, w1, _, w2, b2 = block(rng, n, d, hidden)
    # b1 per unit puts example 0's pre-activations at tiny values of both signs
    b1 = rng.permutation([5e-10, -5e-10, 1e-12, -1e-12]) - x[0] @ w1.T
    args = [x, w1, b1, w2, b2]
    z = x @ w1.T + b1
    dout = rng.normal(size=(n, d))
    with using("residual_forward"):
        out, cache = forward(student, args)
    dx = grad(backward(student, dout, cache), 0, x.shape)
    expected = dout + ((dout @ w2) * (z > 0)) @ w1
    if agrees(dx, expected):
        return
    if not agrees(out, formula(*args), IDENTITY):
        raise NotJudged("residual_forward", "its output differs from the spec's on these inputs")
    assert_close(dx, expected, "dx with pre-activations of +-5e-10 and +-1e-12 in the first "
                 "example (the gate is exactly z > 0)")


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
    dout = rng.normal(size=(n, d))

    def chain(own_inputs):
        """dx through the stack by the student's backward, with caches of the student's forward
        called on the spec's block inputs (or on its own outputs)."""
        caches, h = [], flat[0]
        with using("residual_forward"):
            if own_inputs:  # each block's input is the student's last output
                for layer in layers:
                    h, cache = forward(student, [h, *layer])
                    caches.append(cache)
            else:  # the spec's block inputs are known beforehand: all blocks in one request
                inputs = []
                for layer in layers:
                    inputs.append([h, *layer])
                    h = formula(h, *layer)
                caches = [cache for _, cache in forwards(student, inputs)]
        # every backward in one round trip; a chain cut short ends with a dx that grad() refuses
        caches = caches[::-1]
        g = dout
        for raw in student.call_chain("residual_backward", [dout, caches[0]],
                                      [[cache] for cache in caches[1:]]):
            g = grad(backward_parts(raw), 0, g.shape)
        return g
    g = chain(own_inputs=False)
    numeric, = numerical_gradients(
        lambda arglists: list(stack(np.stack([a[0] for a in arglists]), layers)[0]),
        [flat[0]], [0], dout)
    if norm_relative_error(g, numeric) <= GRAD_TOL:
        return
    own_stack = Forward(student, "residual_forward", pick=0)

    def through_own_blocks(arglists):
        """The stack made of the student's own forward, every perturbed input at once."""
        hs = [a[0] for a in arglists]
        for layer in layers:
            calls = [[h, *layer] for h in hs]
            hs = [values.array(o, "out", shape=(n, d)) for o in own_stack.many(calls)]
            recheck(own_stack, calls, hs, dout, rng)
        return hs
    try:
        base, = through_own_blocks([[flat[0]]])
        if mismatch(base, stack(flat[0], layers)[0]).any():  # the student's forward is wrong
            own, = numerical_gradients(through_own_blocks, [flat[0]], [0], dout)
            if norm_relative_error(chain(own_inputs=True), own) <= GRAD_TOL:
                return  # right for the student's own (wrong) forward, charged there
    except Inconsistent:
        raise
    except Fail:
        pass
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
    out, cache = forward_call(student, args)
    raw = backward(student, dout, cache)
    expected = ref.residual_backward(dout, ref.residual_forward(*args)[1])
    wrong = mistakes(args, dout)
    wrong["dx"].append((expected[0] - dout, "the skip path is missing from dx: add dout"))
    own = None
    for i, (e, name) in enumerate(zip(expected, NAMES)):
        got = grad(raw, i, e.shape)
        try:
            assert_close(got, e, f"{name} for N, D, H = {n}, {d}, {hidden}",
                         alternatives=wrong[name])
        except Fail:
            if own is None:  # the gradient of the student's own forward, if it is usable
                own = own_gradients(outputs(student), args, range(5), dout, rng,
                                    formula(*args), out) or ()
            if not own or not norm_relative_error(got, own[i]) <= GRAD_TOL:
                raise


CHECKS = [
    Check("forward: x + relu(x W1^T + b1) W2^T + b2", "residual_forward", 1.5, forward_formula),
    Check("backward: dx matches the numerical gradient", "residual_backward", 1.5, backward_dx),
    Check("backward: dW1, db1, dW2, db2 match numerical gradients", "residual_backward", 2,
          backward_params),
    Check("forward: zero weights give out = x exactly", "residual_forward", 0.5,
          identity_forward),
    Check("backward: zero weights give dx = dout exactly", "residual_backward", 0.5,
          identity_path),
    Check("backward: the gate at pre-activations of +-5e-10 and +-1e-12", "residual_backward",
          0.5, near_kink),
    Check("backward: uses the cache it is given", "residual_backward", 0.5,
          cache_of_its_own_call),
    Check("composite: the gradient survives 10 stacked blocks", "residual_backward", 1,
          deep_stack),
    Check("hidden: forward on fresh inputs", "residual_forward", 0.5, hidden_forward, hidden=True),
    Check("hidden: backward on fresh inputs", "residual_backward", 1.5, hidden_backward,
          hidden=True),
]
