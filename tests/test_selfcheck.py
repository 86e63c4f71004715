"""The notebook self-check: public checks, in the student's own process, no solutions needed."""
import runpy

import pytest

from conftest import CORPUS, SOLUTIONS
from grader import check
from grader.checks.topics import TOPICS


@pytest.mark.parametrize("topic", TOPICS)
def test_reference_passes_every_public_check_without_solutions(topic, monkeypatch):
    import grader.course.grading
    monkeypatch.setattr(grader.course.grading, "find_solutions", lambda *a: 1 / 0)  # never needed
    namespace = runpy.run_path(str(SOLUTIONS / f"{topic}.py"))
    report = check(topic, namespace)  # its time: benchmarks/selfcheck.py
    assert report.score == report.max_score > 0
    assert all(r.passed for r in report.results)
    assert "on the public checks" in repr(report) and "<table>" in report._repr_html_()


def test_a_skeleton_says_not_implemented_for_every_check():
    namespace = {}
    exec("def relu_forward(x):\n    raise NotImplementedError()\n"
         "def relu_backward(dout, cache):\n    raise NotImplementedError()\n", namespace)
    report = check("relu", namespace)
    assert report.score == 0
    assert all("not implemented yet" in r.message or "because of '" in r.message
               for r in report.results)
    assert "relu_forward is not implemented yet" in report.results[0].message


def test_a_change_in_place_is_reported_as_the_grader_would():
    namespace = runpy.run_path(str(SOLUTIONS / "relu.py"))
    exec("def relu_backward(dout, cache):\n    dout[cache <= 0] = 0\n    return dout\n", namespace)
    report = check("relu", namespace)
    assert "relu_backward modified its argument dout in place" in repr(report)


def test_a_bug_is_reported_with_what_to_fix():
    namespace = runpy.run_path(str(SOLUTIONS / "batchnorm.py"))
    exec("def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):\n"
         "    return gamma * (x - x.mean(0)) / np.sqrt(x.var(0) + eps) + beta\n", namespace)
    report = check("batchnorm", namespace)
    assert report.score < report.max_score
    assert "FIX" in repr(report) and "batch's own statistics" in repr(report)


def test_missing_functions_and_skeletons_say_so():
    report = check("cross_entropy", {"cross_entropy": lambda p, q: (_ for _ in ()).throw(NotImplementedError())})
    text = repr(report)
    assert "cross_entropy is not implemented yet" in text
    assert "softmax is not defined yet" in text


def test_check_reads_the_callers_namespace():
    namespace = runpy.run_path(str(CORPUS / "cross_entropy" / "correct_logsumexp.py"))
    namespace["check"] = check
    exec("report = check('cross_entropy')", namespace)
    assert namespace["report"].score == namespace["report"].max_score
