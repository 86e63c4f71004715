"""Hostile submissions are contained: each one costs only its own points, never crashes or stalls
the grader, never changes another submission's grade, and leaves no process behind."""
import json
import os
import re
import socket
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from conftest import ROOT, descendants, failing, is_zombie, readable_folder, reference_source
from grader.course import submissions
from grader.course.grading import Options, Pool, find_solutions
from grader.sandbox.process import Limits, Sandbox
from grader.sandbox.student import Student, StudentError

LIMITS = Limits(call_seconds=1, cell_seconds=1, submission_seconds=30, memory_mb=512)
# A call over its limit: CPU time where the submission has a cgroup, else wall-clock time.
CALL_TIMEOUT = r"did not finish within 1 s|used more than 1 s of CPU time"
ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root to test uid separation")


@pytest.fixture(scope="module")
def strict_pool():
    p = Pool(Options(jobs=2, limits=LIMITS, solutions=find_solutions()))
    yield p
    p.close()


def grade_batch(pool, tmp_path, sources):
    subs = []
    for name, text in sources.items():
        (tmp_path / name).write_text(text)
        subs.append(submissions.load(str(tmp_path / name)))
    results = [None] * len(subs)
    for i, r in pool.grade(subs):
        results[i] = r
    return results


def points(*functions):
    """Points of the batchnorm checks about these functions (public and hidden)."""
    from grader.checks.topics import batchnorm
    return sum(c.points for c in batchnorm.CHECKS if c.function in functions)


DGAMMA_DBETA = 0.75  # the points of the batch-norm check that judges dgamma and dbeta alone


def with_override(code, topic="batchnorm"):
    return reference_source(topic) + "\n\n" + textwrap.dedent(code)


def check_batch(pool, tmp_path, hostile, expect_max_score=None):
    """Grade the hostile submission between correct ones; return its result."""
    good = reference_source("batchnorm")
    results = grade_batch(pool, tmp_path, {"a_batchnorm.py": good, "b_batchnorm.py": hostile,
                                           "c_batchnorm.py": good, "d_batchnorm.py": good})
    for r in results[:1] + results[2:]:
        assert r["score"] == 10, [c["message"] for c in failing(r)]
    hostile_result = results[1]
    assert hostile_result["error"] is None
    if expect_max_score is not None:
        assert hostile_result["score"] <= expect_max_score, hostile_result
    return hostile_result


def messages_of(result, function):
    return " | ".join(c["message"] for c in result["checks"]
                      if c["function"] == function and not c["passed"])


def test_exit_at_import(strict_pool, tmp_path):
    r = check_batch(strict_pool, tmp_path, "import sys\nsys.exit(0)\n" + reference_source("batchnorm"), 0)
    assert any("SystemExit" in e for e in r["load_errors"])
    r = check_batch(strict_pool, tmp_path, "import os\nos._exit(0)\n", 0)
    assert "loading your code failed: the process exited with status 0" in r["checks"][0]["message"]


def test_os_exit_inside_a_call_costs_only_that_function(strict_pool, tmp_path):
    r = check_batch(strict_pool, tmp_path, with_override("""
        import os
        def batchnorm_backward(dout, cache):
            os._exit(7)
    """))
    assert "while running batchnorm_backward, the process exited with status 7" in \
        messages_of(r, "batchnorm_backward")
    assert all(c["passed"] for c in r["checks"] if c["function"] != "batchnorm_backward"), failing(r)


def test_infinite_loop_ignoring_sigterm(strict_pool, tmp_path):
    start = time.monotonic()
    r = check_batch(strict_pool, tmp_path, with_override("""
        import signal
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGINT, signal.SIG_IGN)
        def update_running_stats(running_mean, running_var, x, momentum=0.9):
            while True:
                pass
    """), 10 - points("update_running_stats"))
    assert re.search(CALL_TIMEOUT, messages_of(r, "update_running_stats"))
    assert time.monotonic() - start < 20


def test_sleeping(strict_pool, tmp_path):
    r = check_batch(strict_pool, tmp_path, with_override("""
        import time
        def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
            time.sleep(10 ** 6)
    """), 10 - points("batchnorm_inference"))
    assert "did not finish within" in messages_of(r, "batchnorm_inference")


def test_memory_hogs(strict_pool, tmp_path):
    r = check_batch(strict_pool, tmp_path, with_override("""
        def batchnorm_forward(x, gamma, beta, eps=1e-5):
            hog = np.ones(10 ** 10)
        def update_running_stats(running_mean, running_var, x, momentum=0.9):
            hog = [0] * 10 ** 10
    """), 10 - points("batchnorm_forward", "update_running_stats"))
    assert "raised MemoryError" in messages_of(r, "batchnorm_forward")
    assert "raised MemoryError" in messages_of(r, "update_running_stats")


def test_a_submission_that_keeps_sleeping_stops_at_its_time_budget(tmp_path):
    # Each call finishes within the call limit, but together they exceed the submission's budget
    # (CPU time with cgroups): the checks after that are not run, and the batch goes on.
    pool = Pool(Options(jobs=1, limits=Limits(call_seconds=1, cell_seconds=1,
                                              submission_seconds=3, memory_mb=512),
                        solutions=find_solutions()))
    try:
        start = time.monotonic()
        slow, good = grade_batch(pool, tmp_path, {
            "a_batchnorm.py": with_override("""
                import time
                _forward = batchnorm_forward
                def batchnorm_forward(x, gamma, beta, eps=1e-5):
                    start = time.process_time()
                    while time.process_time() - start < 0.4:
                        pass
                    return _forward(x, gamma, beta, eps)
            """),
            "b_batchnorm.py": reference_source("batchnorm")})
        elapsed = time.monotonic() - start
    finally:
        pool.close()
    assert good["score"] == 10
    assert slow["score"] < 10
    assert any("used up its time budget of 3 s" in c["message"] for c in slow["checks"])
    assert elapsed < Limits().wall(3) + 5  # at most the backstop, plus grading the good one


