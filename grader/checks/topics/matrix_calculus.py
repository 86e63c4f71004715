"""Checks for topic 2, matrix calculus and the chain rule (exercise-api.md section 2).

numerical_jacobian receives functions made by the grader (grader.probes): they are built inside
the student process from plain arguments and called there by the student's code.
"""
import numpy as np

from .. import values
from ..core import Check
from ..compare import Fail, assert_close
from ..tolerances import FORMULA
from ..gradcheck import assert_gradient
from ..core import GraderFunction, build_locally

ID = "matrix_calculus"
TITLE = "Matrix calculus"
FUNCTIONS = {
    "numerical_jacobian": ("f", "x", "h=1e-6"),
    "sigmoid_jacobian": ("z",),
    "softmax_jacobian": ("z",),
    "chain_jacobians": ("jacobians",),
    "scalar_chain_grad": ("jacobians", "grad_out"),
}


def central(f, x, h):
    """The spec's J, column by column."""
    cols = [(f(x + h * e) - f(x - h * e)) / (2 * h) for e in np.eye(len(x))]
    return np.stack(cols, axis=1)


def all_at_once(f, x, h):
    column = (f(x + h) - f(x - h)) / (2 * h)
    return np.repeat(column[:, None], len(x), axis=1)


def forward_difference(f, x, h):
    return np.stack([(f(x + h * e) - f(x)) / h for e in np.eye(len(x))], axis=1)


def jacobian_of(student, probe, x, *h):
    p = len(build_locally(probe)(x))
    return values.array(student.call("numerical_jacobian", probe, x, *h),
                        "numerical_jacobian(f, x)", shape=(p, len(x)))


def sigmoid(z):
    return 1 / (1 + np.exp(-z))


def softmax(z):
    e = np.exp(z - z.max())
    return e / e.sum()


# -- public checks ------------------------------------------------------------------------------

def central_differences(student, rng):
    w = rng.normal(size=(3, 4))
    probe, x = GraderFunction("cubic", w), rng.normal(size=4)
    f = build_locally(GraderFunction("cubic", w))
    got = jacobian_of(student, probe, x, 1e-3)
    assert_close(got, central(f, x, 1e-3), "numerical_jacobian(f, x, h=1e-3) for f(x) = (W x)^3",
                 tol=FORMULA, alternatives=[
                     (forward_difference(f, x, 1e-3), "it uses forward differences (f(x + h e_j) "
                      "- f(x)) / h; the spec's J uses central differences (f(x + h e_j) - "
                      "f(x - h e_j)) / (2h), accurate to O(h^2) instead of O(h)"),
                     (central(f, x, 1e-6), "it ignores the h argument (use h, default 1e-6)"),
                     (central(f, x, 1e-3) / 2, "it divides by 4h; the central difference "
                      "divides by 2h"),
                     (central(f, x, 1e-3) * 2, "it divides by h; the central difference "
                      "divides by 2h"),
                     (all_at_once(f, x, 1e-3), "every column is the same: it moves all "
                      "coordinates at once; perturb one coordinate at a time, x + h e_j")])
    # The default h: sin(1000 W x) has third derivatives ~1e9, so the central difference with
    # h = 1e-5 differs from the spec's (h = 1e-6) by ~1e-1, far beyond FORMULA's tolerance.
    w = 1000 * rng.normal(size=(2, 3))
    f, x = build_locally(GraderFunction("sine", w)), rng.normal(size=3)
    default = jacobian_of(student, GraderFunction("sine", w), x)
    assert_close(default, central(f, x, 1e-6), "numerical_jacobian(f, x) with the default h, "
                 "for f(x) = sin(W x) with large W", tol=FORMULA, alternatives=[
                     (central(f, x, h), f"the default h is {h:g}; the spec's default is 1e-6")
                     for h in (1e-3, 1e-4, 1e-5, 1e-7, 1e-8)])


def magnitudes(student, rng):
    """x of size ~1e3 and ~1e-3 with the step h = 1e-3 given: the spec's step is absolute
    (x + h e_j), so a step relative to |x| (or a tolerance) shows on one of them."""
    for scale in (1e3, 1e-3):
        w, b = rng.normal(size=(2, 3)) / scale, rng.normal(size=2)
        x = scale * rng.normal(size=3)
        probe = GraderFunction("tanh_affine", w, b)
        f = build_locally(probe)
        got = jacobian_of(student, probe, x, 1e-3)
        relative = np.stack([(f(x + 1e-3 * abs(x[j]) * e) - f(x - 1e-3 * abs(x[j]) * e))
                             / (2e-3 * abs(x[j])) for j, e in enumerate(np.eye(3))], axis=1)
        assert_close(got, central(f, x, 1e-3), f"numerical_jacobian(f, x, h=1e-3) for x of size "
                     f"~{scale:g}", tol=FORMULA, alternatives=[
                         (relative, "the step is h * |x_j|, relative to x; the spec's step is "
                          "h itself: x + h e_j")])


