"""Every output of a graded class, checked against its documented schema, and the scores they
show agreeing for every student: JSON, CSV, feedback pages, Gradescope, PrairieLearn.

The class is graded for real (in the sandbox): a correct student, a buggy one, one whose files
cannot be graded, one with several notebooks (one of them twice), and one whose folder name
is markup."""
import csv
import json
import re
import subprocess
import sys

import jsonschema
import pytest

from conftest import ROOT, filled_notebook, reference_source
from grader.course import roster

BUGGY = reference_source("batchnorm").replace("x.var(axis=0)\n", "x.var(axis=0, ddof=1)\n", 1)
EVIL = "zoe<b onmouseover=alert(1)>"

# Gradescope's results.json, as its "Autograder Specifications" document it (top level: score,
# execution_time, output, output_format, test_output_format, test_name_format, visibility,
# stdout_visibility, extra_data, tests, leaderboard; a test: score, max_score, status, name,
# name_format, number, output, output_format, tags, visibility, extra_data). A top-level score
# is required unless every test has one.
GS_VISIBILITY = {"enum": ["hidden", "after_due_date", "after_published", "visible"]}
GS_FORMAT = {"enum": ["text", "html", "simple_format", "md", "ansi"]}
GRADESCOPE_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "score": {"type": "number"},
        "execution_time": {"type": "number"},
        "output": {"type": "string"},
        "output_format": GS_FORMAT,
        "test_output_format": GS_FORMAT,
        "test_name_format": GS_FORMAT,
        "visibility": GS_VISIBILITY,
        "stdout_visibility": GS_VISIBILITY,
        "extra_data": {"type": "object"},
        "tests": {"type": "array", "items": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "score": {"type": "number"},
                "max_score": {"type": "number"},
                "status": {"enum": ["passed", "failed"]},
                "name": {"type": "string"},
                "name_format": GS_FORMAT,
                "number": {"type": "string"},
                "output": {"type": "string"},
                "output_format": GS_FORMAT,
                "tags": {"type": "array", "items": {"type": "string"}},
                "visibility": GS_VISIBILITY,
                "extra_data": {"type": "object"},
            }}},
        "leaderboard": {"type": "array"},
    },
    "anyOf": [{"required": ["score"]},
              {"required": ["tests"],
               "properties": {"tests": {"items": {"required": ["score"]}}}}],
}

# PrairieLearn's external grader results (its "External Grading" page, "Grading results"):
# score in [0, 1] is required unless gradable is false; format_errors is a string or a list
# of strings; tests have name, description, points, max_points, message, output, images.
PL_IMAGES = {"type": "array", "items": {"anyOf": [
    {"type": "string"},
    {"type": "object", "required": ["url"],
     "properties": {"url": {"type": "string"}, "label": {"type": "string"}}}]}}
PRAIRIELEARN_SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        "gradable": {"type": "boolean"},
        "score": {"type": "number", "minimum": 0, "maximum": 1},
        "message": {"type": "string"},
        "output": {"type": "string"},
        "format_errors": {"anyOf": [{"type": "string"},
                                    {"type": "array", "items": {"type": "string"}}]},
        "images": PL_IMAGES,
        "tests": {"type": "array", "items": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "name": {"type": "string"},
                "description": {"type": "string"},
                "points": {"type": "number"},
                "max_points": {"type": "number"},
                "message": {"type": "string"},
                "output": {"type": "string"},
                "images": PL_IMAGES,
            }}},
    },
    "if": {"required": ["gradable"], "properties": {"gradable": {"const": False}}},
    "else": {"required": ["score"]},
}


def validate(instance, schema):
    jsonschema.Draft202012Validator.check_schema(schema)
    jsonschema.validate(instance, schema, cls=jsonschema.Draft202012Validator)


