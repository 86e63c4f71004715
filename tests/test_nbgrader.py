"""The nbgrader workflow with the real nbgrader: a generated course, released notebooks equal to
assignments/, autograde with partial credit, and the tamper-proof path through `grader grade`."""
import json
import os
import subprocess
import sys

import nbformat
import pytest
from nbformat import v4

from conftest import ROOT
from grader.course.nbgrader import points_of, write_course
from grader.checks.topics import TOPICS
from grader.course.validate import filled

BIN = os.path.dirname(sys.executable)
ENV = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))  # nbgrader runs alembic


def nbgrader(course, *args):
    proc = subprocess.run([os.path.join(BIN, "nbgrader"), *args], cwd=course, env=ENV,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return proc


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    root = tmp_path_factory.mktemp("course")
    write_course(str(root), str(ROOT / "assignments"), str(ROOT / "solutions"))
    nbgrader(root, "generate_assignment", "04_relu")
    return root


def code_of(path):
    nb = nbformat.read(str(path), 4)
    return [c.source.rstrip() for c in nb.cells if c.cell_type == "code"]


def test_source_notebooks_carry_solutions_and_hidden_tests(course):
    nb = nbformat.read(str(course / "source" / "06_batchnorm" / "06_batchnorm.ipynb"), 4)
    meta = [c.metadata.get("nbgrader") for c in nb.cells]
    solutions = [m["grade_id"] for m in meta if m and m["solution"]]
    tests = {m["grade_id"]: m["points"] for m in meta if m and m["grade"]}
    assert solutions == list(TOPICS["batchnorm"].FUNCTIONS)
    assert tests == {f"test_{fn}": points_of(TOPICS["batchnorm"], fn)
                     for fn in TOPICS["batchnorm"].FUNCTIONS}
    assert sum(tests.values()) == 10
    text = "\n".join(c.source for c in nb.cells)
    assert text.count("### BEGIN SOLUTION") == 4 and text.count("### BEGIN HIDDEN TESTS") == 4
    for m in meta:
        if m:
            assert set(m) <= {"schema_version", "grade", "locked", "solution", "grade_id",
                              "points", "checksum", "cell_type", "task"}
    assert (course / "solutions" / "batchnorm.py").exists()


def test_released_notebooks_equal_the_assignments_in_their_code(course):
    assert code_of(course / "release" / "04_relu" / "04_relu.ipynb") == \
        code_of(ROOT / "assignments" / "04_relu.ipynb")
    # the other seven through nbgrader's own preprocessors, in-process (seconds instead of a minute)
    from nbgrader.apps import NbGraderAPI
    from nbgrader.coursedir import CourseDirectory
    from grader.course.nbgrader import load_config
    config = load_config(str(course))  # the course's own settings, its code stub among them
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    for name in sorted(os.listdir(course / "source")):
        if name != "04_relu":
            assert api.generate_assignment(name, force=True)["success"], name
            assert code_of(course / "release" / name / f"{name}.ipynb") == \
                code_of(ROOT / "assignments" / f"{name}.ipynb"), name


def submit(course, student, nb):
    folder = course / "submitted" / student / "04_relu"
    folder.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, str(folder / "04_relu.ipynb"))


def scores(course, students=("alice", "bob", "mallory", "zoe")):
    import warnings
    from nbgrader.api import Gradebook
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Gradebook(f"sqlite:///{course}/gradebook.db", "dl-fundamentals") as gb:
            return {s: gb.find_submission("04_relu", s).score for s in students}


def output_lines(nb):
    """For each autograded test cell, the non-blank lines of its outputs."""
    out = []
    for cell in nb.cells:
        if cell.metadata.get("nbgrader", {}).get("grade"):
            text = "".join(o.get("text", "") or o.get("evalue", "") for o in cell.outputs)
            out.append([line for line in text.splitlines() if line.strip()])
    return out


