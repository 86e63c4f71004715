"""What a student function returned is validated before any comparison."""
import numpy as np
import pytest

from grader.checks import values
from grader.checks.compare import Fail
from grader.sandbox.wire import Opaque


@pytest.mark.parametrize("value,phrase", [
    (np.zeros(3, dtype=np.float32), "dtype float32; the spec's arrays are float64"),
    (np.zeros(3, dtype=np.int64), "compute with floats"),
    (np.zeros(3, dtype=bool), "array of booleans"),
    (np.zeros(3, dtype=complex), "complex"),
    (np.zeros(4), "shape (4,), expected (3,)"),
    ([0.0, 0.0, 0.0], "wrap it with np.array"),
    (None, "did you forget to return it?"),
])
def test_arrays_must_be_float64_of_the_right_shape(value, phrase):
    with pytest.raises(Fail) as info:
        values.array(value, "out", shape=(3,))
    assert phrase in str(info.value)


def test_a_valid_array_comes_back_as_a_writable_copy():
    x = np.arange(6.0).reshape(2, 3)
    x.setflags(write=False)
    out = values.array(x, "out", shape=(2, 3))
    assert out.flags.writeable and np.array_equal(out, x) and out is not x


def test_transposed_and_squeezed_shapes_are_pointed_out():
    with pytest.raises(Fail, match=r"\(transposed\?\)"):
        values.array(np.zeros((3, 2)), "dW", shape=(2, 3))
    with pytest.raises(Fail, match="a dimension of size 1 was dropped"):
        values.array(np.zeros(()), "db", shape=(1,))


@pytest.mark.parametrize("value", [1, 2.5, np.float64(2.5), np.array(2.5)])
def test_scalars_may_be_any_kind_of_number(value):
    assert values.scalar(value, "loss") == float(value)


@pytest.mark.parametrize("value", [np.zeros(2), [1.0], True, None, Opaque(1, "dict")])
def test_non_scalars_are_refused(value):
    with pytest.raises(Fail, match="should be"):
        values.scalar(value, "loss")


def test_parts_names_the_spec_order():
    with pytest.raises(Fail, match=r"2 values \(loss, dlogits\)"):
        values.parts(np.zeros(3), "softmax_cross_entropy", ("loss", "dlogits"))
