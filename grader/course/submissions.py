"""Finding and reading submissions: .py modules and .ipynb notebooks, and folders of them.

Reading happens in the grader (trusted) on files students wrote (untrusted): every file is opened
without following symbolic links, only regular files are read, every read and parse is bounded,
and any failure becomes that file's one-line `error`. Nothing here runs student code.
"""
import errno
import hashlib
import json
import os
import re
import stat
from dataclasses import dataclass, field

from ..checks.topics import TOPIC_IDS, TOPICS
from ..sandbox import plotting

MAX_CODE_BYTES = 20 << 20        # a .py file, or the code cells of a notebook
MAX_NOTEBOOK_BYTES = 128 << 20   # a whole .ipynb, saved outputs included (outputs are dropped)
# IPython re-tokenizes a whole cell for each magic or !shell line it translates, so translating a
# cell costs about (translated lines + 1) x (cell size). Up to this many characters of that cost
# per submission (about 10 s on a slow core); a notebook above it gets an error.
MAX_TRANSFORM_COST = 4_000_000
SUFFIXES = (".py", ".ipynb")
SKIPPED_FOLDERS = ("__pycache__", ".ipynb_checkpoints")
ALIASES = {"crossentropy": "cross_entropy", "batchnormalization": "batchnorm",
           "movingaverages": "moving_average", "ema": "moving_average",
           "matrixderivatives": "matrix_calculus", "backpropagation": "backprop",
           "residualconnection": "residual", "resnet": "residual"}
# A line IPython must translate: a magic or shell escape at its start, `x = !ls` / `x = %time f()`,
# or a help request ending in '?'.
IPYTHON_LINE = re.compile(r"^\s*[%!]|^[^#\n]*=\s*[%!][^=]|\?\s*$", re.M)


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
    notes: list = field(default_factory=list)  # facts about reading it worth telling (one line each)

    @property
    def preload(self):
        """What its student process should have imported before (by the zygote): the real
        matplotlib, only for code that cannot have the stand-in (grader.sandbox.plotting)."""
        sources = [c.source for c in self.cells]
        if any("matplotlib" in s for s in sources) and not plotting.suits(sources):
            return {"matplotlib", "matplotlib.pyplot"}
        return set()


def find(paths):
    """Expand PATHs into a sorted list of (file, PATH it was found under), each file once.

    A folder yields every .py and .ipynb below it, skipping hidden entries and checkpoints and
    never descending into a folder that is a symbolic link; a symbolic link with a submission's
    suffix is listed (it gets an error, it is never read). A PATH that is an nbgrader course root
    stands for its submitted/ folder. PATHs must exist (the caller checks)."""
    out, seen = [], set()

    def add(path, given):
        key = os.path.abspath(path)
        if key not in seen:
            seen.add(key)
            out.append((path, given))

    for given in paths:
        path = given
        if "submitted" not in os.path.abspath(path).split(os.sep) and os.path.isfile(
                os.path.join(path, "nbgrader_config.py")) and os.path.isdir(
                os.path.join(path, "submitted")):
            path = os.path.join(path, "submitted")  # an nbgrader course: its submissions only
        if os.path.isdir(path):
            found = []
            # os.walk never follows a linked folder; a folder it cannot list gets a result
            for root, dirs, files in os.walk(path, onerror=lambda e: found.append(e.filename)):
                linked = [d for d in dirs if os.path.islink(os.path.join(root, d))]
                dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                                 and d not in SKIPPED_FOLDERS and d not in linked)
                found += [os.path.join(root, f) for f in files + linked
                          if f.endswith(SUFFIXES) and not f.startswith(".")]
            for f in sorted(found) or [path]:  # an empty folder still gets a result
                add(f, given)
        else:
            add(path, given)
    return out


def identity(path, given=None):
    """(student, assignment) of a submission file. In an nbgrader layout
    `.../submitted/<student>/<assignment>/...` both come from the folders. Otherwise the student
    is the first folder below the PATH it was found under (`examples/ada/x.ipynb` found under
    `examples` -> ada), or the file's own name when it was given directly or lies right inside
    that PATH; the assignment is the file's name without its suffix."""
    parts = os.path.normpath(path).split(os.sep)
    course = course_layout(path)
    if course:
        return course
    stem = os.path.splitext(parts[-1])[0]
    if given is not None and os.path.normpath(given) != os.path.normpath(path):
        below = os.path.relpath(path, given).split(os.sep)
        if len(below) > 1 and below[0] not in (os.curdir, os.pardir):
            return below[0], stem
    return stem, stem


