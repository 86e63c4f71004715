"""Checks for topic 6, batch normalization (exercise-api.md section 6).

Public checks: the training-mode formula with named wrong alternatives, the output identities,
gradients against numerical ones of the student's own forward, the running-statistics recurrence,
inference on a shifted batch, and a linear layer composed with batch norm. Hidden checks compare
with solutions/batchnorm.py on fresh inputs.
"""
import numpy as np

from .. import values
from ..core import Check, assert_backward_uses_its_cache, forward_and_cache, using
from ..compare import Fail, assert_close, mismatch, went_through_float32
from ..gradcheck import (GRAD_TOL, Forward, assert_gradient, norm_relative_error,
                         numerical_gradients, own_gradients)
from ..tolerances import IDENTITY, SUM_TO_ZERO, VARIANCE_PATH

ID = "batchnorm"
TITLE = "Batch normalization"
FUNCTIONS = {
    "batchnorm_forward": ("x", "gamma", "beta", "eps=1e-5"),
    "batchnorm_backward": ("dout", "cache"),
    "update_running_stats": ("running_mean", "running_var", "x", "momentum=0.9"),
    "batchnorm_inference": ("x", "gamma", "beta", "running_mean", "running_var", "eps=1e-5"),
}
EPS = 1e-5


def batch(rng, n, d, tiny_feature=False):
    """A batch whose features have different means and spreads (std 0.5 .. 3); optionally the
    last feature has std 1e-3, where sqrt(var + eps) and sqrt(var) + eps differ by 3x."""
    x = rng.normal(0, 1, size=(n, d)) * rng.uniform(0.5, 3, size=d) + rng.uniform(-2, 2, size=d)
    if tiny_feature:
        x[:, -1] = 0.5 + 1e-3 * rng.normal(size=n)
    return x


def params(rng, d):
    return rng.uniform(0.5, 2, size=d) * rng.choice([-1, 1], size=d), rng.normal(0, 1, size=d)


def normalize(x, gamma, beta, ddof=0, eps_inside=True, axis=0, eps=EPS):
    """The spec's training-mode formula and its common misreadings (ddof, eps, axis)."""
    mu, var = x.mean(axis=axis, keepdims=True), x.var(axis=axis, ddof=ddof, keepdims=True)
    std = np.sqrt(var + eps) if eps_inside else np.sqrt(var) + eps
    return gamma * (x - mu) / std + beta


OTHER_EPS = (1e-3, 1e-4, 1e-6, 1e-8, 0.0)  # defaults of other libraries, and none at all


def forward_alternatives(x, gamma, beta):
    """Outputs of the usual wrong forward passes, each with the sentence that names it."""
    return [
        (normalize(x, gamma, beta, ddof=1), "it uses the unbiased (N - 1) variance; in training "
         "mode batch norm normalizes with the biased batch variance (divide by N)"),
        (normalize(x, gamma, beta, eps_inside=False), "eps is outside the square root; it "
         "belongs inside: (x - mu) / sqrt(var + eps)"),
        (normalize(x, gamma, beta, axis=1), "the statistics are taken over each row; they are "
         "per feature, over the batch (axis=0)"),
        (normalize(x, gamma, beta, axis=None), "the statistics are taken over the whole array; "
         "they are per feature, over the batch (axis=0)"),
        (normalize(x, 1.0, 0.0), "gamma and beta are not applied (out = gamma * x_hat + beta)"),
        *[(normalize(x, gamma, beta, eps=e), f"it uses eps = {e:g}; the default eps is 1e-5")
          for e in OTHER_EPS],
    ]


def forward(student, x, gamma, beta, eps=None):
    """(out, cache) from the student's forward (eps left at its default unless given); the
    cache stays in the student process."""
    args = (x, gamma, beta) + (() if eps is None else (eps,))
    out, cache = values.parts(student.call("batchnorm_forward", *args, opaque=(1,)),
                              "batchnorm_forward", ("out", "cache"))
    return values.array(out, "out", shape=x.shape), cache


def forward_call(student, x, gamma, beta, eps=None):
    """(out, cache) for a backward check (core.forward_and_cache), eps given unless None."""
    args = (x, gamma, beta) + (() if eps is None else (eps,))
    return forward_and_cache(student, "batchnorm_forward", *args)


