"""The notebook self-check: public checks, in the student's own process, no solutions needed."""
import runpy
import time

from conftest import CORPUS, SOLUTIONS
from grader import check


def test_reference_passes_every_public_check_quickly():
    for topic in ("cross_entropy", "batchnorm"):
        namespace = runpy.run_path(str(SOLUTIONS / f"{topic}.py"))
        start = time.perf_counter()
        report = check(topic, namespace)
        assert time.perf_counter() - start < 2
        assert report.score == report.max_score > 0
        assert all(r.passed for r in report.results)
        assert "on the public checks" in repr(report) and "<table>" in report._repr_html_()


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
