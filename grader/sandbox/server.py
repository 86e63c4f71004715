"""The student side: runs inside the sandboxed process, loads the submission and serves calls.

Nothing here is trusted by the grader. It only turns requests into calls of the student's
functions and sends back plain values (grader.wire); the parent validates whatever arrives.
"""
import builtins
import io
import os
import random
import signal
import sys
import types

import numpy as np

from . import probes, wire

OUTPUT_CAP = 64 * 1024


class CappedText(io.TextIOBase):
    """A text stream that keeps the first OUTPUT_CAP characters and drops the rest."""

    def __init__(self):
        self.parts, self.size = [], 0

    def writable(self):
        return True

    def write(self, s):
        s = str(s)
        if self.size < OUTPUT_CAP:
            self.parts.append(s[: OUTPUT_CAP - self.size])
        self.size += len(s)
        return len(s)


class IPythonStub:
    """Enough of IPython's `get_ipython()` for transformed magics: `%%time` and `%time` run their
    code, other magics and `!shell` lines do nothing."""

    RUNS_CODE = {"time", "capture", "prun"}

    def __init__(self, namespace):
        self.user_ns = namespace

    def run_line_magic(self, name, line, _stack_depth=1):
        if name in self.RUNS_CODE:
            exec(compile(line, "<magic>", "exec"), self.user_ns)

    def run_cell_magic(self, name, line, cell):
        if name in self.RUNS_CODE:
            exec(compile(cell, "<magic>", "exec"), self.user_ns)

    def system(self, *args, **kwargs):
        return None

    def getoutput(self, *args, **kwargs):
        return []

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


class CellTimeout(BaseException):
    pass


def _cell_alarm(signum, frame):
    raise CellTimeout()


def describe_exception(exc, student_files):
    """Type, message and the innermost student line of an exception, as plain strings."""
    try:
        message = str(exc)
    except BaseException:
        message = "(the exception's message could not be read)"
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename in student_files:
            frames.append({"file": code.co_filename, "line": tb.tb_lineno, "function": code.co_name})
        tb = tb.tb_next
    where = dict(frames[-1], callers=frames[-3:-1]) if frames else None
    if isinstance(exc, SyntaxError) and exc.filename in student_files:
        where = {"file": exc.filename, "line": exc.lineno or 0, "function": ""}
    if isinstance(exc, CellTimeout):
        return {"type": "CellTimeout", "message": "", "where": where}
    return {"type": type(exc).__name__[:80], "bases": base_names(exc), "message": message[:500],
            "where": where}


def base_names(exc):
    """The names of an exception's base classes (ValueError for a subclass of it)."""
    return [c.__name__[:80] for c in type(exc).__mro__[1:-2]][:20]  # not BaseException, object


def snapshot(args, skip=frozenset()):
    """(path, value, copy) for every ndarray, list and dict reachable from the arguments (through
    sequences, dicts and object attributes), to detect changes made in place. Objects whose id is
    in `skip` (the student's own caches, handed back) are searched for arrays only: what the
    student keeps in a cache is theirs to arrange."""
    watched = []
    for i, a in enumerate(args):
        _watch(a, str(i), watched, skip, containers=True, depth=0, seen=set())
    return watched


def _watch(value, path, out, skip, containers, depth, seen):
    if depth > 4 or id(value) in seen or len(out) > 1000:
        return
    seen.add(id(value))
    containers = containers and id(value) not in skip
    if type(value) is np.ndarray:
        out.append((path, value, value.copy()))
        return
    if containers and type(value) in (list, dict):
        out.append((path, value, type(value)(value)))
    if isinstance(value, (list, tuple)):
        items = ((f"{path}[{i}]", v) for i, v in enumerate(value))
    elif isinstance(value, dict):
        items = ((f"{path}[{k!r}]", v) for k, v in list(value.items())[:100])
    elif hasattr(value, "__dict__") and not isinstance(value, (type, types.ModuleType)):
        items = ((f"{path}.{k}", v) for k, v in list(vars(value).items())[:100])
    else:
        return
    for sub, v in items:
        _watch(v, sub, out, skip, containers, depth + 1, seen)


def changed(watched):
    """The paths of a snapshot whose value was changed in place since."""
    return [path for path, value, before in watched if not _unchanged(value, before)]


def _unchanged(value, before):
    if isinstance(value, np.ndarray):
        return (value.shape == before.shape and value.dtype == before.dtype
                and value.tobytes() == before.tobytes())
    if isinstance(value, list):
        return len(value) == len(before) and all(a is b for a, b in zip(value, before))
    return value.keys() == before.keys() and all(value[k] is before[k] for k in before)