def cache_of(student, x, gamma, beta, eps=None):
    return forward_call(student, x, gamma, beta, eps)[1]


NAMES = ("dx", "dgamma", "dbeta")


def backward(student, dout, cache):
    """The three returned arrays, not yet validated: each check validates only the ones it
    judges (a wrong dgamma says nothing about dx)."""
    return values.parts(student.call("batchnorm_backward", dout, cache), "batchnorm_backward",
                        NAMES)


def grad(raw, index, shape):
    return values.array(raw[index], NAMES[index], shape=shape)


def random_backward(student, rng, n, d, eps=None, tiny_feature=False):
    """A random batch and upstream gradient, the student's raw (dx, dgamma, dbeta) for them,
    and the raw `out` of the forward call (given `eps` unless it is None) that made the cache."""
    x, (gamma, beta) = batch(rng, n, d, tiny_feature), params(rng, d)
    dout = rng.normal(size=(n, d))
    out, cache = forward_call(student, x, gamma, beta, eps)
    return (x, gamma, beta, dout), backward(student, dout, cache), out


def out_of(student, eps=None):
    """The student's forward, as numerical gradients evaluate it."""
    return Forward(student, "batchnorm_forward", pick=0, extra=() if eps is None else (eps,))


def spec_gradients(args, wrt, dout, eps=EPS):
    """Numerical gradients of the spec's forward (grader-side), every perturbed point at once:
    x stacked on a leading axis, the statistics over the batch axis of each."""
    def outs(arglists):
        x, gamma, beta = (np.stack(column) for column in zip(*(a[:3] for a in arglists)))
        return list(normalize(x, gamma[:, None], beta[:, None], axis=-2, eps=eps))
    return numerical_gradients(outs, args, wrt, dout)


def dx_factors(n):
    return [(n, f"N = {n} is the batch size; a 1/N from the batch mean or variance is missing"),
            (1 / n, f"N = {n} is the batch size; divide by N once, not twice")]


TORCH = ("the weights are swapped: new = momentum * old + (1 - momentum) * batch statistic "
         "(PyTorch uses momentum the other way round; the notes' moving average does not)")
DEFAULT_01 = ("the default momentum should be 0.9, but the result is that of momentum = 0.1 "
              "(by default, new = 0.9 * old + 0.1 * batch statistic)")
STALE = "it is not updated: return new arrays computed from the batch"
BIASED = ("running_var uses the biased variance; the spec asks for the unbiased one "
          "(divide by N - 1, ddof=1)")
STD = "running_var is updated with the standard deviation; use the (unbiased) variance"


def update_args(x, momentum):
    """What follows running_mean and running_var in a call (momentum left out for None)."""
    return [x] + ([] if momentum is None else [momentum])


def running_update(student, mean, var, x, momentum=None):
    """The student's update, compared with the recurrence and its usual misreadings."""
    got = student.call("update_running_stats", mean, var, *update_args(x, momentum))
    return judge_update(got, mean, var, x, momentum)


def judge_update(got, mean, var, x, momentum):
    """What update_running_stats returned for these arguments, against the recurrence."""
    d = x.shape[1]
    m = 0.9 if momentum is None else momentum
    names = ("running_mean", "running_var")
    got = values.parts(got, "update_running_stats", names)
    got_mean, got_var = (values.array(g, name, shape=(d,)) for g, name in zip(got, names))
    when = "with momentum left at its default" if momentum is None else f"with momentum {m:g}"
    mu, unbiased = x.mean(axis=0), x.var(axis=0, ddof=1)

    def wrong(old, stat):
        return [((1 - m) * old + m * stat, DEFAULT_01 if momentum is None else TORCH),
                (old, STALE)]
    assert_close(got_mean, m * mean + (1 - m) * mu, f"running_mean {when}",
                 alternatives=wrong(mean, mu))
    assert_close(got_var, m * var + (1 - m) * unbiased, f"running_var {when}",
                 alternatives=wrong(var, unbiased) + [
                     (m * var + (1 - m) * x.var(axis=0), BIASED),
                     *[(m * var + (1 - m) * x.std(axis=0, ddof=k), STD) for k in (0, 1)]])
    return got_mean, got_var


def with_running_stats(x, gamma, beta, mean, var, eps=EPS):
    """The spec's inference formula."""
    return gamma * (x - mean) / np.sqrt(var + eps) + beta


