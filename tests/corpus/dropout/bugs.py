"""Realistic dropout bugs. Each `code` is written over solutions/dropout.py (later definitions
win), so a bug replaces only the functions it names. `function` is the function the failing check
must name; `message` a phrase its message must contain (case-insensitive).

Most come from the notes' slip (p called both the keep and the drop probability) and from where
the mask comes from: the rng argument, np.random's global state, a cache kept between calls."""

BUGS = [
    # -- the rate and the scale -----------------------------------------------------------------
    dict(name="p used as the keep probability throughout", function="dropout_forward",
         message="not of keeping", code='''
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    keep_prob = p  # the notes: "keep each unit with probability p"
    mask = (rng.random(x.shape) < keep_prob) / keep_prob
    return x * mask, mask
'''),
    dict(name="keep mask drawn with rand < p", function="dropout_forward",
         message="not of keeping", code='''
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    keep = rng.random(x.shape) < p
    return x * keep / (1 - p), keep / (1 - p)
'''),
    dict(name="keep mask from binomial(1, p)", function="dropout_forward",
         message="not of keeping", code='''
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    mask = rng.binomial(1, p, size=x.shape) / (1 - p)
    return x * mask, mask
'''),
    dict(name="kept entries divided by p", function="dropout_forward", message="divided by p",
         code='''
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    mask = (rng.random(x.shape) >= p) / p
    return x * mask, mask
'''),
    dict(name="no inverted scaling", function="dropout_forward", message="not scaled", code='''
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    mask = rng.random(x.shape) >= p
    return x * mask, mask
'''),
    dict(name="classic dropout: scaled by 1 - p", function="dropout_forward",
         message="multiplied by 1 - p", code='''
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    mask = (rng.random(x.shape) >= p) * (1 - p)
    return x * mask, mask
'''),
    dict(name="scaled at inference too", function="dropout_forward", message="not training",
         code='''
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x * (1 - p), None
    rng = np.random.default_rng() if rng is None else rng
    mask = (rng.random(x.shape) >= p) / (1 - p)
    return x * mask, mask
'''),
    dict(name="train flag ignored: inference still drops", function="dropout_forward",
         message="not training", code='''
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    rng = np.random.default_rng() if rng is None else rng
    mask = (rng.random(x.shape) >= p) / (1 - p)
    return x * mask, mask
'''),

    # -- where the mask comes from --------------------------------------------------------------
    dict(name="mask from np.random's global state", function="dropout_forward",
         message="global state", code='''
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), None
    mask = (np.random.rand(*x.shape) >= p) / (1 - p)
    return x * mask, mask
'''),
    dict(name="fixed seed when rng is None", function="dropout_forward", message="rng=None",
         code='''
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), None
    if rng is None:
        rng = np.random.default_rng(0)
    mask = (rng.random(x.shape) >= p) / (1 - p)
    return x * mask, mask
'''),
    dict(name="mask cached in a global and reused", function="dropout_forward",
         message="new mask at every call", code='''
_MASK = None


def dropout_forward(x, p, train=True, rng=None):
    global _MASK
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    if _MASK is None or _MASK.shape != x.shape:
        _MASK = rng.random(x.shape) >= p
    mask = _MASK / (1 - p)
    return x * mask, mask
'''),
    dict(name="one mask row broadcast over the batch", function="dropout_forward",
         message="whole column", code='''
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    mask = (rng.random(x.shape[1]) >= p) / (1 - p)
    return x * mask, np.broadcast_to(mask, x.shape)
'''),
    dict(name="one draw per example (per row)", function="dropout_forward", message="whole row",
         code='''
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    mask = (rng.random((x.shape[0], 1)) >= p) / (1 - p)
    return x * mask, mask * np.ones_like(x)
'''),
    dict(name="a fixed number of elements dropped (choice without replacement)",
         function="dropout_forward", message="without replacement", code='''
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    drop = rng.choice(x.size, size=int(round(p * x.size)), replace=False)
    mask = np.ones(x.size)
    mask[drop] = 0
    mask = mask.reshape(x.shape) / (1 - p)
    return x * mask, mask
'''),
    dict(name="the same number dropped in every row (permutation per row)",
         function="dropout_forward", message="every row drops the same number", code='''
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    n, d = x.shape
    k = int(round(p * d))
    mask = np.ones((n, d))
    for i in range(n):
        mask[i, rng.permutation(d)[:k]] = 0
    mask /= 1 - p
    return x * mask, mask
'''),

    # -- p validation ---------------------------------------------------------------------------
    dict(name="p = 1 accepted", function="dropout_forward", message="p=1.0", code='''
def dropout_forward(x, p, train=True, rng=None):
    if p < 0 or p > 1:
        raise ValueError(f"p must be in [0, 1], got {p}")
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    keep = rng.random(x.shape) >= p
    mask = keep / (1 - p) if p < 1 else np.zeros(x.shape)
    return x * mask, mask
'''),
    dict(name="negative p accepted", function="dropout_forward", message="p=-0.1", code='''
def dropout_forward(x, p, train=True, rng=None):
    if p >= 1:
        raise ValueError(f"p must be below 1, got {p}")
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    mask = (rng.random(x.shape) >= p) / (1 - p)
    return x * mask, mask
'''),
    dict(name="assert instead of ValueError", function="dropout_forward",
         message="AssertionError", code='''
def dropout_forward(x, p, train=True, rng=None):
    assert 0 <= p < 1, "p must be in [0, 1)"
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    mask = (rng.random(x.shape) >= p) / (1 - p)
    return x * mask, mask
'''),

    # -- arguments modified ---------------------------------------------------------------------
    dict(name="x modified in place", function="dropout_forward", message="in place", code='''
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x, None
    rng = np.random.default_rng() if rng is None else rng
    mask = (rng.random(x.shape) >= p) / (1 - p)
    x *= mask
    return x, mask
'''),

    # -- dropout_backward -----------------------------------------------------------------------
    dict(name="backward not scaled", function="dropout_backward", message="not scaled", code='''
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    keep = rng.random(x.shape) >= p
    return x * keep / (1 - p), keep


def dropout_backward(dout, cache):
    return dout.copy() if cache is None else dout * cache
'''),
    dict(name="backward divides by p", function="dropout_backward", message="divided by p",
         code='''
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    keep = rng.random(x.shape) >= p
    return x * keep / (1 - p), (keep, p)


def dropout_backward(dout, cache):
    if cache is None:
        return dout.copy()
    keep, p = cache
    return dout * keep / p
'''),
    dict(name="backward through the dropped entries", function="dropout_backward",
         message="dropped entries", code='''
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    drop = rng.random(x.shape) < p
    return np.where(drop, 0.0, x / (1 - p)), (drop, p)


def dropout_backward(dout, cache):
    if cache is None:
        return dout.copy()
    drop, p = cache
    return dout * drop / (1 - p)
'''),
    dict(name="backward draws a new mask", function="dropout_backward", message="new mask",
         code='''
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    mask = (rng.random(x.shape) >= p) / (1 - p)
    return x * mask, (p, rng)


def dropout_backward(dout, cache):
    if cache is None:
        return dout.copy()
    p, rng = cache
    return dout * (rng.random(dout.shape) >= p) / (1 - p)
'''),
    dict(name="backward scales even after an inference forward", function="dropout_backward",
         message="not training", code='''
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), (np.ones(x.shape), p)
    rng = np.random.default_rng() if rng is None else rng
    keep = rng.random(x.shape) >= p
    return x * keep / (1 - p), (keep, p)


def dropout_backward(dout, cache):
    keep, p = cache
    return dout * keep / (1 - p)
'''),
    dict(name="backward crashes after an inference forward (cache None)",
         function="dropout_backward", message="dropout_backward raised TypeError", code='''
def dropout_backward(dout, cache):
    return dout * cache
'''),
]

