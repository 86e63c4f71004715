"""Checks for topic 3, backpropagation in the notes' sigmoid network (exercise-api.md section 3).

The forward pass and the loss are the spec's formulas; every gradient is checked against central
differences (of the student's own loss, which catches a loss inconsistent with its gradients, and
of the spec's loss with respect to each layer's pre-activation, which checks the delta recursion
layer by layer).
"""
import numpy as np

from .. import values
from ..core import Check, NotJudged, StudentError
from ..compare import Fail, agrees, assert_close, mismatch
from ..gradcheck import (Forward, assert_gradient, norm_relative_error, numerical_gradients,
                         own_gradients)
from ..tolerances import GRAD_TOL

ID = "backprop"
TITLE = "Backpropagation"
FUNCTIONS = {
    "sigmoid": ("z",),
    "sigmoid_prime": ("z",),
    "mlp_forward": ("params", "x"),
    "output_delta": ("a_L", "y", "z_L"),
    "hidden_delta": ("delta_next", "W_next", "z"),
    "layer_grads": ("delta", "a_prev"),
    "mlp_loss_and_grads": ("params", "x", "y"),
}
SIZES = (4, 5, 3, 2)  # n_0 .. n_L: no two neighbours equal, so a transpose cannot hide


def sigmoid(z):
    with np.errstate(over="ignore"):
        e = np.exp(-np.abs(z))
    return np.where(z >= 0, 1 / (1 + e), e / (1 + e))


def sigmoid_prime(z):
    return sigmoid(z) * (1 - sigmoid(z))


def network(rng, sizes=SIZES, n=6):
    params = [(rng.normal(size=(sizes[i + 1], sizes[i])), rng.normal(size=sizes[i + 1]))
              for i in range(len(sizes) - 1)]
    return params, rng.normal(size=(n, sizes[0])), rng.uniform(0, 1, size=(n, sizes[-1]))


def spec_forward(params, x):
    """Pre-activations Z_1..Z_L and activations A_0..A_L of the spec's forward pass; also for
    a stack of inputs or of networks on a leading axis (every perturbed point of a numerical
    gradient at once)."""
    zs, activations = [], [x]
    for w, b in params:
        zs.append(activations[-1] @ np.swapaxes(w, -1, -2) + b[..., None, :])
        activations.append(sigmoid(zs[-1]))
    return zs, activations


def spec_loss(a_L, y):
    return 0.5 * float(np.sum((a_L - y) ** 2))


def spec_losses(a_Ls, y):
    """spec_loss of each of a stack of outputs (a leading axis), at once."""
    return list(0.5 * np.sum((a_Ls - y) ** 2, axis=(-2, -1)))


def array(student, fn, shape, *args):
    return values.array(student.call(fn, *args), f"{fn}(...)", shape=shape)


def part(student, fn, shape, *args):
    """A student function used as a part of another (None if it fails: then the other is judged
    against the spec alone)."""
    student.fresh_worker()  # not a part that remembers what the other was given
    try:
        return array(student, fn, shape, *args)
    except (Fail, StudentError):
        return None


def by_parts(student, params, x, y, shaped=True):
    """(a_L, loss, grads) of the spec's algorithm with each step done by the student's own
    function (sigmoid, output_delta, hidden_delta, layer_grads). A composite that is right
    given its parts is not charged for a part's mistake. Raises NotJudged naming the first part
    that fails on these inputs."""
    step = "sigmoid"
    student.fresh_worker()  # not parts that remember what the composite was given
    try:
        zs, acts = [], [x]
        for w, b in params:
            zs.append(acts[-1] @ w.T + b)
            acts.append(array(student, "sigmoid", zs[-1].shape, zs[-1]))
        step = "output_delta"
        delta = array(student, "output_delta", acts[-1].shape, acts[-1], y, zs[-1])
        grads = [None] * len(params)
        for layer in reversed(range(len(params))):
            step = "layer_grads"
            dw, db = values.parts(student.call("layer_grads", delta, acts[layer]), "layer_grads",
                                  ("dW", "db"))
            grads[layer] = (values.array(dw, "dW", shape=params[layer][0].shape if shaped
                                         else None),
                            values.array(db, "db", shape=params[layer][1].shape if shaped
                                         else None))
            if layer > 0:
                step = "hidden_delta"
                delta = array(student, "hidden_delta", zs[layer - 1].shape, delta,
                              params[layer][0], zs[layer - 1])
    except (Fail, StudentError) as exc:
        raise NotJudged(step, f"{step} fails on the same network ({exc})") from None
    return acts[-1], spec_loss(acts[-1], y), flat(grads)


