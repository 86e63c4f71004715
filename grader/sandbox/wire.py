"""The plain format that carries values between the grader and a student process.

A frame is a fixed 16-byte prefix (magic, header length, body length), a JSON header, and a body of
raw array bytes. Values are trees of numbers, numeric arrays, None, tuples and lists; anything else
stays in the student process and travels as a handle (an id and a type name). Nothing is pickled.

`decode` is the only code that reads bytes a student process wrote, so it trusts nothing: every
size is checked before anything is allocated, dtypes come from a fixed list, and the result is
built from fresh parent-owned arrays.
"""
import itertools
import json
import struct

import numpy as np

MAGIC = b"GRD1"
PREFIX = struct.Struct("<4sIQ")
MAX_HEADER = 4 << 20
MAX_DEPTH = 16
MAX_NODES = 20_000  # far above any legitimate reply (a gradient batch: a few hundred arrays)
MAX_TYPE_NAME = 120
ALIGN = 16          # array bytes start at multiples of this in a frame's body
READ_AHEAD = 1 << 16
IOV_MAX = 1024      # buffers per writev (Linux's limit)
INT_MIN, INT_MAX = -(1 << 63), (1 << 63) - 1  # a Python int that big would overflow float()

# Native little-endian numeric dtypes only; everything else is "not a plain array".
DTYPES = {np.dtype(t).str: np.dtype(t) for t in (
    "b1", "i1", "i2", "i4", "i8", "u1", "u2", "u4", "u8", "f2", "f4", "f8", "c8", "c16")}


class WireError(Exception):
    """The bytes are not a well-formed frame within the limits."""


class Opaque:
    """A value that stayed in the student process (a cache, an object, an odd array)."""

    __slots__ = ("id", "type_name")

    def __init__(self, id, type_name):
        self.id = id
        self.type_name = type_name

    def __repr__(self):
        return f"<{self.type_name} kept in the student process>"


_generator_keys = itertools.count(1)


class Generator:
    """Grader to student: a numpy Generator built in the student process from `seed`. Sending
    the same Generator object again means the same generator there (its state carries on)."""

    __slots__ = ("key", "seed")

    def __init__(self, seed):
        self.key, self.seed = next(_generator_keys), [int(s) for s in np.atleast_1d(seed)]


class Probe:
    """Grader to student: a function from grader.probes, built there from plain arguments."""

    __slots__ = ("name", "args")

    def __init__(self, name, *args):
        self.name, self.args = name, args


def _is_plain_array(value):
    return type(value) is np.ndarray and (value.dtype.str in DTYPES
                                          or value.dtype.newbyteorder("=").str in DTYPES)


class Kept:
    """Marks a value that must stay in the student process even if it is plain (a cache that
    happens to be an array): it is sent as a handle."""

    __slots__ = ("obj",)

    def __init__(self, obj):
        self.obj = obj


def keep_positions(value, positions):
    """`value` with its elements at `positions` (of a returned tuple or list) marked Kept."""
    if not positions or not isinstance(value, (tuple, list)):
        return value
    return tuple(Kept(v) if i in positions else v for i, v in enumerate(value))


