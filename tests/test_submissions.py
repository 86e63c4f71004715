"""Reading submissions as students really leave them, and refusing bad files clearly."""
import json

import pytest

from conftest import failing, notebook, reference_source, split_functions
from grader.course import submissions


def test_notebook_as_students_leave_it_gets_full_marks(grade):
    parts = split_functions(reference_source("cross_entropy"))
    cells = [
        "%matplotlib inline\n%load_ext autoreload",
        "!pip install numpy\nfiles = !ls",
        "import numpy as np\nprint('hello')",
        "1 / 0",                                             # a cell that raises
        "name = input('your name? ')",                       # EOF at once, never hangs
        "import matplotlib.pyplot as plt\nplt.plot([1, 2, 3])\nplt.show()\nplt.savefig('a.png')",
        "%timeit sum(range(10))",
        "for i in range(100000):\n    print('scratch output', i)",
        "# md Some markdown that is not code",
        "%%time\n" + parts[1],                              # a definition inside a cell magic
        *parts[2:],
        "from grader import check\ncheck('cross_entropy')",  # the self-check does nothing here
        "import sys\nsys.exit(0)",                          # later cells still run
        "if __name__ == '__main__':\n    ran_main = True",
    ]
    result, = grade({"mine.ipynb": notebook(*cells, topic="cross_entropy")})
    assert result["error"] is None
    assert result["score"] == result["max_score"], failing(result)
    notes = " | ".join(result["load_errors"])
    assert "ZeroDivisionError: division by zero (cell 4, line 1: 1 / 0)" in notes
    assert "EOFError" in notes and "SystemExit" in notes


def test_a_scratch_cell_that_never_ends_is_stopped_and_the_rest_still_runs(grade):
    parts = split_functions(reference_source("batchnorm"))
    cells = [parts[0], "while True:\n    pass", *parts[1:]]
    result, = grade({"nb.ipynb": notebook(*cells, topic="batchnorm")})
    assert result["score"] == result["max_score"], failing(result)
    assert any("ran longer than" in e for e in result["load_errors"])


def test_version_3_notebooks_are_read(grade):
    from nbformat import v3
    cells = [v3.new_code_cell(input=c) for c in split_functions(reference_source("batchnorm"))]
    nb = v3.new_notebook(worksheets=[v3.new_worksheet(cells=cells)])
    result, = grade({"old_batchnorm.ipynb": v3.writes_json(nb)})
    assert result["topic"] == "batchnorm"
    assert result["score"] == result["max_score"], failing(result)


def test_a_module_that_fails_halfway_keeps_what_it_defined(grade):
    parts = split_functions(reference_source("cross_entropy"))
    source = "\n\n".join(parts[:3]) + "\n\nraise RuntimeError('oops')\n\n" + "\n\n".join(parts[3:])
    result, = grade({"cross_entropy.py": source})
    by_fn = {c["function"]: c for c in result["checks"]}
    assert by_fn["cross_entropy"]["passed"]
    assert "softmax_cross_entropy is not defined" in by_fn["softmax_cross_entropy"]["message"]
    assert "your code raised RuntimeError: oops" in by_fn["softmax_cross_entropy"]["message"]
    assert any("RuntimeError: oops" in e for e in result["load_errors"])


def test_syntax_errors_are_reported_with_the_line(grade):
    result, = grade({"batchnorm.py": "import numpy as np\n\ndef batchnorm_forward(x, gamma, beta:\n    pass\n"})
    assert result["score"] == 0
    assert any("SyntaxError" in e and "line 3" in e for e in result["load_errors"])
    assert "batchnorm_forward is not defined" in result["checks"][0]["message"]


def test_misspelled_function_names_get_a_hint(grade):
    source = reference_source("batchnorm").replace("def batchnorm_backward", "def batchnorm_backwards")
    result, = grade({"batchnorm.py": source})
    messages = [c["message"] for c in failing(result)]
    assert any("did you mean batchnorm_backwards?" in m for m in messages)


