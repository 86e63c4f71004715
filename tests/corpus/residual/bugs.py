"""Realistic residual-block bugs. Each `code` is written over solutions/residual.py (later
definitions win), so a bug replaces only the functions it names. `function` is the function the
failing check must name; `message` a phrase its message must contain (case-insensitive).

The reference caches (x, z, h, W1, W2) with z = x W1^T + b1 and h = relu(z); a backward-only bug
reads that cache. Gating the gradient on h > 0 instead of z > 0 is the same thing (h > 0 exactly
where z > 0), so it is a correct alternative, not a bug."""

BUGS = [
    # -- residual_forward -----------------------------------------------------------------------
    dict(name="skip connection missing in the forward", function="residual_forward",
         message="skip connection is missing", code='''
def residual_forward(x, W1, b1, W2, b2):
    z = x @ W1.T + b1
    h = np.maximum(z, 0.0)
    return h @ W2.T + b2, (x, z, h, W1, W2)
'''),
    dict(name="ReLU after the addition", function="residual_forward",
         message="ReLU is applied after the addition", code='''
def residual_forward(x, W1, b1, W2, b2):
    z = x @ W1.T + b1
    out = np.maximum(x + z @ W2.T + b2, 0.0)
    return out, (x, z, out, W1, W2)


def residual_backward(dout, cache):
    x, z, out, W1, W2 = cache
    dy = dout * (out > 0)
    dW2, db2 = dy.T @ z, dy.sum(axis=0)
    dz = dy @ W2
    dW1, db1 = dz.T @ x, dz.sum(axis=0)
    return dy + dz @ W1, dW1, db1, dW2, db2
'''),
    dict(name="no ReLU between the layers", function="residual_forward", message="no ReLU",
         code='''
def residual_forward(x, W1, b1, W2, b2):
    z = x @ W1.T + b1
    return x + z @ W2.T + b2, (x, z, z, W1, W2)
'''),
    dict(name="b1 missing",
         also_charges=("the cache's z lacks b1, so the unchanged backward's db1 is the spec's formula "
                       "on the wrong z: the gradient of neither forward"),
         function="residual_forward", message="b1 is missing", code='''
def residual_forward(x, W1, b1, W2, b2):
    z = x @ W1.T
    h = np.maximum(z, 0.0)
    return x + h @ W2.T + b2, (x, z, h, W1, W2)
'''),
    dict(name="b2 missing", function="residual_forward", message="b2 is missing", code='''
def residual_forward(x, W1, b1, W2, b2):
    z = x @ W1.T + b1
    h = np.maximum(z, 0.0)
    return x + h @ W2.T, (x, z, h, W1, W2)
'''),
    dict(name="forward adds into x through an alias", function="residual_forward",
         message="in place", code='''
def residual_forward(x, W1, b1, W2, b2):
    z = x @ W1.T + b1
    h = np.maximum(z, 0.0)
    out = x
    out += h @ W2.T + b2
    return out, (x, z, h, W1, W2)
'''),

    # -- residual_backward: dx ------------------------------------------------------------------
    dict(name="skip path missing from dx", function="residual_backward",
         message="skip path is missing", code='''
def residual_backward(dout, cache):
    x, z, h, W1, W2 = cache
    dW2, db2 = dout.T @ h, dout.sum(axis=0)
    dz = (dout @ W2) * (z > 0)
    dW1, db1 = dz.T @ x, dz.sum(axis=0)
    return dz @ W1, dW1, db1, dW2, db2
'''),
    dict(name="dx only through the skip path", function="residual_backward",
         message="through F", code='''
def residual_backward(dout, cache):
    x, z, h, W1, W2 = cache
    dW2, db2 = dout.T @ h, dout.sum(axis=0)
    dz = (dout @ W2) * (z > 0)
    dW1, db1 = dz.T @ x, dz.sum(axis=0)
    return dout, dW1, db1, dW2, db2
'''),
    dict(name="dx accumulated into dout through an alias", function="residual_backward",
         message="in place", code='''
def residual_backward(dout, cache):
    x, z, h, W1, W2 = cache
    dW2, db2 = dout.T @ h, dout.sum(axis=0)
    dz = (dout @ W2) * (z > 0)
    dW1, db1 = dz.T @ x, dz.sum(axis=0)
    dx = dout
    dx += dz @ W1
    return dx, dW1, db1, dW2, db2
'''),

    # -- residual_backward: the ReLU gate -------------------------------------------------------
    dict(name="dz not gated by the ReLU", function="residual_backward", message="relu",
         code='''
def residual_backward(dout, cache):
    x, z, h, W1, W2 = cache
    dW2, db2 = dout.T @ h, dout.sum(axis=0)
    dz = dout @ W2
    dW1, db1 = dz.T @ x, dz.sum(axis=0)
    return dout + dz @ W1, dW1, db1, dW2, db2
'''),
    dict(name="ReLU applied to the gradient instead of gating it", function="residual_backward",
         message="relu", code='''
def residual_backward(dout, cache):
    x, z, h, W1, W2 = cache
    dW2, db2 = dout.T @ h, dout.sum(axis=0)
    dz = np.maximum(dout @ W2, 0)
    dW1, db1 = dz.T @ x, dz.sum(axis=0)
    return dout + dz @ W1, dW1, db1, dW2, db2
'''),
    dict(name="dW2 from the pre-activation z instead of h", function="residual_backward",
         message="dW2", code='''
def residual_backward(dout, cache):
    x, z, h, W1, W2 = cache
    dW2, db2 = dout.T @ z, dout.sum(axis=0)
    dz = (dout @ W2) * (z > 0)
    dW1, db1 = dz.T @ x, dz.sum(axis=0)
    return dout + dz @ W1, dW1, db1, dW2, db2
'''),

    # -- residual_backward: parameter gradients -------------------------------------------------
    dict(name="parameter gradients averaged over the batch", function="residual_backward",
         message="averaged over the batch", code='''
def residual_backward(dout, cache):
    x, z, h, W1, W2 = cache
    n = x.shape[0]
    dW2, db2 = dout.T @ h / n, dout.mean(axis=0)
    dz = (dout @ W2) * (z > 0)
    dW1, db1 = dz.T @ x / n, dz.mean(axis=0)
    return dout + dz @ W1, dW1, db1, dW2, db2
'''),
    dict(name="dW2 transposed (h^T dout)", function="residual_backward", message="transposed",
         code='''
def residual_backward(dout, cache):
    x, z, h, W1, W2 = cache
    dW2, db2 = h.T @ dout, dout.sum(axis=0)
    dz = (dout @ W2) * (z > 0)
    dW1, db1 = dz.T @ x, dz.sum(axis=0)
    return dout + dz @ W1, dW1, db1, dW2, db2
'''),
    dict(name="dW1 transposed (x^T dz)", function="residual_backward", message="transposed",
         code='''
def residual_backward(dout, cache):
    x, z, h, W1, W2 = cache
    dW2, db2 = dout.T @ h, dout.sum(axis=0)
    dz = (dout @ W2) * (z > 0)
    dW1, db1 = x.T @ dz, dz.sum(axis=0)
    return dout + dz @ W1, dW1, db1, dW2, db2
'''),
    dict(name="db2 summed over the wrong axis", function="residual_backward",
         message="db2 has shape (5,), expected (4,)", code='''
def residual_backward(dout, cache):
    x, z, h, W1, W2 = cache
    dW2, db2 = dout.T @ h, dout.sum(axis=1)
    dz = (dout @ W2) * (z > 0)
    dW1, db1 = dz.T @ x, dz.sum(axis=0)
    return dout + dz @ W1, dW1, db1, dW2, db2
'''),
    dict(name="db1 kept as a (1, H) row", function="residual_backward", message="(1, 6)",
         code='''
def residual_backward(dout, cache):
    x, z, h, W1, W2 = cache
    dW2, db2 = dout.T @ h, dout.sum(axis=0)
    dz = (dout @ W2) * (z > 0)
    dW1, db1 = dz.T @ x, dz.sum(axis=0, keepdims=True)
    return dout + dz @ W1, dW1, db1, dW2, db2
'''),
    dict(name="db2 summed over both axes", function="residual_backward",
         message="db2 has shape ()", code='''
def residual_backward(dout, cache):
    x, z, h, W1, W2 = cache
    dW2, db2 = dout.T @ h, dout.sum()
    dz = (dout @ W2) * (z > 0)
    dW1, db1 = dz.T @ x, dz.sum(axis=0)
    return dout + dz @ W1, dW1, db1, dW2, db2
'''),

    # -- the cache ------------------------------------------------------------------------------
    dict(name="cache kept in a global (the last forward wins)", function="residual_backward",
         message="cache", code='''
_CACHE = {}


def residual_forward(x, W1, b1, W2, b2):
    z = x @ W1.T + b1
    h = np.maximum(z, 0.0)
    _CACHE.update(x=x, z=z, h=h, W1=W1, W2=W2)
    return x + h @ W2.T + b2, None


def residual_backward(dout, cache):
    x, z, h, W1, W2 = (_CACHE[k] for k in ("x", "z", "h", "W1", "W2"))
    dW2, db2 = dout.T @ h, dout.sum(axis=0)
    dz = (dout @ W2) * (z > 0)
    dW1, db1 = dz.T @ x, dz.sum(axis=0)
    return dout + dz @ W1, dW1, db1, dW2, db2
'''),
]

