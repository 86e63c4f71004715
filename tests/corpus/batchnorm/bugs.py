"""Realistic batch-norm bugs. Each `code` is written over solutions/batchnorm.py (later
definitions win), so a bug replaces only the functions it names. `function` is the function the
failing check must name; `message` a phrase its message must contain (case-insensitive)."""

BUGS = [
    dict(name="unbiased variance in the forward pass", function="batchnorm_forward",
         message="unbiased (N - 1) variance", code='''
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    mu = x.mean(axis=0)
    var = x.var(axis=0, ddof=1)
    inv_std = 1.0 / np.sqrt(var + eps)
    x_hat = (x - mu) * inv_std
    return gamma * x_hat + beta, (x_hat, gamma, inv_std)
'''),
]
