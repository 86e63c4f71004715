"""The grader's side of the sandbox: `Sandbox` owns the worker slots (a uid and a zygote each),
the cgroups and the limits, and starts one student process per submission.

A student process is a *loader* that runs the submission's code once and forks *workers* from
that loaded state; calls go to the current worker. Everything a student process sends is read
here with hard limits (grader.sandbox.wire), under a deadline that counts the submission's own CPU
time (its cgroup) with a generous wall-clock backstop, watching the reply pipe, the loader's
control socket and the loader itself (a pidfd).
"""
import json
import os
import pwd
import select
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from . import cgroups, isolation, wire

GRADER_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WALL_FACTOR = 3      # wall-clock backstop = WALL_FACTOR x a CPU-time limit + WALL_SLACK
WALL_SLACK = 2.0
CGROUP_HEADROOM_MB = 64  # the loader's and worker's own pages, on top of what the code allocates


@dataclass(frozen=True)
class Limits:
    """Resource limits of one submission (all its processes together where cgroups allow)."""

    call_seconds: float = 10.0        # CPU time of one call of a student function
    cell_seconds: float = 10.0        # wall time of one notebook cell while loading
    submission_seconds: float = 120.0  # time of everything one submission costs, grader side too
    memory_mb: int = 1024             # memory on top of python and numpy
    file_size_mb: int = 16            # largest file it may write (in its private /tmp)
    processes: int = 8                # processes it may start
    result_mb: int = 64               # largest reply (arrays) it may send back

    def for_zygote(self):
        return {
            "cpu_seconds": max(1, int(self.submission_seconds)),
            "memory_bytes": self.memory_mb << 20,
            "file_size": self.file_size_mb << 20,
            "open_files": 64,
            "processes": self.processes,
        }

    def wall(self, cpu_seconds):
        """The wall-clock backstop for a CPU-time limit."""
        return WALL_FACTOR * cpu_seconds + WALL_SLACK


class SandboxError(Exception):
    """A call could not complete; the message is written for the student."""


class Died(SandboxError):
    pass


class TimedOut(SandboxError):
    pass


class OutOfMemory(SandboxError):
    pass


class BadReply(SandboxError):
    pass


def student_env():
    return {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": "/tmp",
        "TMPDIR": "/tmp",
        "LANG": "C.UTF-8",
        "MPLBACKEND": "Agg",
        "MPLCONFIGDIR": "/tmp",
        "OPENBLAS_NUM_THREADS": "1",
        "OMP_NUM_THREADS": "1",
        "MKL_NUM_THREADS": "1",
        # glibc: arrays below 64 MB from the heap, kept after free; fresh mmaps for every
        # returned array cost page faults (measured: a 400 x 100 call 1.9 -> 1.5 ms)
        "MALLOC_MMAP_THRESHOLD_": str(64 << 20),
        "MALLOC_TRIM_THRESHOLD_": str(128 << 20),
    }


_uid_locks = []  # held for the life of this process: no other grader may use these uids


