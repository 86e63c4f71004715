"""Finding and reading submissions: .py modules and .ipynb notebooks, and folders of them.

Reading happens in the grader (trusted); it turns each file into a list of code cells in
execution order. Nothing here runs student code. A file that cannot be graded becomes a
Submission with a one-line `error`.
"""
import hashlib
import json
import os
import re
from dataclasses import dataclass, field

from ..checks.topics import TOPIC_IDS, TOPICS

MAX_FILE_BYTES = 20 << 20
SUFFIXES = (".py", ".ipynb")
ALIASES = {"crossentropy": "cross_entropy", "batchnormalization": "batchnorm",
           "movingaverages": "moving_average", "ema": "moving_average",
           "matrixderivatives": "matrix_calculus", "backpropagation": "backprop",
           "residualconnection": "residual", "resnet": "residual"}


@dataclass
class Cell:
    file: str    # the name tracebacks and messages use ("cell 3", "bob.py")
    source: str


@dataclass
class Submission:
    path: str                       # as given on the command line, or found in a folder
    topic: str | None = None
    student: str = ""               # who handed it in (see identity())
    assignment: str = ""            # which assignment it answers
    cells: list = field(default_factory=list)
    module: str = "submission"      # __name__ the code runs under ("__main__" for notebooks)
    error: str | None = None
    digest: str = ""                # sha256 of the file's bytes, for resuming a batch

    @property
    def preload(self):
        return {"matplotlib", "matplotlib.pyplot"} if any(
            "matplotlib" in c.source for c in self.cells) else set()


def find(paths):
    """Expand paths (files or folders) into a sorted list of submission files. A folder yields
    every .py and .ipynb in it (recursively, skipping hidden entries and checkpoints); a path
    that is not there is kept, so that it gets a result with an error."""
    out = []
    for path in paths:
        if os.path.isfile(os.path.join(path, "nbgrader_config.py")) and os.path.isdir(
                os.path.join(path, "submitted")):
            path = os.path.join(path, "submitted")  # an nbgrader course: its submissions only
        if os.path.isdir(path):
            found = []
            for root, dirs, files in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                                 and d not in ("__pycache__", ".ipynb_checkpoints"))
                found += [os.path.join(root, f) for f in files
                          if f.endswith(SUFFIXES) and not f.startswith(".")]
            out += sorted(found) or [path]  # an empty folder still gets a result
        else:
            out.append(path)
    return out


def identity(path, given=None):
    """(student, assignment) of a submission file. In an nbgrader layout
    `.../submitted/<student>/<assignment>/...` both come from the folders. Otherwise the student
    is the first folder below the PATH it was found under (`examples/ada/x.ipynb` found under
    `examples` -> ada), or the file's own name when it was given directly or lies right inside
    that PATH; the assignment is the file's name without its suffix."""
    parts = os.path.normpath(path).split(os.sep)
    for i in range(len(parts) - 3):  # the outermost: a student may nest folders, not above
        if parts[i] == "submitted":
            return parts[i + 1], parts[i + 2]
    stem = os.path.splitext(parts[-1])[0]
    if given is not None and os.path.normpath(given) != os.path.normpath(path):
        below = os.path.relpath(path, given).split(os.sep)
        if len(below) > 1 and below[0] not in (os.curdir, os.pardir):
            return below[0], stem
    return stem, stem


def topic_from_name(path):
    """The topic a file name (or its folder's name) mentions, if exactly one."""
    for part in (os.path.basename(path), os.path.basename(os.path.dirname(path))):
        key = re.sub(r"[^a-z0-9]", "", os.path.splitext(part)[0].lower())
        hits = {t for t in TOPIC_IDS if t.replace("_", "") in key}
        hits |= {t for alias, t in ALIASES.items() if alias in key}
        if len(hits) == 1:
            return hits.pop()
    return None


def load(path, topic=None, given=None):
    """Read one file into a Submission (never raises for a bad file). The topic is `topic`,
    else the notebook's metadata, else the file name; an error result keeps what is known.
    `given` is the PATH the file was found under (for identity())."""
    student, assignment = identity(path, given)
    sub = Submission(path=path, topic=topic or topic_from_name(path), student=student,
                     assignment=assignment)
    try:
        with open(path, "rb") as f:
            raw = f.read(MAX_FILE_BYTES + 1)
    except IsADirectoryError:
        return _error(sub, "is a folder with no .py or .ipynb files")
    except FileNotFoundError:
        return _error(sub, "no such file")
    except OSError as exc:
        return _error(sub, f"cannot be read ({exc.strerror})")
    sub.digest = hashlib.sha256(raw).hexdigest()
    if len(raw) > MAX_FILE_BYTES:
        return _error(sub, f"is larger than {MAX_FILE_BYTES >> 20} MB")
    if not raw.strip():
        return _error(sub, "is empty")
    if b"\0" in raw:
        return _error(sub, "is a binary file, not Python code or a notebook")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _error(sub, "is not UTF-8 text")
    if path.endswith(".ipynb"):
        notebook_error = _read_notebook(sub, text)
        if notebook_error:
            return _error(sub, notebook_error)
    elif path.endswith(".py"):
        sub.cells = [Cell(os.path.basename(path), text)]
    else:
        return _error(sub, "is not a .py module or an .ipynb notebook")
    sub.topic = topic or sub.topic
    if sub.topic is None:
        return _error(sub, "names no topic: pass --topic, or put the topic in the file name "
                           f"(one of {', '.join(TOPIC_IDS)})")
    if sub.topic not in TOPIC_IDS:
        return _error(sub, f"has unknown topic {sub.topic!r} (expected one of {', '.join(TOPIC_IDS)})")
    if sub.topic not in TOPICS:
        return _error(sub, f"is for topic {sub.topic}, which has no checks in this version")
    return sub


def _error(sub, reason):
    sub.error = f"{os.path.basename(sub.path) or sub.path} {reason}"
    sub.cells = []
    return sub


def _read_notebook(sub, text):
    import nbformat
    try:
        if not isinstance(json.loads(text).get("nbformat"), int):
            return "is not a readable notebook (it has no nbformat version)"
        nb = nbformat.reads(text, as_version=4)
    except Exception as exc:  # nbformat raises several kinds for bad JSON or schema
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return f"is not a readable notebook ({reason[:120]})"
    meta = nb.get("metadata", {})
    language = (meta.get("kernelspec", {}).get("language")
                or meta.get("language_info", {}).get("name") or "python")
    if str(language).lower() != "python":
        return f"is a {language} notebook, not a Python one"
    grader_meta = meta.get("grader", {})
    if isinstance(grader_meta, dict) and isinstance(grader_meta.get("topic"), str):
        sub.topic = grader_meta["topic"]  # load() puts --topic back over it
    sub.module = "__main__"
    transform = _ipython_transformer()
    number = 0
    for cell in nb.cells:
        if cell.get("cell_type") != "code":
            continue
        number += 1
        source = cell.get("source", "")
        if not isinstance(source, str):
            source = "".join(source)
        if not source.strip():
            continue
        try:
            source = transform(source)
        except Exception:
            pass  # leave it as written; a SyntaxError will be reported for that cell
        sub.cells.append(Cell(f"cell {number}", source))
    if not sub.cells:
        return "has no code cells"
    return None


def _ipython_transformer():
    """IPython's own translation of magics and !shell lines into plain Python calls."""
    from IPython.core.inputtransformer2 import TransformerManager
    return TransformerManager().transform_cell

