"""Realistic matrix-calculus bugs. Each `code` is written over solutions/matrix_calculus.py (later
definitions win), so a bug replaces only the functions it names. `function` is the function the
failing check must name; `message` a phrase its message must contain (case-insensitive)."""

BUGS = [
    # -- numerical_jacobian -----------------------------------------------------------------------
    dict(name="forward differences", function="numerical_jacobian",
         message="forward differences", code='''
def numerical_jacobian(f, x, h=1e-6):
    fx = f(x)
    J = np.zeros((len(fx), len(x)))
    for j in range(len(x)):
        e = np.zeros(len(x))
        e[j] = 1.0
        J[:, j] = (f(x + h * e) - fx) / h
    return J
'''),
    dict(name="h ignored: a hard-coded step equal to the default", function="numerical_jacobian",
         message="ignores the h argument", code='''
def numerical_jacobian(f, x, h=1e-6):
    eps = 1e-6
    J = np.zeros((len(f(x)), len(x)))
    for j in range(len(x)):
        e = np.zeros(len(x))
        e[j] = eps
        J[:, j] = (f(x + e) - f(x - e)) / (2 * eps)
    return J
'''),
    dict(name="h ignored: a hard-coded step of 1e-5", function="numerical_jacobian",
         message="ignores the h argument", code='''
def numerical_jacobian(f, x, h=1e-6):
    eps = 1e-5
    J = np.zeros((len(f(x)), len(x)))
    for j in range(len(x)):
        e = np.zeros(len(x))
        e[j] = eps
        J[:, j] = (f(x + e) - f(x - e)) / (2 * eps)
    return J
'''),
    dict(name="J transposed (m x p): one row per input", function="numerical_jacobian",
         message="transposed", code='''
def numerical_jacobian(f, x, h=1e-6):
    rows = []
    for j in range(len(x)):
        e = np.zeros(len(x))
        e[j] = h
        rows.append((f(x + e) - f(x - e)) / (2 * h))
    return np.array(rows)
'''),
    dict(name="all coordinates perturbed at once (x + h)", function="numerical_jacobian",
         message="one coordinate at a time", code='''
def numerical_jacobian(f, x, h=1e-6):
    J = np.zeros((len(f(x)), len(x)))
    for j in range(len(x)):
        J[:, j] = (f(x + h) - f(x - h)) / (2 * h)
    return J
'''),
    dict(name="central numerator divided by h, not 2h", function="numerical_jacobian",
         message="2h", code='''
def numerical_jacobian(f, x, h=1e-6):
    J = np.zeros((len(f(x)), len(x)))
    for j in range(len(x)):
        e = np.zeros(len(x))
        e[j] = h
        J[:, j] = (f(x + e) - f(x - e)) / h
    return J
'''),
    dict(name="operator precedence: / 2*h multiplies by h", function="numerical_jacobian",
         message="times too small", code='''
def numerical_jacobian(f, x, h=1e-6):
    J = np.zeros((len(f(x)), len(x)))
    for j in range(len(x)):
        e = np.zeros(len(x))
        e[j] = h
        J[:, j] = (f(x + e) - f(x - e)) / 2*h
    return J
'''),
    dict(name="x perturbed in place and never restored", function="numerical_jacobian",
         message="modified its argument x in place", code='''
def numerical_jacobian(f, x, h=1e-6):
    J = np.zeros((len(f(x)), len(x)))
    for j in range(len(x)):
        x[j] += h
        fp = f(x)
        x[j] -= 2 * h
        fm = f(x)
        J[:, j] = (fp - fm) / (2 * h)
    return J
'''),
    dict(name="all perturbations in one call to f (f takes one vector)",
         function="numerical_jacobian", message="f takes a 1-D array", code='''
def numerical_jacobian(f, x, h=1e-6):
    E = h * np.eye(len(x))
    return ((f(x + E) - f(x - E)) / (2 * h)).T
'''),
    dict(name="J allocated square (m x m)", function="numerical_jacobian",
         message="could not broadcast", code='''
def numerical_jacobian(f, x, h=1e-6):
    m = len(x)
    J = np.zeros((m, m))
    for j in range(m):
        e = np.zeros(m)
        e[j] = h
        J[:, j] = (f(x + e) - f(x - e)) / (2 * h)
    return J
'''),

    # -- sigmoid_jacobian -------------------------------------------------------------------------
    dict(name="sigmoid Jacobian as a vector", function="sigmoid_jacobian",
         message="vector of shape (m,)", code='''
def sigmoid_jacobian(z):
    s = 1.0 / (1.0 + np.exp(-z))
    return s * (1 - s)
'''),
    dict(name="sigmoid Jacobian as diag(z (1 - z))", function="sigmoid_jacobian",
         message="z (1 - z)", code='''
def sigmoid_jacobian(z):
    return np.diag(z * (1 - z))
'''),
    dict(name="sigmoid Jacobian as the outer product s (1 - s)^T", function="sigmoid_jacobian",
         message="outer product", code='''
def sigmoid_jacobian(z):
    s = 1.0 / (1.0 + np.exp(-z))
    return np.outer(s, 1 - s)
'''),
    dict(name="sigmoid Jacobian copied from softmax's (diag(s) - s s^T)",
         function="sigmoid_jacobian", message="diagonal", code='''
def sigmoid_jacobian(z):
    s = 1.0 / (1.0 + np.exp(-z))
    return np.diag(s) - np.outer(s, s)
'''),

    # -- softmax_jacobian -------------------------------------------------------------------------
    dict(name="softmax Jacobian without the off-diagonal", function="softmax_jacobian",
         message="only the diagonal", code='''
def softmax_jacobian(z):
    e = np.exp(z - z.max())
    s = e / e.sum()
    return np.diag(s * (1 - s))
'''),
    dict(name="softmax Jacobian with the sign flipped", function="softmax_jacobian",
         message="sign is flipped", code='''
def softmax_jacobian(z):
    e = np.exp(z - z.max())
    s = e / e.sum()
    return np.outer(s, s) - np.diag(s)
'''),
    dict(name="softmax without the max subtracted overflows", function="softmax_jacobian",
         message="maximum of z subtracted", code='''
def softmax_jacobian(z):
    e = np.exp(z)
    s = e / e.sum()
    return np.diag(s) - np.outer(s, s)
'''),
    dict(name="s @ s.T on a 1-D s (a number, not the outer product)", function="softmax_jacobian",
         message="outer product", code='''
def softmax_jacobian(z):
    e = np.exp(z - z.max())
    s = e / e.sum()
    return np.diag(s) - s @ s.T
'''),
    dict(name="s * s.T on a 1-D s (elementwise, broadcast over rows; not the outer product)",
         function="softmax_jacobian", message="outer product", code='''
def softmax_jacobian(z):
    e = np.exp(z - z.max())
    s = e / e.sum()
    return np.diag(s) - s * s.T
'''),

    # -- chain_jacobians --------------------------------------------------------------------------
    dict(name="chain in the wrong order (J_1 J_2 ... J_n)", function="chain_jacobians",
         message="order is reversed", code='''
def chain_jacobians(jacobians):
    out = jacobians[0]
    for jac in jacobians[1:]:
        out = out @ jac
    return out
'''),
    dict(name="chain with np.linalg.multi_dot in list order", function="chain_jacobians",
         message="order is reversed", code='''
def chain_jacobians(jacobians):
    if len(jacobians) == 1:
        return jacobians[0]
    return np.linalg.multi_dot(jacobians)
'''),
    dict(name="chain transposed (J_1^T J_2^T ... J_n^T)", function="chain_jacobians",
         message="transpose of the product", code='''
def chain_jacobians(jacobians):
    out = jacobians[0].T
    for jac in jacobians[1:]:
        out = out @ jac.T
    return out
'''),

    # -- scalar_chain_grad ------------------------------------------------------------------------
    dict(name="VJP without the transpose (J @ g)", function="scalar_chain_grad",
         message="transpose is missing", code='''
def scalar_chain_grad(jacobians, grad_out):
    g = grad_out
    for jac in reversed(jacobians):
        g = jac @ g
    return g
'''),
    dict(name="VJPs in the wrong order (J_1^T first)", function="scalar_chain_grad",
         message="wrong order", code='''
def scalar_chain_grad(jacobians, grad_out):
    g = grad_out
    for jac in jacobians:
        g = jac.T @ g
    return g
'''),
    dict(name="VJP as a column vector (m, 1)", function="scalar_chain_grad",
         message="expected (3,)", code='''
def scalar_chain_grad(jacobians, grad_out):
    g = grad_out.reshape(-1, 1)
    for jac in reversed(jacobians):
        g = jac.T @ g
    return g
'''),
]

