"""`grader validate`: prove that a course is sound before students see it.

Every reference solution gets full marks (under several seeds), every notebook as shipped scores
0 without a grader error, the same notebook with the reference solution filled in gets full
marks, and both versions run top to bottom in a real kernel, the filled one passing every public
check in its autograded test cells.
"""
import os
import re
import shutil
import subprocess
import tempfile

from . import submissions
from .grading import Options, Pool
from .nbgrader import TEST_CALL, function_bodies, with_solution
from ..checks.topics import TOPICS


def filled(nb, solution_source):
    """A shipped notebook with the reference bodies in place of the stubs."""
    import nbformat
    bodies = function_bodies(solution_source)
    nb = nbformat.from_dict(nbformat.reads(nbformat.writes(nb), as_version=4))
    for cell in nb.cells:
        defined = re.match(r"def (\w+)\(", cell.source) if cell.cell_type == "code" else None
        if defined and defined.group(1) in bodies:
            cell.source = with_solution(cell.source, bodies[defined.group(1)]) or cell.source
    return nb


def problems_of(result, expect_full):
    """What is wrong with a result that should be full marks (or exactly 0, cleanly)."""
    if result["error"]:
        return [result["error"]]
    out = [f"grader error in {c['name']}: {c['message']}" for c in result["checks"]
           if c.get("grader_error")]
    if expect_full and result["score"] != result["max_score"]:
        out += [f"{c['name']}: {c['message']}" for c in result["checks"] if not c["passed"]]
    if not expect_full:
        if result["score"] != 0:
            out.append(f"scores {result['score']:g} as shipped; a skeleton must score 0")
        out += [f"running the notebook as shipped: {e}" for e in result.get("load_errors", [])]
    return out


def execute(nb, cwd, timeout=120):
    """Run a notebook in a fresh kernel; return the error lines (empty when it ran cleanly)."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError
    try:
        NotebookClient(nb, timeout=timeout, kernel_name="python3",
                       resources={"metadata": {"path": cwd}}).execute(stderr=subprocess.DEVNULL)
    except CellExecutionError as exc:
        return [str(exc).strip().splitlines()[-1][:300]]
    return []


def public_test_results(nb, topic):
    """Cells that call test(topic, fn) whose result is not the public points of fn."""
    module, out = TOPICS[topic], []
    for cell in nb.cells:
        call = TEST_CALL.search(cell.source) if cell.cell_type == "code" else None
        if not call:
            continue
        fn = call.group(2)
        want = sum(c.points for c in module.CHECKS if c.function == fn and not c.hidden)
        got = [o for o in cell.get("outputs", []) if o.get("output_type") == "execute_result"]
        text = got[0]["data"].get("text/plain", "") if got else ""
        if text.strip() != repr(float(want)):
            out.append(f"the test cell of {fn} gives {text.strip() or 'nothing'}, expected "
                       f"{float(want)!r} (all public checks)")
    return out


def self_check_problems(nb, solved):
    """The self-check cell's table: all passing when solved; when shipped, every check says
    'not implemented yet' or points to one that does."""
    for cell in nb.cells:
        if cell.cell_type == "code" and re.search(r"^check\(", cell.source, re.M):
            text = "".join(o.get("data", {}).get("text/plain", "") for o in cell.get("outputs", [])
                           if o.get("output_type") == "execute_result")
            score = re.search(r": ([\d.]+) / ([\d.]+) on the public checks", text)
            if not score:
                return ["the self-check cell shows no score"]
            if solved and score.group(1) != score.group(2):
                return [f"the self-check shows {score.group(1)} / {score.group(2)}"]
            lines = text.splitlines()
            reasons = [lines[i + 1] for i, line in enumerate(lines[:-1])
                       if line.strip().startswith("FIX")]
            if not solved and (score.group(1) != "0" or not reasons or not all(
                    "not implemented yet" in r or "because of '" in r for r in reasons)):
                return ["the self-check of the skeleton does not say 'not implemented yet' for "
                        "every check (or point to the check that does)"]
            return []
    return ["there is no self-check cell (check(...))"]


def validate(assignments, solutions, seeds=3, run_notebooks=True, jobs=2, report=print):
    """Returns True when everything holds; report() gets one line per item."""
    import nbformat
    ok = True

    def say(good, what, details=()):
        nonlocal ok
        ok &= good
        report(f"{'ok  ' if good else 'FAIL'} {what}")
        for line in details[:8]:
            report(f"       {line}")

    pool = Pool(Options(jobs=jobs, solutions=solutions))
    work = tempfile.mkdtemp(prefix="grader-validate-")
    try:
        topics = [t for t in TOPICS if os.path.exists(os.path.join(solutions, f"{t}.py"))]
        subs = [submissions.load(os.path.join(solutions, f"{t}.py")) for t in topics]
        for seed in range(seeds):
            for i, result in pool.grade(subs, seed=seed):
                issues = problems_of(result, expect_full=True)
                if issues or seed == seeds - 1:
                    say(not issues, f"solution {topics[i]}: full marks"
                        + (f" (seed {seed})" if issues else f" under seeds 0..{seeds - 1}"), issues)
        notebooks = sorted(f for f in os.listdir(assignments) if f.endswith(".ipynb"))
        shipped = [submissions.load(os.path.join(assignments, f)) for f in notebooks]
        solved_paths = []
        for name, sub in zip(notebooks, shipped):
            solved_paths.append(os.path.join(work, name))
            if sub.error or sub.topic not in topics:
                continue
            nb = nbformat.read(os.path.join(assignments, name), as_version=4)
            with open(os.path.join(solutions, f"{sub.topic}.py")) as f:
                nbformat.write(filled(nb, f.read()), solved_paths[-1])
        solved = [submissions.load(p) if os.path.exists(p) else None for p in solved_paths]
        batch = [s for s in shipped + solved if s is not None and not s.error]
        results = {batch[i].path: r for i, r in pool.grade(batch)}
        for name, sub, done in zip(notebooks, shipped, solved):
            if sub.error:
                say(False, f"{name}: readable", [sub.error])
                continue
            say(not problems_of(results[sub.path], False), f"{name} as shipped: 0 points, no "
                "errors", problems_of(results[sub.path], False))
            if done is not None:
                say(not problems_of(results[done.path], True), f"{name} solved: full marks",
                    problems_of(results[done.path], True))
        if run_notebooks:
            for name, sub, done in zip(notebooks, shipped, solved):
                if sub.error:
                    continue
                nb = nbformat.read(os.path.join(assignments, name), as_version=4)
                errors = execute(nb, assignments) or self_check_problems(nb, solved=False)
                say(not errors, f"{name} as shipped runs top to bottom, its self-check saying "
                    "'not implemented yet'", errors)
                if done is not None:
                    nb = nbformat.read(done.path, as_version=4)
                    errors = (execute(nb, assignments) or public_test_results(nb, sub.topic)
                              or self_check_problems(nb, solved=True))
                    say(not errors, f"{name} solved runs and passes its public test cells and "
                        "its self-check", errors)
    finally:
        pool.close()
        shutil.rmtree(work, ignore_errors=True)  # the solved notebooks hold the solutions
    return ok