def grader(*args):
    proc = subprocess.run([sys.executable, "-m", "grader", *map(str, args)],
                          capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    return proc


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    root = tmp_path_factory.mktemp("class")
    klass = root / "class"
    files = {
        "ann/batchnorm.py": reference_source("batchnorm"),
        "bob/batchnorm.py": BUGGY,
        "cat/06_batchnorm.ipynb": "",
        "cat/notes.py": "print('my notes')\n",
        "dan/06_batchnorm.ipynb": filled_notebook(ROOT / "assignments" / "06_batchnorm.ipynb",
                                                  reference_source("batchnorm")),
        "dan/04_relu.ipynb": (ROOT / "assignments" / "04_relu.ipynb").read_text(),
        "dan/relu_again.py": reference_source("relu"),
        f"{EVIL}/relu.py": reference_source("relu").replace("> 0", ">= 0"),
    }
    for name, text in files.items():
        (klass / name).parent.mkdir(parents=True, exist_ok=True)
        (klass / name).write_text(text)
    out = root / "out"
    out.mkdir()
    proc = grader("grade", "--format", "json", "--feedback", out / "feedback", "--report",
                  out / "class.html", "--csv", out / "scores.csv", klass)
    data = json.loads(proc.stdout)
    students = sorted({r["student"] for r in data["results"]})
    assert students == sorted(["ann", "bob", "cat", "dan", EVIL])
    per_student = {s: {fmt: json.loads(grader("grade", "--format", fmt, klass / s).stdout)
                       for fmt in ("gradescope", "prairielearn")} for s in students}
    return {"klass": klass, "out": out, "json": data, "platforms": per_student,
            "stderr": proc.stderr}


def expected_scores(results):
    """{student: {topic: best score}}, worked out here from the JSON alone."""
    out = {}
    for r in results:
        unit = r["topic"] or r["assignment"]
        scores = out.setdefault(r["student"], {})
        scores[unit] = max(scores.get(unit, 0), r["score"])
    return out


def test_the_json_output_follows_its_schema_file(graded):
    schema = json.loads((ROOT / "docs" / "results.schema.json").read_text())
    validate(graded["json"], schema)
    results = graded["json"]["results"]
    # the class has every kind of result the schema describes
    assert any(r["error"] for r in results) and any(r.get("load_errors") is None for r in results)
    assert any(c.get("hidden") for r in results for c in r["checks"])
    assert graded["json"]["isolation"]


def test_the_schema_file_rejects_undocumented_fields(graded):
    schema = json.loads((ROOT / "docs" / "results.schema.json").read_text())
    data = json.loads(json.dumps(graded["json"]))
    data["results"][0]["surprise"] = 1
    with pytest.raises(jsonschema.ValidationError):
        jsonschema.validate(data, schema, cls=jsonschema.Draft202012Validator)


def test_gradescope_and_prairielearn_outputs_follow_the_documented_schemas(graded):
    for student, outputs in graded["platforms"].items():
        validate(outputs["gradescope"], GRADESCOPE_SCHEMA)
        validate(outputs["prairielearn"], PRAIRIELEARN_SCHEMA)
    ann = graded["platforms"]["ann"]
    assert ann["prairielearn"] == {**ann["prairielearn"], "gradable": True, "score": 1.0}
    assert all(t["status"] == "passed" for t in ann["gradescope"]["tests"])
    # the top-level output would otherwise be rendered as HTML, and it holds file names and
    # errors from the submission; test outputs are text by default
    assert ann["gradescope"]["output_format"] == "text"
    assert not [t for t in ann["gradescope"]["tests"] if t.get("output_format", "text") != "text"]
    # hidden checks are shown once grades are published, the others at once
    visibility = {t["name"].split(": ")[1] == "hidden": t["visibility"]
                  for t in ann["gradescope"]["tests"]}
    assert visibility == {True: "after_published", False: "visible"}
    bob = graded["platforms"]["bob"]
    failed = [t for t in bob["gradescope"]["tests"] if t["status"] == "failed"]
    assert failed and all(t["score"] < t["max_score"] for t in failed)
    assert any("N - 1" in t["output"] for t in failed)
    assert any("N - 1" in t["message"] for t in bob["prairielearn"]["tests"])


def test_a_student_whose_files_cannot_be_graded(graded):
    cat = graded["platforms"]["cat"]
    assert cat["prairielearn"]["gradable"] is False
    assert any("is empty" in e for e in cat["prairielearn"]["format_errors"])
    assert cat["gradescope"]["score"] == 0
    assert any("could not be graded" in t["name"] and "is empty" in t["output"]
               for t in cat["gradescope"]["tests"])


def test_scores_agree_in_csv_json_feedback_gradescope_and_prairielearn(graded):
    expected = expected_scores(graded["json"]["results"])
    assert expected["dan"] == {"batchnorm": 10.0, "relu": 10.0}  # the better relu file counts
    with open(graded["out"] / "scores.csv", newline="") as f:
        rows = {r["student"]: r for r in csv.DictReader(f)}
    assert sorted(rows) == sorted(expected)
    maxima = {}
    for r in graded["json"]["results"]:
        maxima.setdefault(r["student"], {})[r["topic"] or r["assignment"]] = r["max_score"]
    folders = roster.safe_names(sorted(expected))
    for student, scores in expected.items():
        total = sum(scores.values())
        top = sum(maxima[student].values())
        row = rows[student]
        assert float(row["total"]) == pytest.approx(total), student
        for topic in ("batchnorm", "relu"):
            assert row[topic] == ("" if topic not in scores else f"{scores[topic]:g}")
        for unit, score in scores.items():
            for suffix, pattern in ((".md", r"\*\*Score: ([\d.]+) / ([\d.]+)"),
                                    (".html", r"Score: ([\d.]+) / ([\d.]+)")):
                page = (graded["out"] / "feedback" / folders[student] / f"{unit}{suffix}")
                found = re.search(pattern, page.read_text())
                assert float(found.group(1)) == pytest.approx(score), (student, unit)
                assert float(found.group(2)) == pytest.approx(maxima[student][unit])
        gs = graded["platforms"][student]["gradescope"]
        assert gs["score"] == pytest.approx(total), student
        pl = graded["platforms"][student]["prairielearn"]
        assert pl["score"] * top == pytest.approx(total), student
        if student != "dan":  # dan's second relu file is not counted, nor listed as tests
            assert sum(t["score"] for t in gs["tests"]) == pytest.approx(total)
            assert sum(t["points"] for t in pl["tests"]) == pytest.approx(total)
        assert sum(t["max_score"] for t in gs["tests"]) == pytest.approx(top)


def test_outputs_are_announced_and_the_report_covers_the_class(graded):
    assert "feedback pages" in graded["stderr"] and "class report" in graded["stderr"]
    page = (graded["out"] / "class.html").read_text()
    for text in ("Class report", "Batch normalization", "ReLU", "06_batchnorm.ipynb is empty",
                 "notes.py names no topic", "unbiased (N - 1) variance", "Protections in force",
                 "zoe&lt;b onmouseover=alert(1)&gt;"):
        assert text in page, text
    assert EVIL not in page