# Found by a review of the grader (full marks before the checks that now catch them).
BUGS += [
    dict(name='ReLU gate z >= 0 (gradient 1 at exactly 0)', function='residual_backward',
         message='gate with z > 0, not z >= 0', code='''
def residual_backward(dout, cache):
    x, z, h, W1, W2 = cache
    dW2, db2 = dout.T @ h, dout.sum(axis=0)
    dz = (dout @ W2) * (z >= 0)
    dW1, db1 = dz.T @ x, dz.sum(axis=0)
    return dout + dz @ W1, dW1, db1, dW2, db2
'''),
    dict(name='ReLU6 (clipped at 6) inside F', function='residual_forward',
         message='it clips at 6 (ReLU6)', code='''
def residual_forward(x, W1, b1, W2, b2):
    z = x @ W1.T + b1
    h = np.clip(z, 0.0, 6.0)
    return x + h @ W2.T + b2, (x, z, h, W1, W2)

def residual_backward(dout, cache):
    x, z, h, W1, W2 = cache
    dW2, db2 = dout.T @ h, dout.sum(axis=0)
    dz = (dout @ W2) * ((z > 0) & (z < 6))
    dW1, db1 = dz.T @ x, dz.sum(axis=0)
    return dout + dz @ W1, dW1, db1, dW2, db2
'''),
    dict(name='db1 and db2 squeezed to scalars when H or D is 1', function='residual_backward',
         message='a dimension of size 1 was dropped', code='''
def residual_backward(dout, cache):
    x, z, h, W1, W2 = cache
    dW2, db2 = dout.T @ h, np.squeeze(dout.sum(axis=0, keepdims=True))
    dz = (dout @ W2) * (z > 0)
    dW1, db1 = dz.T @ x, np.squeeze(dz.sum(axis=0, keepdims=True))
    return dout + dz @ W1, dW1, db1, dW2, db2
'''),
]

# Charged once, where they are, with the cause they have (issue 10).
BUGS += [
    dict(name='backward gate with a threshold (z > 1e-9)', function='residual_backward',
         message='+-5e-10', code='''
def residual_backward(dout, cache):
    x, z, h, W1, W2 = cache
    dW2, db2 = dout.T @ h, dout.sum(axis=0)
    dz = (dout @ W2) * (z > 1e-9)
    dW1, db1 = dz.T @ x, dz.sum(axis=0)
    return dout + dz @ W1, dW1, db1, dW2, db2
'''),
]