def inference_alternatives(x, gamma, beta, mean, var):
    return [
        (gamma * (x - mean) / (np.sqrt(var) + EPS) + beta,
         "eps is outside the square root: sqrt(running_var + eps)"),
        (gamma * (x - mean) / (var + EPS) + beta,
         "it divides by the variance; divide by the standard deviation sqrt(running_var + eps)"),
        *[(with_running_stats(x, gamma, beta, mean, var, e), f"it uses eps = {e:g}; the default "
           "eps is 1e-5") for e in OTHER_EPS],
        *([(normalize(x, gamma, beta), "it normalizes with the batch's own statistics; "
            "inference must use running_mean and running_var")] if len(x) > 1 else []),
    ]


# -- public checks ------------------------------------------------------------------------------

def forward_formula(student, rng):
    n, d = 8, 5  # N = 8 makes the (N - 1) variance visible; the last feature has std 1e-3
    x, (gamma, beta) = batch(rng, n, d, tiny_feature=True), params(rng, d)
    out, _ = forward(student, x, gamma, beta)
    assert_close(out, normalize(x, gamma, beta), "out",
                 alternatives=forward_alternatives(x, gamma, beta))


def forward_eps(student, rng):
    """eps is an argument: a feature with std 1e-3 shows which eps was used."""
    n, d, eps = 6, 3, 1e-3
    x, (gamma, beta) = batch(rng, n, d, tiny_feature=True), params(rng, d)
    out, _ = forward(student, x, gamma, beta, eps)
    assert_close(out, normalize(x, gamma, beta, eps=eps), f"out with eps = {eps:g} given",
                 alternatives=[(normalize(x, gamma, beta, eps=e), f"it uses eps = {e:g}, not the "
                                "eps argument it is given") for e in (EPS, *OTHER_EPS) if e != eps])


def forward_identities(student, rng):
    n, d = 7, 4
    x, (gamma, beta) = batch(rng, n, d), params(rng, d)
    out, _ = forward(student, x, gamma, beta)
    if went_through_float32(out, normalize(x, gamma, beta)):
        raise Fail("out is off by float32 round-off (differences of up to 1e-6 of its largest "
                   "value, as float32 arithmetic gives): compute in float64, numpy's default (no "
                   "astype(np.float32), no float32 arrays or constants)")
    var = x.var(axis=0)
    assert_close(out.mean(axis=0), beta, "the mean of out over the batch (it must equal beta)",
                 tol=IDENTITY)
    assert_close(out.var(axis=0), gamma ** 2 * var / (var + EPS),
                 "the variance of out over the batch (it must be gamma^2 var / (var + eps))",
                 tol=IDENTITY, factors=[((n - 1) / n, "the input was divided by the "
                                                "unbiased (N - 1) standard deviation; use the "
                                                "biased one (divide by N)")])


def backward_dx(student, rng):
    n, d = 6, 4
    (x, gamma, beta, dout), raw, out = random_backward(student, rng, n, d)
    dx = grad(raw, 0, (n, d))
    spec, = spec_gradients([x, gamma, beta], [0], dout)
    own = own_gradients(out_of(student), [x, gamma, beta], [0], dout, rng,
                        normalize(x, gamma, beta), out)
    assert_gradient(dx, spec, "dx", also=own and own[0], factors=dx_factors(n),
                    alternatives=dx_mistakes(x, gamma, dout, spec))


def dx_mistakes(x, gamma, dout, spec):
    """dx as the usual backward mistakes compute it, each with the sentence naming it."""
    n = len(x)
    mu, var = x.mean(axis=0), x.var(axis=0)
    std = np.sqrt(var + EPS)
    x_hat, g = (x - mu) / std, dout * gamma
    out = [(spec / gamma, "gamma is left out: the gradient reaching x_hat is dout * gamma"),
           (g / std, "only the direct path g / std is there: the paths through the batch mean "
            "and variance are missing"),
           ((g - g.mean(axis=0)) / std, "the path through the batch variance is missing (the "
            "mean's is there)"),
           ((g - x_hat * (g * x_hat).mean(axis=0)) / std, "the path through the batch mean is "
            "missing (the variance's is there)")]
    out.append(((g - g.sum(axis=0) - x_hat * (g * x_hat).mean(axis=0)) / std, "the batch "
                "mean's term is summed over the batch (g.sum); it is the mean of g over the batch"))
    out.append(((n * g - g.sum(axis=0) - x_hat * (g * x_hat).sum(axis=0)) / (n * np.sqrt(var)),
                "dx divides by sqrt(var) without eps, while the forward pass divided by "
                "sqrt(var + eps)"))
    # sums over the wrong axis (per example instead of per feature)
    g_mean, gx_mean = g.mean(axis=1, keepdims=True), (g * x_hat).mean(axis=1, keepdims=True)
    out.append(((g - g_mean - x_hat * gx_mean) / std, "the sums over the batch are taken over "
                "axis=1 (per example); they are per feature, over axis=0"))
    return out