def orientation(student, rng):
    w, b = rng.normal(size=(2, 5)), rng.normal(size=2)  # f: R^5 -> R^2
    x = rng.normal(size=5)
    f = build_locally(GraderFunction("tanh_affine", w, b))
    got = student.call("numerical_jacobian", GraderFunction("tanh_affine", w, b), x, 1e-5)
    got = values.array(got, "numerical_jacobian(f, x) for f: R^5 -> R^2", shape=(2, 5))
    # Against the spec's formula, not the analytic Jacobian: where tanh saturates, the true
    # entries (~1e-6) are smaller than the round-off of any central difference (~1e-11).
    assert_close(got, central(f, x, 1e-5), "numerical_jacobian(f, x) for f(x) = tanh(W x + b)",
                 tol=FORMULA, alternatives=[
                     (forward_difference(f, x, 1e-5), "it uses forward differences; the spec's "
                      "J uses central differences (f(x + h e_j) - f(x - h e_j)) / (2h)")])


def sigmoid_jacobian(student, rng):
    z = np.concatenate([rng.normal(0, 2, size=4), [0.0, 30.0, -30.0]])
    s = sigmoid(z)
    got = student.call("sigmoid_jacobian", z)
    if isinstance(got, np.ndarray) and got.shape == z.shape:
        raise Fail("sigmoid_jacobian returned a vector of shape (m,): the Jacobian is the (m, m) "
                   "matrix diag(s (1 - s)) (np.diag turns the vector into it)")
    got = values.array(got, "sigmoid_jacobian(z)", shape=(len(z), len(z)))
    assert_gradient(got, central(sigmoid, z, 1e-5), "sigmoid_jacobian(z), compared with the "
                    "numerical Jacobian of the sigmoid,", alternatives=[
        (np.diag(z * (1 - z)), "it is diag(z (1 - z)); the derivative is s (1 - s) with "
         "s = sigmoid(z)"),
        (np.outer(s, 1 - s), "it is the outer product s (1 - s)^T; the sigmoid acts elementwise, "
         "so its Jacobian is diagonal"),
        (np.diag(s) - np.outer(s, s), "it is softmax's Jacobian; the sigmoid acts elementwise, "
         "so its Jacobian is diagonal (the off-diagonal entries are 0)")])


def softmax_jacobian(student, rng):
    for z in (rng.normal(0, 2, size=5), np.array([1000.0, 999.0, -1000.0, 998.0])):
        s = softmax(z)
        got = values.array(student.call("softmax_jacobian", z), "softmax_jacobian(z)",
                           shape=(len(z), len(z)))
        what = f"softmax_jacobian(z) for z = {np.array2string(z, precision=3, separator=', ')}"
        if not np.all(np.isfinite(got)):
            raise Fail(f"{what} contains nan or inf: compute softmax with the maximum of z "
                       "subtracted first")
        assert_gradient(got, central(softmax, z, 1e-5), f"{what}, compared with the numerical "
                        "Jacobian of softmax,", alternatives=[
            (np.diag(s * (1 - s)), "only the diagonal is there; every output of softmax depends "
             "on every input, so the off-diagonal entries are -s_i s_j"),
            (np.outer(s, s) - np.diag(s), "the sign is flipped: diag(s) - s s^T"),
            (np.diag(s) - s @ s, "s^T s (a number) is subtracted; the Jacobian subtracts the "
             "outer product s s^T"),
            (np.diag(s) - s * s, "s * s multiplies elementwise (and broadcasts); subtract the "
             "outer product s s^T (np.outer(s, s))")])


def chain_order(student, rng):
    square = [rng.normal(size=(3, 3)) for _ in range(3)]  # products do not commute
    got = values.array(student.call("chain_jacobians", square), "chain_jacobians", shape=(3, 3))
    assert_close(got, square[2] @ square[1] @ square[0], "chain_jacobians([J_1, J_2, J_3]) for "
                 "3 x 3 Jacobians", alternatives=[
                     (square[0] @ square[1] @ square[2], "the order is reversed: dy_3/dx = "
                      "J_3 J_2 J_1, the last Jacobian on the left"),
                     (square[0].T @ square[1].T @ square[2].T, "it is the transpose of the "
                      "product; dy_3/dx = J_3 J_2 J_1")])
    shapes = [(4, 2), (5, 4), (3, 5)]  # x in R^2 -> R^4 -> R^5 -> R^3
    mats = [rng.normal(size=s) for s in shapes]
    got = values.array(student.call("chain_jacobians", mats), "chain_jacobians", shape=(3, 2))
    assert_close(got, mats[2] @ mats[1] @ mats[0], "chain_jacobians for Jacobians of shapes "
                 "(4, 2), (5, 4), (3, 5) (a p x m result: 3 x 2)")
    single = values.array(student.call("chain_jacobians", mats[:1]), "chain_jacobians([J])",
                          shape=(4, 2))
    assert_close(single, mats[0], "chain_jacobians of a single Jacobian")