def parts_or_none(student, params, x, y):
    try:
        return by_parts(student, params, x, y)
    except NotJudged:
        return None


def batch_factors(n):
    return [(1 / n, f"it is averaged over the batch; J sums over the N = {n} examples, so its "
             "gradients are sums too")]


# -- public checks ------------------------------------------------------------------------------

def wide_z(rng):
    return np.concatenate([[-1000.0, -30.0, -1.0, 0.0, 1.0, 30.0, 1000.0], rng.normal(0, 3, size=5)])


def without_overflow(student, fn, z):
    """fn(z) with numpy's overflow turned into an error: the spec asks for no overflow for
    |z| up to 1e3, not only for a finite result."""
    try:
        return values.array(student.call(fn, z, errstate={"over": "raise"}), f"{fn}(z)",
                            shape=z.shape)
    except StudentError as exc:
        if exc.raised("FloatingPointError"):
            raise Fail(f"{fn}(z) overflows for some |z| <= 1000 (exp of a large number): "
                       "compute with exp(-|z|), which never overflows. Note that np.where "
                       "evaluates both of its branches, so a branch that overflows still does")
        raise


def sigmoid_values(student, rng):
    z = wide_z(rng)
    got = without_overflow(student, "sigmoid", z)
    if not np.all(np.isfinite(got)):
        raise Fail("sigmoid(z) is nan or inf for some |z| <= 1000: exp overflows there; use "
                   "exp(-|z|), which never overflows, on both sides of 0")
    assert_close(got, sigmoid(z), "sigmoid(z) for z from -1000 to 1000")


def sigmoid_prime_values(student, rng):
    z = wide_z(rng)
    try:
        got = without_overflow(student, "sigmoid_prime", z)
    except Fail:
        try:  # built on the student's sigmoid, which overflows itself?
            without_overflow(student, "sigmoid", z)
        except Fail:
            raise NotJudged("sigmoid", "sigmoid overflows on these inputs too") from None
        raise
    if not np.all(np.isfinite(got)):
        raise Fail("sigmoid_prime(z) is nan or inf for some |z| <= 1000")
    if agrees(got, sigmoid_prime(z)):
        return
    s = part(student, "sigmoid", z.shape, z)
    if s is not None and agrees(got, s * (1 - s)):
        return  # s (1 - s) of the student's own sigmoid (judged by its own check)
    assert_close(got, sigmoid_prime(z), "sigmoid_prime(z) for z from -1000 to 1000",
                 alternatives=[(z * (1 - z), "it is z (1 - z); the derivative is s (1 - s) with "
                                "s = sigmoid(z)"),
                               (sigmoid(z) * (1 - z), "it is s (1 - z); the derivative is "
                                "s (1 - s) with s = sigmoid(z)")])


def forward_pass(student, rng):
    params, x, _ = network(rng)
    zs, acts = spec_forward(params, x)
    last_linear = acts[-2] @ params[-1][0].T + params[-1][1]
    got = array(student, "mlp_forward", acts[-1].shape, params, x)
    if mismatch(got, acts[-1]).any():
        own = parts_or_none(student, params, x, np.zeros_like(acts[-1]))
        if own is not None and agrees(got, own[0]):
            return  # right with the student's own sigmoid (judged by its own check)
    assert_close(got, acts[-1], "mlp_forward(params, x) for layer sizes 4, 5, 3, 2",
                 alternatives=[(last_linear, "the last layer has no sigmoid; in this network "
                                "every layer, the last included, applies it")])


