"""Each bug is charged once, where it is, with its first cause named: run_checks, and the cases
issue 10 lists, graded through the sandbox."""
import pytest

from checking import check_source
from conftest import reference_source
from corpus import bug_named
from grader.checks.core import Check, Fail, StudentError, run_checks, using


# -- run_checks ---------------------------------------------------------------------------------

def passes(student, rng):
    pass


def fails(message):
    def run(student, rng):
        raise Fail(message)
    return run


def raises(message):
    def run(student, rng):
        raise StudentError(message)
    return run


def needs(function, message):
    def run(student, rng):
        with using(function):
            raise Fail(message)
    return run


def test_a_check_that_cannot_use_another_function_is_not_judged_and_points_at_its_check():
    checks = [Check("forward: values", "forward", 2, fails("out has shape (3,), expected (3, 4)")),
              Check("forward: more values", "forward", 1, passes),
              Check("backward: dx", "backward", 3, needs("forward", "forward returned junk")),
              Check("backward: alone", "backward", 1, passes)]
    results = run_checks(checks, None, "t", 0)
    dx = results[2]
    assert (dx.score, dx.passed, dx.waits_for) == (0.0, False, "forward")
    assert dx.message == ("not judged because of 'forward: values': backward needs a usable "
                          "result of forward, so fix that first")
    assert set(dx.as_json()) == {"name", "function", "score", "max_score", "passed", "message"}
    assert results[3].score == 1


def test_not_judged_without_a_failing_check_to_point_at_says_what_happened():
    checks = [Check("backward: dx", "backward", 3, needs("forward", "forward answers "
                                                          "differently for the same input"))]
    result, = run_checks(checks, None, "t", 0)
    assert result.message == ("not judged: backward needs a usable result of forward, and "
                              "forward answers differently for the same input")


def test_one_cause_is_reported_once():
    checks = [Check("a", "f", 1, fails("out has shape (5,), expected (5, 4). Keep it 2-D")),
              Check("b", "f", 1, fails("out has shape (2,), expected (2, 3). Keep it 2-D")),
              Check("c", "g", 1, fails("out has shape (2,), expected (2, 3)")),
              Check("d", "f", 1, fails("out is all zeros"))]
    a, b, c, d = run_checks(checks, None, "t", 0)
    assert b.message == "because of 'a' (the same cause)" and b.score == 0
    assert c.message == "out has shape (2,), expected (2, 3)"  # another function: its own
    assert d.message == "out is all zeros"


def test_a_call_failure_shared_by_functions_is_reported_once():
    load = "is not defined in your submission (your code raised SyntaxError: invalid syntax)"
    checks = [Check("a", "f", 1, raises(f"f {load}")), Check("b", "g", 1, raises(f"g {load}")),
              Check("c", "g", 1, fails(f"g {load}"))]
    a, b, c = run_checks(checks, None, "t", 0)
    assert a.message == f"f {load}"
    assert b.message == "because of 'a' (the same cause)"
    assert c.message == f"g {load}"  # not a call failure: not the same cause


def test_grader_errors_are_never_folded_into_other_messages():
    def broken(student, rng):
        raise ZeroDivisionError("grader bug")
    a, b = run_checks([Check("a", "f", 1, broken), Check("b", "f", 1, broken)], None, "t", 0)
    assert a.grader_error and b.grader_error
    assert "ZeroDivisionError" in b.message


# -- the cases of issue 10, through the sandbox -------------------------------------------------

@pytest.fixture
def checks(checker, tmp_path):
    """checks(topic, code) -> {check name: CheckResult} for `code` written over the reference."""
    def run(topic, code):
        source = reference_source(topic) + "\n\n" + code
        return {r.name: r for r in check_source(checker, tmp_path, topic, source)}
    return run


def failing(results):
    return {name for name, r in results.items() if not r.passed}


def messages(results):
    return " | ".join(r.message for r in results.values())


def test_missing_inverted_scaling_fails_only_the_scale(checks):
    results = checks("dropout", bug_named("dropout", "no inverted scaling")["code"])
    assert failing(results) == {"forward: kept entries are x / (1 - p)",
                                "hidden: forward at a random rate and shape"}
    assert "not scaled" in results["forward: kept entries are x / (1 - p)"].message


def test_a_mask_from_a_normal_distribution_is_named_as_such(checks):
    bug = bug_named("dropout", "mask drawn from a normal distribution (z < 1 - p)")
    results = checks("dropout", bug["code"])
    rate = results["forward: the dropped fraction is p (p = 0.1 and 0.8)"]
    assert "normal distribution" in rate.message
    assert "correlated" not in messages(results) and "not of keeping" not in messages(results)
    assert results["forward: elements are dropped independently"].passed