def vector_jacobian_products(student, rng):
    g = rng.normal(size=3)
    square = [rng.normal(size=(3, 3)) for _ in range(3)]  # first: wrong orders still run
    got = values.array(student.call("scalar_chain_grad", square, g), "scalar_chain_grad",
                       shape=(3,))
    product = square[2] @ square[1] @ square[0]
    assert_close(got, product.T @ g, "scalar_chain_grad for 3 x 3 Jacobians", alternatives=[
        (product @ g, "the transpose is missing: dz/dx = (J_n ... J_1)^T grad_out"),
        (square[0] @ square[1] @ square[2] @ g, "the transpose is missing from each step: a "
         "vector-Jacobian product is g <- J_k^T g"),
        ((square[0] @ square[1] @ square[2]).T @ g, "the Jacobians are chained in the wrong "
         "order: multiply grad_out by J_n^T first, then J_(n-1)^T, ...")])
    shapes = [(4, 2), (5, 4), (3, 5)]
    mats = [rng.normal(size=s) for s in shapes]
    got = values.array(student.call("scalar_chain_grad", mats, g), "scalar_chain_grad",
                       shape=(2,))
    assert_close(got, mats[0].T @ mats[1].T @ mats[2].T @ g,
                 "scalar_chain_grad for Jacobians of shapes (4, 2), (5, 4), (3, 5)")
    mats = [rng.normal(size=(4, 1)), rng.normal(size=(3, 4))]  # x in R^1: g has shape (1,)
    got = values.array(student.call("scalar_chain_grad", mats, g), "scalar_chain_grad for x in "
                       "R^1", shape=(1,))
    assert_close(got, mats[0].T @ mats[1].T @ g, "scalar_chain_grad for Jacobians of shapes "
                 "(4, 1), (3, 4)")


# -- hidden checks ------------------------------------------------------------------------------

def hidden_jacobian(student, rng, ref):
    p, m = (int(v) for v in rng.integers(1, 7, size=2))
    w, b = rng.normal(size=(p, m)), rng.normal(size=p)
    x = rng.normal(size=m)
    f = build_locally(GraderFunction("tanh_affine", w, b))
    got = jacobian_of(student, GraderFunction("tanh_affine", w, b), x, 1e-4)
    assert_close(got, ref.numerical_jacobian(f, x, 1e-4), f"numerical_jacobian for f: R^{m} -> "
                 f"R^{p}", tol=FORMULA, alternatives=[
                     (forward_difference(f, x, 1e-4), "it uses forward differences; the spec's "
                      "J uses central differences")])


def fresh_chain(rng):
    dims = [int(v) for v in rng.integers(1, 6, size=int(rng.integers(2, 6)))]
    return dims, [rng.normal(size=(dims[i + 1], dims[i])) for i in range(len(dims) - 1)]


def hidden_chain(student, rng, ref):
    dims, mats = fresh_chain(rng)
    got = values.array(student.call("chain_jacobians", mats), "chain_jacobians",
                       shape=(dims[-1], dims[0]))
    assert_close(got, ref.chain_jacobians(mats), f"chain_jacobians of {len(mats)} Jacobians")


def hidden_vjp(student, rng, ref):
    dims, mats = fresh_chain(rng)
    g = rng.normal(size=dims[-1])
    got = values.array(student.call("scalar_chain_grad", mats, g), "scalar_chain_grad",
                       shape=(dims[0],))
    assert_close(got, ref.scalar_chain_grad(mats, g), f"scalar_chain_grad of {len(mats)} "
                 "Jacobians")


CHECKS = [
    Check("numerical_jacobian: central differences with the given h", "numerical_jacobian", 2,
          central_differences),
    Check("numerical_jacobian: p x m for f: R^m -> R^p", "numerical_jacobian", 1, orientation),
    Check("numerical_jacobian: x of size 1e3 and 1e-3", "numerical_jacobian", 0.5, magnitudes),
    Check("sigmoid_jacobian: diag(s (1 - s))", "sigmoid_jacobian", 1, sigmoid_jacobian),
    Check("softmax_jacobian: diag(s) - s s^T, also for large z", "softmax_jacobian", 1.5,
          softmax_jacobian),
    Check("chain_jacobians: J_n ... J_1 in that order", "chain_jacobians", 1.5, chain_order),
    Check("scalar_chain_grad: successive vector-Jacobian products", "scalar_chain_grad", 1.5,
          vector_jacobian_products),
    Check("hidden: numerical_jacobian on fresh functions", "numerical_jacobian", 0.5,
          hidden_jacobian, hidden=True),
    Check("hidden: chain_jacobians on fresh Jacobians", "chain_jacobians", 0.25, hidden_chain,
          hidden=True),
    Check("hidden: scalar_chain_grad on fresh Jacobians", "scalar_chain_grad", 0.25, hidden_vjp,
          hidden=True),
]
