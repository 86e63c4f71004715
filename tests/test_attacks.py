"""Submissions written to bend verdicts or hurt the batch, one test per attack class: each costs at
most its own points, reaches nothing of the grader's or of another submission's, and leaves
nothing behind. Hermetic: the tests look only at the uids, cgroups and processes of the graders
they start."""
import ctypes
import json
import os
import platform
import textwrap
import time

import numpy as np
import pytest

from conftest import ROOT, failing, is_zombie, readable_folder, reference_source
from grader.course import submissions
from grader.course.grading import Options, Pool, find_solutions
from grader.sandbox import isolation
from grader.sandbox.process import Limits, Sandbox
from grader.sandbox.student import Student, StudentError

ROOT_ONLY = pytest.mark.skipif(os.geteuid() != 0, reason="needs root (sandbox uids, cgroups)")
LIMITS = Limits(call_seconds=2, cell_seconds=2, submission_seconds=60, memory_mb=256)


def make_pool(jobs=2, namespaces=True, limits=LIMITS):
    return Pool(Options(jobs=jobs, limits=limits, namespaces=namespaces,
                        solutions=find_solutions()))


def uids_of(pool):
    return pool.uids


def grade_files(pool, files):
    """Grade {name: source} (in that order, on the pool's slots) and return the results."""
    with readable_folder("grader-attack-") as folder:
        subs = []
        for name, text in files.items():
            (folder / name).write_text(textwrap.dedent(text))
            subs.append(submissions.load(str(folder / name)))
        results = [None] * len(subs)
        for i, r in pool.grade(subs):
            results[i] = r
        return results


def assert_no_grader_error(result):
    assert not [c for c in result["checks"] if c.get("grader_error")], result
    assert all("grader error" not in c["message"] for c in result["checks"])


LIBC = "import ctypes\nlibc = ctypes.CDLL(None, use_errno=True)\n"


# -- IPC: System V shared memory is no channel between submissions --------------------------------

SHM_KEY = 0x6A0D1E  # what a "peer" would agree on

SHM_WRITER = reference_source("batchnorm") + LIBC + f"""
libc.shmat.restype = ctypes.c_void_p
_id = libc.shmget({SHM_KEY}, 1 << 20, 0o1666)
if _id >= 0:
    _p = libc.shmat(_id, None, 0)
    if _p not in (None, ctypes.c_void_p(-1).value):
        ctypes.memmove(_p, b"SOLVED", 6)
"""

SHM_READER = reference_source("batchnorm") + LIBC + f"""
libc.shmat.restype = ctypes.c_void_p
def peer_found():
    _id = libc.shmget({SHM_KEY}, 0, 0o666)
    if _id < 0:
        return 0.0
    _p = libc.shmat(_id, None, 0)
    if _p in (None, ctypes.c_void_p(-1).value):
        return 0.0
    return 1.0 if ctypes.string_at(_p, 6) == b"SOLVED" else 0.0
_orig = batchnorm_inference
def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
    return _orig(x, gamma, beta, running_mean, running_var, eps) * (1 + 100 * peer_found())
"""


@ROOT_ONLY
@pytest.mark.parametrize("namespaces", [True, False])
def test_shared_memory_reaches_no_peer_and_dies_with_its_submission(namespaces):
    # With namespaces, peers graded at the same time (2 slots) live in separate IPC namespaces;
    # without, only sequential ones (1 slot) are protected: the writer's segment is removed.
    pool = make_pool(jobs=2 if namespaces else 1, namespaces=namespaces)
    try:
        uids = uids_of(pool)
        writer, reader, later = grade_files(pool, {
            "a_batchnorm.py": SHM_WRITER, "b_batchnorm.py": SHM_READER,
            "c_batchnorm.py": SHM_READER})
        time.sleep(0.1)
        with open("/proc/sysvipc/shm") as f:
            rows = [row.split() for row in f.read().splitlines()[1:]]
        left = [row for row in rows if int(row[7]) in uids or int(row[9]) in uids]
    finally:
        pool.close()
    assert writer["score"] == 10
    assert reader["score"] == later["score"] == 10, failing(reader) + failing(later)
    assert left == []  # no segment of our sandbox uids outlives grading


