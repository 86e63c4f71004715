"""Realistic cross-entropy bugs. Each `code` is written over solutions/cross_entropy.py (later
definitions win), so a bug replaces only the functions it names. `function` is the function the
failing check must name; `message` a phrase its message must contain (case-insensitive)."""

BUGS = [
    # -- cross_entropy ------------------------------------------------------------------------
    dict(name="log2 instead of ln", function="cross_entropy", message="in bits", code='''
def cross_entropy(p, q):
    support = p > 0
    return float(-np.sum(p[support] * np.log2(q[support])))
'''),
    dict(name="log10 instead of ln", function="cross_entropy", message="not log10", code='''
def cross_entropy(p, q):
    support = p > 0
    return float(-np.sum(p[support] * np.log10(q[support])))
'''),
    dict(name="p and q swapped", function="cross_entropy", message="p and q are swapped", code='''
def cross_entropy(p, q):
    support = q > 0
    with np.errstate(divide="ignore"):
        return float(-np.sum(q[support] * np.log(p[support])))
'''),
    dict(name="0 * log 0 gives nan", function="cross_entropy", message="0 ln 0 counts as 0",
         code='''
def cross_entropy(p, q):
    return float(-np.sum(p * np.log(q)))
'''),
    dict(name="epsilon added inside the log", function="cross_entropy", message="must be inf",
         code='''
def cross_entropy(p, q):
    return float(-np.sum(p * np.log(q + 1e-12)))
'''),
    dict(name="q clipped away from 0 before the log", function="cross_entropy",
         message="do not clip q", code='''
def cross_entropy(p, q):
    q = np.clip(q, 1e-15, 1.0)
    return float(-np.sum(p * np.log(q)))
'''),
    dict(name="terms dropped where q is 0 instead of where p is 0", function="cross_entropy",
         message="must be inf", code='''
def cross_entropy(p, q):
    support = q > 0
    return float(-np.sum(p[support] * np.log(q[support])))
'''),
    dict(name="minus sign missing", function="cross_entropy", message="minus sign is missing",
         code='''
def cross_entropy(p, q):
    support = p > 0
    with np.errstate(divide="ignore"):
        return float(np.sum(p[support] * np.log(q[support])))
'''),
    dict(name="mean over outcomes instead of the sum", function="cross_entropy",
         message="averaged over the outcomes", code='''
def cross_entropy(p, q):
    support = p > 0
    with np.errstate(divide="ignore"):
        return float(-np.mean(np.where(support, p * np.log(np.where(support, q, 1.0)), 0.0)))
'''),

    dict(name="nan_to_num after the log", function="cross_entropy", message="must be inf", code='''
def cross_entropy(p, q):
    return float(-np.sum(np.nan_to_num(p * np.log(q))))
'''),

    # -- empirical_cross_entropy -----------------------------------------------------------------
    dict(name="empirical estimate in nats", function="empirical_cross_entropy", message="in nats",
         code='''
def empirical_cross_entropy(samples, q):
    return float(-np.mean(np.log(q[samples])))
'''),
    dict(name="empirical estimate via a histogram and ln", function="empirical_cross_entropy",
         message="in nats", code='''
def empirical_cross_entropy(samples, q):
    p_hat = np.bincount(samples, minlength=len(q)) / len(samples)
    return cross_entropy(p_hat, q)
'''),
    dict(name="empirical estimate summed, not averaged", function="empirical_cross_entropy",
         message="it is a sum", code='''
def empirical_cross_entropy(samples, q):
    return float(-np.sum(np.log2(q[samples])))
'''),
    dict(name="empirical estimate divided by the number of outcomes", function="empirical_cross_entropy",
         message="number of samples", code='''
def empirical_cross_entropy(samples, q):
    return float(-np.sum(np.log2(q[samples])) / len(q))
'''),

    # -- softmax ----------------------------------------------------------------------------------
    dict(name="softmax over axis 0", function="softmax", message="axis=1", code='''
def softmax(logits):
    e = np.exp(logits - logits.max(axis=0, keepdims=True))
    return e / e.sum(axis=0, keepdims=True)
'''),
    dict(name="softmax normalized by the sum of the whole batch", function="softmax",
         message="axis=1", code='''
def softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / np.sum(e)
'''),
    dict(name="softmax without subtracting the maximum", function="softmax",
         message="exp overflows", code='''
def softmax(logits):
    e = np.exp(logits)
    return e / e.sum(axis=1, keepdims=True)
'''),
    dict(name="softmax subtracts the global maximum", function="softmax",
         message="each row's own maximum", code='''
def softmax(logits):
    e = np.exp(logits - np.max(logits))
    return e / e.sum(axis=1, keepdims=True)
'''),
    dict(name="softmax subtracts the row minimum", function="softmax",
         message="each row's own maximum", code='''
def softmax(logits):
    e = np.exp(logits - logits.min(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
'''),
    dict(name="softmax max without keepdims", function="softmax", message="broadcast", code='''
def softmax(logits):
    e = np.exp(logits - logits.max(axis=1))
    return e / e.sum(axis=1, keepdims=True)
'''),

    dict(name="softmax sum without keepdims", function="softmax", message="broadcast", code='''
def softmax(logits):
    e = np.exp(logits - logits.max(axis=1, keepdims=True))
    return e / e.sum(axis=1)
'''),

    dict(name="softmax made stable by clipping the logits", function="softmax",
         message="each row's own maximum", code='''
def softmax(logits):
    e = np.exp(np.clip(logits, -500, 500))
    return e / e.sum(axis=1, keepdims=True)
'''),

    dict(name="softmax subtracts the row mean", function="softmax",
         message="each row's own maximum", code='''
def softmax(logits):
    e = np.exp(logits - logits.mean(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)
'''),

    # -- softmax_cross_entropy ------------------------------------------------------------------
    dict(name="loss summed over the batch", function="softmax_cross_entropy",
         message="summed over the batch", code='''
def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), labels].sum()
    dlogits = np.exp(log_probs)
    dlogits[np.arange(n), labels] -= 1.0
    return float(loss), dlogits / n
'''),
    dict(name="dlogits without the 1/N", function="softmax_cross_entropy",
         message="its gradient is divided by N", code='''
def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), labels].mean()
    dlogits = np.exp(log_probs)
    dlogits[np.arange(n), labels] -= 1.0
    return float(loss), dlogits
'''),
    dict(name="dlogits with the wrong sign", function="softmax_cross_entropy",
         message="onehot - softmax", code='''
def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), labels].mean()
    onehot = np.zeros_like(logits)
    onehot[np.arange(n), labels] = 1.0
    return float(loss), (onehot - np.exp(log_probs)) / n
'''),
    dict(name="dlogits divided by C instead of N", function="softmax_cross_entropy",
         message="times too large", code='''
def softmax_cross_entropy(logits, labels):
    n, c = logits.shape
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), labels].mean()
    dlogits = np.exp(log_probs)
    dlogits[np.arange(n), labels] -= 1.0
    return float(loss), dlogits / c
'''),
    dict(name="loss as log of the stable softmax (underflows to log 0)",
         function="softmax_cross_entropy", message="underflowed to 0", code='''
def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    probs = softmax(logits)
    with np.errstate(divide="ignore"):
        loss = -np.mean(np.log(probs[np.arange(n), labels]))
    dlogits = probs.copy()
    dlogits[np.arange(n), labels] -= 1.0
    return float(loss), dlogits / n
'''),
    dict(name="epsilon inside the log of the softmax", function="softmax_cross_entropy",
         message="epsilon inside the log", code='''
def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    probs = softmax(logits)
    loss = -np.mean(np.log(probs[np.arange(n), labels] + 1e-12))
    dlogits = probs.copy()
    dlogits[np.arange(n), labels] -= 1.0
    return float(loss), dlogits / n
'''),
    dict(name="probabilities clipped before the log", function="softmax_cross_entropy",
         message="clipping the probability", code='''
def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    probs = np.clip(softmax(logits), 1e-15, 1 - 1e-15)
    loss = -np.mean(np.log(probs[np.arange(n), labels]))
    dlogits = softmax(logits)
    dlogits[np.arange(n), labels] -= 1.0
    return float(loss), dlogits / n
'''),
    dict(name="softmax_cross_entropy with an unshifted softmax", function="softmax_cross_entropy",
         message="overflow", code='''
def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    e = np.exp(logits)
    probs = e / e.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(n), labels]))
    dlogits = probs.copy()
    dlogits[np.arange(n), labels] -= 1.0
    return float(loss), dlogits / n
'''),
    dict(name="stable loss but dlogits from an unshifted softmax", function="softmax_cross_entropy",
         message="dlogits contains nan or inf", code='''
def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), labels].mean()
    e = np.exp(logits)
    dlogits = e / e.sum(axis=1, keepdims=True)
    dlogits[np.arange(n), labels] -= 1.0
    return float(loss), dlogits / n
'''),
    dict(name="loss in bits", function="softmax_cross_entropy", message="in bits", code='''
def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), labels].mean() / np.log(2)
    dlogits = np.exp(log_probs)
    dlogits[np.arange(n), labels] -= 1.0
    return float(loss), dlogits / n
'''),
    dict(name="labels indexed as probs[:, labels]", function="softmax_cross_entropy",
         message="np.arange(N), labels", code='''
def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[:, labels].mean()
    dlogits = np.exp(log_probs)
    dlogits[:, labels] -= 1.0
    return float(loss), dlogits / n
'''),
    dict(name="one-hot built with np.eye(N) instead of np.eye(C)", function="softmax_cross_entropy",
         message="broadcast", code='''
def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    onehot = np.eye(n)[labels]
    loss = -np.sum(onehot * log_probs) / n
    return float(loss), (np.exp(log_probs) - onehot) / n
'''),
    dict(name="logits shifted in place (logits -= max)",
         function="softmax_cross_entropy", message="modified its argument logits", code='''
def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    logits -= logits.max(axis=1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), labels].mean()
    dlogits = np.exp(log_probs)
    dlogits[np.arange(n), labels] -= 1.0
    return float(loss), dlogits / n
'''),
    dict(name="log-sum-exp without adding the maximum back", function="softmax_cross_entropy",
         message="add the maximum back", code='''
def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    lse = np.log(np.exp(shifted).sum(axis=1))
    loss = np.mean(lse - logits[np.arange(n), labels])
    dlogits = np.exp(shifted - lse[:, None])
    dlogits[np.arange(n), labels] -= 1.0
    return float(loss), dlogits / n
'''),
    dict(name="per-example losses returned instead of their mean", function="softmax_cross_entropy",
         message="single number", code='''
def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), labels]
    dlogits = np.exp(log_probs)
    dlogits[np.arange(n), labels] -= 1.0
    return loss, dlogits / n
'''),
    dict(name="dlogits divided by N twice", function="softmax_cross_entropy",
         message="extra 1/N", code='''
def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    loss = -log_probs[np.arange(n), labels].mean()
    dlogits = np.exp(log_probs) / n
    dlogits[np.arange(n), labels] -= 1.0 / n
    return float(loss), dlogits / n
'''),
    dict(name="log-sum-exp summed over the whole batch", function="softmax_cross_entropy",
         message="axis=1", code='''
def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    shifted = logits - logits.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.sum(np.exp(shifted)))
    loss = -log_probs[np.arange(n), labels].mean()
    dlogits = softmax(logits)
    dlogits[np.arange(n), labels] -= 1.0
    return float(loss), dlogits / n
'''),
    dict(name="dlogits aliases probs (no copy) before the loss is taken",
         function="softmax_cross_entropy", message="copy", code='''
def softmax_cross_entropy(logits, labels):
    n = logits.shape[0]
    probs = softmax(logits)
    dlogits = probs
    dlogits[np.arange(n), labels] -= 1.0
    loss = -np.mean(np.log(probs[np.arange(n), labels]))
    return float(loss), dlogits / n
'''),
]

# Found by a review of the grader (full marks before the checks that now catch them).
BUGS += [
    dict(name='empirical cross-entropy from a histogram of the samples (nan where q is 0)', function='empirical_cross_entropy',
         message='only the observed outcomes count', code='''
def empirical_cross_entropy(samples, q):
    counts = np.bincount(samples, minlength=len(q))
    p_hat = counts / len(samples)
    return float(-np.sum(p_hat * np.log2(q)))
'''),
    dict(name='bincount without minlength (an outcome never observed)', function='empirical_cross_entropy',
         message='raised ValueError', code='''
def empirical_cross_entropy(samples, q):
    counts = np.bincount(samples)
    return float(-np.sum(counts * np.log2(q)) / len(samples))
'''),
    dict(name='softmax computed in float32', function='softmax',
         message='dtype float32', code='''
def softmax(logits):
    z = logits.astype(np.float32)
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)
'''),
]
