"""The Gradescope autograder zip and the PrairieLearn question, run end to end in temporary
folders laid out like the platforms' (/autograder and /grade), and the Dockerfile's inputs.

The scripts find the `grader` command on PATH: here, the one of the test environment (the real
setup.sh would pip-install the bundled wheel; what it installs is checked instead)."""
import io
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import uuid
import zipfile

import pytest

from conftest import ROOT, filled_notebook, reference_source
from test_distribution import contains_body, solution_bodies
from test_platforms import GRADESCOPE_SCHEMA, PRAIRIELEARN_SCHEMA, validate

BIN = os.path.dirname(sys.executable)


def grader(*args):
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)],
                          capture_output=True, text=True, timeout=600)


def run_script(path, **env):
    """Run a platform script with the test environment's `grader` first on PATH."""
    full = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""), **env)
    return subprocess.run(["bash", str(path)], capture_output=True, text=True, env=full,
                          timeout=600)


@pytest.fixture(scope="module")
def autograder_zip(tmp_path_factory):
    out = tmp_path_factory.mktemp("gradescope") / "autograder.zip"
    proc = grader("gradescope", "--topic", "batchnorm", out)
    assert proc.returncode == 0, proc.stderr
    return out


def test_the_zip_has_the_scripts_the_wheel_and_the_solutions(autograder_zip):
    z = zipfile.ZipFile(autograder_zip)
    names = z.namelist()
    wheels = [n for n in names if n.endswith(".whl")]
    assert len(wheels) == 1
    assert re.fullmatch(r"dl_fundamentals_grader-[\d.]+-py3-none-any\.whl", wheels[0])
    assert {"setup.sh", "run_autograder"} <= set(names)  # at the root, as Gradescope requires
    assert sorted(n for n in names if n.startswith("solutions/")) == sorted(
        f"solutions/{p.name}" for p in (ROOT / "solutions").glob("*.py"))
    for script in ("setup.sh", "run_autograder"):
        mode = z.getinfo(script).external_attr >> 16
        assert mode & stat.S_IXUSR and z.read(script).startswith(b"#!/usr/bin/env bash")
    # setup.sh installs exactly the bundled wheel, never a package by name
    setup = z.read("setup.sh").decode()
    installs = [line for line in setup.splitlines() if "pip\" install" in line or
                "pip install" in line]
    assert installs == [f'"$venv/bin/pip" install --quiet "$here/{wheels[0]}"']
    # the wheel holds the grader and no reference solution
    wheel = zipfile.ZipFile(io.BytesIO(z.read(wheels[0])))
    inside = wheel.namelist()
    assert "grader/cli.py" in inside and "grader/course/gradescope.py" in inside
    assert not [n for n in inside if "solutions" in n.split("/")[0] or n.startswith("tests/")]
    texts = [wheel.read(n).decode(errors="replace") for n in inside if n.endswith(".py")]
    assert not [fn for fn, code in solution_bodies().items()
                if any(contains_body(t, code) for t in texts)]


def autograder_root(tmp_path, autograder_zip, submission):
    root = tmp_path / "autograder"
    (root / "source").mkdir(parents=True)
    with zipfile.ZipFile(autograder_zip) as z:
        z.extractall(root / "source")
    shutil.copy(root / "source" / "run_autograder", root / "run_autograder")
    (root / "submission").mkdir()
    for name, text in submission.items():
        (root / "submission" / name).write_text(text)
    return root


def test_run_autograder_grades_the_submission_into_results_json(tmp_path, autograder_zip):
    # the file name names no topic: the zip's --topic decides
    root = autograder_root(tmp_path, autograder_zip,
                           {"my_answer.py": reference_source("batchnorm")})
    proc = run_script(root / "run_autograder", AUTOGRADER_ROOT=str(root),
                      GRADER_VENV=str(tmp_path / "no-venv"))
    assert proc.returncode == 0, proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    validate(results, GRADESCOPE_SCHEMA)
    assert results["score"] == 10 and len(results["tests"]) > 5
    assert all(t["status"] == "passed" for t in results["tests"])
    assert not (root / "results" / "results.json.part").exists()


def test_run_autograder_reports_an_empty_submission(tmp_path, autograder_zip):
    root = autograder_root(tmp_path, autograder_zip, {})
    proc = run_script(root / "run_autograder", AUTOGRADER_ROOT=str(root))
    assert proc.returncode == 0, proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    validate(results, GRADESCOPE_SCHEMA)
    assert results["score"] == 0 and "no .py or .ipynb" in results["tests"][0]["output"]


def test_run_autograder_defaults_to_slash_autograder(autograder_zip):
    script = zipfile.ZipFile(autograder_zip).read("run_autograder").decode()
    assert 'root="${AUTOGRADER_ROOT:-/autograder}"' in script
    assert '"$root/submission"' in script and '"$root/results/results.json"' in script


@pytest.fixture(scope="module")
def question(tmp_path_factory):
    out = tmp_path_factory.mktemp("prairielearn") / "batchnorm"
    proc = grader("prairielearn", out, "--topic", "batchnorm", "--image", "course/grader:1")
    assert proc.returncode == 0, proc.stderr
    return out