# -- keyrings: the grader's session keyring is not the student's ---------------------------------

SYS_ADD_KEY = {"x86_64": 248, "aarch64": 217}.get(platform.machine())


@ROOT_ONLY
@pytest.mark.skipif(SYS_ADD_KEY is None, reason="unknown add_key syscall number")
def test_the_session_keyring_of_the_grader_is_out_of_reach(tmp_path):
    libc = ctypes.CDLL(None, use_errno=True)
    isolation.join_new_session_keyring()  # this test process's own, so nothing else is touched
    secret = b"instructor-secret-" + str(time.time_ns()).encode()
    key = libc.syscall(ctypes.c_long(SYS_ADD_KEY), b"user", b"grader-test-secret", secret,
                       ctypes.c_size_t(len(secret)), ctypes.c_int(-3))  # -3: the session keyring
    assert key > 0
    probe = textwrap.dedent(f"""
        import ctypes
        libc = ctypes.CDLL(None, use_errno=True)
        def probe():
            buf = ctypes.create_string_buffer(4096)
            found = libc.syscall({isolation.SYS_KEYCTL}, 10, {key}, buf, 4096)  # KEYCTL_READ
            keys = open("/proc/keys").read() if __import__("os").path.exists("/proc/keys") else ""
            return float(found > 0 or b"instructor-secret" in buf.raw
                         or "grader-test-secret" in keys)
    """)
    for namespaces in (True, False):
        box = Sandbox(LIMITS, namespaces=namespaces)
        sub = submissions.Submission(path="k.py", topic="batchnorm",
                                     cells=[submissions.Cell("k.py", probe)])
        student = Student(lambda: box.start(0), sub.cells, limits=box.limits)
        try:
            assert student.call("probe") == 0.0
        finally:
            student.close()
            box.close()


# -- memory and processes are counted per submission, not per process ----------------------------

MEMORY_HOG = """
import os
def hog():
    # children, each under the per-process limit, together far over the submission's budget;
    # each says when its 200 MB are touched, and all stay alive together
    r, w = os.pipe()
    for _ in range(4):
        if os.fork() == 0:
            b = bytearray(200 << 20)
            for i in range(0, len(b), 4096):
                b[i] = 1
            os.write(w, b"x")
            import time
            time.sleep(60)
    os.close(w)
    held = 0
    while held < 4 and os.read(r, 1):
        held += 1
    return float(held * 200)
"""


@ROOT_ONLY
def test_memory_of_all_processes_together_is_bounded():
    box = Sandbox(LIMITS)
    try:
        if "none" in box.protections["cgroups"]:
            pytest.skip(box.protections["cgroups"])
        student = Student(lambda: box.start(0), [submissions.Cell("hog.py", MEMORY_HOG)],
                          limits=box.limits)
        try:
            held = student.call("hog")
        except StudentError as exc:
            held = str(exc)
        finally:
            student.close()
    finally:
        box.close()
    # never 800 MB at once under a 256 MB budget (+64 MB for the processes' own pages)
    assert isinstance(held, str) or held <= LIMITS.memory_mb + 64, held


CPU_HOG = reference_source("batchnorm") + """
import os
for _ in range(6):  # busy children in their own sessions, started while loading
    if os.fork() == 0:
        os.setsid()
        while True:
            pass
"""


@ROOT_ONLY
def test_a_cpu_hog_cannot_make_a_concurrent_correct_peer_time_out():
    limits = Limits(call_seconds=1, cell_seconds=2, submission_seconds=30, memory_mb=256)
    pool = make_pool(jobs=2, limits=limits)
    try:
        files = {"a_batchnorm.py": CPU_HOG}
        files.update({f"{c}_batchnorm.py": reference_source("batchnorm") for c in "bcd"})
        results = grade_files(pool, files)
        uids = uids_of(pool)
    finally:
        pool.close()
    for r in results[1:]:
        assert r["score"] == 10, failing(r)
    assert processes_of(uids) == []