def test_a_backward_that_returns_dout_is_not_told_about_new_masks(checks):
    results = checks("dropout", "def dropout_backward(dout, cache):\n    return dout.copy()\n")
    assert "dx is dout unchanged" in results["backward: the forward's mask and scale"].message
    assert "new mask" not in messages(results)


def test_a_wrong_dgamma_shape_says_nothing_about_dx(checks):
    results = checks("batchnorm", '''
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    g = dout * gamma
    dx = inv_std * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0))
    return dx, (dout * x_hat).sum(axis=0, keepdims=True), dout.sum(axis=0)
''')
    for name in ("backward: dx matches the numerical gradient", "backward: uses the cache it is "
                 "given", "backward: dx respects shifting and scaling a feature",
                 "composite: a linear layer before batch norm"):
        assert results[name].passed, results[name].message
    assert "dgamma has shape (1, 3)" in results["backward: dgamma and dbeta match numerical "
                                                "gradients"].message


@pytest.mark.parametrize("forward", [
    # no eps: the backward (unchanged) is the exact gradient of this forward
    '''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    inv_std = 1.0 / np.sqrt(x.var(axis=0))
    x_hat = (x - x.mean(axis=0)) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)
''',
    # float32 arithmetic, returned as float64
    '''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    x32 = x.astype(np.float32)
    inv_std = 1.0 / np.sqrt(x32.var(axis=0) + np.float32(eps))
    x_hat = ((x32 - x32.mean(axis=0)) * inv_std).astype(np.float64)
    return gamma * x_hat + beta, (x_hat, gamma, inv_std.astype(np.float64))
'''], ids=["without eps", "float32"])
def test_a_wrong_but_usable_forward_costs_the_backward_nothing(checks, forward):
    results = checks("batchnorm", forward)
    assert {r.function for name, r in results.items() if not r.passed} == {"batchnorm_forward"}


def test_a_float32_forward_is_named_as_float32(checks):
    results = checks("batchnorm", '''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    x32 = x.astype(np.float32)
    inv_std = 1.0 / np.sqrt(x32.var(axis=0) + np.float32(eps))
    x_hat = ((x32 - x32.mean(axis=0)) * inv_std).astype(np.float64)
    return gamma * x_hat + beta, (x_hat, gamma, inv_std.astype(np.float64))
''')
    identities = results["forward: out has mean beta and variance gamma^2 var/(var+eps)"]
    assert "float32" in identities.message
    assert "such as eps" not in messages(results)


def test_a_backward_axis_mistake_is_named_and_not_blamed_on_the_mean(checks):
    results = checks("batchnorm", '''
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    g = dout * gamma
    dx = inv_std * (g - g.mean(axis=1, keepdims=True)
                    - x_hat * (g * x_hat).mean(axis=1, keepdims=True))
    return dx, (dout * x_hat).sum(axis=0), dout.sum(axis=0)
''')
    assert "axis=1" in results["backward: dx matches the numerical gradient"].message
    assert "mean is missing" not in messages(results)


def test_relu_forward_without_a_cache_is_reported_once(checks):
    results = checks("relu", "def relu_forward(x):\n    return np.maximum(x, 0)\n")
    first = results["forward: max(x, 0) for batches of several shapes"]
    assert first.message.startswith("relu_forward should return 2 values (out, cache)")
    for name, r in results.items():
        if r is first:
            continue
        assert r.message.startswith(("because of 'forward: max(x, 0)",
                                     "not judged because of 'forward: max(x, 0)")), r.message


def test_a_syntax_error_is_reported_once(checker, tmp_path):
    results = check_source(checker, tmp_path, "relu", "import numpy as np\ndef relu_forward(x)\n")
    assert "SyntaxError" in results[0].message
    assert all(r.message.startswith(("because of ", "not judged because of "))
               for r in results[1:]), [r.message for r in results]


def test_a_relu_backward_sign_error_is_not_blamed_on_changing_dout(checks):
    results = checks("relu", "def relu_backward(dout, cache):\n    return -dout * (cache > 0)\n")
    assert results["backward: leaves dout unchanged"].passed
    gradient = results["backward: dx matches the numerical gradient away from 0"]
    assert "wrong sign" in gradient.message