def test_writing_a_huge_file_fails_that_call(strict_pool, tmp_path):
    r = check_batch(strict_pool, tmp_path, with_override("""
        def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
            with open("big.bin", "wb") as f:
                for _ in range(100):
                    f.write(bytes(1 << 20))
            return np.zeros(x.shape)
    """), 10 - points("batchnorm_inference"))
    assert "File too large" in messages_of(r, "batchnorm_inference")  # RLIMIT_FSIZE, 16 MB


def test_fork_storm_is_bounded_and_cleaned_up(strict_pool, tmp_path):
    r = check_batch(strict_pool, tmp_path, with_override("""
        import os
        def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
            for _ in range(10000):
                try:
                    os.fork()
                except OSError:
                    pass
            return x
    """), 10 - points("batchnorm_inference"))
    assert messages_of(r, "batchnorm_inference")
    # What remains of the pool's uids is at most the one process each slot prepared (idle, no
    # student code yet) for the next submission; the storm's processes die with their loader.
    deadline = time.monotonic() + 10
    while len(leftover_sandbox_processes(strict_pool)) > len(strict_pool.slots):
        assert time.monotonic() < deadline, leftover_sandbox_processes(strict_pool)
        time.sleep(0.1)


def test_escaped_grandchild_is_killed(strict_pool, tmp_path):
    marker = f"{os.getpid()}.{time.time_ns() % 10 ** 6}"
    check_batch(strict_pool, tmp_path, reference_source("batchnorm") + ESCAPER_FOR_CLI.format(
        marker=marker, solutions=""))
    time.sleep(0.2)
    assert processes_with(marker) == []


def test_patched_numpy_and_builtins_cannot_inflate_a_grade(strict_pool, tmp_path):
    bug = """
        _reference_backward = batchnorm_backward
        def batchnorm_backward(dout, cache):
            dx, dgamma, dbeta = _reference_backward(dout, cache)
            return 2 * dx, dgamma, dbeta
    """
    patches = """
        import builtins, numpy
        numpy.allclose = lambda *a, **k: True
        numpy.isclose = lambda a, b, *r, **k: numpy.ones(numpy.shape(a), bool)
        numpy.array_equal = lambda *a, **k: True
        numpy.testing.assert_allclose = lambda *a, **k: None
        numpy.linalg.norm = lambda *a, **k: 0.0
        builtins.abs = lambda x: 0
        builtins.max = lambda *a, **k: 0
    """
    plain = check_batch(strict_pool, tmp_path, with_override(bug))
    patched = check_batch(strict_pool, tmp_path, with_override(patches + bug))
    assert patched["score"] <= plain["score"] < 10
    assert "dx does not match" in messages_of(patched, "batchnorm_backward")


def test_lying_ndarray_subclass(strict_pool, tmp_path):
    r = check_batch(strict_pool, tmp_path, with_override("""
        class Liar(np.ndarray):
            def __eq__(self, other): return True
            def __array_ufunc__(self, *a, **k): return np.zeros(1)
            def __float__(self): return 0.0
        _forward = batchnorm_forward
        def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
            return x.view(Liar)
    """), 10 - points("batchnorm_inference"))
    assert "a subclass of numpy.ndarray" in messages_of(r, "batchnorm_inference")


def test_object_arrays(strict_pool, tmp_path):
    r = check_batch(strict_pool, tmp_path, with_override("""
        _backward = batchnorm_backward
        def batchnorm_backward(dout, cache):
            dx, dgamma, dbeta = _backward(dout, cache)
            return dx.astype(object), dgamma, dbeta
    """), 10 - points("batchnorm_backward") + DGAMMA_DBETA)  # a bad dx says nothing of them
    assert "numpy array of dtype object" in messages_of(r, "batchnorm_backward")


def test_nan_output_never_passes(strict_pool, tmp_path):
    r = check_batch(strict_pool, tmp_path, with_override("""
        def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
            return np.full(x.shape, np.nan)
        def batchnorm_backward(dout, cache):
            nan = np.full(dout.shape, np.nan)
            return nan, nan[0], nan[0]
    """), 10 - points("batchnorm_inference", "batchnorm_backward"))
    assert "NaN" in messages_of(r, "batchnorm_inference")
    assert "NaN" in messages_of(r, "batchnorm_backward")


def test_caller_frame_and_gc_snooping_find_nothing(strict_pool, tmp_path):
    r = check_batch(strict_pool, tmp_path, with_override("""
        import gc, sys
        def _loot(shape):
            frame, found = sys._getframe(1), []
            while frame is not None:
                found += [v for v in frame.f_locals.values() if isinstance(v, np.ndarray)]
                frame = frame.f_back
            found += [o for o in gc.get_objects() if isinstance(o, np.ndarray)]
            same = [a for a in found if a.shape == shape]
            return same[-1] if same else np.zeros(shape)
        def batchnorm_forward(x, gamma, beta, eps=1e-5):
            return _loot(x.shape), None
        def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
            return _loot(x.shape)
    """), 10 - points("batchnorm_forward", "batchnorm_inference"))
    assert messages_of(r, "batchnorm_inference")


