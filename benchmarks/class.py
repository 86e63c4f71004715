"""Grade a class of filled-in notebooks end to end; print the cost per notebook next to its floor
and next to nbgrader (issue 9).

    .venv/bin/python benchmarks/class.py [--students 300] [--buggy 0.33] [--nbgrader-sample 8]
                                         [--floor-students 10] [--jobs 2] [--runs 3] [--seed 0]
                                         [--keep]

The class: N students x the 8 notebooks of assignments/, laid out as an nbgrader course does,
<tmp>/submitted/<student>/<assignment>/<assignment>.ipynb. Every stub is replaced by the reference
solution's body (grader.course.validate.filled). A share of the students (--buggy) are buggy: each
of their notebooks carries one bug from tests/corpus/<topic>/bugs.py, the bug's functions written
over the filled ones (whole definitions, in place) and its other top-level code (globals, helpers)
in a new cell before the first function.

Figures printed:
- speed reference (on each run's line): a fixed pure-Python loop's CPU time alone and with every
  CPU running it at once, just before the run. This machine's speed drifts (the same class took
  59 s and 71 s in back-to-back runs) and its two CPUs can slow each other when both are busy:
  compare runs next to this figure.
- class: wall seconds of `grader grade -j JOBS --format json <tmp>/submitted` (the `grader` next
  to sys.executable), start-up included, and that divided by the number of notebooks; --runs
  times, then the median. Every result must have no error and no grader error, correct notebooks
  full marks and buggy ones fewer: a `warning:` line says otherwise.
- floor: per notebook, its code cells executed once in this warm interpreter (numpy and matplotlib
  imported, Agg backend, one warm-up notebook per topic first), without the autograded test cells
  and the self-check cell, plus all checks (hidden included) run in-process with
  grader.course.selfcheck.LocalStudent; averaged over --floor-students students' notebooks.
  class/floor is the ratio of the two per-notebook times. The class runs on JOBS processes and the
  floor on one, so "shared by JOBS jobs" is the ratio to a floor shared perfectly between them.
  A `warning:` line names a notebook whose in-process score differs from `grader grade`'s.
- nbgrader: a course written by `grader nbgrader DIR`, the sampled notebooks (one per topic for the
  default 8, filled from nbgrader's released notebooks exactly as the class ones) put in
  submitted/, and `nbgrader autograde <assignment>` run per assignment; seconds per notebook are the
  autograde runs' total wall time (nbgrader's start-up included) over the notebooks; the table
  gives it per assignment. nbgrader/grader is the ratio per notebook. A `note:` line names a
  notebook that nbgrader scored differently from `grader grade`.
- per topic: the floor's two parts, so that one sees where the floor's time goes.
- CPU (in parentheses, and the CPU ratios): user + system seconds, of this process for the floor,
  of the command's whole process tree for nbgrader (the OS's account of reaped children), and the
  machine's busy CPU time during the run for `grader grade` (see busy_cpu: the account of reaped
  children misses its student processes). On a shared machine wall times grow with the load;
  CPU times much less, but grader's then include the other load.
- target: 300 students x 8 notebooks in at most 60 s, i.e. 25 ms per notebook; for another N the
  class time is projected linearly from the measured ms per notebook (the median run's).
"""
import argparse
import ast
import contextlib
import io
import json
import os
import pathlib
import random
import resource
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import traceback
import warnings

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the corpus of bugs

import matplotlib  # noqa: E402
matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402,F401  (imported before timing, as in a warm kernel)
import nbformat  # noqa: E402
import numpy as np  # noqa: E402,F401

from corpus import bugs_of  # noqa: E402
import grader  # noqa: E402
from grader.checks.core import checks_for, run_checks  # noqa: E402
from grader.checks.topics import TOPICS  # noqa: E402
from grader.course import submissions  # noqa: E402
from grader.course.grading import find_solutions, load_reference  # noqa: E402
from grader.course.nbgrader import TEST_CALL  # noqa: E402
from grader.course.selfcheck import LocalStudent  # noqa: E402
from grader.course.validate import filled  # noqa: E402
from grader.sandbox import plotting, zygote  # noqa: E402
from grader.sandbox.process import Limits  # noqa: E402
from grader.sandbox.server import Server  # noqa: E402
from grader.sandbox.student import InProcess, Student  # noqa: E402

