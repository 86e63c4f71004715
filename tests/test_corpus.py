"""The corpus: realistic buggy implementations must lose points, with the failing check naming
the function that is wrong and saying what is wrong; other correct implementations must get full
marks under 20 seeds."""
import pytest

from checking import check_source
from conftest import CORPUS, failing, reference_source
from corpus import bugs_of
from grader.checks.core import first_sentence

TOPICS = ("cross_entropy", "matrix_calculus", "backprop", "relu", "moving_average", "batchnorm",
          "dropout", "residual")
MIN_BUGS = {"relu": 7, "moving_average": 7, "cross_entropy": 12, "batchnorm": 12}  # others: 10
SEEDS = range(20)


BUGS = [(topic, bug) for topic in TOPICS for bug in bugs_of(topic)]
CORRECT = sorted(p for topic in TOPICS for p in (CORPUS / topic).glob("correct_*.py"))


@pytest.mark.parametrize("topic", TOPICS)
def test_corpus_is_big_enough(topic):
    assert len(bugs_of(topic)) >= MIN_BUGS.get(topic, 10)
    assert len(list((CORPUS / topic).glob("correct_*.py"))) >= 3


@pytest.fixture(scope="module")
def checked(checker, tmp_path_factory):
    """checked(topic, source) -> CheckResults of every check, run through the sandbox by
    run_checks. Results are kept, so that the tests below grade each bug once."""
    folder, done = tmp_path_factory.mktemp("checked"), {}

    def run(topic, source, seed=0):
        if (topic, source, seed) not in done:
            done[topic, source, seed] = check_source(checker, folder, topic, source, seed)
        return done[topic, source, seed]
    return run


def bug_source(topic, bug):
    # A bug is one function (or a few) written over the reference solution.
    return reference_source(topic) + "\n\n" + bug["code"]


@pytest.mark.parametrize("topic,bug", BUGS, ids=[f"{t}:{b['name']}" for t, b in BUGS])
def test_bug_loses_points_with_its_cause_in_the_first_sentence(checked, topic, bug):
    results = checked(topic, bug_source(topic, bug))
    assert sum(r.score for r in results) < sum(r.max_score for r in results)
    assert not any(r.grader_error for r in results), [r.message for r in results]
    named = [r for r in results if r.function == bug["function"] and not r.passed]
    assert named, f"no failing check names {bug['function']}: {[r.message for r in results]}"
    if bug.get("message"):
        firsts = [first_sentence(r.message).lower() for r in named]
        assert any(bug["message"].lower() in f for f in firsts), \
            f"expected {bug['message']!r} in the first sentence of one of: {firsts}"


@pytest.mark.parametrize("topic", TOPICS)
def test_a_single_function_bug_costs_nothing_outside_its_function(checked, topic):
    """Points lost by checks of other functions: none, except (1) checks that could not be
    judged because the buggy function's result is unusable (they name it), and (2) the bugs
    marked `also_charges`, whose unchanged backward is the gradient of neither forward."""
    figures = []
    for bug in bugs_of(topic):
        results = checked(topic, bug_source(topic, bug))
        outside = [r for r in results if r.function != bug["function"] and r.score < r.max_score]
        unjudged = [r for r in outside if r.waits_for]
        judged = [r for r in outside if not r.waits_for]
        assert all(r.waits_for == bug["function"] for r in unjudged), \
            (bug["name"], [(r.name, r.message) for r in unjudged])
        assert all(r.message.startswith("not judged") for r in unjudged)
        if not bug.get("also_charges"):
            assert not judged, (bug["name"], [(r.name, r.message) for r in judged])
        figures.append((bug["name"], sum(r.max_score - r.score for r in judged),
                        sum(r.max_score - r.score for r in unjudged)))
    print(f"\n{topic}: points lost outside the buggy function (judged, not judged):")
    for name, judged_loss, unjudged_loss in figures:
        if judged_loss or unjudged_loss:
            print(f"  {judged_loss:5.2f} {unjudged_loss:5.2f}  {name}")