def test_layer_grads_averaging_costs_the_composite_nothing(checks):
    results = checks("backprop", '''
def layer_grads(delta, a_prev):
    return delta.T @ a_prev / len(delta), delta.mean(axis=0)
''')
    assert {r.function for r in results.values() if not r.passed} == {"layer_grads"}
    assert "output_delta" not in messages(results)


def test_ema_bias_corrected_is_judged_on_its_own_step(checks):
    bug = bug_named("moving_average", "ema starts from v_1 = theta_1")
    results = checks("moving_average", bug["code"])
    assert {r.function for r in results.values() if not r.passed} == {"ema"}


def test_two_dropout_layers_keep_their_own_rates(checks):
    bug = bug_named("dropout", "backward uses the rate of the last forward call (kept in a global)")
    results = checks("dropout", bug["code"])
    assert not results["backward: the forward's mask and scale"].passed
    assert {r.function for r in results.values() if not r.passed} == {"dropout_backward"}


def test_an_unusable_forward_leaves_the_backward_unjudged_with_no_points(checks):
    results = checks("relu", "def relu_forward(x):\n    return np.maximum(x, 0)\n")
    backward = [r for r in results.values() if r.function == "relu_backward"]
    assert backward and all(r.waits_for == "relu_forward" and r.score == 0 for r in backward)


def test_a_forward_that_changes_its_input_costs_its_own_points_only(checks):
    """Changing x in place is the forward's mistake: its checks say so, and the backward is
    judged on the cache that forward returned (here a usable one)."""
    results = checks("relu", "def relu_forward(x):\n    x[x < 0] = 0\n    return x, x.copy()\n")
    assert failing(results) and {results[n].function for n in failing(results)} == {"relu_forward"}
    assert any("in place" in results[n].message for n in failing(results))


def test_a_backward_that_fails_on_the_cache_of_a_forward_that_changes_its_input_is_not_judged(
        checks):
    """The forward adds into x through an alias, so its cache no longer holds the input; the
    (correct) backward gets it wrong, and cannot be blamed: not judged, naming the forward."""
    alias = bug_named("residual", "forward adds into x through an alias")
    results = checks("residual", alias["code"])
    unjudged = [r for r in results.values() if r.function == "residual_backward" and not r.passed]
    assert unjudged and all(r.waits_for == "residual_forward" and r.score == 0 for r in unjudged)
    assert all("not judged" in r.message for r in unjudged)


# -- found by a review: the request must not say how a call will be judged ----------------------

PEEK = '''
import sys

def _judged_strictly():
    """What a submission could learn from the call request, if it said how a change to the
    arguments would be taken: a different answer when another function's check calls it."""
    frame = sys._getframe(1)
    while frame is not None:
        if "mutation" in frame.f_locals or "req" in frame.f_locals:
            seen = frame.f_locals.get("mutation") or frame.f_locals.get("req", {}).get("mutation")
            if seen is not None:
                return seen != "report"
        frame = frame.f_back
    return True
'''


def test_a_helper_cannot_tell_which_check_calls_it(checks):
    """A composite that is not done (zero gradients) may pass as 'right given its parts' only
    if its parts give zeros too; a part that gives zeros only when another check calls it must
    not turn that into full marks."""
    results = checks("backprop", PEEK + '''
def layer_grads(delta, a_prev):
    if not _judged_strictly():
        return np.zeros((delta.shape[1], a_prev.shape[1])), np.zeros(delta.shape[1])
    return delta.T @ a_prev, delta.sum(axis=0)

def mlp_loss_and_grads(params, x, y):
    activations = [x]
    for w, b in params:
        activations.append(sigmoid(activations[-1] @ w.T + b))
    loss = 0.5 * float(np.sum((activations[-1] - y) ** 2))
    return loss, [(np.zeros_like(w), np.zeros_like(b)) for w, b in params]
''')
    assert not all(r.passed for r in results.values() if r.function == "mlp_loss_and_grads")


def test_a_function_that_changes_its_own_input_is_charged_whatever_its_parts_do(checks):
    """ema_bias_corrected writes its result into thetas; an ema that changes thetas too (here
    only when it could tell that another check calls it) does not excuse it."""
    results = checks("moving_average", PEEK + '''
def ema(thetas, beta):
    thetas = np.asarray(thetas, dtype=float)
    v, prev = np.empty_like(thetas), np.zeros(thetas.shape[1:])
    for t in range(len(thetas)):
        prev = beta * prev + (1 - beta) * thetas[t]
        v[t] = prev
    if not _judged_strictly():
        thetas[...] = 0
    return v

def ema_bias_corrected(thetas, beta):
    v = ema(thetas.copy(), beta)
    t = np.arange(1, len(v) + 1).reshape((-1,) + (1,) * (v.ndim - 1))
    thetas[...] = v / (1 - beta ** t)
    return thetas
''')
    corrected = [r for r in results.values() if r.function == "ema_bias_corrected"]
    assert sum(r.score for r in corrected) < sum(r.max_score for r in corrected)
    assert all(r.passed for r in results.values() if r.function == "ema")


