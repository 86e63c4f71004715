"""The demo class in examples/ keeps telling the story the README tells."""
import json
import subprocess
import sys

from conftest import ROOT

EXPECTED = {  # what each made-up student did, and so the score range they must get
    "ada": "every notebook solved",
    "ben": "classic slips in .py files",
    "chloe": "notebooks left as students leave them, one mistake each",
    "dmitri": "an untouched skeleton",
    "emma": "wrong axis and a swapped dropout convention",
    "farid": "files that cannot be graded",
    "gus": "forward and backward mistakes",
}


def test_demo_class_grades_as_described():
    proc = subprocess.run([sys.executable, "-m", "grader", "grade", "--format", "json",
                           str(ROOT / "examples")], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    results = json.loads(proc.stdout)["results"]
    by_student = {}
    for r in results:
        by_student.setdefault(r["submission"].split("/")[-2], []).append(r)
    assert set(by_student) == set(EXPECTED)
    assert len(by_student["ada"]) == 8 and all(r["score"] == 10 for r in by_student["ada"])
    assert [r["score"] for r in by_student["dmitri"]] == [0]
    assert all(r["error"] for r in by_student["farid"])
    for student in ("ben", "chloe", "emma", "gus"):
        for r in by_student[student]:
            assert r["error"] is None and 0 < r["score"] < 10, r["submission"]
            assert not any(c.get("grader_error") for c in r["checks"])
    topics = {r["topic"] for r in results if not r["error"]}
    assert len(topics) == 8