def output_delta(student, rng):
    n, k = 6, 3
    z = rng.normal(0, 2, size=(n, k))
    a, y = sigmoid(z), rng.uniform(0, 1, size=(n, k))
    got = array(student, "output_delta", (n, k), a, y, z)
    if given_sigmoid_prime(student, got, a - y, z):
        return
    assert_close(got, (a - y) * sigmoid_prime(z), "output_delta(a_L, y, z_L)",
                 alternatives=output_delta_mistakes(a, y, z))


def given_sigmoid_prime(student, got, factor, z):
    """got is factor * sigmoid_prime(z) with the student's own sigmoid_prime, where that is
    wrong (its mistake is charged to sigmoid_prime, not to the function built on it)."""
    if agrees(got, factor * sigmoid_prime(z)):
        return False
    own = part(student, "sigmoid_prime", z.shape, z)
    return (own is not None and mismatch(own, sigmoid_prime(z)).any()
            and agrees(got, factor * own))


def output_delta_mistakes(a, y, z):
    return [
        ((a - y) * sigmoid_prime(a), "it uses sigmoid'(a_L); the derivative is taken at the "
         "pre-activation: sigmoid'(z_L) = a_L (1 - a_L)"),
        (a - y, "sigmoid'(z_L) is missing: delta_L = (a_L - y) * sigmoid'(z_L)"),
        ((y - a) * sigmoid_prime(z), "the sign is flipped: (a_L - y), not (y - a_L)"),
        ((a - y) * z * (1 - z), "it uses z (1 - z); sigmoid'(z) = a (1 - a) with a = sigmoid(z)"),
    ]


def hidden_delta(student, rng):
    n, k_next, k = 6, 3, 5
    delta_next, w_next = rng.normal(size=(n, k_next)), rng.normal(size=(k_next, k))
    z = rng.normal(0, 2, size=(n, k))
    got = array(student, "hidden_delta", (n, k), delta_next, w_next, z)
    back = delta_next @ w_next
    if given_sigmoid_prime(student, got, back, z):
        return
    assert_close(got, back * sigmoid_prime(z), "hidden_delta(delta_next, W_next, z)",
                 alternatives=[
                     (back * sigmoid_prime(sigmoid(z)), "it uses sigmoid'(a); the derivative is "
                      "taken at the pre-activation z"),
                     (back, "sigmoid'(z) is missing: delta = (delta_next W_next) * sigmoid'(z)"),
                     (back * z * (1 - z), "it uses z (1 - z); sigmoid'(z) = s (1 - s) with "
                      "s = sigmoid(z)")])


def layer_grads(student, rng):
    """A layer of width 3, and one of width 1 (db of shape (1,), not a scalar)."""
    n, k_prev = 6, 5
    for k in (3, 1):
        delta, a_prev = rng.normal(size=(n, k)), rng.uniform(0, 1, size=(n, k_prev))
        dw, db = values.parts(student.call("layer_grads", delta, a_prev), "layer_grads",
                              ("dW", "db"))
        dw = values.array(dw, "dW", shape=(k, k_prev))
        db = values.array(db, "db", shape=(k,))
        assert_close(dw, delta.T @ a_prev, "dW = delta^T a_prev", factors=batch_factors(n))
        assert_close(db, delta.sum(axis=0), "db = sum of delta over the batch",
                     factors=batch_factors(n))


def loss_value(student, rng):
    params, x, y = network(rng)
    _, acts = spec_forward(params, x)
    loss = student_loss(student, params, x, y)
    n, k = y.shape
    if loss_given_parts(student, loss, params, x, y):
        return
    assert_close(loss, spec_loss(acts[-1], y),
                 "the loss J = 1/2 sum over the batch of ||a_L - y||^2", factors=[
                     (2, "the 1/2 is missing"),
                     (1 / n, f"it is averaged over the batch; J sums over the N = {n} examples"),
                     (1 / (n * k), "it is a mean over all entries; J is 1/2 the sum of squares")])


