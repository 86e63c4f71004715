"""nbgrader integration.

Three pieces:
- `test(topic, function)`: the body of an autograded test cell. It runs the checks about one
  student function in the notebook's own kernel and returns the points earned as a float, which
  nbgrader reads as partial credit; in the hidden part of the cell (`hidden=True`) it adds the
  hidden checks and fails with an AssertionError when nothing passes.
- `write_course(root)`: an nbgrader course directory built from assignments/ and solutions/.
- `write_gradebook(root, results)`: the scores of `grader grade` (sandboxed, tamper-proof) put
  into the course's gradebook, cell by cell.
"""
import contextlib
import io
import json
import os
import re
import shutil
import warnings

STUB = ("# YOUR CODE HERE", "raise NotImplementedError()")  # nbgrader's default code stub
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
    folder = os.getcwd()
    while True:
        candidate = os.path.join(folder, "solutions")
        if os.path.exists(os.path.join(folder, CONFIG)) and os.path.isdir(candidate):
            return find_solutions(os.environ.get("GRADER_SOLUTIONS") or candidate)
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

    from ..checks.core import run_check
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
        results = [run_check(c, student, topic, 0, ref) for c in checks]
    score = sum(r.score for r in results)
    possible = sum(r.max_score for r in results)
    for r in results:
        print(f"{'ok  ' if r.passed else 'FIX '} {r.name} [{r.score:g}/{r.max_score:g}]"
              + ("" if r.passed else f"\n     {r.message}"))
    if hidden and score == 0:
        raise AssertionError(f"{function}: no check passed; see above")
    if not hidden:
        print(f"{function}: {score:g} / {possible:g} on the public checks "
              f"(grading adds hidden checks)")
    return float(score)


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
        if lines[i].strip() == STUB[0] and lines[i + 1].strip() == STUB[1]:
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


def write_course(root, assignments_dir, solutions_dir, course_id="dl-fundamentals"):
    """An nbgrader course: nbgrader_config.py, source/<assignment>/<notebook>.ipynb for every
    notebook in `assignments_dir`, and the reference solutions in solutions/."""
    import nbformat
    os.makedirs(root, exist_ok=True)
    with open(os.path.join(root, CONFIG), "w") as f:
        f.write(CONFIG_TEXT.format(course_id=course_id))
    written = []
    for name in sorted(os.listdir(assignments_dir)):
        if not name.endswith(".ipynb"):
            continue
        nb = nbformat.read(os.path.join(assignments_dir, name), as_version=4)
        assignment = name[:-len(".ipynb")]
        folder = os.path.join(root, "source", assignment)
        os.makedirs(folder, exist_ok=True)
        nbformat.write(source_notebook(nb, solutions_dir), os.path.join(folder, name))
        written.append(assignment)
    shutil.copytree(solutions_dir, os.path.join(root, "solutions"), dirs_exist_ok=True,
                    ignore=shutil.ignore_patterns("__pycache__"))
    return written


# -- the gradebook --------------------------------------------------------------------------------

def course_root_of(path):
    """The nbgrader course root above `path` (the folder with nbgrader_config.py), or None."""
    folder = os.path.abspath(path if os.path.isdir(path) else os.path.dirname(path))
    while True:
        if os.path.exists(os.path.join(folder, CONFIG)):
            return folder
        if os.path.dirname(folder) == folder:
            return None
        folder = os.path.dirname(folder)


def submission_of(path, root):
    """(student, assignment, notebook name) for root/submitted/<student>/<assignment>/<nb>.ipynb."""
    parts = os.path.relpath(os.path.abspath(path), root).split(os.sep)
    if len(parts) == 4 and parts[0] == "submitted" and parts[3].endswith(".ipynb"):
        return parts[1], parts[2], parts[3][:-len(".ipynb")]
    return None


def load_config(root):
    from traitlets.config.loader import PyFileConfigLoader
    return PyFileConfigLoader(CONFIG, path=root).load_config()


def write_gradebook(root, results):
    """Put each graded submission's scores into the course's gradebook: the checks about a
    function add up to that function's test cell (test_<function>). Returns a list of problems
    (one line each) for submissions that could not be recorded."""
    from nbgrader.api import Gradebook, MissingEntry
    config = load_config(root)
    course_id = config.CourseDirectory.course_id
    db_url = config.CourseDirectory.get("db_url") or f"sqlite:///{os.path.join(root, 'gradebook.db')}"
    problems = []
    with Gradebook(db_url, course_id) as gb:
        for result in results:
            where = submission_of(result["submission"], root)
            if where is None or result.get("error"):
                continue
            student, assignment, notebook = where
            per_function = {}
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
                problems.append(f"{result['submission']}: not in the gradebook ({exc}); run "
                                f"nbgrader generate_assignment {assignment} first")
    return problems