def processes_of(uids, settle=5.0):
    """Live processes of these uids, once those that were just killed have had time to go."""
    deadline = time.monotonic() + settle
    while True:
        left = [p for p in os.listdir("/proc") if p.isdigit() and _uid(p) in uids
                and not is_zombie(p)]
        if not left or time.monotonic() > deadline:
            return left
        time.sleep(0.05)


def _uid(pid):
    try:
        return os.stat(f"/proc/{pid}").st_uid
    except OSError:
        return None


# -- replies the grader must read without ever calling it its own error --------------------------

FORGER = reference_source("batchnorm") + """
import json, os, struct
def _forge(header):
    data = json.dumps(header).encode() if not isinstance(header, bytes) else header
    frame = struct.pack("<4sIQ", b"GRD1", len(data), 0) + data
    for fd in range(3, 64):
        try:
            if os.fstat(fd).st_mode & 0o170000 == 0o010000:  # a pipe: try them all
                os.write(fd, frame)
        except OSError:
            pass

def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
    return 10 ** 400

def update_running_stats(running_mean, running_var, x, momentum=0.9):
    nested = []
    for _ in range(5000):
        nested = [nested]
    return nested, nested

def batchnorm_backward(dout, cache):
    deep = b"[" * 200000 + b"]" * 200000
    for seq in range(1, 400):
        _forge(b'{"seq": %d, "ok": true, "value": ' % seq + deep + b"}")
    os._exit(3)
"""


def test_huge_numbers_deep_nesting_and_forged_replies_are_the_students_own_failures():
    pool = make_pool(jobs=1)
    try:
        start = time.monotonic()
        forger, good = grade_files(pool, {"a_batchnorm.py": FORGER,
                                          "b_batchnorm.py": reference_source("batchnorm")})
        elapsed = time.monotonic() - start
    finally:
        pool.close()
    assert good["score"] == 10
    assert_no_grader_error(forger)
    assert forger["score"] < 10
    assert elapsed < 60


FORGED_ERROR = reference_source("batchnorm") + """
import json, os, struct, sys
def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
    frame = sys._getframe()
    while frame is not None and "req" not in frame.f_locals:
        frame = frame.f_back
    seq, server = frame.f_locals["req"]["seq"], frame.f_locals["self"]
    huge = {"seq": seq, "ok": False, "error": {
        "type": "X" * 10 ** 6, "bases": ["ValueError"] * 10 ** 5, "message": "m" * 10 ** 6,
        "where": {"file": "a_batchnorm.py", "line": 10 ** 30,
                  "callers": [{"file": "a_batchnorm.py", "line": 1}] * 10 ** 5}}}
    data = json.dumps(huge).encode()
    os.write(server.resp_fd, struct.pack("<4sIQ", b"GRD1", len(data), 0) + data)
    os._exit(0)
"""


def test_a_forged_huge_error_reply_costs_the_grader_nothing_much():
    pool = make_pool(jobs=1)
    try:
        start = time.monotonic()
        (r,) = grade_files(pool, {"a_batchnorm.py": FORGED_ERROR})
        elapsed = time.monotonic() - start
    finally:
        pool.close()
    assert_no_grader_error(r)
    assert any(not c["passed"] for c in r["checks"] if c["function"] == "batchnorm_inference")
    assert all(len(c["message"]) < 2000 for c in r["checks"])
    assert elapsed < 60


HALF_A_REPLY = reference_source("batchnorm") + """
import os, struct, sys
def batchnorm_inference(x, gamma, beta, running_mean, running_var, eps=1e-5):
    frame = sys._getframe()
    while frame is not None and "req" not in frame.f_locals:
        frame = frame.f_back
    server = frame.f_locals["self"]
    # the start of a frame whose header never comes, then the worker dies
    os.write(server.resp_fd, struct.pack("<4sIQ", b"GRD1", 500, 0) + b'{"seq": 1, "ok"')
    os._exit(1)
"""