def loss_given_parts(student, loss, params, x, y):
    """The loss is the spec's, or the spec's computed from the student's own sigmoid or
    mlp_forward (whose mistakes are charged to them)."""
    _, acts = spec_forward(params, x)
    if agrees(loss, spec_loss(acts[-1], y)):
        return True
    own = parts_or_none(student, params, x, y)
    mine = part(student, "mlp_forward", y.shape, params, x)
    return (own is not None and agrees(loss, own[1])) or (
        mine is not None and agrees(loss, spec_loss(mine, y)))


def flat(params):
    return [a for layer in params for a in layer]


def nested(arrays):
    return [(arrays[i], arrays[i + 1]) for i in range(0, len(arrays), 2)]


def composite_call(student, params, x, y):
    """mlp_loss_and_grads(params, x, y); if it fails where one of its parts fails on the same
    network, it is not judged (the part's mistake is charged to the part)."""
    try:
        return student.call("mlp_loss_and_grads", params, x, y)
    except StudentError as exc:
        if not (exc.timed_out() or exc.out_of_memory()):
            by_parts(student, params, x, y)
        raise


def student_loss(student, params, x, y):
    loss, _ = values.parts(composite_call(student, params, x, y), "mlp_loss_and_grads",
                           ("loss", "grads"))
    return values.scalar(loss, "the loss")


class RightGivenParts(Exception):
    """The composite returned exactly what its parts give, though the parts are wrong."""


def student_grads(student, params, x, y):
    value = composite_call(student, params, x, y)
    try:
        return validated_grads(student, value, params)
    except Fail:
        if same_as_parts(student, value, params, x, y):
            raise RightGivenParts() from None
        by_parts(student, params, x, y)  # not judged if a part fails here
        raise


def passes_given_parts(check):
    """A check of the composite that passes when the composite returns exactly what its (wrong)
    parts give: their mistakes are charged to them."""
    def run(*args):
        try:
            check(*args)
        except RightGivenParts:
            return
    run.__doc__ = check.__doc__
    return run


def same_as_parts(student, value, params, x, y):
    """The composite's raw grads are those of its own parts (of whatever shape they give)."""
    try:
        _, _, raw = by_parts(student, params, x, y, shaped=False)
        grads = value[1]
        mine = [np.asarray(g, float) for pair in grads for g in pair]
    except (NotJudged, TypeError, ValueError, IndexError, OverflowError):
        return False
    return len(mine) == len(raw) and all(
        a.shape == b.shape and agrees(a, b) for a, b in zip(mine, raw))


def validated_grads(student, value, params):
    loss, grads = values.parts(value, "mlp_loss_and_grads", ("loss", "grads"))
    if not isinstance(grads, (list, tuple)) or len(grads) != len(params):
        raise Fail(f"grads should be a list of {len(params)} (dW, db) pairs, one per layer, "
                   f"but is {values.kind(grads)}")
    shapes = [tuple(np.shape(g)) for pair in grads if isinstance(pair, (tuple, list))
              for g in pair]
    if shapes == [a.shape for layer in reversed(params) for a in layer] != \
            [a.shape for layer in params for a in layer]:
        raise Fail("grads are in reverse order (the last layer first): grads[0] must be "
                   "(dW_1, db_1), the first layer's, as in params")
    out = []
    for layer, (pair, (w, b)) in enumerate(zip(grads, params), 1):
        dw, db = values.parts(pair, f"grads[{layer - 1}]", (f"dW_{layer}", f"db_{layer}"))
        out += [values.array(dw, f"dW_{layer}", shape=w.shape),
                values.array(db, f"db_{layer}", shape=b.shape)]
    return values.scalar(loss, "the loss"), out


@passes_given_parts
def gradients(student, rng):
    check_gradients(student, rng, *network(rng))