class Server:
    def __init__(self, req_fd, resp_fd):
        import grader
        grader.IN_SANDBOX = True
        self.req_fd, self.resp_fd = req_fd, resp_fd
        self.handles = {}
        self.handle_ids = set()   # ids of the objects behind handles (caches), see snapshot()
        self.generators = {}
        self.namespace = None
        self.student_files = set()

    def keep(self, obj):
        hid = len(self.handles) + 1
        self.handles[hid] = obj
        self.handle_ids.add(id(obj))
        return hid

    # -- wire.decode's resolver: what the grader's requests refer to --
    def handle(self, hid):
        if hid not in self.handles:
            raise wire.WireError(f"unknown handle {hid}")
        return self.handles[hid]

    def generator(self, key, seed):
        if key not in self.generators:
            self.generators[key] = np.random.default_rng(seed)
        return self.generators[key]

    def probe(self, name, args):
        return probes.build(name, *args)

    # -- framing (the parent is trusted; sizes are still bounded by what it sends) --
    def _read_exact(self, n):
        chunks = []
        while n:
            chunk = os.read(self.req_fd, min(n, 1 << 20))
            if not chunk:
                os._exit(0)
            chunks.append(chunk)
            n -= len(chunk)
        return b"".join(chunks)

    def receive(self):
        header_len, body_len = wire.parse_prefix(self._read_exact(wire.PREFIX.size), 1 << 40)
        import json
        header = json.loads(self._read_exact(header_len))
        return header, self._read_exact(body_len)

    def send(self, header, buffers=()):
        data = memoryview(wire.pack(header, buffers))
        while data:
            data = data[os.write(self.resp_fd, data):]

    # -- operations --
    def load(self, req):
        name = req["module"]
        module = types.ModuleType(name)
        module.__dict__.update({"__builtins__": builtins, "display": lambda *a, **k: None})
        module.__dict__["get_ipython"] = lambda: stub
        stub = IPythonStub(module.__dict__)
        sys.modules[name] = module
        self.namespace = module.__dict__
        np.random.seed(req["seed"])
        random.seed(req["seed"])
        errors = []
        signal.signal(signal.SIGALRM, _cell_alarm)
        for i, cell in enumerate(req["cells"]):
            filename = cell["file"]
            self.student_files.add(filename)
            try:
                signal.setitimer(signal.ITIMER_REAL, req["cell_seconds"])
                exec(compile(cell["source"], filename, "exec"), self.namespace)
            except BaseException as exc:
                errors.append({"cell": i, **describe_exception(exc, self.student_files)})
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        functions = sorted(k for k, v in list(self.namespace.items())
                           if type(k) is str and callable(v) and not k.startswith("__"))
        return {"ok": True, "errors": errors[:50], "functions": functions[:500]}, []

    def call(self, req, body):
        fn = self.namespace.get(req["fn"]) if self.namespace is not None else None
        if not callable(fn):
            return {"ok": False, "error": {"type": "Missing", "message": "", "where": None}}, []
        arglists = wire.decode(req["args"], body, self)
        if not req["many"]:
            arglists = [arglists]
        pick, opaque = req.get("pick"), set(req.get("opaque") or ())
        errstate = {k: v for k, v in (req.get("errstate") or {}).items()
                    if k in ("over", "invalid", "divide") and v in ("raise", "ignore", "warn")}
        results = []
        for index, args in enumerate(arglists):
            watched = snapshot(args, self.handle_ids)
            try:
                with np.errstate(**errstate):
                    value = fn(*args)
            except BaseException as exc:
                return {"ok": False, "index": index,
                        "error": describe_exception(exc, self.student_files)}, []
            mutated = [p[:200] for p in changed(watched)]
            if mutated:
                return {"ok": False, "index": index, "mutated": mutated[:10]}, []
            if pick is not None:
                if not isinstance(value, (tuple, list)) or len(value) <= pick:
                    return {"ok": False, "index": index, "not_tuple": wire.describe_type(value)}, []
                value = value[pick]
            results.append(wire.keep_positions(value, opaque))
        node, buffers = wire.encode(results if req["many"] else results[0], keep=self.keep)
        return {"ok": True, "value": node}, buffers

    def serve(self):
        while True:
            req, body = self.receive()
            try:
                if req["op"] == "load":
                    reply, buffers = self.load(req)
                elif req["op"] == "call":
                    reply, buffers = self.call(req, body)
                else:
                    reply, buffers = {"ok": True}, []
            except wire.WireError as exc:
                reply, buffers = {"ok": False, "unsendable": str(exc)[:200]}, []
            except BaseException as exc:
                reply = {"ok": False, "error": describe_exception(exc, self.student_files)}
                buffers = []
            reply["seq"] = req["seq"]
            self.send(reply, buffers)


def redirect_stdio():
    """stdin reads end-of-file at once; printed output goes to capped in-memory buffers."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    sys.stdin = io.TextIOWrapper(io.BytesIO(b""))
    sys.stdout, sys.stderr = CappedText(), CappedText()
    sys.__stdout__, sys.__stderr__ = sys.stdout, sys.stderr