BIN = os.path.dirname(sys.executable)
ENV = dict(os.environ, PATH=BIN + os.pathsep + os.environ.get("PATH", ""))  # nbgrader runs alembic
ASSIGNMENTS = {nb.stem.split("_", 1)[1]: nb.stem  # topic -> assignment, e.g. relu -> 04_relu
               for nb in sorted((ROOT / "assignments").glob("*.ipynb"))}
TARGET_SECONDS, TARGET_NOTEBOOKS = 60.0, 300 * 8
SELF_CHECK = re.compile(r"^check\(", re.M)


# -- the class ------------------------------------------------------------------------------------

def split_def(node, lines):
    """(header lines, docstring lines, body lines) of a function definition."""
    body = node.body
    doc = body[0] if len(body) > 1 and isinstance(body[0], ast.Expr) and \
        isinstance(body[0].value, ast.Constant) and isinstance(body[0].value.value, str) else None
    rest = body[1:] if doc else body
    header = lines[node.lineno - 1 - len(node.decorator_list):body[0].lineno - 1]
    docstring = lines[doc.lineno - 1:doc.end_lineno] if doc else []
    return header, docstring, lines[rest[0].lineno - 1:node.end_lineno]


def with_bug(nb, bug_code):
    """The notebook with the bug's functions written over those of the same name, in place (the
    bug's signature and body, the notebook's docstring and comments), and the bug's other
    top-level code (globals, helpers) in a new cell before the first of those functions."""
    lines = bug_code.splitlines()
    functions, other = {}, []
    for node in ast.parse(bug_code).body:
        if isinstance(node, ast.FunctionDef):
            functions[node.name] = split_def(node, lines)
        else:
            start = node.lineno - 1 - len(getattr(node, "decorator_list", ()))
            other.append("\n".join(lines[start:node.end_lineno]))
    first = None
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        try:
            body = ast.parse(cell.source).body
        except SyntaxError:
            continue
        cell_lines = cell.source.splitlines()
        for node in reversed(body):  # from the bottom, so that earlier line numbers stay valid
            if isinstance(node, ast.FunctionDef) and node.name in functions:
                header, _, new_body = functions.pop(node.name)
                _, docstring, old_body = split_def(node, cell_lines)
                start = node.lineno - 1 - len(node.decorator_list)
                body_start = node.body[1 if docstring else 0].lineno - 1
                cell_lines[body_start:node.end_lineno] = new_body
                cell_lines[start:node.body[0].lineno - 1] = header
                first = i if first is None else min(first, i)
                cell.source = "\n".join(cell_lines)
    if other or functions:  # functions the notebook does not define become helpers too
        helpers = other + ["\n".join(h + d + b) for h, d, b in functions.values()]
        nb.cells.insert(first if first is not None else 1,
                        nbformat.v4.new_code_cell("\n\n\n".join(helpers)))
    return nb


def student_notebook(base, topic, bug):
    """`base` (a shipped or released notebook) as a student leaves it: solved, maybe with a bug."""
    nb = filled(base, (ROOT / "solutions" / f"{topic}.py").read_text())
    return with_bug(nb, bug["code"]) if bug else nb


