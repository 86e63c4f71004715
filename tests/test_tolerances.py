"""The margin of every named tolerance: what correct code measures against the threshold, and
what a realistic bug measures. Each entry of grader.checks.tolerances.WHY has a test here."""
import math

import numpy as np
import pytest

from grader.checks import tolerances as T
from grader.checks.compare import constant_factor, describe_factor, mismatch, went_through_float32
from grader.checks.gradcheck import (Forward, Inconsistent, assert_gradient, norm_relative_error,
                                     numerical_gradients)
from grader.checks.stats import binomial_interval, binomial_outside_probability
from grader.checks.topics import batchnorm, dropout
from grader.course.grading import find_solutions, load_reference
from grader.course.selfcheck import LocalStudent

SOLUTIONS = find_solutions()
SEEDS = range(30)


def ref(topic):
    return load_reference(SOLUTIONS, topic)


def relative(a, b):
    a, b = np.asarray(a, float), np.asarray(b, float)
    return float(np.max(np.abs(a - b) / (np.abs(b) + np.max(np.abs(b)))))


def test_every_tolerance_is_justified_and_has_a_margin_test():
    names = {n for n in vars(T) if n.isupper() and n != "WHY"}
    assert names == set(T.WHY)
    tests = {n for n in globals() if n.startswith("test_margin_")}
    assert tests == {f"test_margin_{n.lower()}" for n in names}


def bn_batch(rng, n=8, d=5):
    return batchnorm.batch(rng, n, d, tiny_feature=True), *batchnorm.params(rng, d)


def test_margin_values():
    """Two correct batch-norm forwards (the reference and another formula) against a bug."""
    bn = ref("batchnorm")
    worst = 0.0
    for seed in SEEDS:
        x, gamma, beta = bn_batch(np.random.default_rng(seed))
        centered = x - x.mean(0)
        other = gamma * centered * (1 / np.sqrt((centered ** 2).mean(0) + 1e-5)) + beta
        worst = max(worst, relative(bn.batchnorm_forward(x, gamma, beta)[0], other))
    assert worst < T.VALUES.rtol / 1000
    x, gamma, beta = bn_batch(np.random.default_rng(0))
    assert relative(batchnorm.normalize(x, gamma, beta, ddof=1),
                    batchnorm.normalize(x, gamma, beta)) > 1000 * T.VALUES.rtol


def test_margin_exact():
    x = np.array([-2.0, -1e-300, 0.0, 5e-324, 1e-12, 3.0, 1e8])
    for correct in (np.maximum(x, 0), x * (x > 0), (x + np.abs(x)) / 2, np.clip(x, 0, None)):
        assert np.array_equal(correct, np.maximum(x, 0))
    assert not np.array_equal(np.where(x > 1e-8, x, 0.0), np.maximum(x, 0))


def test_margin_round_off():
    worst = 0.0
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        x, p = dropout.inputs(rng, (50, 40)), rng.uniform(0.05, 0.95)
        keep = rng.random(x.shape) >= p
        worst = max(worst, relative(x * (keep / (1 - p)), x * keep / (1 - p)),
                    relative(x * keep * (1.0 / (1 - p)), x * keep / (1 - p)))
    assert worst < T.ROUND_OFF.rtol / 1000
    assert relative(x * keep / p, x * keep / (1 - p)) > 1e6 * T.ROUND_OFF.rtol


def test_margin_identity():
    bn = ref("batchnorm")
    worst = 0.0
    for seed in SEEDS:
        x, gamma, beta = bn_batch(np.random.default_rng(seed), 7, 4)
        out = bn.batchnorm_forward(x, gamma, beta)[0]
        worst = max(worst, np.max(np.abs(out.mean(0) - beta)))
    assert worst < T.IDENTITY.atol / 1000
    var = x.var(0)
    wrong = batchnorm.normalize(x, gamma, beta, ddof=1).var(0)
    assert np.max(np.abs(wrong - gamma ** 2 * var / (var + 1e-5))) > 1e6 * T.IDENTITY.atol


def test_margin_formula():
    mc = ref("matrix_calculus")
    rng = np.random.default_rng(0)
    w, b = rng.normal(size=(3, 4)), rng.normal(size=3)
    f = lambda v: np.tanh(w @ v + b)
    x = rng.normal(size=4)
    grader = np.stack([(f(x + 1e-5 * e) - f(x - 1e-5 * e)) / 2e-5 for e in np.eye(4)], axis=1)
    assert relative(mc.numerical_jacobian(f, x, 1e-5), grader) < T.FORMULA.rtol / 1000
    forward = np.stack([(f(x + 1e-5 * e) - f(x)) / 1e-5 for e in np.eye(4)], axis=1)
    assert relative(forward, grader) > 10 * T.FORMULA.rtol


