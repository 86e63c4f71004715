"""The wire format: plain values round-trip; anything malformed or oversized is rejected before
anything is allocated; nothing is ever unpickled."""
import json

import numpy as np
import pytest

from grader.sandbox import wire


def roundtrip(value, keep=None):
    node, buffers = wire.encode(value, keep=keep)
    frame = wire.pack({"v": node}, buffers)
    header_len, body_len = wire.parse_prefix(frame[:wire.PREFIX.size], 1 << 30)
    header = json.loads(frame[wire.PREFIX.size:wire.PREFIX.size + header_len])
    body = frame[wire.PREFIX.size + header_len:]
    assert len(body) == body_len
    return wire.decode(header["v"], body)


def test_plain_values_round_trip_exactly():
    x = np.random.default_rng(0).normal(size=(3, 4))
    value = (x, [1, 2.5, None, True], np.float32(1.5), np.arange(3), (float("nan"), float("inf")))
    out = roundtrip(value)
    assert isinstance(out, tuple) and isinstance(out[1], list)
    np.testing.assert_array_equal(out[0], x)
    assert out[1] == [1, 2.5, None, True]
    assert out[2].dtype == np.float32 and out[2].shape == ()
    assert np.isnan(out[4][0]) and out[4][1] == np.inf


def test_decoded_arrays_are_fresh_writable_copies():
    out = roundtrip(np.ones(3))
    assert out.flags.writeable and out.flags.owndata  # not a view of the frame's bytes
    out[0] = 5.0


def test_big_endian_and_non_contiguous_arrays_are_normalized():
    x = np.arange(12, dtype=">f8").reshape(3, 4)[:, ::2]
    out = roundtrip(x)
    assert out.dtype == np.dtype("<f8")
    np.testing.assert_array_equal(out, x)


def test_other_objects_become_handles_with_their_type():
    kept = []
    class Cache: pass
    sub = np.arange(3.0).view(type("Liar", (np.ndarray,), {}))
    out = roundtrip((Cache(), sub, np.array([1, "a"], dtype=object), {"a": 1}),
                    keep=lambda o: kept.append(o) or len(kept))
    assert [type(v) for v in out] == [wire.Opaque] * 4
    assert "Cache" in out[0].type_name
    assert "subclass of numpy.ndarray" in out[1].type_name
    assert "dtype object" in out[2].type_name
    assert out[3].type_name == "dict"


def test_without_keep_unknown_objects_are_refused():
    with pytest.raises(wire.WireError):
        wire.encode(object())


@pytest.mark.parametrize("node,body", [
    ({"t": "a", "d": "|O", "s": [1], "o": 0, "n": 8}, b"\0" * 8),             # object dtype
    ({"t": "a", "d": "<f8", "s": [10 ** 12], "o": 0, "n": 8 * 10 ** 12}, b""),  # huge shape
    ({"t": "a", "d": "<f8", "s": [2], "o": 0, "n": 8}, b"\0" * 8),             # size mismatch
    ({"t": "a", "d": "<f8", "s": [1], "o": 8, "n": 8}, b"\0" * 8),             # outside body
    ({"t": "a", "d": "<f8", "s": [-1], "o": 0, "n": 8}, b"\0" * 8),            # negative dim
    ({"t": "f", "v": "1.0"}, b""),                                             # number as text
    ({"t": "x"}, b""),                                                         # unknown kind
    ({"t": "L", "x": {"a": 1}}, b""),                                          # malformed list
    ({"t": "h", "id": "1"}, b""),                                              # malformed handle
    ([], b""),
])
def test_malformed_values_are_rejected(node, body):
    with pytest.raises(wire.WireError):
        wire.decode(node, body)


def test_deep_nesting_is_rejected():
    node = {"t": "n"}
    for _ in range(wire.MAX_DEPTH + 2):
        node = {"t": "L", "x": [node]}
    with pytest.raises(wire.WireError):
        wire.decode(node, b"")