def course_layout(path):
    """(student, assignment) when `path` lies in `.../submitted/<student>/<assignment>/`."""
    parts = os.path.normpath(path).split(os.sep)
    for i in range(len(parts) - 3):  # the outermost: a student may nest folders, not above
        if parts[i] == "submitted":
            return parts[i + 1], parts[i + 2]
    return None


def topic_from_name(path):
    """The topic a file name (or its folder's name) mentions, if exactly one."""
    for part in (os.path.basename(path), os.path.basename(os.path.dirname(path))):
        topic = topic_named(os.path.splitext(part)[0])
        if topic:
            return topic
    return None


def topic_named(name):
    """The topic a name such as '06_batchnorm' or 'alice_cross_entropy' mentions, if exactly one."""
    key = re.sub(r"[^a-z0-9]", "", name.lower())
    hits = {t for t in TOPIC_IDS if t.replace("_", "") in key}
    hits |= {t for alias, t in ALIASES.items() if alias in key}
    return hits.pop() if len(hits) == 1 else None


def load(path, topic=None, given=None):
    """Read one file into a Submission; never raises for a bad file.

    The topic is `topic` (--topic), else the assignment's in a `submitted/<student>/<assignment>/`
    layout, else the notebook's metadata, else the file name. `given` is the PATH the file was
    found under (for identity())."""
    student, assignment = identity(path, given)
    sub = Submission(path=path, student=student, assignment=assignment)
    sub.topic = topic or (topic_named(assignment) if course_layout(path) else None) \
        or topic_from_name(path)
    try:
        return _load(sub, topic)
    except Exception as exc:  # the last guard: one strange file must never stop the batch
        return _error(sub, f"could not be read ({type(exc).__name__})")


def _load(sub, topic):
    path = sub.path
    raw, problem = read_regular_file(path, MAX_NOTEBOOK_BYTES if path.endswith(".ipynb")
                                     else MAX_CODE_BYTES)
    if problem:
        return _error(sub, problem)
    sub.digest = hashlib.sha256(raw).hexdigest()
    if not raw.strip():
        return _error(sub, "is empty")
    if b"\0" in raw:
        return _error(sub, "is a binary file, not Python code or a notebook")
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return _error(sub, "is not UTF-8 text")
    del raw
    declared = None
    if path.endswith(".ipynb"):
        problem, declared = _read_notebook(sub, text)
        if problem:
            return _error(sub, problem)
    elif path.endswith(".py"):
        sub.cells = [Cell(os.path.basename(path), text)]
    else:
        return _error(sub, "is not a .py module or an .ipynb notebook")
    sub.topic = topic or _topic(sub, declared)
    if sub.topic is None:
        return _error(sub, "names no topic: pass --topic, or put the topic in the file name "
                           f"(one of {', '.join(TOPIC_IDS)})")
    if sub.topic not in TOPIC_IDS:
        unknown, sub.topic = sub.topic, None
        return _error(sub, f"has unknown topic {unknown[:40]!r} in its metadata (expected one of "
                           f"{', '.join(TOPIC_IDS)})")
    if sub.topic not in TOPICS:
        return _error(sub, f"is for topic {sub.topic}, which has no checks in this version")
    return sub


def _topic(sub, declared):
    """The topic when --topic is not given. In a course layout the assignment decides, and
    metadata naming another topic is only noted; elsewhere metadata, then the file name."""
    by_name = topic_from_name(sub.path)
    if course_layout(sub.path):
        by_assignment = topic_named(sub.assignment)
        if by_assignment:
            if declared is not None and declared != by_assignment:
                sub.notes.append(f"the notebook's metadata names the topic {declared[:40]!r}; "
                                 f"it was graded as {by_assignment}, the topic of assignment "
                                 f"{sub.assignment}")
            return by_assignment
    return declared if declared is not None else by_name


