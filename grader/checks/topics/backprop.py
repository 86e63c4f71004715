"""Checks for topic 3, backpropagation in the notes' sigmoid network (exercise-api.md section 3).

The forward pass and the loss are the spec's formulas; every gradient is checked against central
differences (of the student's own loss, which catches a loss inconsistent with its gradients, and
of the spec's loss with respect to each layer's pre-activation, which checks the delta recursion
layer by layer).
"""
import numpy as np

from .. import values
from ..core import Check
from ..compare import Fail, assert_close
from ..gradcheck import assert_gradient, numerical_gradients
from ..core import StudentError

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
    """Pre-activations Z_1..Z_L and activations A_0..A_L of the spec's forward pass."""
    zs, activations = [], [x]
    for w, b in params:
        zs.append(activations[-1] @ w.T + b)
        activations.append(sigmoid(zs[-1]))
    return zs, activations


def spec_loss(a_L, y):
    return 0.5 * float(np.sum((a_L - y) ** 2))


def array(student, fn, shape, *args):
    return values.array(student.call(fn, *args), f"{fn}(...)", shape=shape)


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
    got = without_overflow(student, "sigmoid_prime", z)
    if not np.all(np.isfinite(got)):
        raise Fail("sigmoid_prime(z) is nan or inf for some |z| <= 1000")
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
    assert_close(got, acts[-1], "mlp_forward(params, x) for layer sizes 4, 5, 3, 2",
                 alternatives=[(last_linear, "the last layer has no sigmoid; in this network "
                                "every layer, the last included, applies it")])


def output_delta(student, rng):
    n, k = 6, 3
    z = rng.normal(0, 2, size=(n, k))
    a, y = sigmoid(z), rng.uniform(0, 1, size=(n, k))
    got = array(student, "output_delta", (n, k), a, y, z)
    assert_close(got, (a - y) * sigmoid_prime(z), "output_delta(a_L, y, z_L)",
                 alternatives=output_delta_mistakes(a, y, z))


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
    assert_close(got, back * sigmoid_prime(z), "hidden_delta(delta_next, W_next, z)",
                 alternatives=[
                     (back * sigmoid_prime(sigmoid(z)), "it uses sigmoid'(a); the derivative is "
                      "taken at the pre-activation z"),
                     (back, "sigmoid'(z) is missing: delta = (delta_next W_next) * sigmoid'(z)"),
                     (back * z * (1 - z), "it uses z (1 - z); sigmoid'(z) = s (1 - s) with "
                      "s = sigmoid(z)")])


def layer_grads(student, rng):
    n, k, k_prev = 6, 3, 5
    delta, a_prev = rng.normal(size=(n, k)), rng.uniform(0, 1, size=(n, k_prev))
    dw, db = values.parts(student.call("layer_grads", delta, a_prev), "layer_grads", ("dW", "db"))
    dw = values.array(dw, "dW", shape=(k, k_prev))
    db = values.array(db, "db", shape=(k,))
    assert_close(dw, delta.T @ a_prev, "dW = delta^T a_prev", factors=batch_factors(n))
    assert_close(db, delta.sum(axis=0), "db = sum of delta over the batch", factors=batch_factors(n))


def loss_value(student, rng):
    params, x, y = network(rng)
    _, acts = spec_forward(params, x)
    loss, _ = values.parts(student.call("mlp_loss_and_grads", params, x, y),
                           "mlp_loss_and_grads", ("loss", "grads"))
    n, k = y.shape
    assert_close(values.scalar(loss, "the loss"), spec_loss(acts[-1], y),
                 "the loss J = 1/2 sum over the batch of ||a_L - y||^2", factors=[
                     (2, "the 1/2 is missing"),
                     (1 / n, f"it is averaged over the batch; J sums over the N = {n} examples"),
                     (1 / (n * k), "it is a mean over all entries; J is 1/2 the sum of squares")])


def flat(params):
    return [a for layer in params for a in layer]


