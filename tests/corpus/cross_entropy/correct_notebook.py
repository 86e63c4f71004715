"""Correct alternative, written the way a student fills in a notebook: plain loops and math."""
import math

import numpy as np


def cross_entropy(p, q):
    H = 0.0
    for i in range(len(p)):
        if p[i] == 0:
            continue          # 0 * log(0) counts as 0
        if q[i] == 0:
            return math.inf   # the model says impossible, but it happens
        H = H - p[i] * math.log(q[i])
    return H


def empirical_cross_entropy(samples, q):
    total = 0.0
    for s in samples:
        if q[s] == 0:
            return math.inf
        total += math.log2(q[s])
    return -total / len(samples)


def softmax(logits):
    N, C = logits.shape
    probs = np.zeros((N, C))
    for n in range(N):
        row = logits[n]
        biggest = max(row)
        exps = [math.exp(v - biggest) for v in row]
        s = sum(exps)
        for c in range(C):
            probs[n, c] = exps[c] / s
    return probs


def softmax_cross_entropy(logits, labels):
    N, C = logits.shape
    loss = 0.0
    dlogits = np.zeros((N, C))
    for n in range(N):
        row = logits[n]
        biggest = max(row)
        s = 0.0
        for c in range(C):
            s += math.exp(row[c] - biggest)
        log_s = math.log(s)
        y = int(labels[n])
        # -log softmax[y] = log(sum exp) + max - z_y, never taking log of a tiny probability
        loss += log_s + biggest - row[y]
        for c in range(C):
            dlogits[n, c] = math.exp(row[c] - biggest - log_s)
        dlogits[n, y] -= 1
    loss = loss / N
    dlogits = dlogits / N
    return loss, dlogits