def encode(value, keep=None):
    """Return (header_obj, [buffers]) for a value tree; `keep(obj) -> id` stores the objects
    that are not plain (and those marked Kept)."""
    buffers, offset, nodes = [], [0], [0]

    def enc(v, depth):
        nodes[0] += 1
        if depth > MAX_DEPTH or nodes[0] > MAX_NODES:
            raise WireError("value is nested too deeply or has too many parts")
        t = type(v)
        if t is Kept and keep is not None:
            return {"t": "h", "id": keep(v.obj), "type": describe_type(v.obj)}
        if v is None:
            return {"t": "n"}
        if t is bool:
            return {"t": "b", "v": v}
        if t is int:
            return {"t": "i", "v": v}
        if t is float:
            return {"t": "f", "v": v}
        if isinstance(v, (tuple, list)):  # namedtuples too: only the values matter
            kind = "T" if isinstance(v, tuple) else "L"
            return {"t": kind, "x": [enc(x, depth + 1) for x in (tuple.__iter__(v) if kind == "T"
                                                                 else list.__iter__(v))]}
        if t is Opaque:
            return {"t": "h", "id": v.id}
        if t is Generator:
            return {"t": "g", "k": v.key, "s": v.seed}
        if t is Probe:
            return {"t": "p", "name": v.name, "x": [enc(a, depth + 1) for a in v.args]}
        if isinstance(v, np.generic) and t.__module__ == "numpy":
            v = np.asarray(v)
        if _is_plain_array(v):
            if not v.dtype.isnative:
                v = v.astype(v.dtype.newbyteorder("="))
            # The array's own bytes (copied only where it is not C-ordered), written as they
            # are; each starts at a multiple of ALIGN so that the receiver can use them in place.
            data = np.ascontiguousarray(v).reshape(-1).view(np.uint8)
            pad = -offset[0] % ALIGN
            if pad:
                buffers.append(bytes(pad))
            node = {"t": "a", "d": v.dtype.str, "s": list(v.shape), "o": offset[0] + pad,
                    "n": data.size}
            buffers.append(data)
            offset[0] += pad + data.size
            return node
        if keep is None:
            raise WireError(f"cannot send a {t.__name__}")
        return {"t": "h", "id": keep(v), "type": describe_type(v)}

    return enc(value, 0), buffers


def describe_type(v):
    """A short, safe description of a non-plain value's type, for messages."""
    t = type(v)
    try:
        name = str(t.__qualname__)
    except Exception:
        name = "object"
    if isinstance(v, np.ndarray):
        if t is not np.ndarray:
            name = f"{name} (a subclass of numpy.ndarray)"
        else:
            name = f"numpy array of dtype {v.dtype.name}"
    return name[:MAX_TYPE_NAME]


_compact = json.JSONEncoder(separators=(",", ":"))  # made once: json.dumps would make one a call


def frame(header_obj, buffers=()):
    """A frame as a list of buffers to write in order (write_all): the prefix and header, then
    the body's buffers as they are (no copy)."""
    header = _compact.encode(header_obj).encode()
    body_len = sum(memoryview(b).nbytes for b in buffers)
    return [PREFIX.pack(MAGIC, len(header), body_len) + header, *buffers]


def pack(header_obj, buffers=()):
    """A frame as one bytes object."""
    return b"".join(frame(header_obj, buffers))


def write_all(parts, writev):
    """Write the buffers `parts` in order; `writev(list of buffers)` writes some of the first
    ones and returns how many bytes (os.writev)."""
    views = [view for view in (memoryview(p).cast("B") for p in parts) if view.nbytes]
    first = 0
    while first < len(views):
        written = writev(views[first:first + IOV_MAX])
        while written:
            if written >= len(views[first]):
                written -= len(views[first])
                first += 1
            else:
                views[first] = views[first][written:]
                written = 0


def read_exact(buffer, n, readinto):
    """The next n bytes of a stream, as a bytearray of their own; bytes read ahead of them wait
    in `buffer` (a bytearray). `readinto(view)` reads at least one byte into the start of a
    writable memoryview and returns how many (os.readv). A frame's small parts come in one
    system call with up to READ_AHEAD bytes of what follows; a large body is read straight
    into its own bytearray (no copy after the system call's)."""
    while len(buffer) < n and n - len(buffer) <= READ_AHEAD:
        chunk = bytearray(READ_AHEAD + n - len(buffer))
        buffer += memoryview(chunk)[:readinto(memoryview(chunk))]
    if len(buffer) >= n:
        data = buffer[:n]
        del buffer[:n]
        return data
    have = len(buffer)
    data = bytearray(min(n, have + (1 << 20)))  # the size a frame claims is not trusted: past
    data[:have] = buffer                         # 1 MB, room grows as the bytes arrive
    buffer.clear()
    while have < n:
        if have == len(data):
            data += bytes(min(n - have, have))
        have += readinto(memoryview(data)[have:])
    return data


