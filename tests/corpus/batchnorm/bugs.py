"""Realistic batch-norm bugs. Each `code` is written over solutions/batchnorm.py (later
definitions win), so a bug replaces only the functions it names. `function` is the function the
failing check must name; `message` a phrase its message must contain (case-insensitive)."""

BUGS = [
    # -- batchnorm_forward ----------------------------------------------------------------------
    dict(name="unbiased variance in the forward pass",
         also_charges=("the cache holds the unbiased std, and the unchanged backward's formula assumes "
                       "the biased one: it is the gradient of neither forward"),
         function="batchnorm_forward",
         message="unbiased (N - 1) variance", code='''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = x.var(axis=0, ddof=1)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)
'''),
    dict(name="eps outside the square root",
         also_charges=("the cache holds 1 / (sqrt(var) + eps), and the unchanged backward "
                       "differentiates 1 / sqrt(var + eps): the gradient of neither forward"),
         function="batchnorm_forward",
         message="eps is outside", code='''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    inv_std = 1.0 / (np.sqrt(var) + eps)
    x_hat = (x - mu) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)
'''),
    dict(name="eps outside via np.std",
         also_charges=("the cache holds 1 / (std + eps), and the unchanged backward differentiates 1 / "
                       "sqrt(var + eps): the gradient of neither forward"),
         function="batchnorm_forward",
         message="eps is outside", code='''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    std = x.std(axis=0) + eps
    x_hat = (x - x.mean(axis=0)) / std
    return gamma * x_hat + beta, (x_hat, gamma, 1.0 / std)
'''),
    dict(name="statistics over axis 1",
         also_charges=("the cache holds per-example statistics, and the unchanged backward sums over "
                       "the batch: the gradient of neither forward"),
         function="batchnorm_forward", message="axis=0", code='''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=1, keepdims=True)
    var = x.var(axis=1, keepdims=True)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)
'''),
    dict(name="gamma and beta not applied", function="batchnorm_forward", message="not applied",
         code='''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    return x_hat, (x_hat, gamma, inv_std)
'''),
    dict(name="x centered in place (x -= mu)", function="batchnorm_forward",
         message="modified its argument x in place", code='''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    x -= mu
    x_hat = x * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)
'''),

    dict(name="statistics over the whole array (no axis)",
         also_charges=("the cache holds whole-array statistics, and the unchanged backward sums per "
                       "feature: the gradient of neither forward"),
         function="batchnorm_forward",
         message="axis=0", code='''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = np.mean(x)
    var = np.var(x)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)
'''),

    dict(name="default eps 1e-3 (the Keras default) in the forward pass",
         function="batchnorm_forward", message="default eps", code='''
def batchnorm_forward(x, gamma, beta, eps=1e-3):
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)
'''),

    # -- batchnorm_backward ---------------------------------------------------------------------
    dict(name="backward without the path through the mean", function="batchnorm_backward",
         message="through the batch mean is missing", code='''
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    g = dout * gamma
    dx = inv_std * (g - x_hat * (g * x_hat).mean(axis=0))
    return dx, dgamma, dbeta
'''),
    dict(name="backward without the path through the variance", function="batchnorm_backward",
         message="path through the batch variance is missing", code='''
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    g = dout * gamma
    dx = inv_std * (g - g.mean(axis=0))
    return dx, dgamma, dbeta
'''),
    dict(name="backward treats mu and var as constants", function="batchnorm_backward",
         message="paths through the batch mean and variance are missing", code='''
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx = dout * gamma * inv_std
    return dx, dgamma, dbeta
'''),
    dict(name="dgamma and dbeta swapped", function="batchnorm_backward", message="swapped",
         code='''
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    g = dout * gamma
    dx = inv_std * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0))
    return dx, dbeta, dgamma
'''),
    dict(name="dgamma and dbeta averaged over the batch", function="batchnorm_backward",
         message="averaged over the batch", code='''
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    dbeta = dout.mean(axis=0)
    dgamma = (dout * x_hat).mean(axis=0)
    g = dout * gamma
    dx = inv_std * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0))
    return dx, dgamma, dbeta
'''),
    dict(name="dbeta summed over axis 1", function="batchnorm_backward", message="dbeta has shape",
         code='''
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    dbeta = dout.sum(axis=1)
    dgamma = (dout * x_hat).sum(axis=0)
    g = dout * gamma
    dx = inv_std * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0))
    return dx, dgamma, dbeta
'''),
    dict(name="compact dx formula without the 1/N (N times too large)",
         function="batchnorm_backward", message="a 1/N from the batch mean or variance is missing", code='''
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dx = inv_std * (n * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0))
    return dx, dgamma, dbeta
'''),
    dict(name="dx divided by N twice", function="batchnorm_backward", message="divide by N once",
         code='''
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    g = dout * gamma
    dx = inv_std / n * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0))
    return dx, dgamma, dbeta
'''),
    dict(name="gamma left out of dx", function="batchnorm_backward", message="dout * gamma", code='''
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    g = dout
    dx = inv_std * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0))
    return dx, dgamma, dbeta
'''),
    dict(name="staged backward: factor 2 of d var / d x forgotten", function="batchnorm_backward",
         message="batch variance's path", code='''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    xmu = x - mu
    var = (xmu ** 2).mean(axis=0)
    sqrtvar = np.sqrt(var + eps)
    ivar = 1.0 / sqrtvar
    x_hat = xmu * ivar
    return gamma * x_hat + beta, (x_hat, gamma, xmu, ivar, sqrtvar, var, eps)


def batchnorm_backward(dout, cache):
    x_hat, gamma, xmu, ivar, sqrtvar, var, eps = cache
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dvar = np.sum(dx_hat * xmu, axis=0) * -0.5 * (var + eps) ** -1.5
    dmu = -np.sum(dx_hat * ivar, axis=0) + dvar * np.mean(-2.0 * xmu, axis=0)
    dx = dx_hat * ivar + dvar * xmu / n + dmu / n
    return dx, dgamma, dbeta
'''),
    dict(name="staged backward: sign of d sqrt(var) / d var wrong", function="batchnorm_backward",
         message="batch variance's path", code='''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    xmu = x - mu
    var = (xmu ** 2).mean(axis=0)
    sqrtvar = np.sqrt(var + eps)
    ivar = 1.0 / sqrtvar
    x_hat = xmu * ivar
    return gamma * x_hat + beta, (x_hat, gamma, xmu, ivar, sqrtvar, var, eps)


def batchnorm_backward(dout, cache):
    x_hat, gamma, xmu, ivar, sqrtvar, var, eps = cache
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    dx_hat = dout * gamma
    dvar = np.sum(dx_hat * xmu, axis=0) * 0.5 * (var + eps) ** -1.5
    dmu = -np.sum(dx_hat * ivar, axis=0) + dvar * np.mean(-2.0 * xmu, axis=0)
    dx = dx_hat * ivar + dvar * 2.0 * xmu / n + dmu / n
    return dx, dgamma, dbeta
'''),
    dict(name="backward recomputes the std without eps", function="batchnorm_backward",
         message="sqrt(var) without eps", code='''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    x_hat = (x - mu) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (x, x_hat, mu, var, gamma)


def batchnorm_backward(dout, cache):
    x, x_hat, mu, var, gamma = cache
    n = dout.shape[0]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    std = np.sqrt(var)
    dx_hat = dout * gamma
    dx = (n * dx_hat - dx_hat.sum(axis=0) - x_hat * (dx_hat * x_hat).sum(axis=0)) / (n * std)
    return dx, dgamma, dbeta
'''),

    dict(name="mean path summed instead of averaged", function="batchnorm_backward",
         message="summed over the batch (g.sum)", code='''
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    g = dout * gamma
    dx = inv_std * (g - g.sum(axis=0) - x_hat * (g * x_hat).mean(axis=0))
    return dx, dgamma, dbeta
'''),

    dict(name="backward normalizes the cached centred x in place", function="batchnorm_backward",
         message="modified its argument cache", code='''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    xmu = x - x.mean(axis=0)
    ivar = 1.0 / np.sqrt((xmu ** 2).mean(axis=0) + eps)
    return gamma * (xmu * ivar) + beta, (xmu, ivar, gamma)


def batchnorm_backward(dout, cache):
    xmu, ivar, gamma = cache
    x_hat = xmu
    x_hat *= ivar
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    g = dout * gamma
    dx = ivar * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0))
    return dx, dgamma, dbeta
'''),

    dict(name="backward normalizes the centred x of a dict cache in place",
         function="batchnorm_backward", message="in place", code='''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    xmu = x - x.mean(axis=0)
    ivar = 1.0 / np.sqrt((xmu ** 2).mean(axis=0) + eps)
    return gamma * (xmu * ivar) + beta, {"xmu": xmu, "ivar": ivar, "gamma": gamma}


def batchnorm_backward(dout, cache):
    x_hat = cache["xmu"]
    x_hat *= cache["ivar"]
    ivar, gamma = cache["ivar"], cache["gamma"]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    g = dout * gamma
    dx = ivar * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0))
    return dx, dgamma, dbeta
'''),

    # -- update_running_stats ---------------------------------------------------------------------
    dict(name="running variance biased", function="update_running_stats",
         message="uses the biased variance", code='''
def update_running_stats(running_mean, running_var, x, momentum=0.9):
    new_mean = momentum * running_mean + (1 - momentum) * x.mean(axis=0)
    new_var = momentum * running_var + (1 - momentum) * x.var(axis=0)
    return new_mean, new_var
'''),
    dict(name="PyTorch momentum convention", function="update_running_stats", message="pytorch",
         code='''
def update_running_stats(running_mean, running_var, x, momentum=0.9):
    new_mean = (1 - momentum) * running_mean + momentum * x.mean(axis=0)
    new_var = (1 - momentum) * running_var + momentum * x.var(axis=0, ddof=1)
    return new_mean, new_var
'''),
    dict(name="running statistics never updated (old arrays returned)",
         function="update_running_stats", message="not updated", code='''
def update_running_stats(running_mean, running_var, x, momentum=0.9):
    new_mean = momentum * running_mean + (1 - momentum) * x.mean(axis=0)
    new_var = momentum * running_var + (1 - momentum) * x.var(axis=0, ddof=1)
    return running_mean, running_var
'''),
    dict(name="PyTorch default momentum 0.1", function="update_running_stats",
         message="default momentum", code='''
def update_running_stats(running_mean, running_var, x, momentum=0.1):
    new_mean = momentum * running_mean + (1 - momentum) * x.mean(axis=0)
    new_var = momentum * running_var + (1 - momentum) * x.var(axis=0, ddof=1)
    return new_mean, new_var
'''),
    dict(name="running mean updated in place (running_mean *= momentum)",
         function="update_running_stats", message="modified its arguments running_mean and running_var",
         code='''
def update_running_stats(running_mean, running_var, x, momentum=0.9):
    running_mean *= momentum
    running_mean += (1 - momentum) * x.mean(axis=0)
    running_var *= momentum
    running_var += (1 - momentum) * x.var(axis=0, ddof=1)
    return running_mean, running_var
'''),
    dict(name="running variance from the standard deviation", function="update_running_stats",
         message="standard deviation", code='''
def update_running_stats(running_mean, running_var, x, momentum=0.9):
    new_mean = momentum * running_mean + (1 - momentum) * x.mean(axis=0)
    new_var = momentum * running_var + (1 - momentum) * x.std(axis=0, ddof=1)
    return new_mean, new_var
'''),

    # -- batchnorm_inference ----------------------------------------------------------------------
    dict(name="inference uses the batch statistics", function="batchnorm_inference",
         message="batch's own statistics", code='''
def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
    mu, var = x.mean(axis=0), x.var(axis=0)
    return gamma * (x - mu) / np.sqrt(var + eps) + beta
'''),
    dict(name="inference divides by the variance", function="batchnorm_inference",
         message="divides by the variance", code='''
def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
    return gamma * (x - running_mean) / (running_var + eps) + beta
'''),
    dict(name="inference with eps outside the square root", function="batchnorm_inference",
         message="eps is outside the square root", code='''
def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
    return gamma * (x - running_mean) / (np.sqrt(running_var) + eps) + beta
'''),
    dict(name="inference normalizes x in place", function="batchnorm_inference",
         message="modified its argument x in place", code='''
def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
    x -= running_mean
    x /= np.sqrt(running_var + eps)
    return gamma * x + beta
'''),
    dict(name="default eps 1e-3 (the Keras default) at inference", function="batchnorm_inference",
         message="default eps", code='''
def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-3):
    return gamma * (x - running_mean) / np.sqrt(running_var + eps) + beta
'''),
]