def test_margin_factor_rtol():
    """A backward N times too large, fitted against the numerical gradient, is within 1e-4
    of N (eps blurs it by ~1e-5); the nearest other named factor is far."""
    bn = ref("batchnorm")
    rng = np.random.default_rng(1)
    x, gamma, beta = bn_batch(rng, 6, 4)
    dout = rng.normal(size=x.shape)
    dx = bn.batchnorm_backward(dout, bn.batchnorm_forward(x, gamma, beta)[1])[0]
    numeric, = numerical_gradients(lambda a: [batchnorm.normalize(*v) for v in a],
                                   [x, gamma, beta], [0], dout)
    c, _ = constant_factor(6 * dx, numeric)
    assert abs(c / 6 - 1) < T.FACTOR_RTOL / 10
    assert "N = 6" in describe_factor(c, batchnorm.dx_factors(6))
    assert abs(6 / 5 - 1) > 100 * T.FACTOR_RTOL  # the closest other factor a check names


def test_margin_factor_fit():
    rng = np.random.default_rng(2)
    e = rng.normal(size=(5, 4))
    assert constant_factor(2 * e, e)[1] < T.FACTOR_FIT / 1e6
    x, gamma, beta = bn_batch(rng, 8, 4)
    _, resid = constant_factor(batchnorm.normalize(x, gamma, beta, eps_inside=False),
                               batchnorm.normalize(x, gamma, beta))
    assert resid > 10 * T.FACTOR_FIT


def test_margin_float32_rtol():
    rng = np.random.default_rng(3)
    x, gamma, beta = bn_batch(rng, 8, 4)
    x[:, -1] = rng.normal(size=8)  # no tiny feature: float32 is then off by ~1e-7
    x32 = x.astype(np.float32)
    out32 = (gamma * ((x32 - x32.mean(0)) / np.sqrt(x32.var(0) + np.float32(1e-5)))
             + beta).astype(np.float64)
    spec = batchnorm.normalize(x, gamma, beta)
    assert relative(out32, spec) < T.FLOAT32_RTOL / 3 and went_through_float32(out32, spec)
    for e in batchnorm.OTHER_EPS:  # the eps mistakes are never taken for float32
        assert not went_through_float32(batchnorm.normalize(x, gamma, beta, eps=e), spec)


def test_margin_lse_round_off():
    ce = ref("cross_entropy")
    worst = 0.0
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        logits = rng.normal(0, 1, size=(6, 4)) * 100
        labels = rng.integers(0, 4, size=6)
        shifted = logits - logits.max(1, keepdims=True)
        other = float(np.mean(np.log(np.exp(shifted).sum(1)) - shifted[np.arange(6), labels]))
        err = abs(ce.softmax_cross_entropy(logits, labels)[0] - other)
        worst = max(worst, err / (np.finfo(float).eps * np.abs(logits).max()))
    assert worst < T.LSE_ROUND_OFF / 100


def test_margin_row_sum():
    ce = ref("cross_entropy")
    worst = 0.0
    for seed in SEEDS:
        logits = np.random.default_rng(seed).normal(0, 1, size=(6, 5)) * 10.0 ** (seed % 4)
        worst = max(worst, np.max(np.abs(ce.softmax(logits).sum(axis=1) - 1)))
    assert worst < T.ROW_SUM / 1000
    e = np.exp(logits - logits.max())
    assert np.max(np.abs((e / e.sum(axis=0)).sum(axis=1) - 1)) > 1e6 * T.ROW_SUM


def test_margin_h():
    """Central differences with H on batch norm: far below GRAD_TOL."""
    worst = 0.0
    for seed in SEEDS:
        dx, numeric = bn_dx_and_numeric(np.random.default_rng(seed))
        worst = max(worst, norm_relative_error(dx, numeric))
    assert worst < T.GRAD_TOL / 100


def bn_dx_and_numeric(rng):
    """dx of the reference batch norm on a random batch, and its central difference with H."""
    bn = ref("batchnorm")
    x, gamma, beta = batchnorm.batch(rng, 6, 4), *batchnorm.params(rng, 4)
    dout = rng.normal(size=x.shape)
    dx = bn.batchnorm_backward(dout, bn.batchnorm_forward(x, gamma, beta)[1])[0]
    numeric, = numerical_gradients(lambda a: [batchnorm.normalize(*v) for v in a],
                                   [x, gamma, beta], [0], dout, h=T.H)
    return dx, numeric