def test_autograde_then_the_tamper_proof_path(course):
    release = nbformat.read(str(course / "release" / "04_relu" / "04_relu.ipynb"), 4)
    solution = (ROOT / "solutions" / "relu.py").read_text()
    alice = filled(release, solution)
    for cell in alice.cells:  # right answers, noisy on stderr: must not cost a point
        if cell.source.startswith("def relu_forward"):
            cell.source = cell.source.replace("### BEGIN SOLUTION", "### BEGIN SOLUTION\n"
                                              "    import sys, os, warnings\n"
                                              "    sys.stderr.write('debug\\n')\n"
                                              "    os.write(2, b'raw\\n')\n"
                                              "    warnings.warn('careful')\n"
                                              "    np.log(np.zeros(1))")
    bob = filled(release, solution.replace("dout * (cache > 0)", "dout * (cache >= 0)"))
    mallory = nbformat.from_dict(json.loads(json.dumps(release)))
    mallory.cells.insert(1, v4.new_code_cell(  # the in-kernel tests can be fooled
        "import grader.nbgrader as g\n"
        "from grader.course.nbgrader import points_of\n"
        "from grader.checks.topics import TOPICS\n"
        "g.test = lambda topic, fn, hidden=False: points_of(TOPICS[topic], fn)"))
    for student, nb in (("alice", alice), ("bob", bob), ("mallory", mallory),
                        ("zoe", release)):
        submit(course, student, nb)
    nbgrader(course, "autograde", "04_relu")
    graded = nbformat.read(str(course / "autograded" / "zoe" / "04_relu" / "04_relu.ipynb"), 4)
    failures = [o for c in graded.cells if c.metadata.get("nbgrader", {}).get("grade")
                for o in c.outputs if o.output_type == "error"]
    assert len(failures) == 2 and all(o.ename == "AssertionError" for o in failures)
    for student in ("bob", "zoe"):  # no check is reported twice in a test cell's output
        graded = nbformat.read(str(course / "autograded" / student / "04_relu" / "04_relu.ipynb"), 4)
        for lines in output_lines(graded):
            assert lines and len(lines) == len(set(lines)), lines
    bob_loss = sum(c.points for c in TOPICS["relu"].CHECKS if c.name in (
        "backward: the gradient at exactly 0 is 0", "hidden: backward on fresh inputs"))
    assert scores(course) == {"alice": 10, "bob": 10 - bob_loss, "mallory": 10, "zoe": 0}

    submit(course, "nora", bob)  # handed in late: never autograded by nbgrader
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", "--format", "json",
                           "--gradebook", str(course)], capture_output=True, text=True, env=ENV,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [f"recorded 5 of 5 submission(s) in the gradebook of {course}"]
    graded = {r["submission"].split(os.sep)[-3]: r["score"]
              for r in json.loads(proc.stdout)["results"]}
    assert graded == {"alice": 10, "bob": 10 - bob_loss, "mallory": 0, "zoe": 0,
                      "nora": 10 - bob_loss}
    assert scores(course, graded) == graded  # the sandboxed scores replaced the in-kernel ones

    # feedback for everyone, with the sandboxed verdicts
    nbgrader(course, "generate_feedback", "04_relu")
    for student, score in graded.items():
        html = (course / "feedback" / student / "04_relu" / "04_relu.html").read_text()
        assert f"Score: {float(score)} / 10.0)" in html, student
    nora = (course / "feedback" / "nora" / "04_relu" / "04_relu.html").read_text()
    assert "backward: the gradient at exactly 0 is 0" in nora and "graded in the sandbox" in nora


def test_gradebook_refuses_assignments_it_does_not_know(tmp_path):
    write_course(str(tmp_path), str(ROOT / "assignments"), str(ROOT / "solutions"))
    submit(tmp_path, "zoe", nbformat.read(str(ROOT / "assignments" / "04_relu.ipynb"), 4))
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", "--gradebook", str(tmp_path)],
                          capture_output=True, text=True, env=ENV, timeout=300)
    assert proc.returncode == 1
    assert "the gradebook has no assignment 04_relu; run nbgrader generate_assignment 04_relu " \
           "first" in proc.stderr
    assert "recorded 0 of 1 submission(s)" in proc.stderr and "Warning" not in proc.stderr
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{tmp_path}/gradebook.db", "dl-fundamentals") as gb:
        assert gb.students == []  # nobody was added


