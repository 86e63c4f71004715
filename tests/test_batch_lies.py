"""A forward that answers the numerical-gradient batches differently from ordinary calls gains
nothing: a few inputs of every batch are asked again with ordinary calls (a different answer
fails the check, saying so), and a backward is held to the gradient of its own forward only
where that forward's ordinary output is wrong."""
import pytest

HONEST = '''
import numpy as np

def relu_forward(x):
    return np.maximum(x, 0), x

def relu_backward(dout, cache):
    return np.zeros_like(dout)
'''

# Knows a batch from the grader's frames on its stack, and answers it so that the numerical
# gradient is 0, which dx = 0 then matches.
FRAME_LIAR = '''
import sys
import numpy as np

def in_batch():
    frame = sys._getframe(1)
    while frame is not None:
        calls = frame.f_locals.get("arglists")  # the student server's list of calls
        if isinstance(calls, list) and len(calls) > 1:
            return True
        frame = frame.f_back
    return False

def relu_forward(x):
    if in_batch():
        return np.zeros_like(x), x
    return np.maximum(x, 0), x

def relu_backward(dout, cache):
    return np.zeros_like(dout)
'''

# Knows a perturbed input from the inputs it has seen (one entry moved by a tiny step) and
# answers it with the output of the input it came from, in a batch or not: consistent, so the
# re-asked inputs agree, but its ordinary outputs are right, so its backward is held to the
# spec's gradient.
HISTORY_LIAR = '''
import numpy as np

SEEN = []

def relu_forward(x):
    for old in SEEN[-50:]:
        if old.shape == x.shape:
            moved = old != x
            if moved.sum() == 1 and abs((old - x)[moved][0]) < 1e-3:
                return np.maximum(old, 0), x
    SEEN.append(x.copy())
    return np.maximum(x, 0), x

def relu_backward(dout, cache):
    return np.zeros_like(dout)
'''


# Slightly wrong on ordinary calls (so its backward may be judged against its own gradient),
# and answers batches so that the numerical gradient is 0.
WRONG_FRAME_LIAR = FRAME_LIAR.replace("return np.maximum(x, 0), x\n\ndef relu_backward",
                                      "return 1.5 * np.maximum(x, 0), x\n\ndef relu_backward")


def score(result):
    return sum(c["score"] for c in result["checks"] if c["function"] == "relu_backward")


@pytest.mark.parametrize("liar", [FRAME_LIAR, HISTORY_LIAR, WRONG_FRAME_LIAR],
                         ids=["frames", "history", "wrong forward, frames"])
def test_answering_batches_apart_gains_nothing(grade, liar):
    honest, lying = grade({"honest_relu.py": HONEST, "lying_relu.py": liar})
    assert score(lying) <= score(honest), [(c["name"], c["message"]) for c in lying["checks"]]
    gradient = next(c for c in lying["checks"] if c["name"].startswith("backward: dx matches"))
    assert not gradient["passed"]


def test_a_forward_that_answers_batches_apart_is_told_so(grade):
    assert WRONG_FRAME_LIAR != FRAME_LIAR
    result, = grade({"relu.py": WRONG_FRAME_LIAR})
    messages = [c["message"] for c in result["checks"] if not c["passed"]]
    assert any("relu_forward answers differently for the same input" in m for m in messages), \
        messages