def make_class(root, students, buggy_share, seed):
    """Write the class in nbgrader layout; return one record per notebook."""
    rng = random.Random(seed)
    names = [f"student{i:04d}" for i in range(students)]
    buggy = set(rng.sample(names, round(buggy_share * students)))
    bugs = {topic: bugs_of(topic) for topic in ASSIGNMENTS}
    shipped = {topic: nbformat.read(str(ROOT / "assignments" / f"{a}.ipynb"), 4)
               for topic, a in ASSIGNMENTS.items()}
    records = []
    for name in names:
        for topic, assignment in ASSIGNMENTS.items():
            bug = rng.choice(bugs[topic]) if name in buggy else None
            path = root / "submitted" / name / assignment / f"{assignment}.ipynb"
            path.parent.mkdir(parents=True, exist_ok=True)
            nbformat.write(student_notebook(shipped[topic], topic, bug), str(path))
            records.append({"student": name, "topic": topic, "assignment": assignment,
                            "bug": bug, "path": str(path)})
    return records


def children_cpu():
    """User + system seconds of the reaped child processes (and what they reaped) so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def busy_cpu():
    """Seconds the machine's CPUs have spent busy so far (user, nice, system, irq, softirq: all
    but idle, I/O wait and time taken by the hypervisor), from /proc/stat. The OS's account of
    reaped children misses the grader's student processes, which end by SIGKILL inside pid
    namespaces of their own with no parent to reap them into it; this misses nothing, but counts
    whatever else runs on the machine."""
    with open("/proc/stat") as f:
        fields = [int(x) for x in f.readline().split()[1:]]
    user, nice, system, idle, iowait, irq, softirq = fields[:7]
    return (user + nice + system + irq + softirq) / os.sysconf("SC_CLK_TCK")


def speed_reference():
    """(ms alone, ms with every CPU busy) of a fixed pure-Python loop, the fastest of five tries
    each: a yardstick for comparing runs on a machine whose speed drifts, and for what more jobs
    can gain (on this benchmark's machine two busy CPUs have slowed each other by up to a third)."""
    code = "import time; t = time.process_time(); sum(i * i for i in range(2_000_000)); " \
           "print(time.process_time() - t)"
    run = lambda: subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    cpus = len(os.sched_getaffinity(0))
    alone = min(float(run().communicate()[0]) for _ in range(5))
    together = min(max(float(p.communicate()[0]) for p in [run() for _ in range(cpus)])
                   for _ in range(5))
    return alone * 1e3, together * 1e3, cpus


# -- the class through `grader grade` --------------------------------------------------------------

def grade_class(root, records, jobs):
    """(wall seconds, CPU seconds) of the whole class through the grader command; each record
    gets its score."""
    command = [os.path.join(BIN, "grader"), "grade", "-j", str(jobs), "--format", "json",
               str(root / "submitted")]
    cpu, start = busy_cpu(), time.perf_counter()
    proc = subprocess.run(command, capture_output=True, text=True, env=ENV)
    seconds, cpu = time.perf_counter() - start, busy_cpu() - cpu
    if proc.returncode != 0:
        sys.exit(f"grader grade failed ({proc.returncode}): {proc.stderr[-2000:]}")
    results = {os.path.realpath(r["submission"]): r for r in json.loads(proc.stdout)["results"]}
    for line in proc.stderr.splitlines():
        print(f"warning: grader said: {line}")
    for rec in records:
        result = results.get(os.path.realpath(rec["path"]))
        what = f"{rec['student']}/{rec['assignment']}"
        if result is None:
            print(f"warning: {what}: no result")
            continue
        rec["score"], rec["max_score"] = result["score"], result["max_score"]
        broken = [c["name"] for c in result["checks"] if c.get("grader_error")]
        if result["error"] or broken:
            print(f"warning: {what}: error {result['error']!r}, grader errors in {broken}")
        elif rec["bug"] and result["score"] >= result["max_score"]:
            print(f"warning: {what}: bug '{rec['bug']['name']}' lost no points")
        elif not rec["bug"] and result["score"] != result["max_score"]:
            print(f"warning: {what}: correct notebook scored {result['score']:g}/"
                  f"{result['max_score']:g}")
    return seconds, cpu


# -- the floor -------------------------------------------------------------------------------------

def floor_cells(path):
    """The code cells the floor executes: all but the autograded test cells and the self-check."""
    nb = nbformat.read(path, 4)
    return [compile(c.source, f"{path}:cell{i}", "exec") for i, c in enumerate(nb.cells)
            if c.cell_type == "code" and not TEST_CALL.search(c.source)
            and not SELF_CHECK.search(c.source)]


def floor_one(rec, ref):
    """((wall, CPU) seconds executing the cells, (wall, CPU) seconds of the checks, score) for one
    notebook, in-process."""
    cells = floor_cells(rec["path"])
    namespace = {"__name__": "__main__"}
    module = TOPICS[rec["topic"]]
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()), \
            warnings.catch_warnings():
        warnings.simplefilter("ignore")
        start = time.perf_counter(), time.process_time()
        for code in cells:
            try:
                exec(code, namespace)
            except Exception:  # a cell that raises does not stop the later cells
                pass
        middle = time.perf_counter(), time.process_time()
        student = LocalStudent(namespace, module.FUNCTIONS)
        score = sum(r.score for r in run_checks(checks_for(module, hidden=True), student,
                                                rec["topic"], 0, ref))
        end = time.perf_counter(), time.process_time()
    plt.close("all")
    return ((middle[0] - start[0], middle[1] - start[1]),
            (end[0] - middle[0], end[1] - middle[1]), score)