def test_base_exceptions_fail_only_their_call(strict_pool, tmp_path):
    r = check_batch(strict_pool, tmp_path, with_override("""
        class Escape(BaseException):
            pass
        def batchnorm_forward(x, gamma, beta, eps=1e-5):
            raise KeyboardInterrupt
        def batchnorm_backward(dout, cache):
            raise SystemExit(0)
        def update_running_stats(running_mean, running_var, x, momentum=0.9):
            raise GeneratorExit
        def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
            raise Escape("out")
    """), 0)
    assert "raised KeyboardInterrupt" in messages_of(r, "batchnorm_forward")
    assert "raised GeneratorExit" in messages_of(r, "update_running_stats")
    assert "raised Escape: out" in messages_of(r, "batchnorm_inference")


def test_output_flood_costs_nothing(strict_pool, tmp_path):
    r = check_batch(strict_pool, tmp_path, with_override("""
        import os, sys
        _forward = batchnorm_forward
        def batchnorm_forward(x, gamma, beta, eps=1e-5):
            for i in range(20000):
                print("flood", i)
                sys.stderr.write("flood\\n")
            os.write(1, b"x" * (1 << 20))
            os.write(2, b"x" * (1 << 20))
            return _forward(x, gamma, beta, eps)
    """))
    assert r["score"] == 10


def test_huge_returned_array_is_refused_unread(strict_pool, tmp_path):
    r = check_batch(strict_pool, tmp_path, with_override("""
        def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
            return np.zeros(10 ** 7 + 1)
    """), 10 - points("batchnorm_inference"))
    assert "over the limit" in messages_of(r, "batchnorm_inference")


def test_killing_the_parent_and_everything_else(strict_pool, tmp_path):
    r = check_batch(strict_pool, tmp_path, with_override("""
        import os, signal
        def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
            for pid in [os.getppid(), -1] + [int(p) for p in os.listdir("/proc") if p.isdigit()]:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            os.killpg(0, signal.SIGKILL)
    """), 10 - points("batchnorm_inference"))
    assert messages_of(r, "batchnorm_inference")


# -- direct probes of the sandbox ----------------------------------------------------------------

@pytest.fixture(scope="module")
def sandbox():
    box = Sandbox(LIMITS)
    yield box
    box.close()


def student_of(sandbox, sub, **kwargs):
    return Student(lambda: sandbox.start(0), sub.cells, sub.module, limits=sandbox.limits,
                   **kwargs)


def call_in_sandbox(sandbox, source, fn, *args):
    sub = submissions.Submission(path="probe.py", topic="batchnorm",
                                 cells=[submissions.Cell("probe.py", textwrap.dedent(source))])
    student = student_of(sandbox, sub)
    try:
        return student.call(fn, *args)
    finally:
        student.close()


def test_student_process_cannot_read_solutions_tests_or_other_submissions(sandbox, tmp_path):
    other = tmp_path / "other_batchnorm.py"
    other.write_text("secret = 1\n")
    os.chmod(tmp_path, 0o755)
    targets = [ROOT / "solutions" / "batchnorm.py", ROOT / "tests" / "conftest.py", other,
               ROOT / "README.md"]
    got = call_in_sandbox(sandbox, f"""
        import numpy as np
        def probe():
            out = []
            for path in {[str(t) for t in targets]!r}:
                try:
                    out.append(len(open(path).read()))
                except OSError:
                    out.append(-1)
            return np.array(out, dtype=float)
    """, "probe")
    assert list(got) == [-1] * len(targets)


def test_student_process_has_no_network(sandbox):
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    port = server.getsockname()[1]
    got = call_in_sandbox(sandbox, f"""
        import socket
        def probe():
            try:
                socket.create_connection(("127.0.0.1", {port}), timeout=0.5)
                return 1.0
            except OSError:
                return 0.0
    """, "probe")
    server.close()
    assert got == 0.0


def test_student_process_cannot_write_outside_its_tmp(sandbox):
    got = call_in_sandbox(sandbox, f"""
        import numpy as np, os
        def probe():
            out = []
            for path in ["{ROOT}/grader/evil.py", "{sys.prefix}/evil.pth", "/tmp/fine.txt"]:
                try:
                    open(path, "w").write("x")
                    out.append(1.0)
                except OSError:
                    out.append(0.0)
            return np.array(out)
    """, "probe")
    assert list(got) == [0.0, 0.0, 1.0]
    assert not (ROOT / "grader" / "evil.py").exists()


@ROOT_ONLY
@pytest.mark.parametrize("use_cgroups", [True, False])
def test_nothing_left_in_the_namespaces_reaches_the_next_submission(use_cgroups):
    """Student processes of one slot start from copies of one prepared root and join one
    network namespace (zygote.Template): what a submission writes, binds or leaves running
    there must end with it (with or without cgroups to kill its processes), and the next one
    sees only its own processes."""
    sandbox = Sandbox(LIMITS, use_cgroups=use_cgroups)
    try:
        check_nothing_left_reaches_the_next(sandbox)
    finally:
        sandbox.close()


