"""nbgrader integration.

Three pieces:
- `test(topic, function)`: the body of an autograded test cell. It runs the checks about one
  student function in the notebook's own kernel and returns the points earned as a float, which
  nbgrader reads as partial credit; in the hidden part of the cell (`hidden=True`) it adds the
  hidden checks and fails with an AssertionError when nothing passes.
- `write_course(root)`: an nbgrader course directory built from assignments/ and solutions/.
- `write_gradebook(root, results)`: the scores of `grader grade` (sandboxed, tamper-proof) put
  into the course's gradebook, cell by cell, with an autograded notebook per submission so that
  `nbgrader generate_feedback` shows them.
"""
import contextlib
import io
import json
import os
import re
import warnings

# The code stub of a function to write: what nbgrader puts in place of a solution region (set in
# the course's nbgrader_config.py), and what the notebooks of assignments/ hold. Its message is
# what a notebook's "Try it" cells print until the function is written.
STUB = ("# YOUR CODE HERE", 'raise NotImplementedError("not implemented yet")')
NBGRADER_DEFAULT_STUB = "raise NotImplementedError()"  # notebooks released by older versions
CONFIG = "nbgrader_config.py"
TEST_CALL = re.compile(r"""test\(\s*["'](\w+)["']\s*,\s*["'](\w+)["']\s*\)""")


# -- autograded test cells ------------------------------------------------------------------------

@contextlib.contextmanager
def quiet():
    """Nothing reaches stderr and no warning is shown: nbgrader gives 0 points to a test cell
    with any stderr output, even when the answer is right."""
    stderr_fd = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, 2)
        with contextlib.redirect_stderr(io.StringIO()), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        os.dup2(stderr_fd, 2)
        os.close(stderr_fd)
        os.close(devnull)


def course_solutions():
    """Reference solutions for hidden tests: $GRADER_SOLUTIONS, the folder `solutions/` next to
    the nbgrader_config.py above the current folder (where nbgrader runs a submission), or this
    project's own."""
    from .grading import find_solutions
    named = os.environ.get("GRADER_SOLUTIONS")
    if named:
        if not os.path.isdir(named):
            raise RuntimeError(f"GRADER_SOLUTIONS {named}: no such folder")
        return os.path.abspath(named)
    folder = os.getcwd()
    while True:
        candidate = os.path.join(folder, "solutions")
        if os.path.exists(os.path.join(folder, CONFIG)) and os.path.isdir(candidate):
            return find_solutions(candidate)
        if os.path.dirname(folder) == folder:
            return find_solutions()
        folder = os.path.dirname(folder)


def test(topic, function, hidden=False, namespace=None):
    """Run the checks about `function` on the functions of the calling notebook; return the
    points earned. hidden=True adds the hidden checks and raises AssertionError at 0 points."""
    import grader
    if grader.IN_SANDBOX:  # inside `grader grade`'s sandbox the grader itself does the grading
        return None
    import inspect

    from ..checks.core import run_checks
    from .grading import load_reference
    from .selfcheck import LocalStudent
    from ..checks.topics import TOPICS
    module = TOPICS[topic]
    namespace = namespace if namespace is not None else inspect.currentframe().f_back.f_globals
    ref = None
    if hidden:
        solutions = course_solutions()
        if solutions is None:
            raise RuntimeError("hidden tests need the reference solutions: set GRADER_SOLUTIONS "
                               "or put them in solutions/ next to nbgrader_config.py")
        ref = load_reference(solutions, topic)
    student = LocalStudent(namespace, module.FUNCTIONS)
    checks = [c for c in module.CHECKS if c.function == function and (hidden or not c.hidden)]
    with quiet():
        results = run_checks(checks, student, topic, 0, ref)
    score = sum(r.score for r in results)
    possible = sum(r.max_score for r in results)
    said = messages_of_this_cell()
    for check, r in zip(checks, results):
        if hidden and not check.hidden:
            continue  # the public part of the same cell has printed it already
        print(f"{'ok  ' if r.passed else 'FIX '} {r.name} [{r.score:g}/{r.max_score:g}]")
        if not r.passed and r.message not in said:  # a reason shared by several checks: once
            said.add(r.message)
            print(f"     {r.message}")
    if hidden and score == 0:
        raise AssertionError(f"{function}: no check passed; see above")
    if not hidden:
        print(f"{function}: {score:g} / {possible:g} on the public checks "
              f"(grading adds hidden checks)")
    return float(score)