def backward_params(student, rng):
    """With eps = 1e-3 given to the forward call and a feature of std 1e-3, dgamma tells which
    eps the backward pass used. Each array is judged on its own."""
    n, d, eps = 5, 3, 1e-3
    (x, gamma, beta, dout), raw, out = random_backward(student, rng, n, d, eps, tiny_feature=True)
    dgamma, dbeta = grad(raw, 1, (d,)), grad(raw, 2, (d,))
    num_gamma, num_beta = spec_gradients([x, gamma, beta], [1, 2], dout, eps)
    own = own_gradients(out_of(student, eps), [x, gamma, beta], [1, 2], dout, rng,
                        normalize(x, gamma, beta, eps=eps), out) or (None, None)
    if (norm_relative_error(dgamma, num_beta) < GRAD_TOL
            and norm_relative_error(dbeta, num_gamma) < GRAD_TOL):
        raise Fail("dgamma and dbeta are swapped: dbeta = sum(dout), dgamma = sum(dout * x_hat), "
                   "both over the batch")
    batch_factor = [(1 / n, "it is averaged over the batch; parameter gradients are sums over it")]
    assert_gradient(dbeta, num_beta, "dbeta", also=own[1], factors=batch_factor)
    assert_gradient(dgamma, num_gamma, f"dgamma (eps = {eps:g} given to the forward call)",
                    also=own[0], factors=batch_factor, alternatives=[
                        ((dout * normalize(x, 1.0, 0.0, eps=EPS)).sum(axis=0), "it is the gradient "
                         "for eps = 1e-5: use the eps of the forward call (keep it in the cache)")])


def backward_identities(student, rng):
    """Two consequences of the forward formula, per feature: adding a constant to a column of x
    changes nothing, so sum_n dx = 0; scaling a column changes x_hat only through eps, so
    sum_n dx (x - mu) is ~0. They say which property of dx fails; a dx that is the exact
    gradient of the student's own forward passes (the forward is judged by its own checks)."""
    n, d = 9, 4
    (x, gamma, beta, dout), raw, out = random_backward(student, rng, n, d)
    dx = grad(raw, 0, (n, d))
    if not np.all(np.isfinite(dx)):
        raise Fail("dx contains NaN or inf")
    own = own_gradients(out_of(student), [x, gamma, beta], [0], dout, rng,
                        normalize(x, gamma, beta), out)
    if own is not None and norm_relative_error(dx, own[0]) <= GRAD_TOL:
        return
    centered = x - x.mean(axis=0)
    size = (np.abs(dx) * np.abs(centered)).sum(axis=0) + 1e-300
    # written as "not all <=" so that NaN fails
    if not np.all(np.abs(dx.sum(axis=0)) <= SUM_TO_ZERO * np.abs(dx).sum(axis=0) + 1e-300):
        raise Fail("dx does not sum to zero over the batch for each feature; it must, because "
                   "the output does not change when the same amount is added to a whole column "
                   "of x (see the dx check for how it differs)")
    if not np.all(np.abs((dx * centered).sum(axis=0)) <= VARIANCE_PATH * size):
        raise Fail("sum over the batch of dx * (x - mu) is not ~0 for each feature, although dx "
                   "sums to zero; it must be ~0, because scaling a column of x leaves x_hat "
                   "unchanged (up to eps): the part of dx that the batch variance's path must "
                   "cancel is left over")