def test_a_part_looked_at_for_an_excuse_does_not_hide_the_real_cause(checks):
    """ema changes thetas in place; ema_bias_corrected does not use it and divides by the wrong
    power: its message names its own mistake, not ema's."""
    results = checks("moving_average", bug_named("moving_average", "ema overwrites thetas through "
                                                 "an alias")["code"] + '''
def ema_bias_corrected(thetas, beta):
    thetas = np.asarray(thetas, dtype=float)
    out, v = np.empty_like(thetas), np.zeros(thetas.shape[1:])
    for t in range(1, len(thetas) + 1):
        v = beta * v + (1 - beta) * thetas[t - 1]
        out[t - 1] = v / (1 - beta ** (t + 1))
    return out
''')
    first = next(r for r in results.values()
                 if r.function == "ema_bias_corrected" and not r.passed)
    assert not first.waits_for and "1 - beta^(t+1)" in first.message


def test_a_part_that_remembers_what_the_composite_was_given_excuses_nothing(checks):
    """ema_bias_corrected returns zeros; ema is right, except for inputs it has seen
    ema_bias_corrected receive, where it returns zeros too, so that the composite would look
    right given its parts. Parts are asked in a fresh worker, which has seen nothing."""
    results = checks("moving_average", '''
_SEEN = []

def ema(thetas, beta):
    thetas = np.asarray(thetas, dtype=float)
    if any(s.shape == thetas.shape and np.array_equal(s, thetas) for s in _SEEN):
        return np.zeros_like(thetas)
    v, prev = np.empty_like(thetas), np.zeros(thetas.shape[1:])
    for t in range(len(thetas)):
        prev = beta * prev + (1 - beta) * thetas[t]
        v[t] = prev
    return v

def ema_bias_corrected(thetas, beta):
    _SEEN.append(np.array(thetas, dtype=float))
    return np.zeros(np.shape(thetas))
''')
    corrected = [r for r in results.values() if r.function == "ema_bias_corrected"]
    assert sum(r.score for r in corrected) == 0, [(r.name, r.message) for r in corrected
                                                  if r.passed]


def test_a_forward_cannot_tell_its_own_checks_from_a_backward_check_asking_it(checks):
    """relu_forward answers honestly when called the way its own checks call it and as the
    identity otherwise, so that a backward returning dout unchanged would look right for 'its
    own forward'. Every single call of a function looks the same, so this earns nothing."""
    results = checks("relu", '''
import sys

def relu_forward(x):
    frame = sys._getframe(1)
    while frame is not None and "req" not in frame.f_locals:
        frame = frame.f_back
    req = frame.f_locals["req"] if frame is not None else {}
    if req.get("opaque") != [1] or req.get("pick") is not None:
        return x.copy(), None
    return np.maximum(x, 0), x.copy()

def relu_backward(dout, cache):
    return dout.copy()
''')
    backward = [r for r in results.values() if r.function == "relu_backward"]
    forward = [r for r in results.values() if r.function == "relu_forward"]
    assert sum(r.score for r in backward) <= 0.5 * sum(r.max_score for r in backward)
    assert all(r.passed for r in forward)


def test_a_forward_that_counts_its_calls_cannot_excuse_its_backward(checks):
    """relu_forward is right for its first calls (its own checks come first) and the identity
    afterwards, when a backward check asks it, so that a backward returning dout unchanged would
    look right for 'its own forward'. From the loaded state it is right again: no excuse."""
    results = checks("relu", '''
_CALLS = [0]

def relu_forward(x):
    _CALLS[0] += 1
    if _CALLS[0] > 8:
        return x.copy(), None
    return np.maximum(x, 0), x.copy()

def relu_backward(dout, cache):
    return dout.copy()
''')
    backward = [r for r in results.values() if r.function == "relu_backward"]
    gradient = [r for r in backward if "gradient" in r.name and not r.name.startswith("hidden")]
    assert gradient and not any(r.passed for r in gradient), [(r.name, r.message) for r in gradient]
