"""Array comparison that explains: shape, NaN/inf, constant factors, transposes, named mistakes,
and where the entries differ.

Tolerances are data (`Tol`); a failed comparison raises `Fail` with a sentence a student can act on.
"""
import numpy as np

from .tolerances import FACTOR_FIT, FACTOR_RTOL, FLOAT32_RTOL, VALUES as DEFAULT, Tol

__all__ = ["Fail", "Tol", "agrees", "assert_close", "explain", "mismatch"]


class Fail(Exception):
    """A check failed; str(exc) is the message for the student."""


def fmt(x):
    return f"{x:.6g}" if np.isfinite(x) else str(x)


def index_str(idx):
    return "[" + ", ".join(str(int(i)) for i in idx) + "]"


def shape_str(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def mismatch(actual, expected, tol=DEFAULT):
    """Boolean mask of entries that are not close (NaN never is; equal infinities are)."""
    a, e = np.asarray(actual, float), np.asarray(expected, float)
    if a.ndim and e.ndim and a.shape != e.shape:  # never broadcast a student's value
        raise ValueError(f"comparing arrays of shapes {a.shape} and {e.shape}")
    scale = np.max(np.abs(e[np.isfinite(e)]), initial=0.0)
    with np.errstate(invalid="ignore"):
        close = np.isfinite(e) & (np.abs(a - e) <= tol.rtol * np.abs(e) + tol.atol * scale
                                  + tol.floor)
    close |= (a == e)  # exact matches, including equal infinities
    return ~close


def agrees(actual, expected, tol=DEFAULT):
    """Finite and close entry by entry: what accepting a value "given its parts" (or the
    student's own forward) needs, so that parts that give NaN or inf never excuse anything."""
    a = np.asarray(actual, float)
    return bool(np.all(np.isfinite(a))) and np.shape(a) == np.shape(expected) and \
        not mismatch(a, expected, tol).any()


def constant_factor(actual, expected):
    """Best c with actual ~ c * expected, and the relative residual of that fit."""
    a, e = np.ravel(actual), np.ravel(expected)
    ee = float(e @ e)
    if ee == 0.0 or not np.all(np.isfinite(a)) or not np.all(np.isfinite(e)):
        return None, np.inf
    c = float(a @ e) / ee
    na = float(np.linalg.norm(a))
    return c, (float(np.linalg.norm(a - c * e)) / na if na else np.inf)


def describe_factor(c, factors):
    """Turn a constant factor into words, using the check's known factors (value, reason)."""
    for value, reason in factors:
        if np.isclose(c, value, rtol=FACTOR_RTOL, atol=0):
            return f"{_times(value, exact=True)}: {reason}"
    if np.isclose(c, -1, rtol=1e-6):
        return _times(c, exact=True)
    return f"{_times(c, exact=False)} (a constant factor is missing or extra)"


def _times(c, exact):
    if np.isclose(c, -1, rtol=1e-6):
        return "has the wrong sign"
    if c < 0:
        return f"is {fmt(c)} times the expected value"
    word = "exactly " if exact else ""
    return (f"is {word}{fmt(c)} times too large" if c > 1
            else f"is {word}{fmt(1 / c)} times too small")


def where_wrong(bad, actual, expected):
    """Say which entries are wrong, with the largest difference."""
    a, e = np.asarray(actual, float), np.asarray(expected, float)
    n_bad, n = int(bad.sum()), bad.size
    if a.ndim == 2 and 0 < n_bad < n:
        rows, cols = np.nonzero(bad.all(axis=1))[0], np.nonzero(bad.all(axis=0))[0]
        if bad.any(axis=0).sum() == len(cols) and len(cols) < a.shape[1]:
            return f"is wrong in column(s) {_list(cols)} and right in the others"
        if bad.any(axis=1).sum() == len(rows) and len(rows) < a.shape[0]:
            return f"is wrong in row(s) {_list(rows)} and right in the others"
    with np.errstate(invalid="ignore"):
        diff = np.abs(a - e)
    diff = np.where(np.isnan(diff), np.inf, diff)
    worst = np.unravel_index(int(np.argmax(diff)), a.shape) if a.ndim else ()
    at = f" at {index_str(worst)}" if a.ndim else ""
    scale = float(np.max(np.abs(e))) or 1.0
    relative = float(np.max(diff / (np.abs(e) + 1e-3 * scale)))
    if relative < 1e-3:
        if went_through_float32(a, e):
            return ("is off by float32 round-off (differences of up to 1e-6 of its largest "
                    "value, as float32 arithmetic gives): compute in float64 (no np.float32 "
                    "arrays or constants, no astype to float32)")
        return (f"is slightly off everywhere (relative differences up to {relative:.1g}), more "
                "than round-off allows")
    where = f"in {n_bad} of {n} entries; " if n_bad else ""
    return (f"differs {where}the largest difference is{at}: "
            f"got {fmt(a[worst])}, expected {fmt(e[worst])}")


def went_through_float32(actual, expected):
    """The values differ from the float64 result by float32 round-off: every value is a float32
    number, or the entries are off by up to FLOAT32_RTOL relative, most of them by more than
    1e-10 (float64 formulas differ by ~1e-16, other mistakes by far more than 1e-6)."""
    a, e = np.ravel(np.asarray(actual, float)), np.ravel(np.asarray(expected, float))
    if a.size < 4 or a.shape != e.shape or not np.all(np.isfinite(a)) or np.array_equal(a, e):
        return False
    # float32 rounds intermediate values of about the result's size: measure against that
    relative = np.abs(a - e) / (float(np.max(np.abs(e), initial=0.0)) + 1e-300)
    if np.max(relative) > FLOAT32_RTOL:
        return False
    with np.errstate(over="ignore"):
        exact32 = np.all(a.astype(np.float32).astype(float) == a)
    return bool(exact32 or np.median(relative) > 1e-10)


def _list(idx, limit=6):
    s = ", ".join(str(int(i)) for i in idx[:limit])
    return s + (", ..." if len(idx) > limit else "")


def explain(actual, expected, bad, factors=()):
    """The most specific true sentence about how `actual` differs from `expected`."""
    a, e = np.asarray(actual, float), np.asarray(expected, float)
    nonfinite = ~np.isfinite(a) & np.isfinite(e)
    if nonfinite.any():
        kind = "NaN" if np.isnan(a[nonfinite]).any() else "inf"
        first = np.argwhere(nonfinite)[0] if a.ndim else ()
        at = f" (first at {index_str(first)})" if a.ndim else ""
        if a.ndim == 0:
            return f"is {fmt(float(a))}, expected {fmt(float(e))}"
        return (f"contains {kind} in {int(nonfinite.sum())} of {a.size} entries{at} where the "
                f"expected value is finite")
    if np.isinf(e).any() and not np.array_equal(np.isinf(a) & (a == e), np.isinf(e)):
        idx = tuple(np.argwhere(np.isinf(e) & (a != e))[0]) if e.ndim else ()
        return f"is {fmt(a[idx])}{' at ' + index_str(idx) if e.ndim else ''}, expected {fmt(e[idx])}"
    if not a.any() and e.any() and a.size > 1:
        return "is all zeros"
    c, resid = constant_factor(a, e)
    if c is not None and resid < FACTOR_FIT and abs(c - 1) > 1e-3:
        # a single number is always some multiple of another: only name the known factors
        known = [v for v, _ in factors] + [-1.0]
        if a.size > 1 or any(np.isclose(c, v, rtol=FACTOR_RTOL, atol=0) for v in known):
            return describe_factor(c, factors)
    if a.ndim == 2 and a.shape[0] == a.shape[1] > 1 and not mismatch(a.T, e).any():
        return "is transposed"
    if a.size > 2:
        d = a - e
        spread = 1e-9 * max(1.0, float(np.max(np.abs(e)))) + 1e-6 * float(np.max(np.abs(d)))
        if np.ptp(d) <= spread and abs(d.flat[0]) > 0:
            return f"is off by a constant {fmt(float(d.flat[0]))} in every entry"
    if a.ndim == 0:
        return f"is {fmt(float(a))}, expected {fmt(float(e))}"
    return where_wrong(bad, a, e)


def assert_close(actual, expected, what, tol=DEFAULT, factors=(), alternatives=()):
    """Fail unless `actual` matches `expected` (both float arrays of one shape, or scalars).

    factors: (value, reason) pairs naming known constant-factor mistakes.
    alternatives: (array, sentence) pairs: if `actual` matches one, that sentence is the message.
    """
    a, e = np.asarray(actual, float), np.asarray(expected, float)
    if a.shape != e.shape:
        raise Fail(f"{what} has shape {shape_str(a.shape)}, expected {shape_str(e.shape)}"
                   + (" (transposed?)" if a.shape == e.shape[::-1] else ""))
    bad = mismatch(a, e, tol)
    if not bad.any():
        return
    for alt, sentence in alternatives:
        alt = np.asarray(alt, float)
        if alt.shape == a.shape and not mismatch(a, alt, tol).any():
            raise Fail(f"{what}: {sentence}")
    raise Fail(f"{what} {explain(a, e, bad, factors)}")