def check_nothing_left_reaches_the_next(sandbox):
    name = f"grader-test-{os.getpid()}"
    planted = call_in_sandbox(sandbox, f"""
        import os, socket, time
        def probe():
            open("/tmp/planted", "w").write("x")
            open("/dev/shm/planted", "w").write("x")
            listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            listener.bind("\\0{name}")
            listener.listen()
            if os.fork() == 0:  # keeps the socket open, if it could outlive the submission,
                ballast = bytearray(300 << 20)  # and takes a while to end (unmapping this)
                ballast[::4096] = b"x" * len(range(0, len(ballast), 4096))
                time.sleep(60)
                os._exit(0)
            time.sleep(0.5)
            try:
                os.mkdir("/planted")
                return 0.0
            except OSError:
                return 1.0
    """, "probe")
    assert planted == 1.0  # the shared root stays read-only
    seen = call_in_sandbox(sandbox, f"""
        import os, socket
        def probe():
            client = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
            try:
                client.connect("\\0{name}")
                reached = 1.0
            except OSError:
                reached = 0.0
            others = [p for p in os.listdir("/proc") if p.isdigit() and int(p) != os.getpid()]
            up = [line for line in open("/proc/net/dev").read().splitlines()[2:]
                  if line.split()[1] != "0"]  # an interface that received anything
            return (float(os.path.exists("/tmp/planted")), float(os.path.exists("/dev/shm/planted")),
                    reached, float(len(others)), float(len(up)))
    """, "probe")
    assert seen == (0.0, 0.0, 0.0, 1.0, 0.0)  # the one other process is its own loader


def test_environment_is_minimal(sandbox):
    os.environ["GRADER_TEST_SECRET"] = "hunter2"
    got = call_in_sandbox(sandbox, """
        import os
        def probe():
            return float("GRADER_TEST_SECRET" in os.environ), float(os.environ["OPENBLAS_NUM_THREADS"])
    """, "probe")
    assert got == (0.0, 1.0)


@ROOT_ONLY
def test_root_grader_drops_to_an_unprivileged_uid(sandbox):
    uid = call_in_sandbox(sandbox, """
        import os
        def probe():
            return os.getuid(), os.geteuid(), len(os.getgroups())
    """, "probe")
    assert uid[0] == uid[1] != 0 and uid[2] == 0
    assert "dropped to uid" in sandbox.protections["uid"]


def test_a_hung_call_is_killed_and_the_next_call_gets_a_fresh_process(sandbox):
    sub = submissions.Submission(path="p.py", topic="batchnorm", cells=[submissions.Cell(
        "p.py", "import os\ncount = [0]\ndef hang():\n    while True: pass\n"
                "def pid():\n    count[0] += 1\n    return count[0]\n")])
    student = student_of(sandbox, sub)
    try:
        assert student.call("pid") == 1
        with pytest.raises(StudentError, match=CALL_TIMEOUT):
            student.call("hang")
        assert student.call("pid") == 1  # state was reset: a fresh process
    finally:
        student.close()


def test_a_batch_gets_the_time_of_as_many_calls(sandbox):
    sub = submissions.Submission(path="p.py", topic="batchnorm", cells=[submissions.Cell(
        "p.py", "def hang(k):\n    while True: pass\n")])
    student = student_of(sandbox, sub)
    try:
        with pytest.raises(StudentError, match=r"within 2 s|more than 2 s of CPU"):
            student.call_many("hang", [[1], [2]])  # two calls: 2 s, not the ten calls' 10 s
    finally:
        student.close()


def test_ps_names_the_student_processes_by_role(sandbox):
    names = call_in_sandbox(sandbox, """
        import os
        def names():
            comm = lambda pid: open(f"/proc/{pid}/comm").read().strip()
            return [comm("self") == "student-worker", comm(os.getppid()) == "student-loader"]
        """, "names")  # (strings would come back as handles)
    assert names == [True, True]


def test_mutating_an_argument_fails_with_its_name(sandbox):
    sub = submissions.Submission(path="p.py", topic="batchnorm", cells=[submissions.Cell(
        "p.py", "def update_running_stats(running_mean, running_var, x, momentum=0.9):\n"
                "    running_mean *= momentum\n    return running_mean, running_var\n")])
    student = student_of(sandbox, sub, signatures={"update_running_stats": (
        "running_mean", "running_var", "x", "momentum=0.9")})
    try:
        with pytest.raises(StudentError, match="modified its argument running_mean in place"):
            student.call("update_running_stats", np.ones(3), np.ones(3), np.ones((2, 3)))
    finally:
        student.close()


@pytest.mark.parametrize("change,changed", [
    (lambda a: None, False),
    (lambda a: a.__setitem__((0, 0), a[0, 0]), False),  # the same bits written back
    (lambda a: a.__setitem__((1, 1), -a[1, 1]), True),  # 0.0 -> -0.0: other bits, equal value
    (lambda a: a.__setitem__((0, 1), np.nan), True),
    (lambda a: a.__setitem__((0, 2), 1.0), True),
])
def test_a_change_in_place_is_any_change_of_the_bits(change, changed):
    from grader.sandbox import calls
    x = np.array([[np.nan, 1.0, 2.0], [3.0, 0.0, 5.0]])
    args = [x, x[:, ::2], np.array([object(), 1], dtype=object)]
    watched = calls.snapshot(args)
    change(x)
    assert bool(calls.changed(watched)) is changed
    assert not calls.changed(calls.snapshot(args))