@passes_given_parts
def edge_sizes(student, rng):
    """A single layer (no hidden_delta at all) and layers of width 1 (no squeezed shapes)."""
    for sizes in ((3, 2), (3, 1, 2), (2, 3, 1)):
        params, x, y = network(rng, sizes, n=4)
        try:
            loss, _ = student_grads(student, params, x, y)
        except StudentError as exc:
            raise Fail(f"for layer sizes {sizes} ({len(sizes) - 1} layer"
                       f"{'s' if len(sizes) > 2 else ''}): {exc}")
        _, acts = spec_forward(params, x)
        if not loss_given_parts(student, loss, params, x, y):
            assert_close(loss, spec_loss(acts[-1], y), f"the loss for layer sizes {sizes}")
        check_gradients(student, rng, params, x, y, f" for layer sizes {sizes}")


def check_gradients(student, rng, params, x, y, where=""):
    """The gradients against the numerical gradient of the student's own loss, or of the
    spec's loss, or the spec's algorithm done by the student's own parts (output_delta,
    hidden_delta, layer_grads): right in any of these ways, the composite is right given its
    parts, whose mistakes are charged to them."""
    n = len(x)
    _, analytic = student_grads(student, params, x, y)
    arrays = flat(params)
    spec = spec_loss_gradients(arrays, x, y)
    if all(norm_relative_error(g, s) <= GRAD_TOL for g, s in zip(analytic, spec)):
        return
    numeric = own_loss_gradients(student, arrays, x, y, rng)
    if numeric is None:  # the student's loss is the spec's here: so must its gradients be
        numeric = spec
    elif all(norm_relative_error(g, m) <= GRAD_TOL for g, m in zip(analytic, numeric)):
        return
    own = parts_or_none(student, params, x, y)
    if own is not None and all(agrees(g, o) for g, o in zip(analytic, own[2])):
        return
    names = [f"{p}_{layer}" for layer in range(1, len(params) + 1) for p in ("dW", "db")]
    wrong, wrong_names = [], []
    for got, num, name in zip(analytic, numeric, names):
        try:
            assert_gradient(got, num, name, factors=[
                (0.5, "the loss and the gradients disagree by 2: the 1/2 in J = 1/2 sum "
                 "||a_L - y||^2 cancels the 2 from the square"),
                (2, "the loss and the gradients disagree by 2: check the 1/2 in the loss"),
                *batch_factors(n), (n, f"the loss is averaged over the N = {n} examples but the "
                                        "gradients are sums")])
        except Fail as exc:
            wrong.append(str(exc))
            wrong_names.append(name)
    if not wrong:  # right for its own loss but not for the spec's: the loss's mistake
        return
    right = [n for n in names if n not in wrong_names]
    which = (f"{', '.join(wrong_names)} are wrong; {', '.join(right)} are right"
             if right else "all of them are wrong")
    if names[-1] in right and names[-2] in right and names[0] in wrong_names:
        which += (" (the top layer's are right and those below are wrong, so the mistake is in "
                  "passing the delta down to the layers below)")
    raise Fail(f"{wrong[0]} (compared with numerical gradients of the loss{where}, {which})")


def own_loss_gradients(student, arrays, x, y, rng):
    """Numerical gradients of the student's own loss, or None where it is the spec's loss."""
    loss = Forward(student, "mlp_loss_and_grads", pick=0, extra=(x, y), opaque=(),
                   prepare=lambda a: [nested(a)])
    spec = spec_loss(spec_forward(nested(arrays), x)[1][-1], y)
    return own_gradients(loss, arrays, range(len(arrays)), 1.0, rng, spec)


def spec_loss_gradients(arrays, x, y):
    def losses(arglists):  # every argument list is [W_1, b_1, ..., W_L, b_L], stacked by name
        stacked = [np.stack(column) for column in zip(*arglists)]
        return spec_losses(spec_forward(nested(stacked), x[None])[1][-1], y)
    return numerical_gradients(losses, arrays, range(len(arrays)), 1.0)


