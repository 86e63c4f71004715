"""Validate what a student function returned before comparing it: the right kind, dtype and shape.

Values arrive from grader.wire: numpy arrays, Python numbers, None, tuples/lists of them, and
`Opaque` for anything that stayed in the student process.
"""
import numpy as np

from .compare import Fail, shape_str
from ..sandbox.wire import Opaque


def kind(value):
    """A short description of any returned value, for messages (never fails, never long)."""
    if value is None:
        return "None"
    if isinstance(value, Opaque):
        return f"a {value.type_name}"
    if isinstance(value, np.ndarray):
        return f"an array of shape {shape_str(value.shape)}"
    if isinstance(value, bool):
        return "a bool"
    if isinstance(value, int):
        digits = len(str(abs(value))) if abs(value) < 10 ** 4000 else "over 4000"
        return f"the number {value!r}" if digits != "over 4000" and digits <= 20 else \
            f"an integer with {digits} digits"
    if isinstance(value, float):
        return f"the number {value!r}"
    if isinstance(value, (tuple, list)):
        return f"a {type(value).__name__} of length {len(value)}"
    return f"a {type(value).__name__}"


def array(value, what, shape=None):
    """A returned float64 array, or Fail saying what is wrong with it (the spec's arrays are
    float64: an integer, boolean, float32 or complex array is a wrong answer)."""
    if not isinstance(value, np.ndarray):
        hint = " (wrap it with np.array)" if isinstance(value, (list, tuple)) else ""
        hint = " (did you forget to return it?)" if value is None else hint
        raise Fail(f"{what} should be a numpy array, but is {kind(value)}{hint}")
    if value.dtype.kind == "b":
        raise Fail(f"{what} is an array of booleans; it should hold numbers (float64)")
    if value.dtype.kind == "c":
        raise Fail(f"{what} holds complex numbers; it should be real")
    if value.dtype != np.float64:
        integers = "compute with floats (0.0, not 0) or convert with .astype(float)"
        hint = {"i": integers, "u": integers,
                "f": "keep numpy's default precision (no dtype=np.float32, no astype to "
                     "another float type)"}.get(value.dtype.kind)
        raise Fail(f"{what} has dtype {value.dtype.name}; the spec's arrays are float64"
                   + (f": {hint}" if hint else ""))
    if shape is not None and value.shape != tuple(shape):
        raise Fail(f"{what} has shape {shape_str(value.shape)}, expected {shape_str(tuple(shape))}"
                   + (" (transposed?)" if value.shape == tuple(shape)[::-1] else
                      " (a dimension of size 1 was dropped, as np.squeeze or indexing with [0] "
                      "does: keep it)" if value.shape == tuple(n for n in shape if n != 1) else ""))
    return value.copy()  # writable, and independent of the decoded message


def scalar(value, what):
    """A float from a returned number (Python or numpy scalar, or a 0-d array)."""
    if isinstance(value, np.ndarray):
        if value.shape != ():
            raise Fail(f"{what} should be a single number, but is {kind(value)} "
                       "(use float(...) or .item() to return a scalar)")
        if value.dtype.kind not in "iuf":
            raise Fail(f"{what} should be a real number, but has dtype {value.dtype.name}")
        return float(value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise Fail(f"{what} should be a number, but is {kind(value)}")
    try:
        return float(value)
    except OverflowError:
        raise Fail(f"{what} is {kind(value)}, too large for any float: compute with floats, "
                   "not Python integers") from None


def parts(value, what, names):
    """Unpack a returned tuple (or list) of len(names) values."""
    if not isinstance(value, (tuple, list)) or len(value) != len(names):
        want = f"{len(names)} values ({', '.join(names)})"
        raise Fail(f"{what} should return {want}, but returned {kind(value)}")
    return tuple(value)
