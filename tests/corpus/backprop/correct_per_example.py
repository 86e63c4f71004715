"""Correct alternative in the notes' own form: one example at a time with column vectors,
z = W a + b, delta_L = (a - y) * s'(z), delta_l = W_(l+1)^T delta_(l+1) * s'(z_l), and the
gradients (and the loss) accumulated over the batch."""
import numpy as np


def sigmoid(z):
    z = np.asarray(z, dtype=float)
    out = np.empty_like(z)
    pos = z >= 0
    out[pos] = 1.0 / (1.0 + np.exp(-z[pos]))
    ez = np.exp(z[~pos])
    out[~pos] = ez / (1.0 + ez)
    return out


def sigmoid_prime(z):
    s = sigmoid(z)
    return s - s * s


def mlp_forward(params, x):
    rows = []
    for n in range(x.shape[0]):
        a = x[n].reshape(-1, 1)
        for W, b in params:
            a = sigmoid(W @ a + b.reshape(-1, 1))
        rows.append(a.ravel())
    return np.array(rows)


def output_delta(a_L, y, z_L):
    return (a_L - y) * sigmoid_prime(z_L)


def hidden_delta(delta_next, W_next, z):
    out = np.empty(z.shape)
    for n in range(z.shape[0]):
        out[n] = (W_next.T @ delta_next[n]) * sigmoid_prime(z[n])
    return out


def layer_grads(delta, a_prev):
    dW = np.zeros((delta.shape[1], a_prev.shape[1]))
    db = np.zeros(delta.shape[1])
    for n in range(delta.shape[0]):
        d = delta[n].reshape(-1, 1)
        dW += d @ a_prev[n].reshape(1, -1)
        db += delta[n]
    return dW, db


def mlp_loss_and_grads(params, x, y):
    dWs = [np.zeros_like(W) for W, _ in params]
    dbs = [np.zeros_like(b) for _, b in params]
    loss = 0.0
    for n in range(x.shape[0]):
        a = x[n].reshape(-1, 1)
        activations, zs = [a], []
        for W, b in params:
            z = W @ a + b.reshape(-1, 1)
            a = sigmoid(z)
            zs.append(z)
            activations.append(a)
        target = y[n].reshape(-1, 1)
        loss += 0.5 * float(np.sum((a - target) ** 2))
        delta = (a - target) * sigmoid_prime(zs[-1])
        for l in reversed(range(len(params))):
            dWs[l] += delta @ activations[l].T
            dbs[l] += delta.ravel()
            if l > 0:
                delta = (params[l][0].T @ delta) * sigmoid_prime(zs[l - 1])
    return loss, list(zip(dWs, dbs))