@pytest.mark.parametrize("path", CORRECT, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_correct_alternative_gets_full_marks_under_20_seeds(grade, path):
    topic = path.parent.name
    for seed in SEEDS:
        result, = grade({f"{topic}.py": path.read_text()}, seed=seed)
        assert result["score"] == result["max_score"], (seed, failing(result))


@pytest.mark.parametrize("topic", TOPICS)
def test_reference_gets_full_marks_under_20_seeds(grade, topic):
    for seed in SEEDS:
        result, = grade({f"{topic}.py": reference_source(topic)}, seed=seed)
        assert result["score"] == result["max_score"] == 10, (seed, failing(result))


# Seeds at which round-off once cost correct code points (found by sweeping 20000 seeds): the
# tolerances now allow for it, and these seeds keep them honest.
HARD_SEEDS = {"cross_entropy": (516, 6281), "matrix_calculus": (569, 4422),
              "relu": (63, 84)}  # relu: a (1, 1) input once made a grader error


@pytest.mark.parametrize("topic", HARD_SEEDS)
def test_correct_code_gets_full_marks_at_seeds_that_once_were_hard(grade, topic):
    sources = {f"{p.stem}_{topic}.py": p.read_text() for p in (CORPUS / topic).glob("correct_*.py")}
    sources[f"reference_{topic}.py"] = reference_source(topic)
    for seed in HARD_SEEDS[topic]:
        for result in grade(sources, seed=seed):
            assert result["score"] == result["max_score"], (seed, result["submission"],
                                                            failing(result))


NAN_SUBMISSIONS = {
    "matrix_calculus": """
import numpy as np
V = float("{v}")
def numerical_jacobian(f, x, h=1e-6): return np.full((len(f(x)), len(x)), V)
def sigmoid_jacobian(z): return np.full((len(z), len(z)), V)
def softmax_jacobian(z): return np.full((len(z), len(z)), V)
def chain_jacobians(jacobians): return np.full((jacobians[-1].shape[0], jacobians[0].shape[1]), V)
def scalar_chain_grad(jacobians, grad_out): return np.full(jacobians[0].shape[1], V)
""",
    "backprop": """
import numpy as np
V = float("{v}")
def sigmoid(z): return np.full(z.shape, V)
def sigmoid_prime(z): return np.full(z.shape, V)
def mlp_forward(params, x): return np.full((len(x), params[-1][0].shape[0]), V)
def output_delta(a_L, y, z_L): return np.full(a_L.shape, V)
def hidden_delta(delta_next, W_next, z): return np.full(z.shape, V)
def layer_grads(delta, a_prev):
    return np.full((delta.shape[1], a_prev.shape[1]), V), np.full(delta.shape[1], V)
def mlp_loss_and_grads(params, x, y):
    return V, [(np.full(w.shape, V), np.full(b.shape, V)) for w, b in params]
""",
    "relu": """
import numpy as np
V = float("{v}")
def relu_forward(x): return np.full(x.shape, V), None
def relu_backward(dout, cache): return np.full(dout.shape, V)
""",
    "moving_average": """
import numpy as np
V = float("{v}")
def ema(thetas, beta): return np.full(np.shape(thetas), V)
def ema_bias_corrected(thetas, beta): return np.full(np.shape(thetas), V)
""",
    "dropout": """
import numpy as np
V = float("{v}")
def dropout_forward(x, p, train=True, rng=None): return np.full(x.shape, V), None
def dropout_backward(dout, cache): return np.full(dout.shape, V)
""",
    "residual": """
import numpy as np
V = float("{v}")
def residual_forward(x, W1, b1, W2, b2):
    return np.full(x.shape, V), (W1.shape, b1.shape, W2.shape, b2.shape)
def residual_backward(dout, cache):
    return (np.full(dout.shape, V),) + tuple(np.full(s, V) for s in cache)
""",
    "cross_entropy": """
import numpy as np
V = float("{v}")
def cross_entropy(p, q): return V
def empirical_cross_entropy(samples, q): return V
def softmax(logits): return np.full(logits.shape, V)
def softmax_cross_entropy(logits, labels): return V, np.full(logits.shape, V)
""",
    "batchnorm": """
import numpy as np
V = float("{v}")
def batchnorm_forward(x, gamma, beta, eps=1e-5): return np.full(x.shape, V), None
def batchnorm_backward(dout, cache):
    return np.full(dout.shape, V), np.full(dout.shape[1], V), np.full(dout.shape[1], V)
def update_running_stats(running_mean, running_var, x, momentum=0.9):
    return np.full(running_mean.shape, V), np.full(running_var.shape, V)
def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
    return np.full(x.shape, V)
""",
}


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
@pytest.mark.parametrize("topic", TOPICS)
def test_non_finite_answers_never_pass_a_check(grade, topic, value):
    result, = grade({f"{topic}.py": NAN_SUBMISSIONS[topic].format(v=value)})
    passed = [c["name"] for c in result["checks"] if c["passed"]]
    allowed = {"cross_entropy: zero probabilities"} if value == "inf" else set()
    assert set(passed) <= allowed, passed
