"""The grader's side of the sandbox: a zygote per worker slot, and student processes forked from it.

Everything a student process sends is read here with hard limits (grader.wire), under a wall-clock
deadline that watches both the reply pipe and the process itself (a pidfd).
"""
import json
import os
import pwd
import select
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass

from . import isolation, wire

GRADER_PACKAGE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


@dataclass(frozen=True)
class Limits:
    """Resource limits for one submission's student process (all per submission-topic)."""

    call_seconds: float = 10.0        # wall time of one call of a student function
    cell_seconds: float = 10.0        # wall time of one notebook cell while loading
    submission_seconds: float = 120.0  # wall time of everything one submission runs
    memory_mb: int = 1024             # address space on top of python and numpy
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


class SandboxError(Exception):
    """A call could not complete; the message is written for the student."""


class Died(SandboxError):
    pass


class TimedOut(SandboxError):
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
    lock_dir = "/run/lock" if os.access("/run/lock", os.W_OK) else "/tmp"
    uid = int(os.environ.get("GRADER_SANDBOX_UID", "63900"))
    uids = []
    while len(uids) < count:
        try:
            pwd.getpwuid(uid)
        except KeyError:
            lock = open(os.path.join(lock_dir, f"grader-sandbox-uid-{uid}.lock"), "a")
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except OSError:
                lock.close()
            else:
                if isolation.count_processes_of(uid) == 0:
                    _uid_locks.append(lock)
                    uids.append(uid)
                else:
                    lock.close()
        uid += 1
    return uids


def describe_status(status):
    if status is None:
        return "ended"
    if os.WIFSIGNALED(status):
        sig = os.WTERMSIG(status)
        if sig == signal.SIGXCPU:
            return "used up its CPU time and was stopped"
        name = signal.Signals(sig).name if sig in signal.Signals._value2member_map_ else str(sig)
        return f"was killed by {name}"
    return f"exited with status {os.WEXITSTATUS(status)}"


class Zygote:
    """One pre-started python (numpy imported) that forks student processes for one worker slot."""

    def __init__(self, limits=Limits(), namespaces=True, sandbox_uid=None):
        self.limits = limits
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
        env = dict(student_env(), PYTHONPATH=os.path.dirname(GRADER_PACKAGE),
                   PYTHONHASHSEED="0", PYTHONDONTWRITEBYTECODE="1", PYTHONNOUSERSITE="1")
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

    def spawn(self, preload=()):
        """A fresh student process. A zygote that died (only possible when a student process
        could reach it, without namespaces) is replaced first."""
        for attempt in (1, 2):
            try:
                self.sock.send(json.dumps({"op": "spawn", "preload": sorted(preload)}).encode())
                msg, fds, _, _ = socket.recv_fds(self.sock, 1024, 3)
                if len(fds) == 3:
                    return StudentProcess(json.loads(msg)["pid"], *fds, self)
            except OSError:
                pass
            self.close()
            self._start()
        raise RuntimeError("the zygote could not start a student process")

    def release(self, proc):
        """Kill the student process and everything it started; returns its wait status."""
        try:
            self.sock.send(json.dumps({"op": "release", "pid": proc.pid}).encode())
            return json.loads(self.sock.recv(1024)).get("status")
        except (OSError, ValueError):
            return None

    def close(self):
        try:
            self.sock.close()
        finally:
            if self.process.poll() is None:
                self.process.kill()
            self.process.wait()
            self.stderr.close()


class StudentProcess:
    def __init__(self, pid, req_w, resp_r, pidfd, zygote):
        self.pid, self.req_w, self.resp_r, self.pidfd = pid, req_w, resp_r, pidfd
        self.zygote = zygote
        self.seq = 0
        self.status = None
        self.alive = True
        os.set_blocking(req_w, False)
        os.set_blocking(resp_r, False)

    def request(self, header, buffers=(), timeout=10.0):
        """Send one request and return (reply header, body). Raises SandboxError subclasses;
        after any of them the process is gone."""
        self.seq += 1
        header = dict(header, seq=self.seq)
        deadline = time.monotonic() + timeout
        try:
            self._write(wire.pack(header, buffers), deadline, timeout)
            max_body = self.zygote.limits.result_mb << 20
            prefix = self._read(wire.PREFIX.size, deadline, timeout)
            try:
                header_len, body_len = wire.parse_prefix(prefix, max_body)
            except wire.WireError as exc:
                raise BadReply(f"sent back something that is not a valid reply ({exc})")
            reply = self._read(header_len, deadline, timeout)
            body = self._read(body_len, deadline, timeout)
            try:
                reply = json.loads(reply)
            except ValueError:
                raise BadReply("sent back a reply that could not be read")
            if type(reply) is not dict or reply.get("seq") != self.seq:
                raise BadReply("sent back a reply out of order (did your code write to the "
                               "grader's channel?)")
            return reply, body
        except SandboxError:
            self.kill()
            raise

    def _wait(self, fd_event, deadline, timeout):
        poller = select.poll()
        poller.register(fd_event[0], fd_event[1])
        poller.register(self.pidfd, select.POLLIN)
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimedOut(f"did not finish within {timeout:g} s")
            ready = dict(poller.poll(left * 1000))
            if fd_event[0] in ready:
                return
            if self.pidfd in ready:
                raise Died(self._death())

    def _write(self, data, deadline, timeout):
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self.req_w, view):]
            except BlockingIOError:
                self._wait((self.req_w, select.POLLOUT), deadline, timeout)
            except BrokenPipeError:
                raise Died(self._death())

    def _read(self, n, deadline, timeout):
        out = bytearray()
        while len(out) < n:
            try:
                chunk = os.read(self.resp_r, min(n - len(out), 1 << 20))
            except BlockingIOError:
                self._wait((self.resp_r, select.POLLIN), deadline, timeout)
                continue
            if not chunk:
                raise Died(self._death())
            out += chunk
        return bytes(out)

    def _death(self):
        self.kill()
        return describe_status(self.status)

    def kill(self):
        if not self.alive:
            return
        self.alive = False
        try:
            signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
        except OSError:
            pass
        for fd in (self.req_w, self.resp_r, self.pidfd):
            os.close(fd)
        self.status = self.zygote.release(self)