@pytest.mark.parametrize("name,content,reason", [
    ("empty_batchnorm.py", b"", "is empty"),
    ("blank_batchnorm.py", b"  \n\n\t\n", "is empty"),
    ("batchnorm.py", b"\x7fELF\x02\x01\x01\x00\x00\x00", "is a binary file"),
    ("batchnorm.ipynb", b"{not json", "is not a readable notebook"),
    ("batchnorm.ipynb", json.dumps({"cells": []}).encode(), "is not a readable notebook"),
    ("latin1_batchnorm.py", "x = 'caf\xe9'".encode("latin-1"), "is not UTF-8 text"),
    ("notes.py", b"x = 1\n", "names no topic"),
    ("batchnorm.txt", b"x = 1\n", "is not a .py module or an .ipynb notebook"),
    ("softmax_batchnorm_cross_entropy.py", b"x = 1\n", "names no topic"),
])
def test_bad_files_get_a_one_line_error(tmp_path, name, content, reason):
    path = tmp_path / name
    path.write_bytes(content)
    sub = submissions.load(str(path))
    assert sub.error and reason in sub.error and "\n" not in sub.error


def test_wrong_language_and_empty_notebooks(tmp_path):
    r = tmp_path / "batchnorm_r.ipynb"
    r.write_text(notebook("x <- 1", topic="batchnorm", language="R"))
    assert "is a R notebook, not a Python one" in submissions.load(str(r)).error
    empty = tmp_path / "batchnorm_empty.ipynb"
    empty.write_text(notebook("# md only words", topic="batchnorm"))
    assert "has no code cells" in submissions.load(str(empty)).error


def test_missing_paths_and_empty_folders_still_get_a_result(tmp_path):
    (tmp_path / "empty").mkdir()
    found = submissions.find([str(tmp_path / "nope.py"), str(tmp_path / "empty")])
    errors = [submissions.load(f).error for f in found]
    assert "no such file" in errors[0] and "is a folder with no .py or .ipynb files" in errors[1]


def test_topic_comes_from_option_then_metadata_then_name(tmp_path):
    path = tmp_path / "06_batchnorm.ipynb"
    path.write_text(notebook("x = 1", topic="cross_entropy"))
    assert submissions.load(str(path)).topic == "cross_entropy"
    assert submissions.load(str(path), topic="batchnorm").topic == "batchnorm"
    path.write_text(notebook("x = 1"))
    assert submissions.load(str(path)).topic == "batchnorm"
    folder = tmp_path / "cross_entropy"
    folder.mkdir()
    (folder / "alice.py").write_text("x = 1")
    assert submissions.load(str(folder / "alice.py")).topic == "cross_entropy"


def test_folders_are_searched_recursively_without_checkpoints(tmp_path):
    (tmp_path / "a" / ".ipynb_checkpoints").mkdir(parents=True)
    (tmp_path / "a" / "batchnorm.py").write_text("x = 1")
    (tmp_path / "a" / ".ipynb_checkpoints" / "batchnorm-checkpoint.ipynb").write_text("{}")
    (tmp_path / "a" / "readme.md").write_text("hi")
    (tmp_path / "b.ipynb").write_text("{}")
    found = submissions.find([str(tmp_path)])
    assert [f.replace(str(tmp_path), "") for f in found] == ["/a/batchnorm.py", "/b.ipynb"]


@pytest.mark.parametrize("path, given, expected", [
    ("course/submitted/ada/06_batchnorm/06_batchnorm.ipynb", "course/submitted",
     ("ada", "06_batchnorm")),
    ("course/submitted/ada/06_batchnorm/sub/x.py", None, ("ada", "06_batchnorm")),
    ("examples/ada/01_cross_entropy.ipynb", "examples", ("ada", "01_cross_entropy")),
    ("examples/ada/deep/relu.py", "examples", ("ada", "relu")),
    ("examples/ada/relu.py", "examples/ada", ("relu", "relu")),
    ("bob_relu.py", "bob_relu.py", ("bob_relu", "bob_relu")),
    ("/tmp/x/bob_relu.py", None, ("bob_relu", "bob_relu")),
    # a student cannot pass a file off as another's by nesting a submitted/ folder
    ("c/submitted/mallory/06_relu/submitted/alice/06_relu/relu.py", "c/submitted",
     ("mallory", "06_relu")),
])
def test_identity_comes_from_the_layout(path, given, expected):
    assert submissions.identity(path, given) == expected


def test_every_topic_module_is_listed_once_in_course_order():
    import pkgutil

    import grader.checks.topics as topics
    modules = {m.name for m in pkgutil.iter_modules(topics.__path__)}
    assert modules == set(topics.TOPIC_IDS) and len(topics.TOPIC_IDS) == len(modules)
    assert [m.ID for m in topics.TOPICS.values()] == list(topics.TOPIC_IDS)