def parse_header(data):
    """The JSON header of a frame as a dict, or None if it is not one (however it is malformed:
    bad JSON, nesting deep enough to exhaust the parser, another type)."""
    try:
        header = json.loads(data)
    except (ValueError, RecursionError, MemoryError):
        return None
    return header if type(header) is dict else None


def parse_prefix(prefix, max_body):
    magic, header_len, body_len = PREFIX.unpack(prefix)
    if magic != MAGIC:
        raise WireError("bad frame marker")
    if header_len > MAX_HEADER:
        raise WireError(f"header of {header_len} bytes is over the limit")
    if body_len > max_body:
        raise WireError(f"{body_len} bytes of arrays is over the limit of {max_body}")
    return header_len, body_len


def decode(node, body, resolver=None):
    """Rebuild a value tree from a header node and the body bytes, validating everything.

    `resolver` is given on the student side only: it turns handles back into the objects they
    stand for, and builds Generators and Probes. Without it those are refused (a student
    process cannot make the grader build anything). There, where `body` is a bytearray of the
    request's own, arrays are writable views of it (the grader wrote it: no copy is needed);
    the grader always gets fresh arrays of its own.
    """
    count = [0]
    in_place = resolver is not None and type(body) is bytearray

    def dec(n, depth):
        count[0] += 1
        if depth > MAX_DEPTH or count[0] > MAX_NODES:
            raise WireError("value is nested too deeply or has too many parts")
        if type(n) is not dict:
            raise WireError("malformed value")
        t = n.get("t")
        if t == "n":
            return None
        if t == "b":
            return _typed(n.get("v"), bool)
        if t == "i":
            v = _typed(n.get("v"), int)
            if not INT_MIN <= v <= INT_MAX:
                raise WireError("an integer outside the range of int64")
            return v
        if t == "f":
            v = n.get("v")
            if type(v) is int:
                if not INT_MIN <= v <= INT_MAX:
                    raise WireError("a number outside the range of float64")
                return float(v)
            return _typed(v, float)
        if t in ("T", "L"):
            items = n.get("x")
            if type(items) is not list:
                raise WireError("malformed sequence")
            out = [dec(x, depth + 1) for x in items]
            return tuple(out) if t == "T" else out
        if t == "a":
            return _array(n, body, in_place)
        if t == "h":
            hid = _typed(n.get("id"), int)
            if resolver is not None:
                return resolver.handle(hid)
            name = n.get("type", "object")
            if type(name) is not str:
                raise WireError("malformed handle")
            return Opaque(hid, name[:MAX_TYPE_NAME])
        if t == "g" and resolver is not None:
            return resolver.generator(n["k"], n["s"])
        if t == "p" and resolver is not None:
            return resolver.probe(n["name"], [dec(a, depth + 1) for a in n["x"]])
        raise WireError("unknown value kind")

    return dec(node, 0)


def _typed(v, t):
    if type(v) is not t:
        raise WireError("malformed number")
    return v


def _array(n, body, in_place=False):
    dtype = DTYPES.get(n.get("d"))
    shape, off, size = n.get("s"), n.get("o"), n.get("n")
    if dtype is None:
        raise WireError("array of an unsupported dtype")
    if (type(shape) is not list or len(shape) > 32
            or any(type(s) is not int or s < 0 for s in shape)):
        raise WireError("malformed array shape")
    if type(off) is not int or type(size) is not int or off < 0 or off + size > len(body):
        raise WireError("array outside the frame body")
    count = 1
    for s in shape:
        count *= s
    if count * dtype.itemsize != size:
        raise WireError("array size does not match its shape")
    array = np.frombuffer(body, dtype=dtype, count=count, offset=off).reshape(shape)
    return array if in_place and off % dtype.alignment == 0 else array.copy()