# Found by a review of the grader (full marks before the checks that now catch them).
BUGS += [
    dict(name='forward ignores its eps argument', function='batchnorm_forward',
         message='not the eps argument it is given', code='''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    inv_std = 1.0 / np.sqrt(var + 1e-5)
    x_hat = (x - mu) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)
'''),
    dict(name='inference ignores its eps argument', function='batchnorm_inference',
         message='not the eps argument it is given', code='''
def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
    return gamma * (x - running_mean) / np.sqrt(running_var + 1e-5) + beta
'''),
    dict(name='forward keeps its values in a global; the cache is None', function='batchnorm_backward',
         message='use only the cache it is given', code='''
_CACHE = {}
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    _CACHE.update(x_hat=x_hat, gamma=gamma, inv_std=inv_std)
    return gamma * x_hat + beta, None

def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std = _CACHE["x_hat"], _CACHE["gamma"], _CACHE["inv_std"]
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    g = dout * gamma
    dx = inv_std * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0))
    return dx, dgamma, dbeta
'''),
    dict(name='backward recomputes x_hat with eps = 1e-5', function='batchnorm_backward',
         message='use the eps of the forward call', code='''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = x.var(axis=0)
    x_hat = (x - mu) / np.sqrt(var + eps)
    return gamma * x_hat + beta, (x, gamma)

def batchnorm_backward(dout, cache):
    x, gamma = cache
    inv_std = 1.0 / np.sqrt(x.var(axis=0) + 1e-5)
    x_hat = (x - x.mean(axis=0)) * inv_std
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    g = dout * gamma
    dx = inv_std * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0))
    return dx, dgamma, dbeta
'''),
]