# Found by a review of the grader (full marks before the checks that now catch them).
BUGS += [
    dict(name="jacobians.reverse() changes the caller's list", function='chain_jacobians',
         message='modified its argument jacobians in place', code='''
def chain_jacobians(jacobians):
    jacobians.reverse()
    out = jacobians[0]
    for jac in jacobians[1:]:
        out = out @ jac
    return out
'''),
    dict(name="jacobians.pop() empties the caller's list", function='scalar_chain_grad',
         message='modified its argument jacobians in place', code='''
def scalar_chain_grad(jacobians, grad_out):
    g = grad_out
    while jacobians:
        g = jacobians.pop().T @ g
    return g
'''),
    dict(name='the result squeezed to a scalar when x has one entry', function='scalar_chain_grad',
         message='a dimension of size 1 was dropped', code='''
def scalar_chain_grad(jacobians, grad_out):
    g = grad_out.reshape(-1, 1)
    for jac in reversed(jacobians):
        g = jac.T @ g
    return g.squeeze()
'''),
    dict(name='default h = 1e-4', function='numerical_jacobian',
         message='the default h is 0.0001', code='''
def numerical_jacobian(f, x, h=1e-4):
    x = np.asarray(x, dtype=float)
    columns = []
    for j in range(x.size):
        step = np.zeros_like(x)
        step[j] = h
        columns.append((np.asarray(f(x + step)) - np.asarray(f(x - step))) / (2 * h))
    return np.stack(columns, axis=1)
'''),
]

# Charged once, where they are, with the cause they have (issue 10).
BUGS += [
    dict(name='step relative to |x_j|', function='numerical_jacobian', message='relative to x',
         code='''
def numerical_jacobian(f, x, h=1e-6):
    x = np.asarray(x, dtype=float)
    cols = []
    for j in range(len(x)):
        step = h * abs(x[j])
        e = np.zeros_like(x)
        e[j] = step
        cols.append((f(x + e) - f(x - e)) / (2 * step))
    return np.stack(cols, axis=1)
'''),
]
