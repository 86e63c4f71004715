"""Reading submissions as students really leave them, and refusing bad files clearly."""
import json

import pytest

from conftest import ROOT, failing, notebook, reference_source, split_functions
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
    missing = [c for c in result["checks"] if c["function"] in ("softmax", "softmax_cross_entropy")]
    assert missing and not any(c["passed"] for c in missing)
    # said once, where it first shows; the other checks point there (the same cause)
    first = missing[0]["message"]
    assert " is not defined in your submission (running your code failed before it got there: " \
           "RuntimeError: oops" in first
    assert all(c["message"].startswith("because of '") for c in missing[1:])
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
    assert "is a notebook in R, not in Python" in submissions.load(str(r)).error
    empty = tmp_path / "batchnorm_empty.ipynb"
    empty.write_text(notebook("# md only words", topic="batchnorm"))
    assert "has no code cells" in submissions.load(str(empty)).error


def test_missing_files_and_empty_folders_still_get_a_result(tmp_path):
    (tmp_path / "empty").mkdir()
    found = submissions.find([str(tmp_path / "nope.py"), str(tmp_path / "empty")])
    errors = [submissions.load(f, None, given).error for f, given in found]
    assert errors == ["nope.py does not exist", "empty is a folder with no .py or .ipynb files"]


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
    assert [f.replace(str(tmp_path), "") for f, _ in found] == ["/a/batchnorm.py", "/b.ipynb"]


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


def test_each_file_is_graded_once_however_often_it_is_named(tmp_path):
    (tmp_path / "ann").mkdir()
    (tmp_path / "ann" / "relu.py").write_text("x = 1")
    (tmp_path / "bob_relu.py").write_text("x = 1")
    found = submissions.find([str(tmp_path / "ann" / "relu.py"), str(tmp_path),
                              str(tmp_path / "ann") + "/", str(tmp_path / "bob_relu.py")])
    assert [f.replace(str(tmp_path), "") for f, _ in found] == ["/ann/relu.py", "/bob_relu.py"]


# -- files a student may plant: links, FIFOs, hostile notebooks ----------------------------------

def test_a_symbolic_link_is_an_error_and_is_never_read(tmp_path):
    secret = tmp_path / "secret.py"
    secret.write_text("TOKEN = 'do-not-leak'\n")
    student = tmp_path / "class" / "mallory"
    student.mkdir(parents=True)
    (student / "relu.py").symlink_to(secret)
    (student / "linked_folder").symlink_to(tmp_path, target_is_directory=True)
    found = submissions.find([str(tmp_path / "class")])
    names = [f.replace(str(tmp_path / "class"), "") for f, _ in found]
    assert names == ["/mallory/relu.py"]  # the linked folder is not descended into
    sub = submissions.load(*found[0])
    assert sub.error == "relu.py is a symbolic link (links are not followed: hand in the file itself)"
    assert sub.cells == [] and sub.digest == ""


def test_a_linked_folder_with_a_submission_name_gets_an_error(tmp_path):
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "relu.py").write_text("x = 1")
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "relu.py").symlink_to(tmp_path / "real", target_is_directory=True)
    found = submissions.find([str(tmp_path / "class")])
    assert [f for f, _ in found] == [str(tmp_path / "class" / "relu.py")]
    assert "is a symbolic link" in submissions.load(*found[0]).error


def test_fifos_are_refused_without_blocking(tmp_path):
    import os
    os.mkfifo(tmp_path / "relu.py")  # nobody ever writes: reading it would block forever
    sub = submissions.load(str(tmp_path / "relu.py"))
    assert sub.error == "relu.py is not a regular file"


def test_saved_outputs_do_not_count_against_the_size_limit(grade):
    import nbformat
    parts = split_functions(reference_source("relu"))
    nb = nbformat.reads(notebook(*parts, topic="relu"), 4)
    picture = "iVBORw0KGgo" + "A" * (21 << 20)  # a 21 MB saved plot
    nb.cells[0].outputs = [nbformat.v4.new_output("display_data", data={"image/png": picture})]
    text = nbformat.writes(nb, version=4)
    assert len(text) > 21 << 20
    result, = grade({"relu.ipynb": text})
    assert result["error"] is None and result["score"] == result["max_score"], failing(result)


def test_too_much_code_is_still_refused(tmp_path):
    path = tmp_path / "relu.ipynb"
    path.write_text(notebook("x = 1\n" + "# filler\n" * (3 << 20), topic="relu"))
    assert submissions.load(str(path)).error == "relu.ipynb has more than 20 MB of code"


def test_a_notebook_costly_to_translate_is_refused_quickly(tmp_path):
    import time
    hostile = "\n".join("%time x = 1" if i % 40 == 0 else f"y{i} = {i}" for i in range(20000))
    path = tmp_path / "relu.ipynb"
    path.write_text(notebook(hostile, hostile, topic="relu"))
    start = time.monotonic()
    sub = submissions.load(str(path))
    assert time.monotonic() - start < 20  # untransformed-bounded would take minutes
    assert sub.error.startswith("relu.ipynb has too many IPython magics or !shell lines")
    # a long cell with one magic is translated (and a cell without any is left alone)
    path.write_text(notebook("%matplotlib inline\n" + "a = 1\n" * 20000, "b = 2", topic="relu"))
    sub = submissions.load(str(path))
    assert sub.error is None and "get_ipython()" in sub.cells[0].source
    assert sub.cells[1].source == "b = 2"


