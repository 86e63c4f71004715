"""Gradescope: the results.json of one student's submission, and the autograder zip.

The format follows Gradescope's "Autograder Specifications" (results.json: top-level score,
output, output_format, extra_data and tests; each test with name, number, score, max_score, status, output and
visibility, where "after_published" hides a test until grades are published). The zip holds
setup.sh, run_autograder, the grader as a wheel and the reference solutions; Gradescope unpacks
it into /autograder/source and runs run_autograder once per submission, with the student's
files in /autograder/submission.
"""
import json
import os
import stat
import subprocess
import sys
import tempfile
import zipfile

from .. import __version__
from . import roster

HIDDEN_NOTE = ("Checks whose name starts with 'hidden:' compare your functions with reference "
               "solutions on fresh inputs; their details appear once grades are published.")


def results_json(results, meta=None):
    """Gradescope's results.json for one student's files (all `results` together)."""
    meta = meta or {}
    units = roster.as_one_student(results)
    tests = []
    for i, (name, rs) in enumerate(units.items(), 1):
        r = rs[0]
        if r.get("error"):
            tests.append({"name": f"{name}: could not be graded", "number": f"{i}.1",
                          "score": 0.0, "max_score": r["max_score"], "status": "failed",
                          "output": r["error"], "visibility": "visible"})
            continue
        for j, c in enumerate(r["checks"], 1):
            tests.append({"name": f"{name}: {c['name']}", "number": f"{i}.{j}",
                          "score": c["score"], "max_score": c["max_score"],
                          "status": "passed" if c["passed"] else "failed",
                          "output": c["message"],
                          "visibility": "after_published" if c.get("hidden") else "visible"})
    score, _ = roster.total(units)
    lines = roster.summary(units) or ["no .py or .ipynb file was handed in"]
    if any(t["visibility"] == "after_published" for t in tests):
        lines += ["", HIDDEN_NOTE]
    # the top-level output's default format renders HTML: ours is text, with file names and
    # errors that come from the submission
    return {"score": score, "output": "\n".join(lines), "output_format": "text", "tests": tests,
            "extra_data": {"grader": __version__, "seed": meta.get("seed"),
                           "hidden_checks": meta.get("hidden_checks")}}


def as_json(results, meta=None):
    return json.dumps(results_json(results, meta), indent=2)


# --- the autograder zip

SETUP_SH = """\
#!/usr/bin/env bash
# Gradescope runs this once, as root, while it builds the autograder image. It installs the
# grader from the wheel bundled in this zip (never from a package index by name) into a virtual
# environment of its own; pip fetches the grader's dependencies (numpy, ...) now, so nothing is
# downloaded while submissions are graded.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="${{GRADER_VENV:-/opt/grader}}"
if ! python3 -c "import ensurepip, venv" >/dev/null 2>&1; then
    apt-get install -y python3 python3-venv python3-pip
fi
python3 -m venv "$venv"
"$venv/bin/pip" install --quiet "$here/{wheel}"
"$venv/bin/grader" --version
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Gradescope runs this for every submission: it grades the student's files in
# $AUTOGRADER_ROOT/submission/ (every .py and .ipynb in it, together) and writes
# $AUTOGRADER_ROOT/results/results.json. AUTOGRADER_ROOT defaults to /autograder.
set -euo pipefail
root="${{AUTOGRADER_ROOT:-/autograder}}"
export PATH="${{GRADER_VENV:-/opt/grader}}/bin:$PATH"
mkdir -p "$root/results"
grader grade --format gradescope{topic} --solutions "$root/source/solutions" \\
    "$root/submission" > "$root/results/results.json.part"
mv "$root/results/results.json.part" "$root/results/results.json"
"""


def build_wheel(project_root, out_dir):
    """The grader's wheel, built offline from its source checkout (no build isolation, no
    dependencies). Returns its path; raises RuntimeError with pip's complaint if it fails."""
    if not os.path.isfile(os.path.join(project_root, "pyproject.toml")):
        raise RuntimeError(f"no grader source checkout at {project_root} to build the wheel "
                           "from: pass --wheel FILE")
    proc = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps",
                           "--no-build-isolation", "-q", "-w", out_dir, project_root],
                          capture_output=True, text=True)
    wheels = [f for f in os.listdir(out_dir) if f.endswith(".whl")]
    if proc.returncode != 0 or len(wheels) != 1:
        reason = (proc.stderr.strip().splitlines() or ["no wheel was written"])[-1]
        raise RuntimeError(f"building the grader wheel failed: {reason}")
    return os.path.join(out_dir, wheels[0])


def write_autograder(out_zip, solutions, project_root=None, wheel=None, topic=None):
    """Write Gradescope's autograder zip: setup.sh, run_autograder, the grader wheel and
    solutions/<topic>.py. Returns the names in the zip."""
    with tempfile.TemporaryDirectory() as tmp:
        wheel = wheel or build_wheel(project_root, tmp)
        wheel_name = os.path.basename(wheel)
        files = {"setup.sh": SETUP_SH.format(wheel=wheel_name).encode(),
                 "run_autograder": RUN_AUTOGRADER.format(
                     topic=f" --topic {topic}" if topic else "").encode()}
        with open(wheel, "rb") as f:
            files[wheel_name] = f.read()
        for name in sorted(os.listdir(solutions)):
            if name.endswith(".py"):
                with open(os.path.join(solutions, name), "rb") as f:
                    files[f"solutions/{name}"] = f.read()
        with zipfile.ZipFile(out_zip, "w", zipfile.ZIP_DEFLATED) as z:
            for name, data in files.items():
                info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
                executable = name in ("setup.sh", "run_autograder")
                info.external_attr = ((0o755 if executable else 0o644) | stat.S_IFREG) << 16
                info.compress_type = zipfile.ZIP_DEFLATED
                z.writestr(info, data)
    return list(files)
