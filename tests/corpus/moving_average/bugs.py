"""Realistic moving-average bugs. Each `code` is written over solutions/moving_average.py (later
definitions win), so a bug replaces only the functions it names. `function` is the function the
failing check must name; `message` a phrase its message must contain (case-insensitive).

The first values of a constant sequence tell most of them apart (grading-notes.md): with beta = 0.9
and theta = 5, no correction gives 0.5, beta^(t-1) gives inf, beta^(t+1) gives 2.63, v_1 = theta_1
gives 50 after correction, swapped weights give 4.5."""

BUGS = [
    # -- ema ------------------------------------------------------------------------------------
    dict(name="ema starts from v_1 = theta_1", function="ema", message="v_1 = theta_1", code='''
def ema(thetas, beta):
    thetas = np.asarray(thetas, dtype=float)
    v = np.empty_like(thetas)
    v[0] = thetas[0]
    for t in range(1, len(thetas)):
        v[t] = beta * v[t - 1] + (1 - beta) * thetas[t]
    return v
'''),
    dict(name="ema weights swapped", function="ema", message="weights are swapped", code='''
def ema(thetas, beta):
    thetas = np.asarray(thetas, dtype=float)
    v = np.empty_like(thetas)
    prev = np.zeros(thetas.shape[1:])
    for t in range(len(thetas)):
        prev = (1 - beta) * prev + beta * thetas[t]
        v[t] = prev
    return v
'''),
    dict(name="bias correction inside ema too", function="ema", message="it is bias-corrected",
         code='''
def ema(thetas, beta):
    thetas = np.asarray(thetas, dtype=float)
    v = np.empty_like(thetas)
    prev = np.zeros(thetas.shape[1:])
    for t in range(len(thetas)):
        prev = beta * prev + (1 - beta) * thetas[t]
        v[t] = prev / (1 - beta ** (t + 1))
    return v


def ema_bias_corrected(thetas, beta):
    return ema(thetas, beta)
'''),
    dict(name="ema only works for a sequence of scalars", function="ema",
         message="setting an array element with a sequence", code='''
def ema(thetas, beta):
    v = np.zeros(len(thetas))
    prev = 0.0
    for t in range(len(thetas)):
        prev = beta * prev + (1 - beta) * thetas[t]
        v[t] = prev
    return v
'''),
    dict(name="ema overwrites thetas through an alias", function="ema", message="in place",
         code='''
def ema(thetas, beta):
    v = thetas
    v[0] = (1 - beta) * thetas[0]
    for t in range(1, len(v)):
        v[t] = beta * v[t - 1] + (1 - beta) * v[t]
    return v
'''),
    dict(name="ema returns a list", function="ema", message="wrap it with np.array", code='''
def ema(thetas, beta):
    v, out = 0.0, []
    for theta in thetas:
        v = beta * v + (1 - beta) * theta
        out.append(v)
    return out
'''),
    dict(name="beta hard-coded to the notes' 0.9", function="ema", message="beta is ignored",
         code='''
def ema(thetas, beta):
    thetas = np.asarray(thetas, dtype=float)
    v = np.empty_like(thetas)
    prev = np.zeros(thetas.shape[1:])
    for t in range(len(thetas)):
        prev = 0.9 * prev + 0.1 * thetas[t]
        v[t] = prev
    return v
'''),

    # -- ema_bias_corrected ---------------------------------------------------------------------
    dict(name="no bias correction", function="ema_bias_corrected", message="no bias correction",
         code='''
def ema_bias_corrected(thetas, beta):
    return ema(thetas, beta)
'''),
    dict(name="divisor 1 - beta^(t-1)", function="ema_bias_corrected", message="1 - beta^(t-1)",
         code='''
def ema_bias_corrected(thetas, beta):
    v = ema(thetas, beta)
    t = np.arange(1, len(v) + 1).reshape((-1,) + (1,) * (v.ndim - 1))
    return v / (1 - beta ** (t - 1))
'''),
    dict(name="t counted from 0 in a loop", function="ema_bias_corrected",
         message="1 - beta^(t-1)", code='''
def ema_bias_corrected(thetas, beta):
    v = ema(thetas, beta)
    v_hat = np.empty_like(v)
    for t in range(len(v)):
        v_hat[t] = v[t] / (1 - beta ** t)
    return v_hat
'''),
    dict(name="divisor 1 - beta^(t+1)", function="ema_bias_corrected", message="1 - beta^(t+1)",
         code='''
def ema_bias_corrected(thetas, beta):
    v = ema(thetas, beta)
    v_hat = np.empty_like(v)
    for t in range(1, len(v) + 1):
        v_hat[t - 1] = v[t - 1] / (1 - beta ** (t + 1))
    return v_hat
'''),
    dict(name="corrected value fed back into the recursion", function="ema_bias_corrected",
         message="fed back", code='''
def ema_bias_corrected(thetas, beta):
    thetas = np.asarray(thetas, dtype=float)
    v = np.zeros(thetas.shape[1:])
    out = np.empty_like(thetas)
    for t in range(1, len(thetas) + 1):
        v = beta * v + (1 - beta) * thetas[t - 1]
        v = v / (1 - beta ** t)
        out[t - 1] = v
    return out
'''),
    dict(name="corrected average started from v_1 = theta_1", function="ema_bias_corrected",
         message="v_1 = theta_1", code='''
def ema_bias_corrected(thetas, beta):
    thetas = np.asarray(thetas, dtype=float)
    v = thetas[0]
    out = np.empty_like(thetas)
    for t in range(1, len(thetas) + 1):
        if t > 1:
            v = beta * v + (1 - beta) * thetas[t - 1]
        out[t - 1] = v / (1 - beta ** t)
    return out
'''),
    dict(name="divided by 1 - beta, without the power", function="ema_bias_corrected",
         message="1 - beta^t", code='''
def ema_bias_corrected(thetas, beta):
    return ema(thetas, beta) / (1 - beta)
'''),
    dict(name="O(T^2): the weighted sum recomputed at every step", function="ema_bias_corrected",
         message="one pass", code='''
def ema_bias_corrected(thetas, beta):
    thetas = np.asarray(thetas, dtype=float)
    out = np.empty_like(thetas)
    for t in range(1, len(thetas) + 1):
        k = np.arange(1, t + 1).reshape((-1,) + (1,) * (thetas.ndim - 1))
        w = (1 - beta) * beta ** (t - k)
        out[t - 1] = np.sum(w * thetas[:t], axis=0) / (1 - beta ** t)
    return out
'''),
    dict(name="closed form with beta^(-t) overflows for long sequences",
         function="ema_bias_corrected",
         message="a power such as beta^-t overflows on long sequences", code='''
def ema_bias_corrected(thetas, beta):
    thetas = np.asarray(thetas, dtype=float)
    t = np.arange(1, len(thetas) + 1).reshape((-1,) + (1,) * (thetas.ndim - 1))
    v = (1 - beta) * beta ** t * np.cumsum(thetas * beta ** (-t), axis=0)
    return v / (1 - beta ** t)
'''),
]