# A question's info.json as PrairieLearn documents it for externally graded questions (only
# the fields written here): uuid, title, topic, tags, type "v3", singleVariant, gradingMethod
# "External", and externalGradingOptions with enabled, image, entrypoint, timeout (<= 600 s).
INFO_SCHEMA = {
    "type": "object",
    "required": ["uuid", "title", "topic", "type", "gradingMethod", "externalGradingOptions"],
    "additionalProperties": False,
    "properties": {
        "uuid": {"type": "string"}, "title": {"type": "string"}, "topic": {"type": "string"},
        "tags": {"type": "array", "items": {"type": "string"}}, "type": {"const": "v3"},
        "singleVariant": {"type": "boolean"}, "gradingMethod": {"const": "External"},
        "externalGradingOptions": {
            "type": "object", "required": ["enabled", "image"], "additionalProperties": False,
            "properties": {"enabled": {"type": "boolean"}, "image": {"type": "string"},
                           "entrypoint": {"type": "string"},
                           "timeout": {"type": "integer", "minimum": 1, "maximum": 600}}}},
}


def test_the_question_folder_is_what_prairielearn_reads(question):
    info = json.loads((question / "info.json").read_text())
    validate(info, INFO_SCHEMA)
    uuid.UUID(info["uuid"])
    options = info["externalGradingOptions"]
    assert options["image"] == "course/grader:1" and options["enabled"]
    assert options["entrypoint"] == "/grade/tests/run.sh"
    assert os.stat(question / "tests" / "run.sh").st_mode & stat.S_IXUSR
    html = (question / "question.html").read_text()
    assert '<pl-file-upload file-names="06_batchnorm.ipynb">' in html
    assert "<pl-external-grader-results>" in html
    assert (question / "clientFilesQuestion" / "06_batchnorm.ipynb").read_text() == (
        ROOT / "assignments" / "06_batchnorm.ipynb").read_text()
    assert (question / "tests" / "solutions" / "batchnorm.py").is_file()


def test_rewriting_a_question_keeps_its_uuid(question, tmp_path):
    copy = tmp_path / "q"
    shutil.copytree(question, copy)
    before = json.loads((copy / "info.json").read_text())["uuid"]
    assert grader("prairielearn", copy, "--topic", "batchnorm").returncode == 0
    assert json.loads((copy / "info.json").read_text())["uuid"] == before


def grade_root(tmp_path, question, files):
    root = tmp_path / "grade"
    shutil.copytree(question / "tests", root / "tests")
    (root / "student").mkdir(parents=True)
    for name, text in files.items():
        (root / "student" / name).write_text(text)
    return root  # no results/ folder: PrairieLearn does not create it


@pytest.mark.parametrize("solved", [True, False])
def test_the_run_script_grades_the_student_files_into_results_json(tmp_path, question, solved):
    source = reference_source("batchnorm")
    if not solved:
        source = source.replace("x.var(axis=0)\n", "x.var(axis=0, ddof=1)\n", 1)
    root = grade_root(tmp_path, question, {"06_batchnorm.ipynb": filled_notebook(
        ROOT / "assignments" / "06_batchnorm.ipynb", source)})
    proc = run_script(root / "tests" / "run.sh", PL_GRADE_ROOT=str(root))
    assert proc.returncode == 0, proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    validate(results, PRAIRIELEARN_SCHEMA)
    assert results["gradable"] is True
    if solved:
        assert results["score"] == 1.0
    else:
        assert 0 < results["score"] < 1
        assert any("N - 1" in t["message"] for t in results["tests"] if t["points"] == 0)


def test_the_run_script_says_an_unreadable_upload_is_not_gradable(tmp_path, question):
    root = grade_root(tmp_path, question, {"06_batchnorm.ipynb": "{not json"})
    proc = run_script(root / "tests" / "run.sh", PL_GRADE_ROOT=str(root))
    assert proc.returncode == 0, proc.stderr
    results = json.loads((root / "results" / "results.json").read_text())
    validate(results, PRAIRIELEARN_SCHEMA)
    assert results["gradable"] is False and "not a readable notebook" in results[
        "format_errors"][0]


def test_the_run_script_defaults_to_slash_grade(question):
    script = (question / "tests" / "run.sh").read_text()
    assert 'root="${PL_GRADE_ROOT:-/grade}"' in script and "--topic batchnorm" in script


@pytest.mark.parametrize("args, complaint", [
    (["gradescope", "out.txt"], "must be a .zip"),
    (["gradescope", "/no/such/dir/a.zip"], "folder does not exist"),
    (["gradescope", "--wheel", "/no/such.whl", "a.zip"], "no such file"),
    (["grade", "--report", "/no/such/dir/r.html", "x.py"], "folder does not exist"),
    (["grade", "--csv", ".", "x.py"], "is a folder"),
    (["prairielearn", "q"], "--topic"),
    (["prairielearn", "q", "--topic", "batchnorm", "--timeout", "900"], "at most 600"),
])
def test_bad_arguments_get_a_one_line_usage_error(args, complaint, tmp_path):
    proc = subprocess.run([sys.executable, "-m", "grader", *args], capture_output=True,
                          text=True, cwd=tmp_path, timeout=60)
    assert proc.returncode == 2 and complaint in proc.stderr.splitlines()[-1]


def test_every_file_the_dockerfile_copies_exists_and_it_installs_the_wheel():
    # Building the image needs Docker and a network; this checks what can be checked here.
    dockerfile = (ROOT / "Dockerfile").read_text()
    copies = [line.split()[1:-1] for line in dockerfile.splitlines()
              if line.startswith("COPY ") and "--from=" not in line]
    assert copies
    for sources in copies:
        for source in sources:
            assert (ROOT / source).exists(), source
    assert "pip wheel --no-deps --no-build-isolation" in dockerfile
    assert re.search(r"pip install .*dl_fundamentals_grader-\*\.whl", dockerfile)
    assert "solutions" not in " ".join(s for c in copies for s in c)
    ignored = [line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")]
    assert not {"grader", "pyproject.toml", "README.md"} & set(ignored)