def test_margin_kink_margin():
    x = np.array([T.KINK_MARGIN, -T.KINK_MARGIN])
    numeric, = numerical_gradients(lambda a: [np.maximum(v[0], 0) for v in a], [x], [0],
                                   np.ones(2))
    assert np.allclose(numeric, [1.0, 0.0], rtol=0, atol=1e-9)
    assert T.KINK_MARGIN > 10 * T.H  # a step never reaches the kink


def test_margin_grad_tol():
    """Correct layers against a missing 1/N, over many seeds."""
    res = ref("residual")
    worst, best_bug = 0.0, math.inf
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        dx, numeric = bn_dx_and_numeric(rng)
        worst = max(worst, norm_relative_error(dx, numeric))
        best_bug = min(best_bug, norm_relative_error(dx * 6, numeric))
        args = [rng.normal(size=(5, 4)), rng.normal(size=(6, 4)), rng.normal(size=6),
                rng.normal(size=(4, 6)), rng.normal(size=4)]
        if np.all(np.abs(args[0] @ args[1].T + args[2]) > T.KINK_MARGIN):
            d = rng.normal(size=(5, 4))
            grads = res.residual_backward(d, res.residual_forward(*args)[1])
            num = numerical_gradients(lambda a: [res.residual_forward(*v)[0] for v in a], args,
                                      range(5), d)
            worst = max(worst, *(norm_relative_error(g, n) for g, n in zip(grads, num)))
    assert worst < T.GRAD_TOL / 100
    assert best_bug > 100 * T.GRAD_TOL


def test_margin_grad_floor():
    """A ReLU unit almost never active (seed 7090 of the sweep): dW1 ~ 4e-6, so round-off
    alone gives a relative error of 1.2e-6; the floor accepts it by a wide margin, while a
    dW1 that is wrong by its own size stays far above the floor."""
    from grader.checks.core import check_rng
    from grader.checks.gradcheck import round_off_floor
    from grader.checks.topics import residual
    res = ref("residual")
    rng = check_rng(7090, "residual", "backward: dW1, db1, dW2, db2 match numerical gradients")
    for size in ((5, 4, 6), (4, 1, 1)):
        args = residual.away_from_kinks(rng, lambda: residual.block(rng, *size))
        dout = rng.normal(size=args[0].shape)
    dw1 = res.residual_backward(dout, res.residual_forward(*args)[1])[1]
    numeric, = residual.spec_gradients(args, [1], dout)
    floor = round_off_floor(residual.formula(*args), dout)
    assert norm_relative_error(dw1, numeric) > T.GRAD_TOL  # the false failure it fixes
    assert np.linalg.norm(dw1 - numeric) < floor / 1000
    assert np.linalg.norm(dw1) > 10 * floor  # a dW1 off by its own size still fails


def test_margin_locate():
    """LOCATE never decides, and it is looser than GRAD_TOL: a gradient that passes has no
    entry LOCATE would point at, so a failure message always points at wrong entries."""
    rng = np.random.default_rng(5)
    for _ in range(100):
        numeric = rng.normal(size=(6, 4)) * 10.0 ** rng.integers(-3, 3, size=(6, 4))
        noise = rng.normal(size=numeric.shape)
        noise *= 0.9 * T.GRAD_TOL * np.linalg.norm(numeric) / np.linalg.norm(noise)
        analytic = numeric + noise
        assert_gradient(analytic, numeric, "dx")
        assert not mismatch(analytic, numeric, T.LOCATE).any()


class Echo:
    """A student process in-process, for the re-check of batches."""

    def __init__(self, source):
        namespace = {}
        exec(source, namespace)
        self.student = LocalStudent(namespace, {"f": ("x",)})


def test_margin_recheck():
    """The same input batched and alone: identical bits for a correct function; a lie is O(1)."""
    honest = Echo("import numpy as np\ndef f(x):\n    return np.tanh(x @ x.T), None\n")
    x = np.random.default_rng(4).normal(size=(6, 5))
    f = Forward(honest.student, "f", pick=0)
    batched = f.many([[x]] * 3)
    alone = f.one([x])
    assert all(not mismatch(b, alone, T.RECHECK).any() and np.array_equal(b, alone)
               for b in batched)
    numerical_gradients(f, [x], [0], np.ones((6, 6)), rng=np.random.default_rng(0))