# Found by a review of the grader (full marks before the checks that now catch them).
BUGS += [
    dict(name='ema returns float32', function='ema',
         message='dtype float32', code='''
def ema(thetas, beta):
    thetas = np.asarray(thetas, dtype=float)
    v = np.zeros(thetas.shape, dtype=np.float32)
    prev = np.zeros(thetas.shape[1:])
    for t in range(len(thetas)):
        prev = beta * prev + (1 - beta) * thetas[t]
        v[t] = prev
    return v
'''),
    dict(name='ema in closed form with beta^(-t) (overflows for long sequences)', function='ema',
         message='beta^-t overflows', code='''
def ema(thetas, beta):
    thetas = np.asarray(thetas, dtype=float)
    t = np.arange(1, len(thetas) + 1).reshape((-1,) + (1,) * (thetas.ndim - 1))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        v = (1 - beta) * beta ** t * np.cumsum(thetas * beta ** (-t), axis=0)
    if beta == 0:
        v = thetas.copy()
    return v

def ema_bias_corrected(thetas, beta):
    thetas = np.asarray(thetas, dtype=float)
    out = np.empty_like(thetas)
    v = np.zeros(thetas.shape[1:])
    for t in range(1, len(thetas) + 1):
        v = beta * v + (1 - beta) * thetas[t - 1]
        out[t - 1] = v / (1 - beta ** t)
    return out
'''),
]

