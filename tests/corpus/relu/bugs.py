"""Realistic ReLU bugs. Each `code` is written over solutions/relu.py (later definitions win), so a
bug replaces only the functions it names. `function` is the function the failing check must name;
`message` a phrase its message must contain (case-insensitive)."""

BUGS = [
    # -- relu_backward ----------------------------------------------------------------------------
    dict(name="gradient 1 at x == 0 (mask x >= 0)", function="relu_backward", message="x > 0",
         code='''
def relu_backward(dout, cache):
    return dout * (cache >= 0)
'''),
    dict(name="gradient passed at x == 0 (only x < 0 zeroed)", function="relu_backward",
         message="x > 0", code='''
def relu_backward(dout, cache):
    dx = dout.copy()
    dx[cache < 0] = 0
    return dx
'''),
    dict(name="dx gated by the sign of dout", function="relu_backward", message="sign of dout",
         code='''
def relu_backward(dout, cache):
    return dout * (dout > 0)
'''),
    # np.maximum(dout, 0) equals dout * (dout > 0) entry for entry, so the grader's first
    # alternative (the sign of dout) names it; both say the gate must come from x.
    dict(name="ReLU applied to dout (np.maximum(dout, 0))", function="relu_backward",
         message="sign of dout", code='''
def relu_backward(dout, cache):
    return np.maximum(dout, 0)
'''),
    dict(name="cache is the output, gated with out >= 0 (always true)", function="relu_backward",
         message="dout everywhere", code='''
def relu_forward(x):
    out = np.maximum(x, 0.0)
    return out, out


def relu_backward(dout, cache):
    return dout * (cache >= 0)
'''),
    dict(name="cache is the output in a dict, gated with out >= 0 (always true)",
         function="relu_backward", message="dout everywhere", code='''
def relu_forward(x):
    out = np.maximum(x, 0.0)
    return out, {"out": out}


def relu_backward(dout, cache):
    return dout * (cache["out"] >= 0)
'''),
    dict(name="CS231n-style backward modifies dout in place (dx = dout; dx[x <= 0] = 0)",
         function="relu_backward", message="modified its argument dout in place", code='''
def relu_backward(dout, cache):
    x = cache
    dx = dout
    dx[x <= 0] = 0
    return dx
'''),
    dict(name="backward returns the boolean mask (dout forgotten)", function="relu_backward",
         message="array of booleans", code='''
def relu_backward(dout, cache):
    return cache > 0
'''),
    dict(name="backward returns an integer mask (dout forgotten)", function="relu_backward",
         message="the spec's arrays are float64", code='''
def relu_backward(dout, cache):
    return (cache > 0).astype(int)
'''),

    # -- relu_forward -----------------------------------------------------------------------------
    dict(name="ReLU via abs", function="relu_forward", message="|x|", code='''
def relu_forward(x):
    return np.abs(x), x
'''),
    dict(name="ReLU keeps the negative part (x * (x < 0))", function="relu_forward",
         message="keeps the negative part", code='''
def relu_forward(x):
    return x * (x < 0), x
'''),
    dict(name="forward modifies x in place (x[x < 0] = 0)", function="relu_forward",
         message="modified its argument x in place", code='''
def relu_forward(x):
    cache = x.copy()
    x[x < 0] = 0
    return x, cache
'''),
    dict(name="forward in place with np.maximum(x, 0, out=x)", function="relu_forward",
         message="modified its argument x in place", code='''
def relu_forward(x):
    cache = x > 0
    return np.maximum(x, 0, out=x), cache


def relu_backward(dout, cache):
    return dout * cache
'''),
    dict(name="forward returns only out (no cache)", function="relu_forward",
         message="2 values (out, cache)", code='''
def relu_forward(x):
    return np.maximum(x, 0)


def relu_backward(dout, cache):
    return dout * (cache > 0)
'''),
    dict(name="np.max(x, 0) instead of np.maximum(x, 0)", function="relu_forward",
         message="np.maximum", code='''
def relu_forward(x):
    return np.max(x, 0), x
'''),
    dict(name="integer output (np.zeros of ints filled with x)", function="relu_forward",
         message="the spec's arrays are float64", code='''
def relu_forward(x):
    out = np.zeros(x.shape, dtype=int)
    out[x > 0] = x[x > 0]
    return out, x
'''),
    dict(name="forward returns the boolean mask", function="relu_forward",
         message="array of booleans", code='''
def relu_forward(x):
    mask = x > 0
    return mask, x
'''),
]

# Found by a review of the grader (full marks before the checks that now catch them).
BUGS += [
    dict(name='the input kept in a global instead of the cache', function='relu_backward',
         message='use only the cache it is given', code='''
_LAST_X = None
def relu_forward(x):
    global _LAST_X
    _LAST_X = x.copy()
    return np.maximum(x, 0.0), None

def relu_backward(dout, cache):
    return dout * (_LAST_X > 0)
'''),
]

# Charged once, where they are, with the cause they have (issue 10).
BUGS += [
    dict(name='backward with the sign flipped', function='relu_backward', message='wrong sign',
         code='''
def relu_backward(dout, cache):
    return -dout * (cache > 0)
'''),
    dict(name='forward with a threshold (x > 1e-8)', function='relu_forward',
         message='tiny inputs', code='''
def relu_forward(x):
    return np.where(x > 1e-8, x, 0.0), x
'''),
    dict(name='backward with a threshold (x > 1e-10)', function='relu_backward',
         message='no threshold', code='''
def relu_backward(dout, cache):
    return dout * (cache > 1e-10)
'''),
    dict(name='backward clips x at 1e-12 before gating (x >= 1e-12)', function='relu_backward',
         message='no threshold', code='''
def relu_backward(dout, cache):
    return dout * (np.maximum(cache, 1e-12) > 1e-12)
'''),
]