_said = [None, set()]  # (the running cell's execution count, messages it has printed)


def messages_of_this_cell():
    """The failure messages test() has printed in the running notebook cell: a test cell calls
    test() twice (public part, hidden part) and no reason should appear twice in it."""
    try:
        from IPython import get_ipython
        cell = get_ipython().execution_count
    except Exception:  # not in a kernel: each call is on its own
        cell = None
    if cell is None or _said[0] != cell:
        _said[:] = [cell, set()]
    return _said[1]


def points_of(module, function):
    return float(sum(c.points for c in module.CHECKS if c.function == function))


# -- a course directory ---------------------------------------------------------------------------

CONFIG_TEXT = '''\
# nbgrader configuration, written by `grader nbgrader`.
import os

c = get_config()
c.CourseDirectory.course_id = {course_id!r}
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
c.Execute.timeout = 120
# What replaces a solution region in the released notebooks (the stub of assignments/).
c.ClearSolutions.code_stub = {{"python": {stub!r}}}
# Hidden tests find the reference solutions in solutions/ next to this file; keep that folder
# out of anything you give students.
'''


def function_bodies(source):
    """name -> body lines (without docstring, dedented) of each top-level function."""
    import ast
    import textwrap
    lines = source.splitlines()
    out = {}
    for node in ast.parse(source).body:
        if isinstance(node, ast.FunctionDef):
            body = node.body
            if isinstance(body[0], ast.Expr) and isinstance(getattr(body[0], "value", None),
                                                           ast.Constant) and len(body) > 1:
                body = body[1:]
            out[node.name] = textwrap.dedent("\n".join(lines[body[0].lineno - 1:node.end_lineno]))
    return out


def with_solution(source, body):
    """A skeleton cell's source with its stub replaced by a solution region holding `body`."""
    lines = source.split("\n")
    for i in range(len(lines) - 1):
        if lines[i].strip() == STUB[0] and lines[i + 1].strip() in (STUB[1],
                                                                    NBGRADER_DEFAULT_STUB):
            indent = lines[i][:len(lines[i]) - len(lines[i].lstrip())]
            region = [indent + "### BEGIN SOLUTION"]
            region += [indent + line if line else "" for line in body.split("\n")]
            region += [indent + "### END SOLUTION"]
            return "\n".join(lines[:i] + region + lines[i + 2:])
    return None


def nbgrader_meta(grade_id, solution=False, grade=False, points=None):
    meta = {"schema_version": 3, "grade_id": grade_id, "solution": solution, "grade": grade,
            "locked": grade, "task": False}
    if points is not None:
        meta["points"] = points
    return meta


def source_notebook(nb, solutions_dir):
    """The instructor's version of an assignment notebook: solutions in solution regions,
    hidden checks in hidden-test regions, nbgrader metadata on both."""
    import nbformat

    from ..checks.topics import TOPICS
    topic = nb.metadata["grader"]["topic"]
    module = TOPICS[topic]
    with open(os.path.join(solutions_dir, f"{topic}.py")) as f:
        bodies = function_bodies(f.read())
    nb = nbformat.from_dict(json.loads(json.dumps(nb)))  # a deep copy
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        defined = re.match(r"def (\w+)\(", cell.source)
        test_call = TEST_CALL.search(cell.source)
        if defined and defined.group(1) in module.FUNCTIONS:
            fn = defined.group(1)
            filled = with_solution(cell.source, bodies[fn])
            if filled is None:
                raise ValueError(f"the cell defining {fn} has no '{STUB[0]}' stub to fill")
            cell.source = filled
            cell.metadata["nbgrader"] = nbgrader_meta(fn, solution=True)
        elif test_call and test_call.group(2) in module.FUNCTIONS:
            fn = test_call.group(2)
            cell.source = (cell.source.rstrip("\n") + "\n### BEGIN HIDDEN TESTS\n"
                           f'test("{topic}", "{fn}", hidden=True)\n### END HIDDEN TESTS')
            cell.metadata["nbgrader"] = nbgrader_meta(f"test_{fn}", grade=True,
                                                      points=points_of(module, fn))
    return nb