def delta_recursion(student, rng):
    """dJ/dz_l numerically for every layer (spec forward and loss), then hidden_delta applied
    to the exact delta of the layer above, layer by layer from the top."""
    params, x, y = network(rng)
    zs, acts = spec_forward(params, x)

    def loss_from(layer):
        def evaluate(arglists):  # J as a function of z_l (each argument list is [z_l])
            a_l = sigmoid(np.stack([z for (z,) in arglists]))
            return spec_losses(spec_forward(params[layer + 1:], a_l)[1][-1], y)
        return evaluate

    numeric = [numerical_gradients(loss_from(l), [zs[l]], [0], 1.0)[0] for l in range(len(zs))]
    top = len(zs) - 1
    for l in range(top - 1, -1, -1):
        got = array(student, "hidden_delta", zs[l].shape, numeric[l + 1], params[l + 1][0], zs[l])
        if given_sigmoid_prime(student, got, numeric[l + 1] @ params[l + 1][0], zs[l]):
            continue
        assert_gradient(got, numeric[l], f"hidden_delta for layer {l + 1}, from the exact delta "
                        f"of layer {l + 2}")


# -- hidden checks ------------------------------------------------------------------------------

@passes_given_parts
def hidden_network(student, rng, ref):
    sizes = tuple(int(v) for v in rng.integers(1, 7, size=int(rng.integers(2, 6))))
    params, x, y = network(rng, sizes, n=int(rng.integers(1, 9)))
    loss, analytic = student_grads(student, params, x, y)
    ref_loss, ref_grads = ref.mlp_loss_and_grads(params, x, y)
    if not loss_given_parts(student, loss, params, x, y):
        assert_close(loss, ref_loss, f"the loss of a network with layer sizes {sizes}")
    expected = flat(ref_grads)
    if any(mismatch(g, e).any() for g, e in zip(analytic, expected)):
        own = parts_or_none(student, params, x, y)
        if own is not None and all(agrees(g, o) for g, o in zip(analytic, own[2])):
            return  # right given its parts, whose mistakes are charged to them
    names = [f"{p}_{layer}" for layer in range(1, len(params) + 1) for p in ("dW", "db")]
    for got, e, name in zip(analytic, expected, names):
        assert_close(got, e, f"{name} of a network with layer sizes {sizes}")


def hidden_forward(student, rng, ref):
    sizes = tuple(int(v) for v in rng.integers(1, 7, size=int(rng.integers(2, 6))))
    params, x, y = network(rng, sizes, n=int(rng.integers(1, 9)))
    got = array(student, "mlp_forward", y.shape, params, x)
    expected = ref.mlp_forward(params, x)
    if mismatch(got, expected).any():
        own = parts_or_none(student, params, x, y)
        if own is not None and agrees(got, own[0]):
            return  # right with the student's own sigmoid
    assert_close(got, expected, f"mlp_forward for layer sizes {sizes}")


CHECKS = [
    Check("sigmoid: values for |z| up to 1000", "sigmoid", 0.5, sigmoid_values),
    Check("sigmoid_prime: values for |z| up to 1000", "sigmoid_prime", 0.5, sigmoid_prime_values),
    Check("mlp_forward: a 3-layer network", "mlp_forward", 1, forward_pass),
    Check("output_delta: (a_L - y) * sigmoid'(z_L)", "output_delta", 1, output_delta),
    Check("hidden_delta: (delta_next W_next) * sigmoid'(z)", "hidden_delta", 1, hidden_delta),
    Check("layer_grads: delta^T a_prev and the sum of delta", "layer_grads", 1, layer_grads),
    Check("mlp_loss_and_grads: the loss", "mlp_loss_and_grads", 1, loss_value),
    Check("mlp_loss_and_grads: gradients match numerical ones of the loss", "mlp_loss_and_grads",
          1.5, gradients),
    Check("mlp_loss_and_grads: one layer, and layers of width 1", "mlp_loss_and_grads", 0.5,
          edge_sizes),
    Check("the delta recursion, layer by layer", "hidden_delta", 1, delta_recursion),
    Check("hidden: a fresh network", "mlp_loss_and_grads", 0.75, hidden_network, hidden=True),
    Check("hidden: mlp_forward on a fresh network", "mlp_forward", 0.25, hidden_forward,
          hidden=True),
]