def backward_own_cache(student, rng):
    """Two batch-norm layers: forward A, forward B of another shape and eps, then backward A
    with A's cache."""
    n, d = 6, 4
    (gamma, beta), dout = params(rng, d), rng.normal(size=(n, d))
    first = batch(rng, n, d)
    other = (batch(rng, 3, 5), *params(rng, 5), 1e-2)

    def forward_of(x):
        if x is first:
            return cache_of(student, x, gamma, beta)
        return cache_of(student, *other)
    assert_backward_uses_its_cache(
        forward_of, lambda cache: [grad(backward(student, dout, cache), 0, (n, d))],
        first, other[0], ("dx",))


def running_stats(student, rng):
    d = 4
    mean, var = np.zeros(d), np.ones(d)
    # momentum 0.8 for three batches, then the default (0.9) for the last one
    steps = [(batch(rng, 5, d), momentum) for momentum in (0.8, 0.8, 0.8, None)]
    # each update takes the statistics the one before returned: all in one round trip (a chain
    # cut short ends with a result that judge_update refuses)
    chained = student.call_chain("update_running_stats", [mean, var, *update_args(*steps[0])],
                                 [update_args(*step) for step in steps[1:]], take=(0, 1))
    for (x, momentum), got in zip(steps, chained):
        mean, var = judge_update(got, mean, var, x, momentum)


def inference(student, rng):
    n, d = 6, 4
    gamma, beta = params(rng, d)
    running_mean, running_var = rng.normal(0, 1, size=d), rng.uniform(0.5, 2, size=d)
    x = running_mean + 100 + rng.normal(0, 1, size=(n, d))  # far from the running statistics
    for rows in (x, x[:1]):
        got = values.array(student.call("batchnorm_inference", rows, gamma, beta, running_mean,
                                        running_var), "out", shape=rows.shape)
        expected = with_running_stats(rows, gamma, beta, running_mean, running_var)
        assert_close(got, expected, f"batchnorm_inference on {len(rows)} example(s) shifted by "
                     "+100 from the running mean",
                     alternatives=inference_alternatives(rows, gamma, beta, running_mean,
                                                         running_var))
    eps = 0.1
    got = values.array(student.call("batchnorm_inference", x, gamma, beta, running_mean,
                                    running_var, eps), "out", shape=x.shape)
    assert_close(got, with_running_stats(x, gamma, beta, running_mean, running_var, eps),
                 f"batchnorm_inference with eps = {eps:g} given", alternatives=[
                     (with_running_stats(x, gamma, beta, running_mean, running_var, e),
                      f"it uses eps = {e:g}, not the eps argument it is given")
                     for e in (EPS, *OTHER_EPS)])


def composite(student, rng):
    """A linear layer z = x W^T + b feeding batch norm: dW through the student's backward must
    match the numerical gradient of the whole (with the spec's forward, or the student's own),
    and the bias gets no gradient at all."""
    n, d_in, d = 7, 3, 4
    x, w, b = rng.normal(size=(n, d_in)), rng.normal(size=(d, d_in)), rng.normal(size=d)
    gamma, beta = params(rng, d)
    dout = rng.normal(size=(n, d))
    raw_out, cache = forward_call(student, x @ w.T + b, gamma, beta)
    dz = grad(backward(student, dout, cache), 0, (n, d))
    spec, = numerical_gradients(  # every perturbed W at once, stacked on a leading axis
        lambda arglists: list(normalize(x @ np.stack([a[0] for a in arglists]).swapaxes(1, 2)
                                        + b, gamma, beta, axis=-2)), [w], [0], dout)
    layer = Forward(student, "batchnorm_forward", pick=0, extra=(gamma, beta),
                    prepare=lambda a: [x @ a[0].T + b])
    own = own_gradients(layer, [w], [0], dout, rng, normalize(x @ w.T + b, gamma, beta), raw_out)
    assert_gradient(dz.T @ x, spec, "dW of a linear layer before batch norm (dz^T x, "
                    "with dz from your batchnorm_backward)", also=own and own[0],
                    factors=dx_factors(n))
    with using("batchnorm_forward"):
        out = values.array(raw_out, "out", shape=(n, d))
    if mismatch(out, normalize(x @ w.T + b, gamma, beta), IDENTITY).any():
        return  # the identity below holds for the spec's forward, which the student's is not
    if not np.abs(dz.sum(axis=0)).max() <= SUM_TO_ZERO * np.abs(dz).sum():
        raise Fail("the bias of a linear layer before batch norm gets a nonzero gradient "
                   "(sum of dx over the batch); batch norm removes any constant shift, so it "
                   "must be 0")


