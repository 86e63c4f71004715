"""Realistic backpropagation bugs. Each `code` is written over solutions/backprop.py (later
definitions win), so a bug replaces only the functions it names; mlp_loss_and_grads in the
reference calls output_delta, hidden_delta and layer_grads, so a bug in one of those shows in the
whole network too. `function` is the function the failing check must name; `message` a phrase its
message must contain (case-insensitive)."""

BUGS = [
    # -- sigmoid, sigmoid_prime -------------------------------------------------------------------
    dict(name="sigmoid as exp(z) / (1 + exp(z)) overflows", function="sigmoid",
         message="overflows", code='''
def sigmoid(z):
    return np.exp(z) / (1 + np.exp(z))
'''),
    dict(name="sigmoid_prime as z (1 - z)", function="sigmoid_prime", message="z (1 - z)", code='''
def sigmoid_prime(z):
    return z * (1 - z)
'''),
    dict(name="sigmoid_prime as sigmoid(z) (1 - z)", function="sigmoid_prime",
         message="sigmoid_prime(z)",
         code='''
def sigmoid_prime(z):
    return sigmoid(z) * (1 - z)
'''),

    # -- mlp_forward ------------------------------------------------------------------------------
    dict(name="last layer without sigmoid", function="mlp_forward",
         message="last layer has no sigmoid", code='''
def mlp_forward(params, x):
    a = x
    for w, b in params[:-1]:
        a = sigmoid(a @ w.T + b)
    w, b = params[-1]
    return a @ w.T + b
'''),
    dict(name="forward with W instead of W^T", function="mlp_forward", message="a @ w + b", code='''
def mlp_forward(params, x):
    a = x
    for w, b in params:
        a = sigmoid(a @ w + b)
    return a
'''),

    # -- output_delta -----------------------------------------------------------------------------
    dict(name="output delta with sigmoid'(a_L) instead of sigmoid'(z_L)",
         function="output_delta", message="sigmoid'(a", code='''
def output_delta(a_L, y, z_L):
    return (a_L - y) * sigmoid_prime(a_L)
'''),
    dict(name="output delta without sigmoid'", function="output_delta",
         message="sigmoid'(z_L) is missing", code='''
def output_delta(a_L, y, z_L):
    return a_L - y
'''),
    dict(name="output delta with the sign flipped (y - a_L)", function="output_delta",
         message="sign is flipped", code='''
def output_delta(a_L, y, z_L):
    return (y - a_L) * sigmoid_prime(z_L)
'''),

    # -- hidden_delta -----------------------------------------------------------------------------
    dict(name="hidden delta with W_next^T (shapes do not fit)", function="hidden_delta",
         message="W_next", code='''
def hidden_delta(delta_next, W_next, z):
    return (delta_next @ W_next.T) * sigmoid_prime(z)
'''),
    dict(name="hidden delta with sigmoid'(a) instead of sigmoid'(z)", function="hidden_delta",
         message="sigmoid'(a)", code='''
def hidden_delta(delta_next, W_next, z):
    a = sigmoid(z)
    return (delta_next @ W_next) * sigmoid_prime(a)
'''),
    dict(name="hidden delta without sigmoid'", function="hidden_delta",
         message="sigmoid'(z) is missing", code='''
def hidden_delta(delta_next, W_next, z):
    return delta_next @ W_next
'''),

    # -- layer_grads ------------------------------------------------------------------------------
    dict(name="db averaged over the batch instead of summed", function="layer_grads",
         message="averaged over the batch", code='''
def layer_grads(delta, a_prev):
    return delta.T @ a_prev, delta.mean(axis=0)
'''),
    dict(name="dW divided by N", function="layer_grads", message="averaged over the batch",
         code='''
def layer_grads(delta, a_prev):
    n = delta.shape[0]
    return delta.T @ a_prev / n, delta.sum(axis=0)
'''),
    dict(name="dW transposed (a_prev^T delta)", function="layer_grads", message="transposed",
         code='''
def layer_grads(delta, a_prev):
    return a_prev.T @ delta, delta.sum(axis=0)
'''),
    dict(name="db summed over axis 1", function="layer_grads", message="db has shape", code='''
def layer_grads(delta, a_prev):
    return delta.T @ a_prev, delta.sum(axis=1)
'''),
    dict(name="db kept 2-D (keepdims=True)", function="layer_grads", message="db has shape",
         code='''
def layer_grads(delta, a_prev):
    return delta.T @ a_prev, delta.sum(axis=0, keepdims=True)
'''),

    # -- mlp_loss_and_grads -----------------------------------------------------------------------
    dict(name="loss without the 1/2", function="mlp_loss_and_grads", message="1/2", code='''
def mlp_loss_and_grads(params, x, y):
    activations, zs = [x], []
    for w, b in params:
        zs.append(activations[-1] @ w.T + b)
        activations.append(sigmoid(zs[-1]))
    loss = float(np.sum((activations[-1] - y) ** 2))
    delta = output_delta(activations[-1], y, zs[-1])
    grads = [None] * len(params)
    for layer in reversed(range(len(params))):
        grads[layer] = layer_grads(delta, activations[layer])
        if layer > 0:
            delta = hidden_delta(delta, params[layer][0], zs[layer - 1])
    return loss, grads
'''),
    dict(name="loss averaged over the batch", function="mlp_loss_and_grads",
         message="averaged over the batch", code='''
def mlp_loss_and_grads(params, x, y):
    activations, zs = [x], []
    for w, b in params:
        zs.append(activations[-1] @ w.T + b)
        activations.append(sigmoid(zs[-1]))
    loss = 0.5 * float(np.sum((activations[-1] - y) ** 2)) / len(x)
    delta = output_delta(activations[-1], y, zs[-1])
    grads = [None] * len(params)
    for layer in reversed(range(len(params))):
        grads[layer] = layer_grads(delta, activations[layer])
        if layer > 0:
            delta = hidden_delta(delta, params[layer][0], zs[layer - 1])
    return loss, grads
'''),
    dict(name="loss as 1/2 the mean squared error (np.mean)", function="mlp_loss_and_grads",
         message="mean over all entries", code='''
def mlp_loss_and_grads(params, x, y):
    activations, zs = [x], []
    for w, b in params:
        zs.append(activations[-1] @ w.T + b)
        activations.append(sigmoid(zs[-1]))
    loss = 0.5 * float(np.mean((activations[-1] - y) ** 2))
    delta = output_delta(activations[-1], y, zs[-1])
    grads = [None] * len(params)
    for layer in reversed(range(len(params))):
        grads[layer] = layer_grads(delta, activations[layer])
        if layer > 0:
            delta = hidden_delta(delta, params[layer][0], zs[layer - 1])
    return loss, grads
'''),
    dict(name="gradients list in reverse order (appended while going backwards)",
         function="mlp_loss_and_grads", message="reverse", code='''
def mlp_loss_and_grads(params, x, y):
    activations, zs = [x], []
    for w, b in params:
        zs.append(activations[-1] @ w.T + b)
        activations.append(sigmoid(zs[-1]))
    loss = 0.5 * float(np.sum((activations[-1] - y) ** 2))
    delta = output_delta(activations[-1], y, zs[-1])
    grads = []
    for layer in reversed(range(len(params))):
        grads.append(layer_grads(delta, activations[layer]))
        if layer > 0:
            delta = hidden_delta(delta, params[layer][0], zs[layer - 1])
    return loss, grads
'''),
    dict(name="delta recursion with the activations instead of the pre-activations",
         function="mlp_loss_and_grads", message="passing the delta down", code='''
def mlp_loss_and_grads(params, x, y):
    activations, zs = [x], []
    for w, b in params:
        zs.append(activations[-1] @ w.T + b)
        activations.append(sigmoid(zs[-1]))
    loss = 0.5 * float(np.sum((activations[-1] - y) ** 2))
    delta = output_delta(activations[-1], y, zs[-1])
    grads = [None] * len(params)
    for layer in reversed(range(len(params))):
        grads[layer] = layer_grads(delta, activations[layer])
        if layer > 0:
            delta = hidden_delta(delta, params[layer][0], activations[layer])
    return loss, grads
'''),
    dict(name="delta recursion with the wrong layer's z (off by one)",
         function="mlp_loss_and_grads", message="zs[layer]", code='''
def mlp_loss_and_grads(params, x, y):
    activations, zs = [x], []
    for w, b in params:
        zs.append(activations[-1] @ w.T + b)
        activations.append(sigmoid(zs[-1]))
    loss = 0.5 * float(np.sum((activations[-1] - y) ** 2))
    delta = output_delta(activations[-1], y, zs[-1])
    grads = [None] * len(params)
    for layer in reversed(range(len(params))):
        grads[layer] = layer_grads(delta, activations[layer])
        if layer > 0:
            delta = hidden_delta(delta, params[layer][0], zs[layer])
    return loss, grads
'''),
    dict(name="delta propagated through the wrong layer's weights (W_l instead of W_(l+1))",
         function="mlp_loss_and_grads", message="params[layer - 1][0]", code='''
def mlp_loss_and_grads(params, x, y):
    activations, zs = [x], []
    for w, b in params:
        zs.append(activations[-1] @ w.T + b)
        activations.append(sigmoid(zs[-1]))
    loss = 0.5 * float(np.sum((activations[-1] - y) ** 2))
    delta = output_delta(activations[-1], y, zs[-1])
    grads = [None] * len(params)
    for layer in reversed(range(len(params))):
        grads[layer] = layer_grads(delta, activations[layer])
        if layer > 0:
            delta = hidden_delta(delta, params[layer - 1][0], zs[layer - 1])
    return loss, grads
'''),
    dict(name="dW_l from a_l instead of a_(l-1)", function="mlp_loss_and_grads",
         message="dW_1 has shape (5, 5)", code='''
def mlp_loss_and_grads(params, x, y):
    activations, zs = [x], []
    for w, b in params:
        zs.append(activations[-1] @ w.T + b)
        activations.append(sigmoid(zs[-1]))
    loss = 0.5 * float(np.sum((activations[-1] - y) ** 2))
    delta = output_delta(activations[-1], y, zs[-1])
    grads = [None] * len(params)
    for layer in reversed(range(len(params))):
        grads[layer] = layer_grads(delta, activations[layer + 1])
        if layer > 0:
            delta = hidden_delta(delta, params[layer][0], zs[layer - 1])
    return loss, grads
'''),
    dict(name="gradients keep the 2 from the square (delta_L = 2 (a_L - y) sigmoid'(z_L))",
         function="mlp_loss_and_grads", message="1/2", code='''
def mlp_loss_and_grads(params, x, y):
    activations, zs = [x], []
    for w, b in params:
        zs.append(activations[-1] @ w.T + b)
        activations.append(sigmoid(zs[-1]))
    loss = 0.5 * float(np.sum((activations[-1] - y) ** 2))
    delta = 2 * output_delta(activations[-1], y, zs[-1])
    grads = [None] * len(params)
    for layer in reversed(range(len(params))):
        grads[layer] = layer_grads(delta, activations[layer])
        if layer > 0:
            delta = hidden_delta(delta, params[layer][0], zs[layer - 1])
    return loss, grads
'''),
]