class CourseError(Exception):
    """write_course cannot write the course (one line saying why)."""


class CourseExists(CourseError):
    """write_course would change files that are already there."""


def write_course(root, assignments_dir, solutions_dir, course_id="dl-fundamentals", force=False):
    """An nbgrader course: nbgrader_config.py, source/<assignment>/<notebook>.ipynb for every
    notebook in `assignments_dir`, and the reference solutions in solutions/. A file that exists
    with other content is changed only with force=True (else CourseExists names them all and
    nothing is written). Returns the assignments written."""
    import nbformat
    files = {CONFIG: CONFIG_TEXT.format(course_id=course_id, stub="\n".join(STUB))}
    written = []
    for name in sorted(os.listdir(assignments_dir)):
        if not name.endswith(".ipynb"):
            continue
        assignment = name[:-len(".ipynb")]
        try:
            nb = nbformat.read(os.path.join(assignments_dir, name), as_version=4)
            text = nbformat.writes(source_notebook(nb, solutions_dir)) + "\n"
        except Exception as exc:  # an unreadable notebook, no topic, no stub, no solution
            reason = " ".join(str(exc).split())[:200] or type(exc).__name__
            raise CourseError(f"{name}: cannot make its source notebook ({reason})")
        files[os.path.join("source", assignment, name)] = text
        written.append(assignment)
    for name in sorted(os.listdir(solutions_dir)):
        if os.path.isfile(os.path.join(solutions_dir, name)) and not name.startswith("."):
            with open(os.path.join(solutions_dir, name), encoding="utf-8") as f:
                files[os.path.join("solutions", name)] = f.read()
    changed = [rel for rel, text in files.items() if _differs(os.path.join(root, rel), text)]
    if changed and not force:
        raise CourseExists(
            f"{root} already has {', '.join(changed[:4])}{' and more' if len(changed) > 4 else ''} "
            "with other content; nothing was written (pass --force to overwrite them)")
    for rel, text in files.items():
        path = os.path.join(root, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
    return written


def _differs(path, text):
    """True when `path` exists (as anything) and does not hold exactly `text`."""
    if not os.path.lexists(path):
        return False
    try:
        with open(path, encoding="utf-8") as f:
            return f.read() != text
    except (OSError, UnicodeDecodeError):
        return True


# -- the gradebook --------------------------------------------------------------------------------

def submission_of(path, root):
    """(student, assignment, notebook name) for root/submitted/<student>/<assignment>/<nb>.ipynb."""
    parts = os.path.relpath(os.path.abspath(path), os.path.abspath(root)).split(os.sep)
    if len(parts) == 4 and parts[0] == "submitted" and parts[3].endswith(".ipynb"):
        return parts[1], parts[2], parts[3][:-len(".ipynb")]
    return None


def load_config(root):
    """The course's nbgrader configuration. `root` is the course root the instructor named; its
    nbgrader_config.py is Python and runs here, so it is never taken from a submission's folder."""
    from traitlets.config.loader import PyFileConfigLoader
    return PyFileConfigLoader(CONFIG, path=root).load_config()


def write_gradebook(root, results):
    """Put each graded submission's scores into the gradebook of the course at `root`: the
    checks about a function add up to that function's test cell (test_<function>). Also writes
    autograded/<student>/<assignment>/<notebook>.ipynb with the checks' messages as the output of
    each test cell, which `nbgrader generate_feedback` turns into feedback. Only assignments and
    notebooks the gradebook knows (from `nbgrader generate_assignment`) are recorded; one that
    could not be graded is recorded as 0 points. Returns (number recorded, one-line warnings about
    what was not recorded or has no feedback notebook)."""
    with warnings.catch_warnings():  # SQLAlchemy's deprecation warnings are nbgrader's business
        warnings.simplefilter("ignore")
        return _write_gradebook(root, results)


def _write_gradebook(root, results):
    from nbgrader.api import Gradebook, MissingEntry
    from .report import clean
    config = load_config(root)
    course_id = config.CourseDirectory.course_id
    db_url = config.CourseDirectory.get("db_url") or f"sqlite:///{os.path.join(root, 'gradebook.db')}"
    problems, recorded = [], 0
    with Gradebook(db_url, course_id) as gb:
        for result in results:
            name = clean(result["submission"])
            where = submission_of(result["submission"], root)
            if where is None:
                problems.append(f"{name}: not recorded: it is not a notebook in "
                                f"{os.path.join(root, 'submitted', '<student>', '<assignment>')}/")
                continue
            student, assignment, notebook = where
            try:
                known = gb.find_assignment(assignment)
            except MissingEntry:
                problems.append(f"{name}: not recorded: the gradebook has no assignment "
                                f"{clean(assignment)}; run nbgrader generate_assignment "
                                f"{clean(assignment)} first if it is one")
                continue
            notebooks = {n.name: n for n in known.notebooks}
            if notebook not in notebooks:
                problems.append(f"{name}: not recorded: assignment {clean(assignment)} has no "
                                f"notebook {clean(notebook)} in the gradebook")
                continue
            # a submission that could not be graded scores 0 in every test cell
            per_function = {c.name[len("test_"):]: 0.0 for c in notebooks[notebook].grade_cells
                            if c.name.startswith("test_")} if result.get("error") else {}
            for check in result["checks"]:
                per_function[check["function"]] = per_function.get(check["function"], 0.0) + check["score"]
            try:
                gb.update_or_create_student(student)
                gb.update_or_create_submission(assignment, student)
                for function, score in per_function.items():
                    gb.find_grade(f"test_{function}", notebook, assignment, student).auto_score = score
                gb.db.commit()
            except MissingEntry as exc:
                gb.db.rollback()
                problems.append(f"{name}: not recorded: its test cells are not in the gradebook "
                                f"({clean(exc)}); run nbgrader generate_assignment "
                                f"{clean(assignment)} again")
                continue
            recorded += 1
            if result.get("error"):
                problems.append(f"{name}: recorded as 0 points: {clean(result['error'])}; no "
                                "feedback notebook for it")
                continue
            try:
                problem = write_autograded(root, result, student, assignment, notebook, gb)
            except Exception as exc:  # the scores are in; only the feedback notebook is missing
                problem = f"{type(exc).__name__}: {clean(exc)}"
            if problem:
                problems.append(f"{name}: recorded, but no feedback notebook was written "
                                f"({problem})")
    return recorded, problems


def write_autograded(root, result, student, assignment, notebook, gb):
    """autograded/<student>/<assignment>/<notebook>.ipynb: the released notebook's cells as the
    gradebook stores them, the student's answers in the solution cells, and under each test cell
    what the sandboxed checks of its function found (what generate_feedback shows)."""
    import nbformat
    from nbformat import v4
    from nbgrader.api import MissingEntry
    from .submissions import read_regular_file
    from .report import clean
    raw, problem = read_regular_file(result["submission"], 128 << 20)
    if problem:
        return problem
    with quiet():  # nbformat logs schema problems to stderr
        nb = nbformat.reads(raw.decode("utf-8-sig"), as_version=4)
    by_function = {}
    for check in result["checks"]:
        by_function.setdefault(check["function"], []).append(check)
    cells = []
    for cell in nb.cells:
        meta = cell.get("metadata", {}).get("nbgrader", {})
        if cell.cell_type == "code":
            cell.outputs, cell.execution_count = [], None
        grade_id = meta.get("grade_id") if isinstance(meta, dict) else None
        if grade_id and (meta.get("locked") or meta.get("grade")):
            try:  # a locked cell as the instructor wrote it, not as the student left it
                cell.source = gb.find_source_cell(grade_id, notebook, assignment).source
            except MissingEntry:
                pass
        if grade_id and meta.get("grade") and grade_id.startswith("test_"):
            checks = by_function.get(grade_id[len("test_"):], [])
            text = "".join(f"{'ok  ' if c['passed'] else 'FIX '} {c['name']} "
                           f"[{c['score']:g}/{c['max_score']:g}]\n"
                           + ("" if c["passed"] else f"     {clean(c['message'])}\n") for c in checks)
            cell.outputs = [v4.new_output("stream", name="stdout",
                                          text=text + "(graded in the sandbox by grader grade)\n")]
        cells.append(cell)
    nb.cells = cells
    folder = os.path.join(root, "autograded", student, assignment)
    os.makedirs(folder, exist_ok=True)
    nbformat.write(nb, os.path.join(folder, f"{notebook}.ipynb"))
    return None
