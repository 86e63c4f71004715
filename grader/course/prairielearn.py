"""PrairieLearn: the external grader's results.json, and a question folder for one topic.

The format follows PrairieLearn's "External Grading" documentation: results.json has gradable,
score (a fraction in [0, 1]), message, output, format_errors (when not gradable) and tests,
each with name, description, points, max_points, message and output. A question folder has
info.json (gradingMethod "External", externalGradingOptions with image, entrypoint and
timeout), question.html (a pl-file-upload and pl-external-grader-results) and tests/, which
PrairieLearn copies to /grade/tests next to the student's files in /grade/student.
"""
import glob
import json
import os
import shutil
import uuid

from ..checks.topics import TOPICS
from . import roster
from .htmlpage import esc

DEFAULT_IMAGE = "grader:latest"
DEFAULT_TIMEOUT = 120  # seconds PrairieLearn gives the whole job (it allows at most 600)


def results_json(results):
    """PrairieLearn's results.json for one student's files (all `results` together)."""
    units = roster.as_one_student(results)
    tests = []
    for name, rs in units.items():
        r = rs[0]
        if r.get("error"):
            tests.append({"name": f"{name}: could not be graded", "description": "",
                          "points": 0.0, "max_points": r["max_score"], "message": r["error"],
                          "output": ""})
            continue
        tests += [{"name": f"{name}: {c['name']}", "description": c["function"],
                   "points": c["score"], "max_points": c["max_score"],
                   "message": c["message"], "output": ""} for c in r["checks"]]
    score, top = roster.total(units)
    errors = [r["error"] for rs in units.values() for r in rs if r.get("error")]
    gradable = bool(units) and len(errors) < sum(len(rs) for rs in units.values())
    out = {"gradable": gradable, "score": min(max(score / top, 0.0), 1.0) if top else 0.0,
           "message": f"{roster.points(score)} / {roster.points(top)}" if gradable
           else "your files could not be graded",
           "output": "\n".join(roster.summary(units)), "tests": tests}
    if not gradable:
        out["format_errors"] = errors or ["no .py or .ipynb file was handed in"]
    return out


def as_json(results):
    return json.dumps(results_json(results), indent=2)


# --- a question folder

RUN_SH = """\
#!/usr/bin/env bash
# PrairieLearn's entrypoint for this question (written by `grader prairielearn`): grades the
# student's files in $PL_GRADE_ROOT/student/ as {topic} and writes
# $PL_GRADE_ROOT/results/results.json. PL_GRADE_ROOT defaults to /grade.
set -euo pipefail
root="${{PL_GRADE_ROOT:-/grade}}"
mkdir -p "$root/results"
grader grade --format prairielearn --topic {topic} --submission-timeout {submission_timeout} \\
    --solutions "$root/tests/solutions" "$root/student" > "$root/results/results.json.part"
mv "$root/results/results.json.part" "$root/results/results.json"
"""

QUESTION_HTML = """\
<pl-question-panel>
  <p>{title}: implement the functions of the notebook{link} and upload it as
    <code>{file}</code>. It is graded when you submit: checks of each function's properties,
    numerical gradients, and comparisons with reference solutions on fresh inputs.</p>
  <pl-file-upload file-names="{file}"></pl-file-upload>
</pl-question-panel>

<pl-submission-panel>
  <pl-external-grader-results></pl-external-grader-results>
  <pl-file-preview></pl-file-preview>
</pl-submission-panel>
"""


def notebook_for(topic, assignments):
    """The student notebook of `topic` in `assignments` (e.g. 06_batchnorm.ipynb), or None."""
    found = sorted(glob.glob(os.path.join(assignments or "", f"*{topic}.ipynb")))
    return found[0] if found else None


def write_question(directory, topic, solutions, assignments=None, image=DEFAULT_IMAGE,
                   file_name=None, timeout=DEFAULT_TIMEOUT):
    """Write a PrairieLearn question folder for `topic`; returns the paths written (relative).
    A uuid already in the folder's info.json is kept, so rewriting a question keeps its
    identity in the course."""
    notebook = notebook_for(topic, assignments)
    file_name = file_name or (os.path.basename(notebook) if notebook else f"{topic}.py")
    os.makedirs(os.path.join(directory, "tests", "solutions"), exist_ok=True)
    info_path = os.path.join(directory, "info.json")
    old_uuid = None
    if os.path.isfile(info_path):
        try:
            with open(info_path, encoding="utf-8") as f:
                old_uuid = json.load(f).get("uuid")
        except (OSError, ValueError, AttributeError):
            old_uuid = None
    title = TOPICS[topic].TITLE
    info = {"uuid": old_uuid or str(uuid.uuid4()), "title": title,
            "topic": "Deep-learning fundamentals", "tags": ["grader", topic], "type": "v3",
            "singleVariant": True, "gradingMethod": "External",
            "externalGradingOptions": {"enabled": True, "image": image,
                                       "entrypoint": "/grade/tests/run.sh", "timeout": timeout}}
    written = {"info.json": json.dumps(info, indent=2) + "\n"}
    link = ""
    if notebook:
        name = os.path.basename(notebook)
        link = (f' (<a href="{{{{ options.client_files_question_url }}}}/{esc(name)}" '
                f'download>{esc(name)}</a>)')
    written["question.html"] = QUESTION_HTML.format(title=esc(title), link=link,
                                                    file=esc(file_name))
    # the submission's budget counts CPU time; its wall-clock backstop (3x + 2 s) must end
    # before PrairieLearn's job does, with a margin to write the results
    written["tests/run.sh"] = RUN_SH.format(topic=topic,
                                            submission_timeout=max(10, (timeout - 12) // 3))
    for rel, text in written.items():
        with open(os.path.join(directory, rel), "w", encoding="utf-8") as f:
            f.write(text)
    os.chmod(os.path.join(directory, "tests", "run.sh"), 0o755)
    paths = list(written)
    shutil.copyfile(os.path.join(solutions, f"{topic}.py"),
                    os.path.join(directory, "tests", "solutions", f"{topic}.py"))
    paths.append(f"tests/solutions/{topic}.py")
    if notebook:
        os.makedirs(os.path.join(directory, "clientFilesQuestion"), exist_ok=True)
        shutil.copyfile(notebook, os.path.join(directory, "clientFilesQuestion",
                                               os.path.basename(notebook)))
        paths.append(f"clientFilesQuestion/{os.path.basename(notebook)}")
    return paths
