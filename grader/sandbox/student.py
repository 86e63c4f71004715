"""One submission's functions, called through a sandboxed student process.

`Student.call` returns the plain value the student's function returned (grader.wire) or raises
`StudentError` with a message for the student. A process that dies, hangs or misbehaves costs the
call that was running; the next call gets a fresh process with the code loaded again.
"""
import difflib
import time

from . import wire
from .process import Died, SandboxError, TimedOut


class StudentError(Exception):
    """A call of a student function did not return a value; str() says why, for the student.
    `kind` names what happened: the exception the student's code raised ("ValueError"), or
    "TimedOut", "Died", "BadReply" when the process had to be stopped. `bases` names the
    exception's base classes, so that raised("ValueError") holds for a subclass of ValueError."""

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


class Student:
    def __init__(self, zygote, submission, seed=0, signatures=None):
        self.zygote, self.sub, self.seed = zygote, submission, seed
        self.signatures = signatures or {}
        self.limits = zygote.limits
        self.deadline = time.monotonic() + self.limits.submission_seconds
        self.proc = None
        self.broken = None        # set when the code cannot be loaded at all
        self.starts = 0
        self.load_errors = []     # exceptions raised by top-level code, as readable lines
        self.functions = []

    # -- process management --
    def _remaining(self, wanted):
        left = self.deadline - time.monotonic()
        if left <= 0:
            raise StudentError(f"the submission used up its time budget of "
                               f"{self.limits.submission_seconds:g} s; this check was not run")
        return min(wanted, left)

    def _ensure_process(self):
        if self.broken:
            raise StudentError(self.broken)
        if self.proc is not None and self.proc.alive:
            return
        # No cap on restarts: the submission's time budget bounds what they cost.
        self.starts += 1
        self.proc = self.zygote.spawn(self.sub.preload)
        cells = [{"file": c.file, "source": c.source} for c in self.sub.cells]
        budget = self._remaining(self.limits.cell_seconds * len(cells) + 5)
        try:
            reply, _ = self.proc.request(
                {"op": "load", "module": self.sub.module, "seed": self.seed,
                 "cell_seconds": self.limits.cell_seconds, "cells": cells}, timeout=budget)
        except SandboxError as exc:
            self.broken = f"loading your code failed: the process {_how(exc)}"
            raise StudentError(self.broken)
        if not reply.get("ok"):
            self.broken = "loading your code failed"
            raise StudentError(self.broken)
        if self.starts == 1:
            self.load_errors = [self._describe_load_error(e) for e in _list(reply.get("errors"))]
            self.functions = [f for f in _list(reply.get("functions")) if isinstance(f, str)]

    def close(self):
        if self.proc is not None:
            self.proc.kill()
            self.proc = None

    # -- calls --
    def call(self, fn, *args, opaque=(), errstate=None):
        """fn(*args) in the student process. Elements `opaque` of a returned tuple (caches) stay
        in the student process whatever their type, and come back as wire.Opaque handles.
        `errstate` (e.g. {"over": "raise"}) is numpy's floating-point error handling during the
        call."""
        return self._call(fn, list(args), many=False, pick=None, opaque=opaque, errstate=errstate)

    def call_many(self, fn, arglists, pick=None):
        """[fn(*args) for args in arglists] in one round trip; `pick=i` keeps only element i of
        each returned tuple (the output of a forward function, say)."""
        return self._call(fn, [list(a) for a in arglists], many=True, pick=pick, opaque=())

    def _call(self, fn, args, many, pick, opaque, errstate=None):
        self._ensure_process()
        node, buffers = wire.encode(args)
        try:
            reply, body = self.proc.request(
                {"op": "call", "fn": fn, "args": node, "many": many, "pick": pick,
                 "opaque": list(opaque), "errstate": errstate}, buffers,
                timeout=self._remaining(self.limits.call_seconds * (10 if many else 1)))
        except SandboxError as exc:
            raise StudentError(f"while running {fn}, the process {_how(exc)}",
                               kind=type(exc).__name__)
        if reply.get("ok"):
            try:
                return wire.decode(reply.get("value"), body)
            except wire.WireError as exc:
                raise StudentError(f"{fn} returned a value the grader cannot read ({exc})")
        error = reply.get("error")
        kind = error.get("type") if isinstance(error, dict) else None
        bases = [b for b in _list(error.get("bases")) if isinstance(b, str)] \
            if isinstance(error, dict) else []
        raise StudentError(self._describe_failure(fn, reply),
                           kind=kind if isinstance(kind, str) else None, bases=bases)

    # -- messages --
    def _describe_failure(self, fn, reply):
        if "mutated" in reply:
            names = self.signatures.get(fn, ())
            return mutation_message(fn, [arg_name(p, names) for p in _list(reply["mutated"])])
        if "not_tuple" in reply:
            return (f"{fn} should return a tuple, but returned a "
                    f"{str(reply['not_tuple'])[:100]}")
        if "unsendable" in reply:
            return f"{fn} returned a value the grader cannot read ({str(reply['unsendable'])[:200]})"
        err = reply.get("error") if isinstance(reply.get("error"), dict) else {}
        kind = str(err.get("type", "an error"))[:80]
        if kind == "Missing":
            others = [f for f in self.functions if f not in self.signatures]  # not misspelt
            close = difflib.get_close_matches(fn, others, n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            if not close and self.load_errors:
                hint = f" (your code raised {self.load_errors[0]} before it got there?)"
            return f"{fn} is not defined in your submission{hint}"
        if kind == "NotImplementedError":
            return f"{fn} is not implemented yet (it raises NotImplementedError)"
        text = f"{fn} raised {kind}"
        message = str(err.get("message", ""))[:300]
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
        callers = [self._line(c) for c in reversed(_list(where.get("callers")))]
        callers = [c for c in callers if c]
        if not inner:
            return ""
        return f" ({inner}" + "".join(f"; called from {c}" for c in callers) + ")"

    def _line(self, where):
        line, file = (where.get("line"), where.get("file")) if isinstance(where, dict) else (0, 0)
        if not isinstance(line, int) or not isinstance(file, str):
            return ""
        for cell in self.sub.cells:
            if cell.file == file:
                lines = cell.source.splitlines()
                code = lines[line - 1].strip() if 0 < line <= len(lines) else ""
                return f"{file}, line {line}: {code[:80]}" if code else f"{file}, line {line}"
        return ""

    def _describe_load_error(self, err):
        if not isinstance(err, dict):
            return "an error"
        kind = str(err.get("type", "an error"))[:80]
        if kind == "CellTimeout":
            return f"a cell ran longer than {self.limits.cell_seconds:g} s and was stopped" + \
                self._where(err.get("where"))
        message = str(err.get("message", ""))[:200]
        return f"{kind}{': ' + message if message else ''}{self._where(err.get('where'))}"


def _how(exc):
    if isinstance(exc, TimedOut):
        return f"{exc} (an infinite loop, or waiting for something?)"
    if isinstance(exc, Died):
        return f"{exc}"
    return f"broke the grading protocol: {exc}"


def mutation_message(fn, arguments):
    return (f"{fn} modified its argument {', '.join(arguments)} in place; no function may change "
            "its inputs (compute a new array instead: x - mu, not x -= mu; for a list, "
            "reversed(xs) or xs[::-1], not xs.reverse() or xs.pop())")


def _list(value):
    return value if isinstance(value, list) else []


def arg_name(path, names):
    """'0[1]' with names ('x', 'cache') -> 'cache'... the argument's name and where inside it."""
    if not isinstance(path, str) or not path[:1].isdigit():
        return "(an argument)"
    digits = len(path) - len(path.lstrip("0123456789"))
    index, rest = int(path[:digits]), path[digits:]
    head = names[index].split("=")[0] if index < len(names) else f"#{index + 1}"
    return head + "".join(ch for ch in rest if ch.isprintable())[:100]