def pick_sandbox_uids(count):
    """Unused uids for the student processes of each worker slot (root only): not in the
    password database, owning no process, and not claimed by another grader on this machine
    (an flock that is released when this process ends)."""
    import fcntl
    lock_dir = lock_folder()
    uid = int(os.environ.get("GRADER_SANDBOX_UID", "63900"))
    uids = []
    while len(uids) < count:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            try:
                lock = os.open(os.path.join(lock_dir, f"uid-{uid}.lock"),
                               os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                lock = None
            if lock is not None and isolation.count_processes_of(uid) == 0:
                _uid_locks.append(lock)
                uids.append(uid)
            elif lock is not None:
                os.close(lock)
        uid += 1
    return uids


def lock_folder():
    """The uid claims live where only root may write (in a world-writable folder such as
    /run/lock a student could plant links)."""
    return private_folder("uids")


def private_folder(name):
    """A folder of this user's own, that nobody else may write to and that is no link: /run/grader
    for root, ~/.cache/grader otherwise. For uid claims and for the zygote's own files
    (matplotlib's cache: never in a shared /tmp, where a student could plant links)."""
    if os.geteuid() == 0:
        base = "/run/grader"
    else:
        base = os.path.join(os.environ.get("XDG_CACHE_HOME") or os.path.expanduser("~/.cache"),
                            "grader")
    path = os.path.join(base, name)
    try:
        os.makedirs(path, mode=0o700, exist_ok=True)
        for folder in (base, path):
            st = os.lstat(folder)
            if (not stat.S_ISDIR(st.st_mode) or st.st_uid != os.geteuid()
                    or st.st_mode & 0o022):
                raise OSError(f"{folder} is not a folder of ours that nobody else can write to")
        return path
    except OSError:
        if os.geteuid() == 0:
            raise
        return None  # no usable home (e.g. a service user)


def describe_status(status):
    if status is None or not isinstance(status, int):
        return "ended"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return "used up its CPU time and was stopped"
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return f"was killed by {name}"
    if os.WIFEXITED(status):
        return f"exited with status {os.WEXITSTATUS(status)}"
    return "ended"


class Sandbox:
    """The one entry point for running student code: `slots` worker slots, each with a zygote
    (and, as root, a sandbox uid of its own), cgroups where the grader may make them, and the
    limits. `start(slot, ...)` gives a StudentProcess for one submission."""

    def __init__(self, limits=Limits(), namespaces=True, slots=1, use_cgroups=True):
        self.limits = limits
        self.hierarchy, self.cgroup_problem = (cgroups.Hierarchy.open() if use_cgroups else
                                               (None, "not asked for"))
        uids = pick_sandbox_uids(slots) if os.geteuid() == 0 else [None] * slots
        from concurrent.futures import ThreadPoolExecutor
        with ThreadPoolExecutor(slots) as starting:  # zygotes start in parallel
            futures = [starting.submit(Zygote, limits, namespaces, uid) for uid in uids]
        self.zygotes = [f.result() for f in futures if f.exception() is None]
        failed = [f.exception() for f in futures if f.exception() is not None]
        if failed:
            self.close()
            raise failed[0]

    @property
    def protections(self):
        report = dict(self.zygotes[0].protections)
        if self.hierarchy:
            report["cgroups"] = (f"one per submission: {self.limits.memory_mb} MB of memory for "
                                 "all its processes, shared memory and memfds together, "
                                 f"{self.limits.processes} processes, one CPU core")
            report["time_limits"] = "CPU time of the submission (a busy machine cannot trip them)"
        else:
            report["cgroups"] = f"none ({self.cgroup_problem}): limits are per process (rlimits)"
            report["time_limits"] = "wall-clock time"
            report["not_protected"] = report.get("not_protected", []) + [
                "memory and process limits hold per process, not for the submission as a "
                "whole", "a very busy machine can make a slow but correct call time out"]
        return report

    def start(self, slot, preload=()):
        """A fresh student process in worker slot `slot`, in a cgroup of its own if possible.
        The slot's zygote then prepares the next one in the background, so that the namespace
        and cgroup set-up of the next submission overlaps the grading of this one."""
        zygote = self.zygotes[slot]
        proc = zygote.take_prepared(preload)
        if proc is None:
            proc = zygote.spawn(preload, self._group())
        if zygote.protections.get("pid_namespace"):  # else it could see (ptrace, kill) the next
            zygote.prepare(preload, self._group())
        return proc

    def _group(self):
        if not self.hierarchy:
            return None
        return self.hierarchy.group((self.limits.memory_mb + CGROUP_HEADROOM_MB) << 20,
                                    self.limits.processes + 2)

    def close(self):
        for z in self.zygotes:
            z.close()
        self.zygotes = []
        if self.hierarchy:
            self.hierarchy.close()
            self.hierarchy = None


class Zygote:
    """One pre-started python (numpy imported) that forks student processes for one worker slot."""

    def __init__(self, limits=Limits(), namespaces=True, sandbox_uid=None):
        self.limits = limits
        self.prepared = None  # (preloaded modules, cgroup) of a student process asked for
        self.scratch = None   # the zygote's own folder, when it had to be a temporary one
        self.preloaded = set()  # what the zygote has imported: every later child has it too
        if sandbox_uid is None and os.geteuid() == 0:
            sandbox_uid = pick_sandbox_uids(1)[0]
        self.conf = {
            "namespaces": namespaces,
            "sandbox_uid": sandbox_uid,
            "limits": limits.for_zygote(),
            "roots": isolation.readable_roots(extra=[GRADER_PACKAGE]),
            "env": student_env(),
            "tmp_size": f"{limits.file_size_mb * 2}m",
        }
        self._start()

    def _start(self):
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        own = private_folder("zygote")  # the zygote's files are root's: never in /tmp
        if own is None:  # a fresh folder, made exclusively, mode 0700, removed at close
            own = self.scratch = tempfile.mkdtemp(prefix="grader-zygote-")
        env = dict(student_env(), PYTHONPATH=os.path.dirname(GRADER_PACKAGE),
                   PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1", PYTHONNOUSERSITE="1",
                   HOME=own, TMPDIR=own, MPLCONFIGDIR=own)
        self.stderr = tempfile.TemporaryFile()  # a file, not a pipe: it can never fill up
        self.process = subprocess.Popen(
            [sys.executable, "-s", "-m", "grader.sandbox.zygote", str(child.fileno())],
            pass_fds=[child.fileno()], env=env, cwd="/", stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=self.stderr)
        child.close()
        self.sock = parent
        self.sock.send(json.dumps(self.conf).encode())
        self.sock.settimeout(120)
        try:
            reply = self.sock.recv(1 << 20)
        except socket.timeout:
            reply = b""
        if not reply:
            self.stderr.seek(0)
            err = self.stderr.read().decode(errors="replace")
            self.close()
            raise RuntimeError(f"the grader's zygote process failed to start: {err[-2000:]}")
        ready = json.loads(reply)
        self.protections = ready["protections"]
        if not ready["ready"]:
            self.close()
            raise RuntimeError("cannot start student processes: "
                               + ready["protections"].get("setup_error", "unknown error"))
        self.sock.settimeout(30)

    def spawn(self, preload=(), group=None):
        """A fresh student process (in `group`, a cgroups.Group, when given). A zygote that died
        (only possible when a student process could reach it, without namespaces) is replaced
        first."""
        for attempt in (1, 2):
            try:
                self._drop_prepared()
                self._send_spawn(preload, group)
                proc = self._receive_spawn(group)
                if proc is not None:
                    return proc
            except OSError:
                pass
            self.close()
            self._start()
        _discard(group)
        raise RuntimeError("the zygote could not start a student process")

    def prepare(self, preload, group):
        """Ask for the next student process now; take_prepared() collects it. It has every
        module this zygote ever preloaded: the next submission may need them, and they cost
        nothing more."""
        try:
            self._send_spawn(preload, group)
            self.prepared = (set(self.preloaded), group)
        except OSError:
            _discard(group)

    def take_prepared(self, preload):
        """The prepared student process, if there is one with `preload` imported."""
        if self.prepared is None:
            return None
        loaded, group = self.prepared
        self.prepared = None
        try:
            proc = self._receive_spawn(group)
        except OSError:
            proc = None
        if proc is not None and not set(preload) <= loaded:
            proc.kill()
            proc = None
        return proc

    def _drop_prepared(self):
        if self.prepared is not None:
            proc = self.take_prepared(())
            if proc is not None:
                proc.kill()

    def _send_spawn(self, preload, group):
        self.preloaded.update(preload)
        preload = self.preloaded
        self.sock.send(json.dumps({"op": "spawn", "preload": sorted(preload),
                                   "join": group.procs_files if group else []}).encode())

    def _receive_spawn(self, group):
        msg, fds, _, _ = socket.recv_fds(self.sock, 1024, 4)
        if len(fds) == 4:
            return StudentProcess(json.loads(msg)["pid"], *fds, self, group)
        for fd in fds:
            os.close(fd)
        _discard(group)
        return None

    def release(self, pid, status=False):
        """Reap the (killed) student process and clean up after it. With status=True, wait for
        that and return its wait status; otherwise the zygote does it while the grader goes on
        (it serves requests in order, so the next student process starts after the clean-up)."""
        try:
            if status:
                self._drop_prepared()
            self.sock.send(json.dumps({"op": "release", "pid": pid, "reply": status}).encode())
            return json.loads(self.sock.recv(1024)).get("status") if status else None
        except (OSError, ValueError):  # a zygote that does not answer is replaced, so that
            self.prepared = None       # no late reply is ever read as the next one's
            self.close()
            self._start()
            return None

    def close(self):
        if self.prepared is not None:
            _discard(self.prepared[1])
            self.prepared = None
        try:
            self.sock.close()  # the zygote sweeps its student processes and exits
        finally:
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
            self.stderr.close()
            if self.scratch:
                shutil.rmtree(self.scratch, ignore_errors=True)
                self.scratch = None


class StudentProcess:
    """One submission's loader and its current worker, as the grader sees them."""

    def __init__(self, pid, req_w, resp_r, ctl_fd, pidfd, zygote, group=None):
        self.pid, self.req_w, self.resp_r, self.pidfd = pid, req_w, resp_r, pidfd
        self.ctl = socket.socket(fileno=ctl_fd)
        self.ctl.setblocking(False)
        self.zygote, self.group = zygote, group
        self.limits = zygote.limits
        self.seq = 0
        self.status = None
        self.alive = True         # the loader is running
        self.worker = False       # a worker is serving calls
        self.oom_seen = 0
        self.unread = bytearray()  # bytes of the reply read ahead of what was asked for
        self.pollers = {}
        os.set_blocking(req_w, False)
        os.set_blocking(resp_r, False)

    def cpu_seconds(self):
        """CPU time the whole submission used so far (None without cgroups)."""
        return self.group.cpu_seconds() if self.group else None

    # -- requests ------------------------------------------------------------------------------

    def load(self, header, timeout, cpu_limit=None):
        """The load request, served by the loader itself (within `cpu_limit` seconds of the
        submission's CPU time, where there is a cgroup to count it, and `timeout` of wall-clock
        time). The loader then forks the first worker unasked. On any SandboxError the process
        is gone."""
        try:
            reply = self._request(header, (), timeout, cpu_limit)
        except SandboxError:
            self.kill()
            raise
        self.worker = True
        return reply

    def call(self, header, buffers, cpu_limit, wall_limit):
        """One call request, served by a worker (forked from the loaded state when there is
        none). A call that fails costs only its worker; SandboxError says what happened."""
        if not self.worker:
            self._fork_worker()
        return self._request(header, buffers, wall_limit, cpu_limit)

    def _request(self, header, buffers, timeout, cpu_limit):
        self.seq += 1
        header = dict(header, seq=self.seq)
        clock = Clock(timeout, cpu_limit, self.cpu_seconds)
        try:
            wire.write_all(wire.frame(header, buffers), lambda views: self._writev(views, clock))
            max_body = self.limits.result_mb << 20
            prefix = self._read(wire.PREFIX.size, clock)
            try:
                header_len, body_len = wire.parse_prefix(prefix, max_body)
            except wire.WireError as exc:
                raise BadReply(f"sent back something that is not a valid reply ({exc})")
            reply = wire.parse_header(self._read(header_len, clock))
            body = self._read(body_len, clock)
            if reply is None or reply.get("seq") != self.seq:
                raise BadReply("sent back a reply that could not be read or is out of order "
                               "(did your code write to the grader's channel?)")
            return reply, body
        except SandboxError:
            self.end_worker()
            raise

    def _fork_worker(self):
        if not self.alive:
            raise Died(describe_status(self.status))
        clock = Clock(self.limits.wall(5.0), None, None)
        self._clear_channel()  # nothing a worker that died mid-reply wrote reaches the next one
        try:
            self.ctl.send(b'{"op":"fork"}')
        except OSError:
            raise Died(self._death())
        self._control_reply("forked", clock)
        self.worker = True

    def end_worker(self):
        """Kill the current worker and everything it started; the loader stays."""
        if not self.worker or not self.alive:
            self.worker = False
            return
        self.worker = False
        try:
            self.ctl.send(b'{"op":"kill"}')
            self._control_reply("killed", Clock(self.limits.wall(2.0), None, None))
        except (OSError, SandboxError):
            self.kill()  # a loader that does not answer is stopped whole
            return
        self._clear_channel()

    def _clear_channel(self):
        """Drop what is left of a reply: in the pipe and read ahead."""
        _drain(self.resp_r)
        self.unread.clear()

    def _control_reply(self, key, clock):
        """Wait for the loader's reply carrying `key`, skipping worker-exit events."""
        while True:
            msg = self._control_message(clock)
            if key in msg:
                return msg

    def _control_message(self, clock):
        while True:
            try:
                data = self.ctl.recv(4096)
            except BlockingIOError:
                self._wait((self.ctl.fileno(), select.POLLIN), clock, watch_ctl=False)
                continue
            except OSError:
                data = b""
            if not data:
                raise Died(self._death())
            try:
                msg = json.loads(data)
            except ValueError:
                msg = None
            if not isinstance(msg, dict):
                raise BadReply("the student process broke the control protocol")
            return msg

    # -- waiting -------------------------------------------------------------------------------

    def _wait(self, fd_event, clock, watch_ctl=True):
        poller = self.pollers.get((fd_event, watch_ctl))
        if poller is None:
            poller = self.pollers[fd_event, watch_ctl] = select.poll()
            poller.register(fd_event[0], fd_event[1])
            poller.register(self.pidfd, select.POLLIN)
            if watch_ctl:
                poller.register(self.ctl.fileno(), select.POLLIN)
        while True:
            slice_ms = clock.next_slice() * 1000
            ready = dict(poller.poll(slice_ms))
            if fd_event[0] in ready:
                return
            if self.pidfd in ready:
                raise Died(self._death())
            if watch_ctl and self.ctl.fileno() in ready:
                msg = self._control_message(clock)
                if msg.get("event") == "exit":
                    self.worker = False
                    raise self._worker_death(msg.get("status"))
            clock.check()

    def _worker_death(self, status):
        if self.group and self.group.oom_kills() > self.oom_seen:
            self.oom_seen = self.group.oom_kills()
            return OutOfMemory(f"ran out of memory (the limit is {self.limits.memory_mb} MB for "
                               "all of the submission's processes together)")
        return Died(describe_status(status))

    def _writev(self, views, clock):
        while True:
            try:
                return os.writev(self.req_w, views)
            except BlockingIOError:
                self._wait((self.req_w, select.POLLOUT), clock)
            except BrokenPipeError:
                raise Died(self._death())

    def _read(self, n, clock):
        """The next n bytes of the reply (read ahead where more is there: wire.read_exact)."""
        return wire.read_exact(self.unread, n, lambda view: self._readinto(view, clock))

    def _readinto(self, view, clock):
        while True:
            try:
                count = os.readv(self.resp_r, [view])
            except BlockingIOError:
                self._wait((self.resp_r, select.POLLIN), clock)
                continue
            if not count:
                raise Died(self._death())
            return count

    def _death(self):
        self.kill(status=True)
        return describe_status(self.status)

    def kill(self, status=False):
        """End the loader, its workers and everything they started (status=True: and learn how
        the loader ended, for the message)."""
        if not self.alive:
            return
        self.alive = self.worker = False
        try:
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        except OSError:
            pass
        if self.group:  # with a pid namespace, killing the loader ends all of them anyway
            self.group.retire()
        # Wait until the loader has ended. As PID 1 of its pid namespace it ends only after
        # every other process there, so nothing of this submission (a socket it opened in the
        # network namespace the next one joins, say) is left when the next one's code starts.
        poller = select.poll()
        poller.register(self.pidfd, select.POLLIN)
        poller.poll(GONE_WAIT_MS)
        for fd in (self.req_w, self.resp_r, self.pidfd):
            os.close(fd)
        self.ctl.close()
        self.status = self.zygote.release(self.pid, status)


GONE_WAIT_MS = 2000  # a killed loader unmaps its memory in about 3 ms; never wait longer than this


class Clock:
    """A deadline in wall-clock time, and optionally in the submission's CPU time."""

    def __init__(self, wall_seconds, cpu_limit, cpu_seconds):
        self.wall_seconds, self.cpu_limit = wall_seconds, cpu_limit
        self.wall_end = time.monotonic() + wall_seconds
        self.cpu = cpu_seconds if cpu_limit is not None and cpu_seconds else None
        self.cpu_start = self.cpu() if self.cpu else None
        if self.cpu is not None and self.cpu_start is None:
            self.cpu = None

    def next_slice(self):
        left = self.wall_end - time.monotonic()
        if left <= 0:
            self.check()
        return min(left, 0.05) if self.cpu else max(left, 0.001)

    def check(self):
        if self.cpu and self.cpu() - self.cpu_start > self.cpu_limit:
            raise TimedOut(f"used more than {self.cpu_limit:g} s of CPU time")
        if time.monotonic() >= self.wall_end:
            raise TimedOut(f"did not finish within {self.wall_seconds:g} s")


def _discard(group):
    """Kill whatever is left in a cgroup and remove it."""
    if group is not None:
        group.kill()
        group.remove()


def _drain(fd):
    try:
        while os.read(fd, 1 << 16):
            pass
    except (BlockingIOError, OSError):
        pass