def test_a_worker_that_dies_mid_reply_costs_only_its_own_function():
    """What a dying worker left half-written on the channel never reaches the next worker's
    replies: the other functions' checks, in fresh workers, are judged as usual."""
    pool = make_pool(jobs=1)
    try:
        (r,) = grade_files(pool, {"a_batchnorm.py": HALF_A_REPLY})
    finally:
        pool.close()
    assert_no_grader_error(r)
    failed = {c["function"] for c in failing(r)}
    assert failed == {"batchnorm_inference"}, failing(r)


# -- without namespaces: nothing planted beforehand, nothing left behind --------------------------

PLANTER = reference_source("batchnorm") + """
import os
for folder in ("/tmp", "/var/tmp", "/dev/shm"):
    try:
        with open(os.path.join(folder, "grader-attack-{marker}"), "w") as f:
            f.write("x")
    except OSError:
        pass
for i in range(200):  # where predictable work folders of later students would be
    for name in (f"/tmp/grader-student-{{i}}", f"/tmp/grader-student-x-{{i}}"):
        try:
            os.mkdir(name, 0o777)
        except OSError:
            pass
"""


@ROOT_ONLY
def test_without_namespaces_planted_files_do_not_hurt_later_students_and_are_removed():
    marker = f"{os.getpid()}-{time.time_ns()}"
    pool = make_pool(jobs=1, namespaces=False)
    try:
        results = grade_files(pool, {"a_batchnorm.py": PLANTER.format(marker=marker),
                                     "b_batchnorm.py": reference_source("batchnorm"),
                                     "c_batchnorm.py": reference_source("batchnorm")})
        uids = uids_of(pool)
    finally:
        pool.close()
    assert [r["score"] for r in results] == [10, 10, 10]
    for folder in ("/tmp", "/var/tmp", "/dev/shm"):
        assert not os.path.exists(os.path.join(folder, f"grader-attack-{marker}"))
        leftovers = [n for n in os.listdir(folder)
                     if _owner(os.path.join(folder, n)) in uids]
        assert leftovers == []


def _owner(path):
    try:
        return os.lstat(path).st_uid
    except OSError:
        return None


# -- what the report says ------------------------------------------------------------------------

@ROOT_ONLY
def test_the_protections_name_ipc_keyring_and_cgroups():
    box = Sandbox(LIMITS)
    try:
        p = box.protections
    finally:
        box.close()
    assert p["ipc_namespace"] is True and "own" in p["session_keyring"]
    assert p["cgroups"].startswith("one per submission") or p["cgroups"].startswith("none (")


# -- the same, run by an ordinary user -------------------------------------------------------------

def run_cli_as(user, args, env=None):
    import subprocess
    import sys
    cmd = ["setpriv", f"--reuid={user}", f"--regid={user}", "--clear-groups", "--",
           sys.executable, "-m", "grader", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=300, cwd="/", env=env)


@ROOT_ONLY
def test_as_an_ordinary_user_peers_share_no_ipc_and_the_report_says_what_holds():
    probe = run_cli_as(65534, ["--version"])
    if probe.returncode != 0:
        pytest.skip(f"this environment is not usable by uid 65534: {probe.stderr[-300:]}")
    with readable_folder("grader-attack-") as folder, readable_folder("grader-tmp-") as tmp:
        for name, text in {"a_batchnorm.py": SHM_WRITER, "b_batchnorm.py": SHM_READER}.items():
            (folder / name).write_text(text)
            os.chmod(folder / name, 0o644)
        os.chmod(tmp, 0o777)
        # nobody's home does not exist: the zygotes' own folders are temporary ones, in TMPDIR
        env = dict(os.environ, HOME="/nonexistent", TMPDIR=str(tmp))
        env.pop("XDG_CACHE_HOME", None)
        proc = run_cli_as(65534, ["grade", "--format", "json", "-j", "2", str(folder)], env=env)
        assert proc.returncode == 0, proc.stderr
        assert not list(tmp.iterdir())  # and they are gone with the zygotes
    out = json.loads(proc.stdout)
    writer, reader = out["results"]
    p = out["isolation"]
    if not p["ipc_namespace"]:
        pytest.skip("user namespaces are not allowed here: " + "; ".join(p["not_protected"]))
    assert writer["score"] == reader["score"] == 10, failing(reader)
    assert p["session_keyring"].startswith("its own")
    assert not [gap for gap in p["not_protected"] if "shared memory" in gap or "files" in gap]