def test_changing_a_list_argument_fails_but_a_cache_is_the_students_own(sandbox):
    sub = submissions.Submission(path="p.py", topic="matrix_calculus", cells=[submissions.Cell(
        "p.py", "import numpy as np\n"
                "def chain_jacobians(jacobians):\n"
                "    jacobians.reverse()\n    return np.eye(2)\n"
                "def forward(x):\n    return x, [x]\n"
                "def backward(dout, cache):\n    cache.pop()\n    return dout\n")])
    student = student_of(sandbox, sub, signatures={"chain_jacobians": ("jacobians",)})
    try:
        with pytest.raises(StudentError, match="modified its argument jacobians in place"):
            student.call("chain_jacobians", [np.eye(2), 2 * np.eye(2)])
        _, cache = student.call("forward", np.ones(2), opaque=(1,))
        assert np.array_equal(student.call("backward", np.ones(2), cache), np.ones(2))
    finally:
        student.close()


# -- the protections as the grader reports them, as root and as an ordinary user -----------------

def run_cli(args, user=None, timeout=300):
    cmd = [sys.executable, "-m", "grader", *args]
    if user is not None:
        cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--", *cmd]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, cwd="/")


HOSTILE_FOR_CLI = """
import os, signal
_forward = batchnorm_forward
_escaped = []
def batchnorm_forward(x, gamma, beta, eps=1e-5):
    if not _escaped and os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv("/bin/sleep", ["sleep", "{marker}"])
        os._exit(0)
    _escaped.append(1)
    return _forward(x, gamma, beta, eps)
def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
    for pid in [os.getppid(), -1] + [int(p) for p in os.listdir("/proc") if p.isdigit()]:
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    try:
        return np.full(x.shape, float(len(open("{solutions}/batchnorm.py").read())))
    except OSError:
        return np.zeros(x.shape)
print('{{"results": [{{"score": 10}}]}}')
"""


ESCAPER_FOR_CLI = HOSTILE_FOR_CLI.split("def batchnorm_inference")[0]


def grade_hostile_class(user, extra_args=(), hostile=HOSTILE_FOR_CLI, lost=None, exact=True):
    """Grade the hostile submission between two correct ones. Without a pid namespace its
    kill(-1) also ends its own loader, so it may lose more than its own function's points
    (exact=False); the others never lose any."""
    lost = points("batchnorm_inference") if lost is None else lost
    with readable_folder("grader-test-") as tmp_path:  # readable by any user
        marker = f"{os.getpid()}.{time.time_ns() % 10 ** 6}"
        good = reference_source("batchnorm")
        (tmp_path / "a_batchnorm.py").write_text(good)
        (tmp_path / "b_batchnorm.py").write_text(good + hostile.format(
            marker=marker, solutions=ROOT / "solutions"))
        (tmp_path / "c_batchnorm.py").write_text(good)
        for p in tmp_path.iterdir():
            os.chmod(p, 0o644)
        proc = run_cli(["grade", "--format", "json", "-j", "1", "--call-timeout", "2",
                        "--solutions", str(ROOT / "solutions"), *extra_args, str(tmp_path)],
                       user=user)
        assert proc.returncode == 0, proc.stderr
    out = json.loads(proc.stdout)
    time.sleep(0.2)
    assert processes_with(marker) == []
    a, b, c = out["results"]
    assert a["score"] == c["score"] == 10
    if exact:
        assert b["score"] == 10 - lost  # only inference's own checks are lost
    else:
        assert b["score"] <= 10 - lost
    return out


@ROOT_ONLY
def test_as_root_the_grader_reports_full_isolation():
    out = grade_hostile_class(user=None)
    p = out["isolation"]
    assert "dropped to uid" in p["uid"] and p["pid_namespace"] is True
    assert p["network"].startswith("none") and p["filesystem"].startswith("private")


@ROOT_ONLY
def test_as_root_without_namespaces_uid_separation_still_holds():
    out = grade_hostile_class(user=None, extra_args=["--no-namespaces"], exact=False)
    p = out["isolation"]
    assert "dropped to uid" in p["uid"] and p["pid_namespace"] is False
    assert p["filesystem"].startswith("not isolated")


def unprivileged_user_can_run_the_grader():
    probe = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--",
                            sys.executable, "-c", "import grader, numpy; open(grader.__file__)"],
                           capture_output=True, text=True)
    return probe.returncode == 0, probe.stderr[-500:]


@ROOT_ONLY
def test_as_an_ordinary_user_the_grader_uses_what_it_can_get():
    ok, why = unprivileged_user_can_run_the_grader()
    assert ok, ("this environment is not readable by an ordinary user (uid 65534); .ci/run "
                f"builds one that is: {why}")
    out = grade_hostile_class(user=65534)
    p = out["isolation"]
    assert "grader's uid" in p["uid"]
    assert p["pid_namespace"] is True  # unprivileged user namespaces are available here
    assert p["network"].startswith("none") and p["filesystem"].startswith("private")


@ROOT_ONLY
def test_as_an_ordinary_user_without_namespaces_escapes_are_still_killed():
    out = grade_hostile_class(user=65534, extra_args=["--no-namespaces"], hostile=ESCAPER_FOR_CLI,
                              lost=0)
    p = out["isolation"]
    assert p["pid_namespace"] is False and p["filesystem"].startswith("not isolated")


# -- helpers -------------------------------------------------------------------------------------

def processes_with(marker):
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                if marker.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def leftover_sandbox_processes(pool):
    """Processes of this pool's sandbox uids (only its own: other graders may be running)."""
    uids = set(pool.uids)
    found = []
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            uid = os.stat(f"/proc/{pid}").st_uid
        except OSError:
            continue
        if uid in uids and not is_zombie(pid):
            found.append((int(pid), uid))
    return found


