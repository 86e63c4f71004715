"""The student notebooks: as shipped they score 0 without any grader error; solved, full marks."""
import re

import nbformat
import pytest

from conftest import ROOT, filled_notebook, reference_source

NOTEBOOKS = {path.stem[3:]: path for path in sorted((ROOT / "assignments").glob("0*.ipynb"))}


def test_every_topic_has_a_notebook():
    from grader.checks.topics import TOPIC_IDS
    assert sorted(NOTEBOOKS) == sorted(TOPIC_IDS)


@pytest.mark.parametrize("topic", NOTEBOOKS)
def test_skeleton_notebook_scores_zero_without_grader_errors(grade, topic):
    result, = grade({NOTEBOOKS[topic].name: NOTEBOOKS[topic].read_text()})
    assert result["topic"] == topic and result["error"] is None
    assert result["score"] == 0 and result["max_score"] == 10
    for check in result["checks"]:
        assert not check.get("grader_error")
        assert ("is not implemented yet (it raises NotImplementedError)" in check["message"]
                or check["message"].startswith(("because of '", "not judged because of '")))
    said = [c for c in result["checks"] if "is not implemented yet" in c["message"]]
    assert len({c["function"] for c in said}) == len(said)  # once per function
    assert result.get("load_errors", []) == []  # the try-it cells cope with skeletons


@pytest.mark.parametrize("topic", NOTEBOOKS)
def test_solved_notebook_gets_full_marks(grade, topic):
    result, = grade({NOTEBOOKS[topic].name: filled_notebook(NOTEBOOKS[topic], reference_source(topic))})
    assert result["score"] == 10, [c["message"] for c in result["checks"] if not c["passed"]]
    assert result.get("load_errors", []) == []


@pytest.mark.parametrize("topic", NOTEBOOKS)
def test_notebook_declares_its_topic_and_skeletons_match_the_spec(topic):
    from grader.checks.topics import TOPICS
    nb = nbformat.read(str(NOTEBOOKS[topic]), 4)
    nbformat.validate(nb)
    assert nb.metadata["grader"]["topic"] == topic
    code = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
    for fn, params in TOPICS[topic].FUNCTIONS.items():
        signature = f"def {fn}({', '.join(params)}):"
        assert signature in code, signature
    assert re.search(rf'check\("{topic}"\)', code)


@pytest.mark.parametrize("topic", NOTEBOOKS)
def test_try_it_cells_of_a_skeleton_say_what_is_missing(topic):
    """Each "Try it" cell catches NotImplementedError and prints it: the stub's message must say
    something (nbgrader's default stub has none, and the cell printed a blank line)."""
    import contextlib
    import io
    import matplotlib
    matplotlib.use("Agg")
    from grader.checks.topics import TOPICS
    from grader.course.nbgrader import STUB
    nb = nbformat.read(str(NOTEBOOKS[topic]), 4)
    code = [c.source for c in nb.cells if c.cell_type == "code"]
    assert sum(STUB[1] in c for c in code) == len(TOPICS[topic].FUNCTIONS)
    namespace = {"__name__": "__main__"}
    tried = 0
    for source in code:
        if "test(" in source or "check(" in source:
            continue  # the graded cells, tested elsewhere
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(source, "cell", "exec"), namespace)
        if "except NotImplementedError as err" in source:
            tried += 1
            assert "not implemented yet" in out.getvalue(), (source, out.getvalue())
    assert tried >= 2