# -- found by review: channels to the next submission of the same worker slot -------------------

KEY_WRITER = reference_source("relu") + LIBC + """
libc.syscall.restype = ctypes.c_long
SRC = b"def relu_forward(x):\\n    import numpy as np\\n    return np.maximum(x, 0.0), x\\ndef relu_backward(dout, cache):\\n    return dout * (cache > 0)\\n"
_ring = RING()
libc.syscall(248 if SYS_KEYCTL == 250 else 217, b"user", b"friend-code", SRC, len(SRC),
             ctypes.c_long(_ring))
"""

KEY_READER = LIBC + """
libc.syscall.restype = ctypes.c_long
_ring = RING()
_key = libc.syscall(SYS_KEYCTL, 10, ctypes.c_long(_ring), b"user", b"friend-code", 0)
if _key > 0:
    libc.syscall(SYS_KEYCTL, 8, ctypes.c_long(_key), -3)  # link it: possessor rights
    _buf = ctypes.create_string_buffer(65536)
    _n = libc.syscall(SYS_KEYCTL, 11, ctypes.c_long(_key), _buf, 65536)
    exec(_buf.raw[:_n].decode())
"""

RINGS = {  # keyrings that outlive a process: the uid's persistent and user keyrings
    "persistent": "lambda: libc.syscall(SYS_KEYCTL, 22, -1, -3)",  # KEYCTL_GET_PERSISTENT
    "user": "lambda: -4",                                          # KEY_SPEC_USER_KEYRING
}


@ROOT_ONLY
@pytest.mark.skipif(isolation.SYS_KEYCTL is None, reason="unknown keyctl syscall number")
@pytest.mark.parametrize("ring", RINGS)
@pytest.mark.parametrize("namespaces", [True, False])
def test_no_keyring_carries_anything_to_the_next_submission(namespaces, ring):
    header = f"import ctypes\nlibc = ctypes.CDLL(None)\nSYS_KEYCTL = {isolation.SYS_KEYCTL}\nRING = {RINGS[ring]}\n"
    pool = make_pool(jobs=1, namespaces=namespaces)
    try:
        writer, reader = grade_files(pool, {"a_relu.py": header + KEY_WRITER,
                                            "b_relu.py": header + KEY_READER})
    finally:
        pool.close()
    assert writer["score"] == 10
    assert reader["score"] == 0, reader


PROCESS_HOLDER = reference_source("relu") + """
import os, signal, time
signal.signal(signal.SIGALRM, signal.SIG_IGN)
for _ in range(6):  # busy, memory-holding processes that take a while to die
    if os.fork() == 0:
        b = bytearray(40 << 20)
        for i in range(0, len(b), 4096):
            b[i] = 1
        while True:
            pass
"""

FORKS_A_LITTLE = reference_source("relu") + """
import os
_forward = relu_forward
def relu_forward(x):
    pids = []
    for _ in range(3):  # a few helper processes, as a correct student may start
        pid = os.fork()
        if pid == 0:
            os._exit(0)
        pids.append(pid)
    for pid in pids:
        os.waitpid(pid, 0)
    return _forward(x)
"""