def test_an_existing_course_is_not_overwritten_without_force(tmp_path):
    from grader.course.nbgrader import CourseExists
    assert write_course(str(tmp_path), str(ROOT / "assignments"), str(ROOT / "solutions"))
    write_course(str(tmp_path), str(ROOT / "assignments"), str(ROOT / "solutions"))  # same: fine
    config = tmp_path / "nbgrader_config.py"
    mine = config.read_text() + "c.Execute.timeout = 300  # my own setting\n"
    config.write_text(mine)
    (tmp_path / "solutions" / "relu.py").write_text("# my own solution\n")
    proc = subprocess.run([sys.executable, "-m", "grader", "nbgrader", str(tmp_path)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr == (f"grader: error: {tmp_path} already has nbgrader_config.py, "
                           "solutions/relu.py with other content; nothing was written (pass "
                           "--force to overwrite them)\n")
    assert config.read_text() == mine
    with pytest.raises(CourseExists):
        write_course(str(tmp_path), str(ROOT / "assignments"), str(ROOT / "solutions"))
    write_course(str(tmp_path), str(ROOT / "assignments"), str(ROOT / "solutions"), force=True)
    assert config.read_text() != mine


def test_configuration_in_a_students_folder_never_runs(tmp_path):
    write_course(str(tmp_path), str(ROOT / "assignments"), str(ROOT / "solutions"))
    folder = tmp_path / "submitted" / "mallory" / "04_relu"
    folder.mkdir(parents=True)
    marker = tmp_path / "pwned"
    (folder / "nbgrader_config.py").write_text(f"open({str(marker)!r}, 'w').write('ran')\n")
    (folder / "submitted").mkdir()  # and make the folder look like a course root
    (folder / "04_relu.ipynb").write_text((ROOT / "assignments" / "04_relu.ipynb").read_text())
    for args in (["--gradebook", folder], ["--gradebook", tmp_path, folder], [folder],
                 ["--gradebook", tmp_path]):
        proc = subprocess.run([sys.executable, "-m", "grader", "grade", *map(str, args)],
                              capture_output=True, text=True, env=ENV, timeout=300)
        assert "Traceback" not in proc.stderr
        assert not marker.exists(), args
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", "--gradebook", str(folder)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and "is inside a submitted/ folder" in proc.stderr


def test_hidden_tests_never_fall_back_from_a_missing_solutions_folder(monkeypatch, tmp_path):
    from grader.course.nbgrader import course_solutions
    monkeypatch.setenv("GRADER_SOLUTIONS", str(tmp_path / "gone"))
    with pytest.raises(RuntimeError, match="GRADER_SOLUTIONS .*gone: no such folder"):
        course_solutions()
    monkeypatch.setenv("GRADER_SOLUTIONS", str(tmp_path))
    assert course_solutions() == str(tmp_path)


def test_a_broken_course_configuration_is_one_line_after_the_report(tmp_path):
    (tmp_path / "nbgrader_config.py").write_text("c = get_config()\nraise ValueError('typo')\n")
    folder = tmp_path / "submitted" / "zoe" / "04_relu"
    folder.mkdir(parents=True)
    (folder / "04_relu.ipynb").write_text((ROOT / "assignments" / "04_relu.ipynb").read_text())
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", "--gradebook", str(tmp_path)],
                          capture_output=True, text=True, env=ENV, timeout=300)
    assert proc.returncode == 1 and "1 submission(s)" in proc.stdout
    assert proc.stderr.splitlines() == [f"grader: error: nothing was recorded in the gradebook of "
                                        f"{tmp_path}: ValueError: typo"]


def test_a_submission_that_cannot_be_graded_is_recorded_as_zero(course):
    folder = course / "submitted" / "ed" / "04_relu"
    folder.mkdir(parents=True)
    (folder / "04_relu.ipynb").write_text("")
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", "--gradebook", str(course),
                           str(course / "submitted" / "ed")],
                          capture_output=True, text=True, env=ENV, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr.splitlines() == [
        f"warning: {folder / '04_relu.ipynb'}: recorded as 0 points: 04_relu.ipynb is empty; no "
        "feedback notebook for it",
        f"recorded 1 of 1 submission(s) in the gradebook of {course}"]
    import warnings
    from nbgrader.api import Gradebook
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        with Gradebook(f"sqlite:///{course}/gradebook.db", "dl-fundamentals") as gb:
            grades = gb.find_submission("04_relu", "ed").notebooks[0].grades
            assert sorted((g.name, g.auto_score) for g in grades) == [
                ("test_relu_backward", 0.0), ("test_relu_forward", 0.0)]  # not "ungraded"