def test_margin_rechecks():
    """A forward that lies to every call of a batch is caught whichever points are re-asked."""
    liar = Echo("import numpy as np\nimport sys\n"
                "def f(x):\n"
                "    many = any(fr.f_code.co_name == 'call_many' for fr in _frames())\n"
                "    return (np.zeros_like(x) if many else np.sin(x)), None\n"
                "def _frames():\n"
                "    fr = sys._getframe(1)\n"
                "    while fr is not None:\n"
                "        yield fr\n"
                "        fr = fr.f_back\n")
    assert T.RECHECKS >= 1
    for seed in range(5):
        with pytest.raises(Inconsistent, match="answers differently for the same input"):
            numerical_gradients(Forward(liar.student, "f", pick=0), [np.ones(4)], [0],
                                np.ones(4), rng=np.random.default_rng(seed))


def test_margin_false_failure():
    """The dropped-fraction interval: exact false-failure probability below the bound, and a
    swapped convention far outside."""
    for n, p in ((20000, 0.1), (20000, 0.8), (40000, 0.5)):
        lo, hi = binomial_interval(n, p)
        assert binomial_outside_probability(n, p, lo, hi) < T.FALSE_FAILURE
        assert p == 0.5 or not lo <= 1 - p <= hi
    lo, hi = dropout.variance_ratio_interval(100, 0.5, 400)
    inner = dropout.count_variance_interval(100, 0.5, 400)
    assert lo <= inner[0] < 1 < inner[1] <= hi  # widened for the estimated rate, never narrowed


def test_margin_sum_to_zero():
    bn = ref("batchnorm")
    worst = 0.0
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        x, gamma, beta = bn_batch(rng, 9, 4)
        dout = rng.normal(size=x.shape)
        dx = bn.batchnorm_backward(dout, bn.batchnorm_forward(x, gamma, beta)[1])[0]
        worst = max(worst, np.max(np.abs(dx.sum(0)) / np.abs(dx).sum(0)))
    assert worst < T.SUM_TO_ZERO / 100
    g = dout * gamma
    no_mean = (g - batchnorm.normalize(x, 1.0, 0.0) * (g * batchnorm.normalize(x, 1.0, 0.0))
               .mean(0)) / np.sqrt(x.var(0) + 1e-5)
    assert np.max(np.abs(no_mean.sum(0)) / np.abs(no_mean).sum(0)) > 1e6 * T.SUM_TO_ZERO


def test_margin_variance_path():
    bn = ref("batchnorm")
    worst, bug = 0.0, math.inf
    for seed in SEEDS:
        rng = np.random.default_rng(seed)
        x, gamma, beta = batchnorm.batch(rng, 9, 4), *batchnorm.params(rng, 4)
        dout = rng.normal(size=x.shape)
        dx = bn.batchnorm_backward(dout, bn.batchnorm_forward(x, gamma, beta)[1])[0]
        centered = x - x.mean(0)
        size = (np.abs(dx) * np.abs(centered)).sum(0)
        worst = max(worst, np.max(np.abs((dx * centered).sum(0)) / size))
        g = dout * gamma
        no_var = (g - g.mean(0)) / np.sqrt(x.var(0) + 1e-5)
        size = (np.abs(no_var) * np.abs(centered)).sum(0)
        bug = min(bug, np.max(np.abs((no_var * centered).sum(0)) / size))
    assert worst < T.VARIANCE_PATH / 100
    assert bug > 5 * T.VARIANCE_PATH


def test_margin_long_sequence_cpu():
    """The slowest correct ema at T = LONG_T against the CPU limit of that call, and a weighted
    sum recomputed at every step (timed at T = 10000, then scaled by (LONG_T / 10000)^2, which
    understates it: its powers get slower as t grows)."""
    import time
    from conftest import CORPUS
    from corpus import bugs_of
    from grader.checks.topics import moving_average
    thetas = np.random.default_rng(0).normal(size=moving_average.LONG_T)
    slowest = 0.0
    for path in [SOLUTIONS + "/moving_average.py", *sorted(
            str(p) for p in (CORPUS / "moving_average").glob("correct_*.py"))]:
        namespace = {"__name__": "alternative"}
        exec(compile(open(path).read(), path, "exec"), namespace)
        for fn in ("ema", "ema_bias_corrected"):
            start = time.process_time()
            namespace[fn](thetas.copy(), moving_average.LONG_BETA)
            slowest = max(slowest, time.process_time() - start)
    assert slowest < T.LONG_SEQUENCE_CPU / 5
    quadratic = next(b for b in bugs_of("moving_average") if "O(T^2)" in b["name"])
    namespace = {"np": np, "__name__": "bug"}
    exec(quadratic["code"], namespace)
    start = time.process_time()
    namespace["ema_bias_corrected"](thetas[:10000].copy(), moving_average.LONG_BETA)
    assert (time.process_time() - start) * (moving_average.LONG_T / 10000) ** 2 \
        > 2 * T.LONG_SEQUENCE_CPU

