"""One submission's functions, as checks see them: `Student.call` and `Student.call_many` return
the plain values the student's functions returned (grader.sandbox.wire) or raise `StudentError`
with a message for the student.

The same class serves both paths: a sandboxed student process (grader.sandbox.process, for
grades) and `InProcess`, the student's own kernel (for self-checks). Either way the call itself
is made by grader.sandbox.calls.invoke and its reply is read here, so both give the same
messages. In the sandbox the code is loaded once; a call that hangs, dies or breaks the protocol
costs its worker, and the next call gets a fresh worker forked from the loaded state.
"""
import contextlib
import contextvars
import difflib
import time

from . import plotting, wire
from .calls import carried
from .process import BadReply, Died, Limits, OutOfMemory, SandboxError, TimedOut
from .server import Server


# Functions whose calls may change their arguments in place without failing (see
# tolerating_mutation). Decided here, in the grader: the student process always reports such
# changes, so nothing it receives says which way a call will be judged.
TOLERATED = contextvars.ContextVar("tolerated", default=frozenset())


@contextlib.contextmanager
def tolerating_mutation(fn):
    """Calls of `fn` in this block return their value even if they change an argument in place
    (a result that a check of another function needs; the change is `fn`'s own checks'
    failure). Such a call adds `fn` to Student.tainted."""
    token = TOLERATED.set(TOLERATED.get() | {fn})
    try:
        yield
    finally:
        TOLERATED.reset(token)


class StudentError(Exception):
    """A call of a student function did not return a value; str() says why, for the student.
    `kind` names what happened: the exception the student's code raised ("ValueError"), or
    "TimedOut", "Died", "OutOfMemory", "BadReply" when the process had to be stopped. `bases`
    names the exception's base classes, so that raised("ValueError") holds for a subclass."""

    def __init__(self, message, kind=None, bases=()):
        super().__init__(message)
        self.kind = kind
        self.bases = tuple(bases)

    def raised(self, name):
        """The student's code raised exception `name` (or a subclass of it)."""
        return name == self.kind or name in self.bases

    def timed_out(self):
        return self.kind == "TimedOut"

    def out_of_memory(self):
        return self.kind in ("MemoryError", "OutOfMemory")


class InProcess:
    """The self-check's transport: the functions of a notebook's namespace, called right here
    through the same server code as in the sandbox. Ctrl-C still interrupts."""

    alive = True

    def __init__(self, namespace):
        self.server = Server(passthrough=(KeyboardInterrupt,))
        self.server.namespace = namespace

    def cpu_seconds(self):
        return None

    def load(self, header, timeout, cpu_limit=None):
        functions = sorted(k for k, v in list(self.server.namespace.items())
                           if type(k) is str and callable(v) and not k.startswith("__"))
        return {"ok": True, "errors": [], "functions": functions}, b""

    def call(self, header, buffers, cpu_limit, wall_limit):
        reply, out = self.server.answer(dict(header, seq=0), bytearray().join(buffers))
        return reply, b"".join(out)

    def kill(self):
        pass


