"""Calling a student function and turning what happened into a reply.

This is the one place that does it: the sandboxed student server (grader.sandbox.server) and
the self-check in a student's own kernel (grader.sandbox.student.InProcess) both call `invoke`,
and grader.sandbox.student.Student turns the reply into a value or a StudentError. A reply is a
plain dict: {"ok": True, "value": wire node} with the array buffers, or {"ok": False, ...} with
one of "error" (an exception), "not_tuple", "unsendable". A value may come with "mutated": the
paths of arguments the calls changed in place.
"""
import types

import numpy as np

from . import wire

ERRSTATE_KEYS = ("over", "invalid", "divide")
ERRSTATE_VALUES = ("raise", "ignore", "warn")


def invoke(fn, arglists, pick=None, opaque=(), errstate=None, keep=None, skip=frozenset(),
           student_files=(), passthrough=(), chain=None):
    """[fn(*args) for args in arglists], watched for changes to the arguments, encoded for the
    wire. `pick=i` keeps element i of each returned tuple; elements at `opaque` positions stay
    behind handles made by `keep`; `skip` holds ids of objects (the student's own caches) whose
    containers may change. Changes to arguments are listed beside the value ("mutated"): the
    grader decides whether they fail the call, and nothing in the request tells the student's
    code which it will be. Exceptions of the classes in `passthrough` propagate (Ctrl-C in a
    student's own kernel); every other BaseException becomes the reply.

    `chain=[i, ...]`: every call after the first gets, before its own arguments, copies of
    elements i, ... of what the call before returned (a gradient passed down a stack of layers,
    running statistics updated batch after batch), as the grader would send them back: the
    chain stops early, with the results so far, where one of them is not a float64 array
    shaped like the first call's argument in its place."""
    errstate = {k: v for k, v in (errstate or {}).items()
                if k in ERRSTATE_KEYS and v in ERRSTATE_VALUES}
    results, reported = [], []
    for index, args in enumerate(arglists):
        if chain is not None and index:
            passed_on = carried(value, chain, arglists[0])
            if passed_on is None:
                break
            args = [*passed_on, *args]
        watched = snapshot(args, skip)
        try:
            with np.errstate(**errstate):
                value = fn(*args)
        except passthrough:
            raise
        except BaseException as exc:
            return {"ok": False, "index": index, "error": describe_exception(exc, student_files)}, []
        reported += [p[:200] for p in changed(watched)][:10 - len(reported)]
        kept = value
        if pick is not None:
            if not isinstance(value, (tuple, list)) or len(value) <= pick:
                return {"ok": False, "index": index, "not_tuple": wire.describe_type(value)}, []
            kept = value[pick]
        results.append(wire.keep_positions(kept, set(opaque)))
    try:
        node, buffers = wire.encode(results, keep=keep)
    except wire.WireError as exc:
        return {"ok": False, "unsendable": str(exc)[:200]}, []
    reply = {"ok": True, "value": node}
    if reported:
        reply["mutated"] = reported
    return reply, buffers


def carried(value, take, first):
    """Copies of elements `take` of a returned tuple, as the next call of a chain gets them
    (see invoke), if each is a float64 array shaped like the argument in its place in `first`
    (what the grader accepts and would send back); else None."""
    if not isinstance(value, (tuple, list)) or len(take) > len(first):
        return None
    out = []
    for index, like in zip(take, first):
        part = value[index] if type(index) is int and 0 <= index < len(value) else None
        if (type(part) is not np.ndarray or type(like) is not np.ndarray
                or part.shape != like.shape or part.dtype.newbyteorder("=") != np.float64):
            return None
        out.append(np.array(part, dtype=np.float64, order="C"))
    return out


class CellTimeout(BaseException):
    """Raised in a notebook cell that ran past its time (see server.Server.load)."""


def describe_exception(exc, student_files):
    """Type, base classes, message and the innermost student line of an exception, as plain
    strings (never the student's objects)."""
    try:
        message = str(exc)
    except BaseException:
        message = "(the exception's message could not be read)"
    frames = []
    tb = exc.__traceback__
    while tb is not None and len(frames) < 1000:
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
        return _same_bits(value, before)
    if isinstance(value, list):
        return len(value) == len(before) and all(a is b for a, b in zip(value, before))
    return value.keys() == before.keys() and all(value[k] is before[k] for k in before)


def _same_bits(value, before):
    """Same shape, dtype and bytes (NaN equals itself, 0.0 differs from -0.0); compared as
    unsigned integers where the dtype allows, without copying either array."""
    if value.shape != before.shape or value.dtype != before.dtype:
        return False
    size = value.dtype.itemsize
    if value.dtype.hasobject or size not in (1, 2, 4, 8) or not value.flags.c_contiguous:
        return value.tobytes() == before.tobytes()
    bits = np.dtype(f"u{size}")
    return bool(np.array_equal(value.reshape(-1).view(bits), before.reshape(-1).view(bits)))