def test_frame_limits_are_checked_from_the_prefix_alone():
    with pytest.raises(wire.WireError, match="marker"):
        wire.parse_prefix(wire.PREFIX.pack(b"EVIL", 1, 1), 100)
    with pytest.raises(wire.WireError, match="header"):
        wire.parse_prefix(wire.PREFIX.pack(wire.MAGIC, wire.MAX_HEADER + 1, 0), 100)
    with pytest.raises(wire.WireError, match="over the limit"):
        wire.parse_prefix(wire.PREFIX.pack(wire.MAGIC, 10, 101), 100)


def test_the_codec_never_unpickles():
    import inspect
    source = inspect.getsource(wire)
    for unsafe in ("import pickle", "from pickle", "allow_pickle=True", "marshal", "eval("):
        assert unsafe not in source


def test_kept_positions_stay_handles_even_when_the_same_array_is_returned_twice():
    out = np.arange(3.0)
    kept = []
    value = wire.keep_positions((out, out), {1})
    decoded = roundtrip(value, keep=lambda o: kept.append(o) or len(kept))
    assert isinstance(decoded[0], np.ndarray) and isinstance(decoded[1], wire.Opaque)
    assert kept == [out] and "dtype float64" in decoded[1].type_name


class Trickle:
    """A stream that hands out at most `step` bytes per read or write (as a pipe may)."""

    def __init__(self, data=b"", step=7):
        self.data, self.step, self.written = bytearray(data), step, bytearray()

    def readinto(self, view):
        count = min(self.step, len(view), len(self.data))
        assert count, "read past the end of the stream"
        view[:count] = self.data[:count]
        del self.data[:count]
        return count

    def writev(self, views):
        assert len(views) <= wire.IOV_MAX
        left = self.step
        for view in views:
            taken = bytes(view[:left])
            self.written += taken
            left -= len(taken)
            if not left:
                break
        return self.step - left


@pytest.mark.parametrize("step", [1, 5, 4096, 1 << 22])
def test_frames_survive_partial_writes_and_reads(step):
    arrays = [np.arange(n, dtype=np.float64) * 1.5 for n in (0, 1, 3, 70_000)]
    value = (arrays, np.array([True, False]), np.arange(6, dtype=np.int8).reshape(2, 3)[:, ::2])
    node, buffers = wire.encode(value)
    out = Trickle(step=step)
    wire.write_all(wire.frame({"v": node}, buffers), out.writev)
    assert bytes(out.written) == wire.pack({"v": node}, buffers)
    stream, ahead = Trickle(bytes(out.written) * 2, step), bytearray()
    for _ in range(2):  # two frames back to back: what is read ahead of one is the next's
        header_len, body_len = wire.parse_prefix(
            wire.read_exact(ahead, wire.PREFIX.size, stream.readinto), 1 << 30)
        header = json.loads(wire.read_exact(ahead, header_len, stream.readinto))
        body = wire.read_exact(ahead, body_len, stream.readinto)
        decoded = wire.decode(header["v"], body)
        for got, sent in zip(decoded[0], arrays):
            np.testing.assert_array_equal(got, sent)
        np.testing.assert_array_equal(decoded[2], value[2])
    assert not stream.data and not ahead


def test_a_claimed_body_size_is_not_allocated_before_the_bytes_arrive():
    stream = Trickle(b"x" * 10, step=10)
    with pytest.raises(AssertionError, match="read past the end"):
        wire.read_exact(bytearray(), 1 << 34, stream.readinto)  # 16 GB claimed, 10 bytes sent


def test_arrays_start_aligned_and_the_student_side_gets_writable_views():
    value = [np.array([True]), np.arange(3.0), np.array([1], np.int16), np.ones((2, 2), np.complex128)]
    node, buffers = wire.encode(value)
    assert all(n["o"] % wire.ALIGN == 0 for n in node["x"])
    body = bytearray().join(buffers)  # a request's body, as the student side reads it

    class Resolver:
        pass
    student_side = wire.decode(node, body, Resolver())
    for got, sent in zip(student_side, value):
        np.testing.assert_array_equal(got, sent)
        assert got.flags.writeable and got.flags.aligned and not got.flags.owndata
    student_side[1][0] = 7.0  # in place, in the request's own bytes
    grader_side = wire.decode(node, body)
    assert all(got.flags.owndata for got in grader_side)  # the grader never shares a buffer
    assert grader_side[1][0] == 7.0