def read_regular_file(path, limit):
    """(bytes, None), or (None, reason) when `path` is a symbolic link, not a regular file, cannot
    be read, or holds more than `limit` bytes. Never follows a link, never blocks on a FIFO."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return None, "is a symbolic link (links are not followed: hand in the file itself)"
        if exc.errno == errno.ENOENT:
            return None, "does not exist"
        if exc.errno == errno.ENXIO:
            return None, "is not a regular file"
        return None, f"cannot be read ({exc.strerror})"
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            return None, "is a folder with no .py or .ipynb files"
        if not stat.S_ISREG(info.st_mode):
            return None, "is not a regular file"
        chunks, size = [], 0
        while size <= limit:
            chunk = os.read(fd, min(1 << 20, limit + 1 - size))
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
    except OSError as exc:
        return None, f"cannot be read ({exc.strerror})"
    finally:
        os.close(fd)
    if size > limit:
        return None, f"is larger than {limit >> 20} MB"
    return b"".join(chunks), None


def _error(sub, reason):
    sub.error = f"{os.path.basename(sub.path) or sub.path} {reason}"
    sub.cells = []
    return sub


def _dict(value):
    return value if isinstance(value, dict) else {}


def _text(value):
    """A cell's source: a string, or a list of strings (nbformat's multiline form)."""
    if isinstance(value, str):
        return value
    if isinstance(value, list) and all(isinstance(x, str) for x in value):
        return "".join(value)
    return None


def _read_notebook(sub, text):
    """Fill sub.cells with the notebook's code cells. Returns (problem or None, the topic its
    metadata declares or None). Outputs are never used, so they are never kept."""
    try:
        nb = json.loads(text)
    except (ValueError, RecursionError) as exc:
        return f"is not a readable notebook ({str(exc).splitlines()[0][:120]})", None
    del text
    if not isinstance(nb, dict) or not isinstance(nb.get("nbformat"), int) or isinstance(
            nb.get("nbformat"), bool):
        return "is not a readable notebook (it has no nbformat version)", None
    version = nb["nbformat"]
    if version >= 4:
        raw_cells = nb.get("cells")
    elif version == 3:
        sheets = nb.get("worksheets")
        first = sheets[0] if isinstance(sheets, list) and sheets else {}
        raw_cells = _dict(first).get("cells")
    else:
        return f"is not a readable notebook (nbformat {version} is too old; save it again)", None
    if not isinstance(raw_cells, list):
        return "is not a readable notebook (it has no list of cells)", None
    meta = _dict(nb.get("metadata"))
    language = (_dict(meta.get("kernelspec")).get("language")
                or _dict(meta.get("language_info")).get("name") or meta.get("language") or "python")
    if not isinstance(language, str):
        return "is not a readable notebook (its kernel language is not a name)", None
    if language.lower() != "python":
        return f"is a notebook in {language[:40]}, not in Python", None
    declared = _dict(meta.get("grader")).get("topic")
    declared = declared if isinstance(declared, str) else None

    sub.module = "__main__"
    sources, size, cost, number = [], 0, 0, 0
    for cell in raw_cells:
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            continue
        number += 1
        source = _text(cell.get("source") if version >= 4 else cell.get("input"))
        if source is None:
            return f"is not a readable notebook (code cell {number} has no source text)", None
        size += len(source)
        if size > MAX_CODE_BYTES:
            return f"has more than {MAX_CODE_BYTES >> 20} MB of code", None
        if source.strip():
            translated = len(IPYTHON_LINE.findall(source)) if _may_need_ipython(source) else 0
            if translated:
                cost += (translated + 1) * len(source)
            sources.append((number, source, translated))
    if cost > MAX_TRANSFORM_COST:
        return ("has too many IPython magics or !shell lines in long cells to translate "
                "(move them to short cells of their own)"), declared
    transform = _ipython_transformer() if any(t for _, _, t in sources) else None
    for number, source, translated in sources:
        if translated:
            try:
                source = transform(source)
            except Exception:
                pass  # left as written; running it reports a SyntaxError for that cell
        sub.cells.append(Cell(f"cell {number}", source))
    if not sub.cells:
        return "has no code cells", declared
    return None, declared


def _may_need_ipython(source):
    """False where IPYTHON_LINE cannot match (each of its forms has a %, ! or ?): searching
    the cell would cost 20x more, for most cells."""
    return "%" in source or "!" in source or "?" in source


def _ipython_transformer():
    """IPython's own translation of magics and !shell lines into plain Python calls."""
    from IPython.core.inputtransformer2 import TransformerManager
    return TransformerManager().transform_cell