def sample_of(records, students):
    """The records of `students` students spread evenly over the class."""
    names = sorted({r["student"] for r in records})
    count = min(students, len(names))
    picked = {names[i * len(names) // count] for i in range(count)}
    return [r for r in records if r["student"] in picked]


def floor(sample, solutions):
    """topic -> list of ((cells wall, CPU), (checks wall, CPU)) seconds, one per notebook of the
    sample, measured after a warm-up."""
    refs = {topic: load_reference(solutions, topic) for topic in ASSIGNMENTS}
    for topic in ASSIGNMENTS:  # warm-up: one notebook per topic, not timed
        floor_one(next(r for r in sample if r["topic"] == topic), refs[topic])
    times = {topic: [] for topic in ASSIGNMENTS}
    for rec in sample:
        cells, checks, score = floor_one(rec, refs[rec["topic"]])
        times[rec["topic"]].append((cells, checks))
        if "score" in rec and abs(score - rec["score"]) > 1e-9:
            print(f"warning: {rec['student']}/{rec['assignment']}: in-process checks score "
                  f"{score:g}, grader grade {rec['score']:g}")
    return times


# -- the same sample with and without the sandbox ---------------------------------------------------

def sandboxed(records):
    """CPU seconds per notebook of `grader grade -j 1` on `records`, start-up excluded: the run on
    all of them minus a run on the first one alone, over one notebook fewer."""
    def cpu_of(paths):
        command = [os.path.join(BIN, "grader"), "grade", "-j", "1", "--format", "json", *paths]
        cpu = busy_cpu()
        proc = subprocess.run(command, capture_output=True, text=True, env=ENV)
        if proc.returncode != 0:
            sys.exit(f"grader grade failed ({proc.returncode}): {proc.stderr[-2000:]}")
        return busy_cpu() - cpu
    paths = [r["path"] for r in records]
    return (cpu_of(paths) - cpu_of(paths[:1])) / (len(paths) - 1)


class LimitedInProcess(InProcess):
    """The self-check's in-process transport, with the time limit a sandboxed call would get (as
    CPU time, ITIMER_PROF), so that code too slow for the grader is cut off here as well."""

    def call(self, header, buffers, cpu_limit, wall_limit):
        signal.setitimer(signal.ITIMER_PROF, cpu_limit or wall_limit)
        try:
            return super().call(header, buffers, cpu_limit, wall_limit)
        finally:
            signal.setitimer(signal.ITIMER_PROF, 0)


def _too_long(signum, frame):
    raise TimeoutError("over the call's time limit")


def unsandboxed_one(rec, ref):
    """(CPU seconds loading, CPU seconds checking, score) of one notebook graded as `grader grade`
    grades it, but in a child forked from this warm process, with no sandbox: the cells loaded by
    the student server's own code (plots against the stand-in, test cells and check() idle),
    then every check in-process."""
    sub = submissions.load(rec["path"])
    cells = [{"file": c.file, "source": c.source} for c in sub.cells]
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(read)
            null = os.open(os.devnull, os.O_WRONLY)
            os.dup2(null, 1)
            os.dup2(null, 2)
            grader.IN_SANDBOX = True
            signal.signal(signal.SIGPROF, _too_long)
            start = time.process_time()
            server = Server()
            server.load({"module": sub.module, "seed": 0, "cells": cells,
                         "cell_seconds": Limits().cell_seconds,
                         "stand_in": plotting.suits(c["source"] for c in cells)})
            middle = time.process_time()
            module = TOPICS[rec["topic"]]
            student = Student(lambda: LimitedInProcess(server.namespace),
                              signatures=module.FUNCTIONS)
            score = sum(r.score for r in run_checks(checks_for(module, hidden=True), student,
                                                    rec["topic"], 0, ref))
            end = time.process_time()
            os.write(write, json.dumps([middle - start, end - middle, score]).encode())
        except BaseException:
            os.write(write, json.dumps({"error": traceback.format_exc()}).encode())
        finally:
            os._exit(0)
    os.close(write)
    with os.fdopen(read, "rb") as f:
        data = f.read()
    os.waitpid(pid, 0)
    result = json.loads(data) if data else {"error": "the child wrote nothing"}
    if isinstance(result, dict):
        raise RuntimeError(f"{rec['path']} without a sandbox: {result['error']}")
    return result


def unsandboxed(records, solutions):
    """Mean (CPU seconds loading, CPU seconds checking) per notebook of `records` without a
    sandbox. This process is first warmed as the zygote and a grading process are: numpy and the
    stand-in's module list ready, each topic's checks run once on its reference solution."""
    refs = {topic: load_reference(solutions, topic) for topic in ASSIGNMENTS}
    zygote.warm_up_numpy()
    plotting.submodules()
    for topic in ASSIGNMENTS:
        run_checks(checks_for(TOPICS[topic], hidden=True),
                   LocalStudent(vars(refs[topic]), TOPICS[topic].FUNCTIONS), topic, 0, refs[topic])
    parts = []
    for rec in records:
        load, checks, score = unsandboxed_one(rec, refs[rec["topic"]])
        parts.append((load, checks))
        if "score" in rec and abs(score - rec["score"]) > 1e-9:
            print(f"warning: {rec['student']}/{rec['assignment']}: without a sandbox it scores "
                  f"{score:g}, grader grade {rec['score']:g}")
    return statistics.mean(p[0] for p in parts), statistics.mean(p[1] for p in parts)


# -- nbgrader --------------------------------------------------------------------------------------

def nbgrader_sample(records, count, course):
    """Wall and CPU seconds of `nbgrader autograde` per notebook, wall seconds per notebook of
    each assignment, and how many notebooks, for `count` notebooks of the class (each topic in
    turn, from different students)."""
    proc = subprocess.run([os.path.join(BIN, "grader"), "nbgrader", str(course)],
                          capture_output=True, text=True, env=ENV)
    if proc.returncode != 0:
        sys.exit(f"grader nbgrader failed: {proc.stderr[-2000:]}")
    names = sorted({r["student"] for r in records})
    by_key = {(r["student"], r["topic"]): r for r in records}
    sample = [by_key[names[(turn + t) % len(names)], topic]  # each topic from another student
              for turn in range(len(names)) for t, topic in enumerate(ASSIGNMENTS)][:count]
    assignments = sorted({r["assignment"] for r in sample})

    from nbgrader.apps import NbGraderAPI  # set-up, not timed: generate in-process, as the tests do
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config import Config
    os.environ["PATH"] = ENV["PATH"]  # nbgrader runs alembic to create its database
    config = Config()
    config.CourseDirectory.root = str(course)
    config.CourseDirectory.course_id = "dl-fundamentals"
    api = NbGraderAPI(CourseDirectory(config=config), config=config)
    for a in assignments:
        outcome = api.generate_assignment(a, force=True)
        if not outcome["success"]:
            sys.exit(f"nbgrader generate_assignment {a} failed: {outcome.get('log', '')[-2000:]}")

    for rec in sample:
        name = f"{rec['assignment']}.ipynb"
        release = nbformat.read(str(course / "release" / rec["assignment"] / name), 4)
        folder = course / "submitted" / rec["student"] / rec["assignment"]
        folder.mkdir(parents=True, exist_ok=True)
        nbformat.write(student_notebook(release, rec["topic"], rec["bug"]), str(folder / name))

    seconds, cpu = {}, children_cpu()
    for a in assignments:
        start = time.perf_counter()
        proc = subprocess.run([os.path.join(BIN, "nbgrader"), "autograde", a], cwd=course,
                              capture_output=True, text=True, env=ENV)
        seconds[a] = time.perf_counter() - start
        if proc.returncode != 0:
            print(f"warning: nbgrader autograde {a} failed: {(proc.stdout + proc.stderr)[-500:]}")

    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{course}/gradebook.db", "dl-fundamentals") as gb:
        for rec in sample:
            try:
                score = gb.find_submission(rec["assignment"], rec["student"]).score
            except Exception as exc:
                print(f"warning: nbgrader has no score for {rec['student']}/"
                      f"{rec['assignment']}: {exc}")
                continue
            if "score" in rec and abs(score - rec["score"]) > 1e-9:
                print(f"note: {rec['student']}/{rec['assignment']}: nbgrader {score:g}, "
                      f"grader grade {rec['score']:g}")
    per_topic = {}
    for a in assignments:
        n = sum(r["assignment"] == a for r in sample)
        per_topic[a] = seconds[a] / n
    cpu = children_cpu() - cpu
    return sum(seconds.values()) / len(sample), cpu / len(sample), per_topic, len(sample)


# -- main ------------------------------------------------------------------------------------------

def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=300)
    parser.add_argument("--buggy", type=float, default=0.33, help="share of buggy students")
    parser.add_argument("--nbgrader-sample", type=int, default=8,
                        help="notebooks for nbgrader autograde (0: skip nbgrader)")
    parser.add_argument("--floor-students", type=int, default=10,
                        help="students whose notebooks the floor is measured on")
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--runs", type=int, default=3,
                        help="times the class is graded (the median counts)")
    parser.add_argument("--seed", type=int, default=0, help="which students are buggy, which bugs")
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args()
    if not os.path.exists(os.path.join(BIN, "grader")):
        sys.exit(f"no grader command next to {sys.executable}: run this with the project's venv")
    solutions = find_solutions(str(ROOT / "solutions"))

    work = pathlib.Path(tempfile.mkdtemp(prefix="grader-class-"))
    try:
        records = make_class(work / "class", args.students, args.buggy, args.seed)
        notebooks = len(records)
        buggy = len({r["student"] for r in records if r["bug"]})
        print(f"class: {args.students} students x {len(ASSIGNMENTS)} notebooks = {notebooks} "
              f"notebooks, {buggy} students buggy (one bug in each of their notebooks), nbgrader "
              f"layout")

        runs = []
        for run in range(args.runs):
            alone, together, cpus = speed_reference()
            seconds, cpu = grade_class(work / "class", records, args.jobs)
            runs.append((seconds, cpu))
            print(f"grader grade -j {args.jobs}, run {run + 1} of {args.runs}: {seconds:.1f} s "
                  f"for the class, {seconds / notebooks * 1e3:.1f} ms per notebook; CPUs busy "
                  f"{cpu:.0f} s ({cpu / seconds / cpus:.0%} of {cpus} CPUs), "
                  f"{cpu / notebooks * 1e3:.0f} ms per notebook; speed reference just before: "
                  f"{alone:.0f} ms alone, {together:.0f} ms with {cpus} CPUs busy")
        class_s = statistics.median(r[0] for r in runs)
        class_cpu = statistics.median(r[1] for r in runs)
        class_ms, class_cpu_ms = class_s / notebooks * 1e3, class_cpu / notebooks * 1e3
        if args.runs > 1:
            print(f"median of {args.runs} runs: {class_s:.1f} s for the class, {class_ms:.1f} ms "
                  f"per notebook (CPU {class_cpu_ms:.0f} ms); fastest "
                  f"{min(r[0] for r in runs):.1f} s, slowest {max(r[0] for r in runs):.1f} s")

        sample = sample_of(records, args.floor_students)
        times = floor(sample, solutions)
        every = [t for ts in times.values() for t in ts]
        cells_ms = statistics.mean(c[0] for c, _ in every) * 1e3
        checks_ms = statistics.mean(k[0] for _, k in every) * 1e3
        floor_ms = cells_ms + checks_ms
        floor_cpu_ms = statistics.mean(c[1] + k[1] for c, k in every) * 1e3
        print(f"floor ({len(every)} notebooks): {floor_ms:.0f} ms per notebook (cells "
              f"{cells_ms:.0f} ms + checks {checks_ms:.0f} ms; CPU {floor_cpu_ms:.0f} ms)")
        print(f"class/floor per notebook: {class_ms / floor_ms:.1f}x; with the floor shared by "
              f"{args.jobs} jobs {class_ms * args.jobs / floor_ms:.1f}x; "
              f"CPU {class_cpu_ms / floor_cpu_ms:.1f}x")

        with_sandbox = sandboxed(sample)
        load, checks = unsandboxed(sample, solutions)
        without = load + checks
        print(f"the floor's {len(sample)} notebooks graded as grader grade grades them, CPU per "
              f"notebook: {with_sandbox * 1e3:.0f} ms with the sandbox (-j 1, start-up "
              f"excluded), {without * 1e3:.0f} ms without (loading {load * 1e3:.0f} + checks "
              f"{checks * 1e3:.0f}); the sandbox costs {(with_sandbox - without) * 1e3:.0f} ms "
              f"per notebook ({with_sandbox / without:.2f}x)")

        nb_per_topic = {}
        if args.nbgrader_sample > 0:
            nb_s, nb_cpu, nb_per_topic, nb_count = nbgrader_sample(
                records, args.nbgrader_sample, work / "course")
            print(f"nbgrader autograde ({nb_count} notebooks): {nb_s:.2f} s per notebook (CPU "
                  f"{nb_cpu:.2f} s); nbgrader/grader per notebook {nb_s * 1e3 / class_ms:.1f}x, "
                  f"CPU {nb_cpu * 1e3 / class_cpu_ms:.1f}x")

        print(f"{'topic':>16} | {'floor cells ms':>14} | {'floor checks ms':>15} | "
              f"{'nbgrader s':>10}")
        for topic, assignment in ASSIGNMENTS.items():
            ts = times[topic]
            nb = nb_per_topic.get(assignment)
            print(f"{topic:>16} | {statistics.mean(c[0] for c, _ in ts) * 1e3:>14.0f} | "
                  f"{statistics.mean(k[0] for _, k in ts) * 1e3:>15.0f} | "
                  f"{f'{nb:.2f}' if nb is not None else '-':>10}")

        projected = class_ms * TARGET_NOTEBOOKS / 1e3
        met = projected <= TARGET_SECONDS
        how = ("measured" if notebooks == TARGET_NOTEBOOKS
               else f"projected from {notebooks} notebooks")
        print(f"target 300 x 8 notebooks in <= {TARGET_SECONDS:.0f} s "
              f"({TARGET_SECONDS / TARGET_NOTEBOOKS * 1e3:.0f} ms per notebook): {projected:.0f} s "
              f"({how}, median of {args.runs}): {'met' if met else 'NOT met'}")
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