def test_no_cell_ipython_would_translate_is_left_unsearched():
    """The cheap test that spares most cells the search must never skip a cell the search
    would find something in: each form of line IPython translates, alone and inside a cell."""
    forms = ["%time f()", "  !ls -l", "files = !ls", "t = %timeit -o f()", "np.mean?",
             "x = 1  # a comment ?", "%%time", "y = x ! = 2"]
    cells = [c["source"] for nb in ROOT.glob("assignments/*.ipynb")
             for c in json.loads(nb.read_text())["cells"]]
    cells = ["".join(c) if isinstance(c, list) else c for c in cells]
    for source in forms + [f"a = 1\n{form}\nb = 2" for form in forms] + cells:
        assert submissions._may_need_ipython(source) or not submissions.IPYTHON_LINE.search(source)
    assert all(submissions.IPYTHON_LINE.search(form) for form in forms[:-1])
    assert not submissions._may_need_ipython("a = [1, 2]\nprint(f'{a}')")


def _mutations():
    """Notebook JSON of unexpected shapes (metadata and cells of odd types), plus seeded random
    replacements of parts of a valid notebook."""
    import random
    base = json.loads(notebook("import numpy as np", "def relu_forward(x):\n    return x", topic="relu"))
    odd = ["python", ["python"], 3, 2.5, None, True, {}, [], {"a": [1]}, "x" * 1000, -1]
    fixed = [
        {"metadata": {"kernelspec": "python3"}},
        {"metadata": {"kernelspec": ["python3"]}},
        {"metadata": {"language_info": 3}},
        {"metadata": {"kernelspec": {"language": ["python"]}}},
        {"metadata": {"grader": ["relu"]}},
        {"metadata": {"grader": {"topic": ["relu"]}}},
        {"metadata": {"grader": {"topic": 7}}},
        {"metadata": "python"},
        {"cells": "import os"},
        {"cells": [1, "x", None, [], {"cell_type": ["code"]}]},
        {"cells": [{"cell_type": "code", "source": 7}]},
        {"cells": [{"cell_type": "code", "source": ["a = 1\n", 2]}]},
        {"cells": [{"cell_type": "code"}]},
        {"nbformat": "4"}, {"nbformat": True}, {"nbformat": 2}, {"nbformat": 99},
        {"nbformat": 3, "worksheets": "x"}, {"nbformat": 3, "worksheets": [7]},
    ]
    for change in fixed:
        yield dict(base, **change)
    rng = random.Random(0)
    for _ in range(300):
        nb = json.loads(json.dumps(base))
        target = rng.choice([nb, nb["metadata"], nb["metadata"]["kernelspec"],
                             nb["metadata"]["grader"], rng.choice(nb["cells"])])
        target[rng.choice(list(target))] = rng.choice(odd)
        yield nb
    yield [base]
    yield "notebook"
    yield {"nbformat": 4, "cells": [[[[[]]]]] * 3}


def test_notebooks_of_unexpected_shape_get_one_line_errors_never_a_crash(tmp_path):
    path = tmp_path / "04_relu.ipynb"
    outcomes = set()
    for nb in _mutations():
        path.write_text(json.dumps(nb))
        sub = submissions.load(str(path))
        assert sub.error is None or ("\n" not in sub.error and len(sub.error) < 400), sub.error
        assert all(isinstance(c.source, str) for c in sub.cells)
        outcomes.add(sub.error is None)
    path.write_text("[" * 100000 + "]" * 100000)  # deeper than the JSON parser goes
    assert "is not a readable notebook" in submissions.load(str(path)).error
    assert outcomes == {True, False}


def test_in_a_course_the_assignment_decides_the_topic(tmp_path):
    folder = tmp_path / "course" / "submitted" / "mallory" / "06_batchnorm"
    folder.mkdir(parents=True)
    path = folder / "06_batchnorm.ipynb"
    path.write_text(notebook("x = 1", topic="relu"))
    sub = submissions.load(str(path))
    assert sub.topic == "batchnorm"
    assert sub.notes == ["the notebook's metadata names the topic 'relu'; it was graded as "
                         "batchnorm, the topic of assignment 06_batchnorm"]
    path.write_text(notebook("x = 1", topic="batchnorm"))
    assert submissions.load(str(path)).notes == []
    # outside a course layout the metadata still decides
    other = tmp_path / "06_batchnorm.ipynb"
    other.write_text(notebook("x = 1", topic="relu"))
    assert submissions.load(str(other)).topic == "relu"


def test_a_folder_that_cannot_be_listed_gets_a_result():
    """As an ordinary user (root lists every folder): the folder is a result, not skipped."""
    import os
    import shutil
    import subprocess
    import sys
    import tempfile
    top = tempfile.mkdtemp(prefix="grader-test-")  # readable by any user
    try:
        os.chmod(top, 0o755)
        os.makedirs(os.path.join(top, "ann"))
        with open(os.path.join(top, "ann", "relu.py"), "w") as f:
            f.write("x = 1")
        os.makedirs(os.path.join(top, "locked"), mode=0o700)
        if os.geteuid() == 0:
            os.chown(os.path.join(top, "locked"), 0, 0)
            user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--"]
        else:
            os.chmod(os.path.join(top, "locked"), 0)
            user = []
        script = ("import sys; from grader.course import submissions as s\n"
                  "for f, g in s.find([sys.argv[1]]):\n"
                  "    print(f[len(sys.argv[1]):], s.load(f, None, g).error)")
        proc = subprocess.run([*user, sys.executable, "-c", script, top], capture_output=True,
                              text=True, timeout=120, cwd="/")
        assert proc.stdout.splitlines() == [
            "/ann/relu.py None", "/locked locked cannot be read (Permission denied)"], proc.stderr
    finally:
        os.chmod(os.path.join(top, "locked"), 0o755)
        shutil.rmtree(top)