class Student:
    """`start()` gives the process (a grader.sandbox.process.StudentProcess or an InProcess);
    `code` is the submission: cells with .file and .source, and its module name."""

    def __init__(self, start, cells=(), module="submission", seed=0, signatures=None,
                 limits=Limits(), in_notebook=False):
        self.start, self.cells, self.module, self.seed = start, list(cells), module, seed
        self.signatures = signatures or {}
        self.limits = limits
        self.in_notebook = in_notebook
        self.started = time.monotonic()
        self.grader_cpu_start = time.thread_time()  # the grader's own work counts too
        self.proc = None
        self.broken = None        # set when the code cannot be loaded or its process is gone
        self.load_errors = []     # exceptions raised by top-level code, as readable lines
        self.functions = []
        # Functions whose result was taken despite a change to their arguments (see
        # tolerating_mutation); grader.checks.core.run_check empties it before each check.
        self.tainted = set()

    # -- budget --
    def _budget(self, wanted, cpu_wanted=None):
        """(CPU limit, wall limit) of the next call: `wanted` seconds (`cpu_wanted` where CPU
        time is counted), within what is left of the submission's budget (its processes' CPU
        time plus the grader's own work on it, with a wall-clock backstop)."""
        budget = self.limits.submission_seconds
        used_wall = time.monotonic() - self.started
        cpu = self.proc.cpu_seconds() if self.proc is not None else None
        if cpu is None:  # no cgroup: wall-clock time is all there is
            left = budget - used_wall
            if left <= 0:
                raise self._over_budget()
            return None, min(wanted, left)
        wanted = min(wanted, cpu_wanted or wanted)
        left = budget - cpu - (time.thread_time() - self.grader_cpu_start)
        wall_left = self.limits.wall(budget) - used_wall
        if left <= 0 or wall_left <= 0:
            raise self._over_budget()
        limit = min(wanted, left)
        return limit, min(self.limits.wall(limit), wall_left)

    def _over_budget(self):
        return StudentError(f"the submission used up its time budget of "
                            f"{self.limits.submission_seconds:g} s; this check was not run",
                            kind="TimedOut")

    # -- process management --
    def _ensure_loaded(self):
        if self.broken:
            raise StudentError(self.broken)
        if self.proc is not None:
            return
        self.proc = self.start()
        cells = [{"file": c.file, "source": c.source} for c in self.cells]
        cpu, wall = self._budget(self.limits.cell_seconds * len(cells) + 5)
        try:
            reply, _ = self.proc.load(
                {"op": "load", "module": self.module, "seed": self.seed,
                 "cell_seconds": self.limits.cell_seconds, "cells": cells,
                 "stand_in": plotting.suits(c.source for c in self.cells)}, wall, cpu)
        except SandboxError as exc:
            self.broken = f"loading your code failed: the process {_how(exc)}"
            raise StudentError(self.broken, kind=type(exc).__name__)
        if not reply.get("ok"):
            self.broken = "loading your code failed"
            raise StudentError(self.broken)
        self.load_errors = [self._describe_load_error(e) for e in _list(reply.get("errors"))][:50]
        self.functions = [f for f in _list(reply.get("functions")) if isinstance(f, str)][:500]

    def close(self):
        if self.proc is not None:
            self.proc.kill()

    def fresh_worker(self):
        """The next calls go to a new worker forked from the loaded state: nothing a function
        kept from earlier calls (such as the inputs another function was just called with) can
        shape its answers. For a function used as a part of another, whose answer may excuse
        the other. (In-process, for self-checks, there is only the one state.)"""
        if self.proc is not None and hasattr(self.proc, "end_worker"):
            self.proc.end_worker()

    # -- calls --
    def call(self, fn, *args, opaque=(), errstate=None, cpu_seconds=None):
        """fn(*args) in the student process. Elements `opaque` of a returned tuple (caches) stay
        in the student process whatever their type, and come back as wire.Opaque handles.
        `errstate` (e.g. {"over": "raise"}) is numpy's floating-point error handling during the
        call. `cpu_seconds`: a tighter time limit for this call, applied only where the
        submission's CPU time is counted (a busy machine cannot make CPU time run out)."""
        return self._call(fn, [list(args)], pick=None, opaque=opaque, errstate=errstate,
                          cpu_seconds=cpu_seconds)[0]

    def call_many(self, fn, arglists, pick=None, opaque=()):
        """[fn(*args) for args in arglists] in one round trip; `pick=i` keeps only element i of
        each returned tuple (the output of a forward function, say); `opaque` as for call."""
        return self._call(fn, [list(a) for a in arglists], pick=pick, opaque=opaque, many=True)

    def call_chain(self, fn, first, rest, take=(0,)):
        """r = fn(*first), then r = fn(r[take[0]], r[take[1]], ..., *args) for each args in
        `rest`: [r for each call]. The first arguments of each later call are copies of those
        elements of the result before, as the grader would send them back (calls.carried).
        The chain ends early only at a result whose elements are not such arrays (not ones the
        grader accepts: the caller's own checks of that result say why). It runs in one round
        trip, with the time limit of one call (a function that hangs costs no more than alone,
        and a few calls of a working one are far from it); should the student process stop it
        sooner, the rest are called one by one."""
        first, rest = list(first), [list(a) for a in rest]
        results = self._call(fn, [first] + rest, pick=None, opaque=(), chain=list(take))
        while len(results) <= len(rest):
            passed_on = carried(results[-1], take, first)
            if passed_on is None:
                break
            results.append(self.call(fn, *passed_on, *rest[len(results) - 1]))
        return results

    def _call(self, fn, arglists, pick, opaque, errstate=None, many=False, cpu_seconds=None,
              chain=None):
        self._ensure_loaded()
        node, buffers = wire.encode(arglists)
        calls = min(len(arglists), 10) if many else 1  # a batch's time: up to ten calls
        cpu, wall = self._budget(self.limits.call_seconds * calls, cpu_seconds)
        try:
            reply, body = self.proc.call(
                {"op": "call", "fn": fn, "args": node, "pick": pick, "opaque": list(opaque),
                 "errstate": errstate, "chain": chain}, buffers, cpu_limit=cpu, wall_limit=wall)
        except SandboxError as exc:
            if not self.proc.alive:
                self.broken = f"your code's process {_how(exc)}; nothing more could be run"
            raise StudentError(f"while running {fn}, the process {_how(exc)}",
                               kind=type(exc).__name__)
        if reply.get("ok") and reply.get("mutated"):
            if fn not in TOLERATED.get():
                raise StudentError(self._describe_failure(fn, reply), kind="Mutated")
            self.tainted.add(fn)
        if reply.get("ok"):
            try:
                value = wire.decode(reply.get("value"), body)
            except wire.WireError as exc:
                raise StudentError(f"{fn} returned a value the grader cannot read ({exc})")
            complete = type(value) is list and len(value) == len(arglists)
            stopped = chain is not None and type(value) is list and 0 < len(value) < len(arglists)
            if not (complete or stopped):  # a chain may stop early (see call_chain)
                raise StudentError(f"while running {fn}, the process broke the grading protocol")
            return value
        error = reply.get("error") if isinstance(reply.get("error"), dict) else {}
        kind = error.get("type") if isinstance(error.get("type"), str) else None
        bases = [b[:80] for b in _list(error.get("bases"))[:20] if isinstance(b, str)]
        raise StudentError(self._describe_failure(fn, reply), kind=kind and kind[:80], bases=bases)

    # -- messages (every field of a reply is the student's: bounded and type-checked) --
    def _describe_failure(self, fn, reply):
        if "mutated" in reply:
            names = self.signatures.get(fn, ())
            paths = [p for p in _list(reply["mutated"])[:10] if isinstance(p, str)]
            return mutation_message(fn, [arg_name(p, names) for p in paths])
        if "not_tuple" in reply:
            return f"{fn} should return a tuple, but returned a {_text(reply['not_tuple'], 100)}"
        if "unsendable" in reply:
            return f"{fn} returned a value the grader cannot read ({_text(reply['unsendable'], 200)})"
        err = reply.get("error") if isinstance(reply.get("error"), dict) else {}
        kind = _text(err.get("type", "an error"), 80)
        if kind == "Missing":
            if self.in_notebook:
                return f"{fn} is not defined yet (run the cell that defines it)"
            others = [f for f in self.functions if f not in self.signatures]  # not misspelt
            close = difflib.get_close_matches(fn, others, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            if not close and self.load_errors:
                hint = f" (running your code failed before it got there: {self.load_errors[0]})"
            return f"{fn} is not defined in your submission{hint}"
        if kind == "NotImplementedError":
            return f"{fn} is not implemented yet (it raises NotImplementedError)"
        text = f"{fn} raised {kind}"
        message = _text(err.get("message", ""), 300)
        if message:
            text += f": {message}"
        text += self._where(err.get("where"))
        if kind == "TypeError" and fn in self.signatures:
            text += f". The spec's signature is {fn}({', '.join(self.signatures[fn])})"
        return text

    def _where(self, where):
        """' (cell 3, line 5: code)' for the innermost line of student code, and the student
        lines that called it."""
        if not isinstance(where, dict):
            return ""
        inner = self._line(where)
        callers = [self._line(c) for c in reversed(_list(where.get("callers"))[:2])]
        callers = [c for c in callers if c]
        if not inner:
            return ""
        return f" ({inner}" + "".join(f"; called from {c}" for c in callers) + ")"

    def _line(self, where):
        line, file = (where.get("line"), where.get("file")) if isinstance(where, dict) else (0, 0)
        if type(line) is not int or not isinstance(file, str):
            return ""
        for cell in self.cells:
            if cell.file == file:
                lines = cell.source.splitlines()
                code = lines[line - 1].strip() if 0 < line <= len(lines) else ""
                return f"{file}, line {line}: {code[:80]}" if code else f"{file}, line {line}"
        return ""

    def _describe_load_error(self, err):
        if not isinstance(err, dict):
            return "an error"
        kind = _text(err.get("type", "an error"), 80)
        if kind == "CellTimeout":
            return f"a cell that ran longer than {self.limits.cell_seconds:g} s (it was " \
                   "stopped)" + self._where(err.get("where"))
        message = _text(err.get("message", ""), 200)
        return f"{kind}{': ' + message if message else ''}{self._where(err.get('where'))}"


def _how(exc):
    if isinstance(exc, TimedOut):
        return f"{exc} (an infinite loop, or waiting for something?)"
    if isinstance(exc, (Died, OutOfMemory)):
        return f"{exc}"
    if isinstance(exc, BadReply):
        return f"broke the grading protocol: {exc}"
    return f"failed: {exc}"


def mutation_message(fn, arguments):
    names = (arguments[0] if len(arguments) == 1 else
             ", ".join(arguments[:-1]) + " and " + arguments[-1])
    return (f"{fn} modified its argument{'s' if len(arguments) > 1 else ''} {names} in place; "
            "no function may change "
            "its inputs (compute a new array instead: x - mu, not x -= mu; for a list, "
            "reversed(xs) or xs[::-1], not xs.reverse() or xs.pop())")


def _list(value):
    return value if isinstance(value, list) else []


def _text(value, cap):
    return value[:cap] if isinstance(value, str) else "?"


def arg_name(path, names):
    """'0[1]' with names ('x', 'cache') -> 'cache'... the argument's name and where inside it."""
    if not isinstance(path, str) or not path[:1].isdigit():
        return "(an argument)"
    digits = len(path) - len(path.lstrip("0123456789"))
    if digits > 6:
        return "(an argument)"
    index, rest = int(path[:digits]), path[digits:]
    head = names[index].split("=")[0] if index < len(names) else f"#{index + 1}"
    return head + "".join(ch for ch in rest if ch.isprintable())[:100]