def nested(arrays):
    return [(arrays[i], arrays[i + 1]) for i in range(0, len(arrays), 2)]


def student_grads(student, params, x, y):
    loss, grads = values.parts(student.call("mlp_loss_and_grads", params, x, y),
                               "mlp_loss_and_grads", ("loss", "grads"))
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


def gradients(student, rng):
    check_gradients(student, *network(rng))


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
        assert_close(loss, spec_loss(acts[-1], y), f"the loss for layer sizes {sizes}")
        check_gradients(student, params, x, y, f" for layer sizes {sizes}")


def check_gradients(student, params, x, y, where=""):
    n = len(x)
    _, analytic = student_grads(student, params, x, y)
    arrays = flat(params)

    def losses(arglists):
        out = student.call_many("mlp_loss_and_grads", [[nested(a), x, y] for a in arglists],
                                pick=0)
        return [values.scalar(v, "the loss") for v in out]

    numeric = numerical_gradients(losses, arrays, range(len(arrays)), 1.0)
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
    if wrong:
        right = [n for n in names if n not in wrong_names]
        which = (f"{', '.join(wrong_names)} are wrong; {', '.join(right)} are right"
                 if right else "all of them are wrong")
        hint = (": the top layer is right, so the delta recursion to the layers below is broken "
                "(see the hidden_delta checks)" if names[-1] in right and names[0] in wrong_names
                else ": even the top layer is wrong, so start with output_delta and the loss"
                if names[-1] in wrong_names else "")
        raise Fail(f"compared with numerical gradients of your loss{where}, {which}{hint}. "
                   f"First: {wrong[0]}")


def delta_recursion(student, rng):
    """dJ/dz_l numerically for every layer (spec forward and loss), then output_delta and
    hidden_delta applied to exact inputs, layer by layer from the top."""
    params, x, y = network(rng)
    zs, acts = spec_forward(params, x)

    def loss_from(layer):
        def evaluate(arglists):
            out = []
            for (z,) in arglists:
                a = sigmoid(z)
                for w, b in params[layer + 1:]:
                    a = sigmoid(a @ w.T + b)
                out.append(np.array(spec_loss(a, y)))
            return out
        return evaluate

    numeric = [numerical_gradients(loss_from(l), [zs[l]], [0], 1.0)[0] for l in range(len(zs))]
    top = len(zs) - 1
    got = array(student, "output_delta", zs[top].shape, acts[-1], y, zs[top])
    assert_gradient(got, numeric[top], f"output_delta for layer {top + 1} (of {top + 1})",
                    alternatives=output_delta_mistakes(acts[-1], y, zs[top]))
    for l in range(top - 1, -1, -1):
        got = array(student, "hidden_delta", zs[l].shape, numeric[l + 1], params[l + 1][0], zs[l])
        assert_gradient(got, numeric[l], f"hidden_delta for layer {l + 1}, from the exact delta "
                        f"of layer {l + 2}")


# -- hidden checks ------------------------------------------------------------------------------

def hidden_network(student, rng, ref):
    sizes = tuple(int(v) for v in rng.integers(1, 7, size=int(rng.integers(2, 6))))
    params, x, y = network(rng, sizes, n=int(rng.integers(1, 9)))
    loss, analytic = student_grads(student, params, x, y)
    ref_loss, ref_grads = ref.mlp_loss_and_grads(params, x, y)
    assert_close(loss, ref_loss, f"the loss of a network with layer sizes {sizes}")
    names = [f"{p}_{layer}" for layer in range(1, len(params) + 1) for p in ("dW", "db")]
    for got, e, name in zip(analytic, flat(ref_grads), names):
        assert_close(got, e, f"{name} of a network with layer sizes {sizes}")
    assert_close(array(student, "mlp_forward", y.shape, params, x),
                 ref.mlp_forward(params, x), f"mlp_forward for layer sizes {sizes}")


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
    Check("hidden: a fresh network", "mlp_loss_and_grads", 1, hidden_network, hidden=True),
]