def test_hundreds_of_student_processes_in_a_row_never_fail_spuriously():
    """Regression: a race between the launcher's exit and the parent-death signal once killed
    about 1 student process in 300."""
    import threading
    sub = submissions.Submission(path="x.py", topic="batchnorm", cells=[
        submissions.Cell("x.py", reference_source("batchnorm"))])
    failures = []

    def work(slot):
        for _ in range(200):
            s = student_of(box, sub)
            s.start = lambda: box.start(slot)
            try:
                s.call("batchnorm_inference", np.ones((2, 3)), np.ones(3), np.zeros(3),
                       np.zeros(3), np.ones(3))
            except StudentError as exc:
                failures.append(str(exc))
            finally:
                s.close()

    box = Sandbox(LIMITS, slots=2)
    try:
        threads = [threading.Thread(target=work, args=(slot,)) for slot in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        box.close()
    assert failures == []


@ROOT_ONLY
def test_a_python_under_a_private_home_stays_importable_after_the_uid_drop(tmp_path):
    """Like a python installed under /root (mode 0700): the private root mirrors the library
    folders with traversable parents, so imports after dropping to the sandbox uid still work."""
    home = tmp_path / "home"
    (home / "lib").mkdir(parents=True)
    (home / "lib" / "late_module.py").write_text("VALUE = 42.0\n")
    os.chmod(home, 0o700)
    box = Sandbox(LIMITS)
    z = box.zygotes[0]
    z.conf["roots"] = z.conf["roots"] + [str(home / "lib")]
    z.close()
    z._start()
    try:
        got = call_in_sandbox(box, f"""
            import sys
            def probe():
                sys.path.insert(0, "{home / 'lib'}")
                import late_module
                return late_module.VALUE
        """, "probe")
    finally:
        box.close()
    assert got == 42.0


@pytest.mark.parametrize("isolation", [[], ["--no-namespaces"]])
def test_killing_the_grader_ends_its_student_processes(tmp_path, isolation):
    """A grader killed mid-batch leaves nothing running: its zygotes see the socket close and
    exit, and their student processes die with them."""
    os.chmod(tmp_path, 0o755)
    marker = f"{os.getpid()}.{time.time_ns() % 10 ** 6}"
    (tmp_path / "batchnorm.py").write_text(reference_source("batchnorm") + textwrap.dedent(f"""
        import os, time
        def batchnorm_forward(x, gamma, beta, eps=1e-5):
            if os.fork() == 0:
                os.execv("/bin/sleep", ["sleep", "{marker}"])
            time.sleep(600)
    """))
    grader = subprocess.Popen([sys.executable, "-m", "grader", "grade", "--call-timeout", "600",
                               *isolation, str(tmp_path / "batchnorm.py")], stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with(marker), "the student process never started"
    grader.kill()
    grader.wait()
    deadline = time.monotonic() + 10
    while processes_with(marker) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert processes_with(marker) == []


def test_warm_up_leaves_no_trace_and_the_collector_still_works(tmp_path):
    """The zygote imports and warms numpy and pyplot, and freezes what it holds for the garbage
    collector; a student process still starts with no figure, the global numpy generator seeded
    as usual, and a collector that frees cycles."""
    box = Sandbox(LIMITS)
    try:
        sub = submissions.Submission(path="p.py", topic="batchnorm", cells=[submissions.Cell(
            "p.py", textwrap.dedent("""
                import gc, weakref
                import numpy as np
                import packaging  # not a plain notebook: the real matplotlib
                import matplotlib.pyplot as plt
                state = (plt.get_fignums(), float(np.random.random()))
                def probe():
                    class Node:
                        pass
                    a, b = Node(), Node()
                    a.other, b.other = b, a
                    ref = weakref.ref(a)
                    del a, b
                    gc.collect()
                    return [state[0], state[1], gc.isenabled(), ref() is None]
                """))])
        student = Student(lambda: box.start(0, preload=["matplotlib.pyplot"]), sub.cells,
                          sub.module, limits=box.limits, seed=5)
        try:
            figures, first_draw, enabled, freed = student.call("probe")
        finally:
            student.close()
        np.random.seed(5)
        assert figures == [] and first_draw == np.random.random()
        assert enabled and freed
    finally:
        box.close()


def test_a_prepared_process_keeps_what_the_zygote_preloaded():
    """After a submission that needed pyplot, the process prepared for the next one has it too,
    whatever that next one asks for: a course in which one notebook of eight plots nothing does
    not throw away a prepared process at every student."""
    box = Sandbox(LIMITS)
    try:
        zygote = box.zygotes[0]
        if not zygote.protections.get("pid_namespace"):
            pytest.skip("no pid namespaces: nothing is prepared")
        box.start(0, preload=["matplotlib.pyplot"]).kill()
        assert "matplotlib.pyplot" in zygote.prepared[0]
        box.start(0, preload=()).kill()  # takes the prepared one, prepares the next
        assert "matplotlib.pyplot" in zygote.prepared[0]
    finally:
        box.close()


def test_student_code_starts_in_its_own_cgroups_as_pid_1():
    """Where the zygote forks the loader into its pid namespace itself (as root), the loader
    still runs no code of the student's before it is in the submission's cgroups."""
    box = Sandbox(LIMITS)
    try:
        if box.hierarchy is None or not box.zygotes[0].protections.get("pid_namespace"):
            pytest.skip("needs cgroups and pid namespaces")
        sub = submissions.Submission(path="p.py", topic="batchnorm", cells=[submissions.Cell(
            "p.py", "import os\nimport numpy as np\n"
                    "AT_IMPORT = (os.getpid(), open('/proc/self/cgroup', 'rb').read())\n"
                    "def probe():\n"
                    "    return [AT_IMPORT[0], np.frombuffer(AT_IMPORT[1], dtype=np.uint8)]\n")])
        student = Student(lambda: box.start(0), sub.cells, sub.module, limits=box.limits)
        try:
            pid, groups = student.call("probe")
        finally:
            student.close()
        groups = groups.tobytes().decode()
        assert pid == 1
        for controller in ("memory", "pids"):
            line = next(l for l in groups.splitlines() if controller in l.split(":")[1].split(","))
            assert f"grader-{os.getpid()}-" in line, (controller, line)
    finally:
        box.close()


def test_real_plots_are_never_drawn_and_ticks_keep_their_style(tmp_path):
    """Code that imports more than a plain notebook does gets the real matplotlib: its calls
    return real matplotlib objects, nothing is drawn or saved, and an Axes makes no ticks until something asks for them; those then carry every
    style set before."""
    box = Sandbox(LIMITS)
    try:
        sub = submissions.Submission(path="p.py", topic="relu", cells=[submissions.Cell(
            "p.py", textwrap.dedent("""
                import os
                import packaging  # not a plain notebook: the real matplotlib
                import matplotlib.pyplot as plt
                fig, (left, right) = plt.subplots(1, 2)
                line, = left.plot([0, 1, 2], [1, 0, 3], label="a")
                left.grid(True)
                left.tick_params(labelsize=5)
                left.legend()
                plt.savefig("figure.png")
                plt.show()
                made_before = "majorTicks" in vars(left.xaxis)
                def probe():
                    tick = left.xaxis.get_major_ticks()[0]
                    return [made_before, type(line).__name__ == "Line2D",
                            [float(y) for y in line.get_ydata()],
                            float(tick.label1.get_fontsize()), bool(tick.gridline.get_visible()),
                            os.path.exists("figure.png")]
                """))])
        student = Student(lambda: box.start(0, preload=["matplotlib.pyplot"]), sub.cells,
                          sub.module, limits=box.limits)
        try:
            made_before, real_line, ys, size, grid, saved = student.call("probe")
        finally:
            student.close()
        assert student.load_errors == []
        assert not made_before
        assert real_line and ys == [1, 0, 3]
        assert size == 5 and grid
        assert not saved
    finally:
        box.close()


def test_a_grading_process_that_dies_costs_only_its_submission(tmp_path):
    """The grader's own process for a job is killed mid-submission: that submission gets a
    grader failure that says so, the job's process is replaced, and the rest of the batch is
    graded as usual; the dead one's zygote and student processes do not outlive it."""
    import signal
    import threading
    pool = Pool(Options(jobs=1, limits=LIMITS, solutions=find_solutions()))
    doomed = []

    def kill_the_grading_process():
        doomed.extend(descendants(first.process.pid))
        os.kill(first.process.pid, signal.SIGKILL)
    try:
        first = pool.slots[0]
        slow = with_override("import time\nwhile True:\n    time.sleep(0.01)\n")  # a 1 s cell
        threading.Timer(0.4, kill_the_grading_process).start()
        results = grade_batch(pool, tmp_path, {"a_batchnorm.py": slow,
                                               "b_batchnorm.py": reference_source("batchnorm"),
                                               "c_batchnorm.py": reference_source("batchnorm")})
        assert results[0]["error"] == ("grader failure: the grading process was killed by "
                                       "signal SIGKILL while grading this")
        assert [r["score"] for r in results[1:]] == [10, 10], results[1:]
        assert pool.slots[0] is not first and pool.slots[0].process.is_alive()
        assert len(doomed) >= 2  # its zygote and the student process of a_batchnorm.py at least
        deadline = time.monotonic() + 10
        while [pid for pid in doomed if os.path.exists(f"/proc/{pid}") and not is_zombie(pid)]:
            assert time.monotonic() < deadline, doomed
            time.sleep(0.1)
    finally:
        pool.close()


def test_every_worker_starts_from_the_loaded_random_state():
    """Python reseeds its `random` module from the operating system in a forked child; a worker
    must still start where loading left both generators (stdlib and numpy's global one), so
    that a submission's own random draws are the same in every worker and every run."""
    box = Sandbox(LIMITS)
    try:
        sub = submissions.Submission(path="p.py", topic="relu", cells=[submissions.Cell(
            "p.py", "import random\nimport numpy as np\n"
                    "def draw():\n    return [random.random(), float(np.random.random())]\n")])
        draws = []
        for _ in range(2):
            student = Student(lambda: box.start(0), sub.cells, sub.module, limits=box.limits,
                              seed=3)
            try:
                draws.append(student.call("draw"))
                student.fresh_worker()
                draws.append(student.call("draw"))
            finally:
                student.close()
        assert draws[0] == draws[1] == draws[2] == draws[3], draws
    finally:
        box.close()


def test_each_job_keeps_to_cpus_of_its_own_and_every_cpu_is_used():
    """With no more jobs than CPUs, each grading process, its zygote and the student processes
    it starts stay on CPUs of their own (they hand calls to one another without waking another
    CPU), and together the jobs cover every CPU this grader may use; with more jobs than CPUs,
    nothing is pinned."""
    from grader.course.grading import cpus_for
    mine = os.sched_getaffinity(0)
    assert cpus_for(len(mine) + 1) is None
    for jobs in range(1, len(mine) + 1):
        deal = cpus_for(jobs)
        assert len(deal) == jobs and set().union(*deal) == mine
        assert sum(len(d) for d in deal) == len(mine)  # disjoint
    if len(mine) < 2:
        pytest.skip("one CPU: nothing to deal out")
    pool = Pool(Options(jobs=2, limits=LIMITS))
    try:
        seen = []
        for slot in pool.slots:
            tree = [slot.process.pid] + descendants(slot.process.pid)
            assert len(tree) >= 2  # the grading process and its zygote
            affinities = {frozenset(os.sched_getaffinity(pid)) for pid in tree}
            assert len(affinities) == 1, affinities
            seen.append(set(affinities.pop()))
        assert not seen[0] & seen[1] and seen[0] | seen[1] == mine
    finally:
        pool.close()


def test_the_loader_forks_the_first_worker_unasked(monkeypatch):
    """Right after loading, the loader forks the worker that serves the first calls: its
    start-up overlaps the grader reading the load reply, and no fork request is needed. Later
    workers are forked on request, from the same loaded state."""
    from grader.sandbox.process import StudentProcess
    requests = []
    fork_worker = StudentProcess._fork_worker
    monkeypatch.setattr(StudentProcess, "_fork_worker",
                        lambda self: (requests.append(1), fork_worker(self)))
    box = Sandbox(LIMITS)
    try:
        sub = submissions.Submission(path="p.py", topic="relu", cells=[submissions.Cell(
            "p.py", "seen = []\n"
                    "def f():\n    seen.append(1)\n    return [0, len(seen)]\n")])
        student = Student(lambda: box.start(0), sub.cells, sub.module, limits=box.limits)
        try:
            student._ensure_loaded()
            loader = student.proc.pid
            deadline = time.monotonic() + 30
            while not descendants(loader) and time.monotonic() < deadline:
                time.sleep(0.01)
            assert len(descendants(loader)) == 1  # the worker, before any call
            assert student.call("f")[1] == 1
            assert student.call("f")[1] == 2 and not requests
            student.fresh_worker()
            assert student.call("f")[1] == 1 and len(requests) == 1  # from the loaded state
        finally:
            student.close()
    finally:
        box.close()


CHAIN = """
import numpy as np
calls = []
def step(g, k):
    calls.append(k)
    if k < 0:
        return g.astype(np.float32), k
    return g * 2 + k, k
def seen():
    return calls
def pair(a, b, k):
    return a + k, b * k
"""


@pytest.mark.parametrize("where", ["sandbox", "in-process"])
def test_a_chain_of_calls_is_the_calls_one_by_one(where):
    """call_chain passes each result's first element on to the next call, as the grader would
    send it back; it stops, with the results so far, at one the grader does not accept."""
    from grader.sandbox.student import InProcess
    box = Sandbox(LIMITS) if where == "sandbox" else None
    try:
        sub = submissions.Submission(path="p.py", topic="relu",
                                     cells=[submissions.Cell("p.py", CHAIN)])
        namespace = {}
        exec(CHAIN, namespace)
        start = (lambda: box.start(0)) if box else (lambda: InProcess(namespace))
        student = Student(start, sub.cells, sub.module, limits=LIMITS)
        try:
            out = student.call_chain("step", [np.ones(3), 1.0], [[2.0], [3.0]])
            assert [k for _, k in out] == [1.0, 2.0, 3.0]
            np.testing.assert_array_equal(out[-1][0], ((np.ones(3) * 2 + 1) * 2 + 2) * 2 + 3)
            stopped = student.call_chain("step", [np.ones(3), -1.0], [[5.0], [6.0]])
            assert len(stopped) == 1 and stopped[0][0].dtype == np.float32
            assert student.call("seen") == [1.0, 2.0, 3.0, -1.0]  # 5 and 6 never ran
            both = student.call_chain("pair", [np.ones(2), np.ones(2), 2.0], [[3.0]], take=(0, 1))
            np.testing.assert_array_equal(both[1][0], [6.0, 6.0])
            np.testing.assert_array_equal(both[1][1], [6.0, 6.0])
        finally:
            student.close()
    finally:
        if box:
            box.close()


def test_a_chain_the_student_process_cuts_short_goes_on_call_by_call(monkeypatch):
    """A student process may answer a chain with fewer results than it could (it is not
    trusted): the grader then makes the remaining calls one by one, from its own copies."""
    from grader.sandbox.student import InProcess
    namespace = {}
    exec(CHAIN, namespace)
    student = Student(lambda: InProcess(namespace), limits=LIMITS)
    real_call = Student._call

    def cut_short(self, fn, arglists, *args, chain=None, **kwargs):
        results = real_call(self, fn, arglists, *args, chain=chain, **kwargs)
        return results[:1] if chain is not None else results
    monkeypatch.setattr(Student, "_call", cut_short)
    out = student.call_chain("step", [np.ones(3), 1.0], [[2.0], [3.0]])
    assert [k for _, k in out] == [1.0, 2.0, 3.0]
    np.testing.assert_array_equal(out[-1][0], ((np.ones(3) * 2 + 1) * 2 + 2) * 2 + 3)