# Charged once, where they are, with the cause they have (issue 10).
BUGS += [
    dict(name='forward computed in float32 and returned as float64', function='batchnorm_forward',
         message='float32', code='''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    x32 = x.astype(np.float32)
    mu = x32.mean(axis=0)
    var = x32.var(axis=0)
    inv_std = (1.0 / np.sqrt(var + np.float32(eps))).astype(np.float64)
    x_hat = ((x32 - mu) * inv_std.astype(np.float32)).astype(np.float64)
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)
'''),
    dict(name='forward without eps (the backward is the gradient of that forward)',
         function='batchnorm_forward', message='eps = 0', code='''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    inv_std = 1.0 / np.sqrt(x.var(axis=0))
    x_hat = (x - mu) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)
'''),
    dict(name='dgamma kept 2-D (keepdims=True)', function='batchnorm_backward',
         message='dgamma has shape (1, 3)', code='''
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0, keepdims=True)
    g = dout * gamma
    dx = inv_std * (g - g.mean(axis=0) - x_hat * (g * x_hat).mean(axis=0))
    return dx, dgamma, dbeta
'''),
    dict(name='backward means over axis 1', function='batchnorm_backward', message='axis=1',
         code='''
def batchnorm_backward(dout, cache):
    x_hat, gamma, inv_std = cache
    dbeta = dout.sum(axis=0)
    dgamma = (dout * x_hat).sum(axis=0)
    g = dout * gamma
    dx = inv_std * (g - g.mean(axis=1, keepdims=True)
                    - x_hat * (g * x_hat).mean(axis=1, keepdims=True))
    return dx, dgamma, dbeta
'''),
]
