"""`grader validate`: the project's own course is sound, and a broken course is reported."""
import os
import shutil
import subprocess
import sys

import nbformat
from nbformat import v4

from conftest import ROOT


def validate(*args, env=None):
    return subprocess.run([sys.executable, "-m", "grader", "validate", *map(str, args)],
                          capture_output=True, text=True, timeout=600, env=env)


def test_the_project_course_is_sound(tmp_path):
    """Every solution under 2 seeds, every notebook shipped and solved, every notebook run in a
    real kernel (nbclient): the solved ones pass all their public test cells. The solved
    notebooks it writes (they hold the solutions) are gone afterwards."""
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    proc = validate("--seeds", 2, env=dict(os.environ, TMPDIR=str(scratch)))
    assert proc.returncode == 0, proc.stdout[-4000:]
    assert not list(scratch.iterdir())
    lines = proc.stdout.splitlines()
    assert sum(line.startswith("ok   solution") for line in lines) == 8
    assert sum("as shipped runs top to bottom" in line for line in lines) == 8
    assert sum("solved runs and passes its public test cells and its self-check" in line
               for line in lines) == 8
    assert not any(line.startswith("FAIL") for line in lines)


def test_a_broken_course_fails_with_a_report(tmp_path):
    assignments, solutions = tmp_path / "assignments", tmp_path / "solutions"
    assignments.mkdir()
    solutions.mkdir()
    nb = nbformat.read(str(ROOT / "assignments" / "04_relu.ipynb"), 4)
    nb.cells.insert(1, v4.new_code_cell("1 / 0"))  # the notebook no longer runs
    nbformat.write(nb, str(assignments / "04_relu.ipynb"))
    half = nbformat.read(str(ROOT / "assignments" / "07_dropout.ipynb"), 4)
    for cell in half.cells:  # a "skeleton" that already works
        if cell.source.startswith("def dropout_forward"):
            cell.source = (ROOT / "solutions" / "dropout.py").read_text().split(
                "def dropout_backward")[0].split('"""Reference solution: inverted dropout (topic 7). '
                                                 'Never shipped to students."""')[1]
    nbformat.write(half, str(assignments / "07_dropout.ipynb"))
    (solutions / "relu.py").write_text((ROOT / "solutions" / "relu.py").read_text().replace(
        "(cache > 0)", "(cache >= 0)"))
    shutil.copy(ROOT / "solutions" / "dropout.py", solutions)
    proc = validate("--assignments", assignments, "--solutions", solutions, "--seeds", 1)
    assert proc.returncode == 1
    out = proc.stdout
    assert "FAIL solution relu: full marks (seed 0)" in out
    assert "at x == 0 exactly dx is" in out
    assert "FAIL 07_dropout.ipynb as shipped: 0 points" in out
    assert "FAIL 04_relu.ipynb as shipped runs top to bottom" in out and "ZeroDivisionError" in out
    assert "the course has problems" in out