# Found by a review of the grader (full marks before the checks that now catch them).
BUGS += [
    dict(name='top layer unrolled before the loop (a one-layer network crashes)', function='mlp_loss_and_grads',
         message='(1 layer)', code='''
def mlp_loss_and_grads(params, x, y):
    activations, zs = [x], []
    for w, b in params:
        zs.append(activations[-1] @ w.T + b)
        activations.append(sigmoid(zs[-1]))
    loss = 0.5 * float(np.sum((activations[-1] - y) ** 2))
    L = len(params)
    grads = [None] * L
    delta = output_delta(activations[-1], y, zs[-1])
    grads[L - 1] = layer_grads(delta, activations[L - 1])
    delta = hidden_delta(delta, params[L - 1][0], zs[L - 2])
    for l in range(L - 2, -1, -1):
        grads[l] = layer_grads(delta, activations[l])
        if l > 0:
            delta = hidden_delta(delta, params[l][0], zs[l - 1])
    return loss, grads
'''),
    dict(name='db squeezed to a scalar for a layer of width 1', function='layer_grads',
         message='a dimension of size 1 was dropped', code='''
def layer_grads(delta, a_prev):
    return delta.T @ a_prev, np.squeeze(delta.sum(axis=0, keepdims=True))
'''),
]

# Charged once, where they are, with the cause they have (issue 10).
BUGS += [
    dict(name='layer_grads averages over the batch (used by mlp_loss_and_grads)',
         function='layer_grads', message='averaged over the batch', code='''
def layer_grads(delta, a_prev):
    n = len(delta)
    return delta.T @ a_prev / n, delta.sum(axis=0) / n
'''),
]
