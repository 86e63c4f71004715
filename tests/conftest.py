"""Shared fixtures: one pool of sandboxed workers for the whole session, and helpers that grade
source text the way `grader grade` grades files."""
import contextlib
import os
import pathlib
import shutil
import tempfile

import pytest

from grader.course import submissions
from grader.checks.topics import TOPICS
from grader.course.grading import Options, Pool, find_solutions, load_reference
from grader.sandbox.process import Limits, Sandbox

ROOT = pathlib.Path(__file__).resolve().parent.parent
SOLUTIONS = ROOT / "solutions"
CORPUS = ROOT / "tests" / "corpus"
LIMITS = Limits(call_seconds=5, cell_seconds=2, submission_seconds=60)


@pytest.fixture(scope="session")
def pool():
    p = Pool(Options(jobs=2, limits=LIMITS, solutions=find_solutions(str(SOLUTIONS))))
    yield p
    p.close()


@pytest.fixture(scope="session")
def checker():
    """(Sandbox of one slot, {topic: reference module}): for running checks right here, in the
    test process, with grader.checks.core.run_checks (see checking.py)."""
    box = Sandbox(LIMITS)
    references = {t: load_reference(str(SOLUTIONS), t) for t in TOPICS}
    yield box, references
    box.close()


@pytest.fixture
def grade(pool, tmp_path):
    """grade(sources, topic=None, seed=0) -> results, in order. `sources` maps a file name
    (its suffix says .py or .ipynb) to its text."""
    def run(sources, topic=None, seed=0):
        subs = []
        for name, text in sources.items():
            path = tmp_path / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
            subs.append(submissions.load(str(path), topic))
        results = [None] * len(subs)
        for i, result in pool.grade(subs, seed=seed):
            results[i] = result
        return results
    return run


def reference_source(topic):
    return (SOLUTIONS / f"{topic}.py").read_text()


def failing(result):
    return [c for c in result["checks"] if not c["passed"]]


def notebook(*cells, topic=None, language="python"):
    """An nbformat-4 notebook (as text) from code-cell sources; markdown cells start with '# md'."""
    import nbformat
    from nbformat import v4
    nb = v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": language}
    if topic:
        nb.metadata["grader"] = {"topic": topic}
    nb.cells = [v4.new_markdown_cell(c[4:]) if c.startswith("# md") else v4.new_code_cell(c)
                for c in cells]
    return nbformat.writes(nb)


def split_functions(source):
    """The top-level definitions of a module as separate chunks (imports first)."""
    import ast
    tree = ast.parse(source)
    lines = source.splitlines()
    return ["\n".join(lines[node.lineno - 1 - len(getattr(node, "decorator_list", ())):node.end_lineno])
            for node in tree.body if not isinstance(node, ast.Expr)]


def filled_notebook(path, source):
    """The notebook at `path` with each skeleton's stub replaced by the body of the same
    function in `source` (what a student who solved it hands in)."""
    import nbformat
    from grader.course.validate import filled
    return nbformat.writes(filled(nbformat.read(str(path), 4), source))


def is_zombie(pid):
    """The process has ended and waits for its parent to collect its status (or is gone)."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] in "ZX"
    except OSError:
        return True


def descendants(pid):
    """Every process below `pid`, found through /proc's children lists."""
    found, todo = [], [pid]
    while todo:
        parent = todo.pop()
        try:
            tids = os.listdir(f"/proc/{parent}/task")
        except OSError:  # already gone
            tids = []
        for tid in tids:
            try:
                with open(f"/proc/{parent}/task/{tid}/children") as f:
                    kids = [int(k) for k in f.read().split()]
            except OSError:
                kids = []
            found.extend(kids)
            todo.extend(kids)
    return found


@contextlib.contextmanager
def readable_folder(prefix):
    """A fresh folder every user may read (for a grader run as another user, or its sandbox),
    removed afterwards."""
    path = pathlib.Path(tempfile.mkdtemp(prefix=prefix))
    try:
        os.chmod(path, 0o755)
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