# Found by a review of the grader (full marks before the checks that now catch them).
BUGS += [
    dict(name='backward reads the mask from out != 0', function='dropout_backward',
         message='keep the mask itself in the cache', code='''
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    out = x * (rng.random(x.shape) >= p) / (1 - p)
    return out, (out, p)

def dropout_backward(dout, cache):
    if cache is None:
        return dout.copy()
    out, p = cache
    return dout * (out != 0) / (1 - p)
'''),
    dict(name='backward computes dout * out / x', function='dropout_backward',
         message='do not recover the mask by dividing out by x', code='''
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    out = x * (rng.random(x.shape) >= p) / (1 - p)
    return out, (out, x)

def dropout_backward(dout, cache):
    if cache is None:
        return dout.copy()
    out, x = cache
    return dout * out / x
'''),
    dict(name='train defaults to False', function='dropout_forward',
         message='train defaults to True', code='''
def dropout_forward(x, p, train=False, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    mask = (rng.random(x.shape) >= p) / (1 - p)
    return x * mask, mask
'''),
]

# Charged once, where they are, with the cause they have (issue 10).
BUGS += [
    dict(name='mask drawn from a normal distribution (z < 1 - p)', function='dropout_forward',
         message='normal distribution', code='''
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    keep = rng.standard_normal(x.shape) < 1 - p
    return x * keep / (1 - p), (keep, p)


def dropout_backward(dout, cache):
    if cache is None:
        return dout.copy()
    keep, p = cache
    return dout * keep / (1 - p)
'''),
    dict(name='backward returns dout unchanged', function='dropout_backward',
         message='dx is dout unchanged', code='''
def dropout_backward(dout, cache):
    return dout.copy()
'''),
    dict(name='backward uses the rate of the last forward call (kept in a global)',
         function='dropout_backward', message='dx with p = 0.2', code='''
_P = [0.5]
def dropout_forward(x, p, train=True, rng=None):
    if not 0 <= p < 1:
        raise ValueError(f"p must be in [0, 1), got {p}")
    _P[0] = p
    if not train:
        return x.copy(), None
    rng = np.random.default_rng() if rng is None else rng
    keep = rng.random(x.shape) >= p
    return x * keep / (1 - p), keep


def dropout_backward(dout, cache):
    if cache is None:
        return dout.copy()
    return dout * cache / (1 - _P[0])
'''),
]