@ROOT_ONLY
def test_processes_left_by_one_submission_do_not_count_against_the_next():
    pool = make_pool(jobs=1)
    try:
        if "none" in pool.protections["cgroups"]:
            pytest.skip(pool.protections["cgroups"])
        holder, forker = grade_files(pool, {"a_relu.py": PROCESS_HOLDER,
                                            "b_relu.py": FORKS_A_LITTLE})
    finally:
        pool.close()
    assert forker["score"] == 10, failing(forker)


PTRACER = reference_source("relu") + """
import ctypes, os
libc = ctypes.CDLL(None, use_errno=True)
def relu_backward(dout, cache):
    me = os.getuid()
    for p in os.listdir("/proc"):
        if p.isdigit() and int(p) not in (os.getpid(), os.getppid()):
            try:
                if os.stat(f"/proc/{p}").st_uid == me:
                    libc.ptrace(16, int(p), None, None)  # PTRACE_ATTACH: hold it stopped
                    os.kill(int(p), 9)
            except OSError:
                pass
    return dout * (cache > 0)
"""


@ROOT_ONLY
@pytest.mark.parametrize("namespaces", [True, False])
def test_no_submission_can_reach_the_process_prepared_for_the_next(namespaces):
    pool = make_pool(jobs=1, namespaces=namespaces)
    try:
        tracer, good = grade_files(pool, {"a_relu.py": PTRACER,
                                          "b_relu.py": reference_source("relu")})
    finally:
        pool.close()
    assert good["score"] == 10, failing(good)


LOAD_BURNER = reference_source("relu") + """
import os, signal, time
signal.signal(signal.SIGALRM, signal.SIG_IGN)  # the per-cell alarm is ignored
for _ in range(4):
    if os.fork() == 0:
        while True:
            pass
while True:
    time.sleep(1)
"""


@ROOT_ONLY
def test_loading_counts_against_the_submission_s_cpu_budget():
    limits = Limits(call_seconds=1, cell_seconds=1, submission_seconds=4, memory_mb=256)
    pool = make_pool(jobs=1, limits=limits)
    try:
        if "none" in pool.protections["cgroups"]:
            pytest.skip(pool.protections["cgroups"])
        start = time.monotonic()
        burner, good = grade_files(pool, {"a_relu.py": LOAD_BURNER,
                                          "b_relu.py": reference_source("relu")})
        elapsed = time.monotonic() - start
    finally:
        pool.close()
    assert burner["score"] == 0 and good["score"] == 10
    assert "loading your code failed" in burner["checks"][0]["message"]
    assert elapsed < limits.wall(limits.cell_seconds + 5) + 10


@ROOT_ONLY
def test_uid_claims_live_where_no_student_can_plant_links():
    from grader.sandbox.process import lock_folder
    st = os.lstat(lock_folder())
    assert st.st_uid == 0 and not st.st_mode & 0o022 and not os.path.islink(lock_folder())


@ROOT_ONLY
def test_cgroups_of_a_killed_grader_are_removed_by_the_next():
    from grader.sandbox import cgroups
    hierarchy, why = cgroups.Hierarchy.open()
    if hierarchy is None:
        pytest.skip(why)
    base = os.path.dirname(hierarchy.dirs["pids"])
    hierarchy.close()
    stale = os.path.join(base, "grader-999999999-dead")  # no such pid
    os.makedirs(os.path.join(stale, "sub"))
    again, _ = cgroups.Hierarchy.open()
    again.close()
    assert not os.path.exists(stale)


def test_the_zygote_keeps_its_own_files_out_of_shared_folders():
    """It imports matplotlib, which writes a font cache (following links) into MPLCONFIGDIR."""
    box = Sandbox(LIMITS)
    try:
        with open(f"/proc/{box.zygotes[0].process.pid}/environ", "rb") as f:
            env = dict(item.split(b"=", 1) for item in f.read().split(b"\0") if b"=" in item)
    finally:
        box.close()
    for name in (b"HOME", b"TMPDIR", b"MPLCONFIGDIR"):
        folder = env[name].decode()
        st = os.lstat(folder)
        assert folder != "/tmp" and st.st_uid == os.geteuid() and not st.st_mode & 0o077