# -- hidden checks ------------------------------------------------------------------------------

def fresh_shape(rng):
    n, d = rng.integers(3, 12), rng.integers(2, 7)
    return int(n), int(d)


def hidden_forward(student, rng, ref):
    n, d = fresh_shape(rng)
    x, (gamma, beta) = batch(rng, n, d, tiny_feature=True), params(rng, d)
    out, _ = forward(student, x, gamma, beta)
    assert_close(out, ref.batchnorm_forward(x, gamma, beta)[0], "out on a random batch",
                 alternatives=forward_alternatives(x, gamma, beta))


def hidden_backward(student, rng, ref):
    n, d = fresh_shape(rng)
    (x, gamma, beta, dout), raw, out = random_backward(student, rng, n, d)
    expected = ref.batchnorm_backward(dout, ref.batchnorm_forward(x, gamma, beta)[1])
    own = None
    for i, (e, name) in enumerate(zip(expected, NAMES)):
        got = grad(raw, i, e.shape)
        if not mismatch_any(got, e):
            continue
        if own is None:  # the gradient of the student's own forward, if it is usable
            own = own_gradients(out_of(student), [x, gamma, beta], [0, 1, 2], dout, rng,
                                normalize(x, gamma, beta), out) or ()
        if own and norm_relative_error(got, own[i]) <= GRAD_TOL:
            continue
        assert_close(got, e, f"{name} on a random batch", factors=dx_factors(n))


def mismatch_any(actual, expected):
    return mismatch(actual, expected).any()


def hidden_running(student, rng, ref):
    n, d = fresh_shape(rng)
    mean, var = rng.normal(size=d), rng.uniform(0.5, 2, size=d)
    momentum = float(rng.uniform(0.5, 0.99))
    x = batch(rng, n, d)
    got = running_update(student, mean, var, x, momentum)
    for g, e, name in zip(got, ref.update_running_stats(mean, var, x, momentum),
                          ("running_mean", "running_var")):
        assert_close(g, e, f"{name} after a random batch")


def hidden_inference(student, rng, ref):
    n, d = fresh_shape(rng)
    mean, var = rng.normal(size=d), rng.uniform(0.5, 2, size=d)
    x, (gamma, beta) = batch(rng, n, d) + rng.uniform(-50, 50), params(rng, d)
    got = values.array(student.call("batchnorm_inference", x, gamma, beta, mean, var), "out",
                       shape=(n, d))
    assert_close(got, ref.batchnorm_inference(x, gamma, beta, mean, var),
                 "batchnorm_inference on a random batch",
                 alternatives=inference_alternatives(x, gamma, beta, mean, var))


CHECKS = [
    Check("forward: the training-mode formula", "batchnorm_forward", 1.5, forward_formula),
    Check("forward: uses the eps it is given", "batchnorm_forward", 0.25, forward_eps),
    Check("forward: out has mean beta and variance gamma^2 var/(var+eps)", "batchnorm_forward",
          0.25, forward_identities),
    Check("backward: dx matches the numerical gradient", "batchnorm_backward", 1.5, backward_dx),
    Check("backward: dgamma and dbeta match numerical gradients", "batchnorm_backward", 0.75,
          backward_params),
    Check("backward: uses the cache it is given", "batchnorm_backward", 0.25, backward_own_cache),
    Check("backward: dx respects shifting and scaling a feature", "batchnorm_backward", 0.5,
          backward_identities),
    Check("running statistics: the momentum recurrence", "update_running_stats", 1.5,
          running_stats),
    Check("inference: uses the running statistics", "batchnorm_inference", 1, inference),
    Check("composite: a linear layer before batch norm", "batchnorm_backward", 0.5, composite),
    Check("hidden: forward on fresh inputs", "batchnorm_forward", 0.5, hidden_forward, hidden=True),
    Check("hidden: backward on fresh inputs", "batchnorm_backward", 1, hidden_backward, hidden=True),
    Check("hidden: running statistics on fresh inputs", "update_running_stats", 0.25,
          hidden_running, hidden=True),
    Check("hidden: inference on fresh inputs", "batchnorm_inference", 0.25, hidden_inference,
          hidden=True),
]
