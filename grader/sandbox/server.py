"""The student side: runs inside the sandboxed process, loads the submission once and serves calls.

Two roles, one process image:
- the *loader* runs the submission's code once (`load`), forks the first *worker* from the
  loaded state, then waits on its control socket. On "fork" it forks a new worker from that
  state; on "kill" it kills every worker process
  (as PID 1 of its pid namespace, or as the only process of its uid, with kill(-1)) and reaps
  them. A worker's exit is reported on the control socket.
- the *worker* serves calls on the request/response pipes until it dies.
So a call that hangs, dies or breaks the protocol costs one worker, and the next call starts
from the loaded state again, without running the notebook a second time.

Nothing here is trusted by the grader: it only turns requests into calls of the student's
functions (grader.sandbox.calls) and sends back plain values; the grader validates whatever
arrives.
"""
import builtins
import gc
import io
import json
import os
import random
import select
import signal
import sys
import types

import numpy as np

from . import calls, isolation, plotting, probes, wire

OUTPUT_CAP = 64 * 1024


class CappedText(io.TextIOBase):
    """A text stream that keeps the first OUTPUT_CAP characters and drops the rest."""

    def __init__(self):
        self.parts, self.size = [], 0

    def writable(self):
        return True

    def write(self, s):
        s = str(s)
        if self.size < OUTPUT_CAP:
            self.parts.append(s[: OUTPUT_CAP - self.size])
        self.size += len(s)
        return len(s)


class IPythonStub:
    """Enough of IPython's `get_ipython()` for transformed magics: `%%time` and `%time` run their
    code, other magics and `!shell` lines do nothing."""

    RUNS_CODE = {"time", "capture", "prun"}

    def __init__(self, namespace):
        self.user_ns = namespace

    def run_line_magic(self, name, line, _stack_depth=1):
        if name in self.RUNS_CODE:
            exec(compile(line, "<magic>", "exec"), self.user_ns)

    def run_cell_magic(self, name, line, cell):
        if name in self.RUNS_CODE:
            exec(compile(cell, "<magic>", "exec"), self.user_ns)

    def system(self, *args, **kwargs):
        return None

    def getoutput(self, *args, **kwargs):
        return []

    def __getattr__(self, name):
        return lambda *args, **kwargs: None


def _cell_alarm(signum, frame):
    raise calls.CellTimeout()


class Server:
    def __init__(self, req_fd=None, resp_fd=None, passthrough=()):
        self.req_fd, self.resp_fd = req_fd, resp_fd
        self.unread = bytearray()  # request bytes read ahead of what was asked for
        self.passthrough = passthrough  # exceptions that are not the call's result (Ctrl-C)
        self.handles = {}
        self.handle_ids = set()   # ids of the objects behind handles (caches), see calls.snapshot
        self.generators = {}
        self.namespace = None
        self.student_files = set()

    def keep(self, obj):
        hid = len(self.handles) + 1
        self.handles[hid] = obj
        self.handle_ids.add(id(obj))
        return hid

    # -- wire.decode's resolver: what the grader's requests refer to --
    def handle(self, hid):
        if hid not in self.handles:
            raise wire.WireError(f"unknown handle {hid}")
        return self.handles[hid]

    def generator(self, key, seed):
        if key not in self.generators:
            self.generators[key] = np.random.default_rng(seed)
        return self.generators[key]

    def probe(self, name, args):
        return probes.build(name, *args)

    # -- framing (the grader is trusted; sizes are still bounded by what it sends) --
    def _read_exact(self, n):
        return wire.read_exact(self.unread, n, self._readinto)

    def _readinto(self, view):
        count = os.readv(self.req_fd, [view])
        if not count:  # the grader closed the pipe
            os._exit(0)
        return count

    def receive(self):
        header_len, body_len = wire.parse_prefix(self._read_exact(wire.PREFIX.size), 1 << 40)
        header = json.loads(self._read_exact(header_len))
        return header, self._read_exact(body_len)

    def send(self, header, buffers=()):
        wire.write_all(wire.frame(header, buffers), lambda views: os.writev(self.resp_fd, views))

    # -- operations --
    def load(self, req):
        """Run the submission's cells, in order, each under its own time limit."""
        name = req["module"]
        module = types.ModuleType(name)
        module.__dict__.update({"__builtins__": builtins, "display": lambda *a, **k: None})
        module.__dict__["get_ipython"] = lambda: stub
        stub = IPythonStub(module.__dict__)
        sys.modules[name] = module
        self.namespace = module.__dict__
        np.random.seed(req["seed"])
        random.seed(req["seed"])
        cells = req["cells"]
        if req["stand_in"]:  # the grader's plotting.suits
            plotting.install_stand_in()
        else:
            plotting.quiet_plots()
        errors = []
        signal.signal(signal.SIGALRM, _cell_alarm)
        for i, cell in enumerate(cells):
            filename = cell["file"]
            self.student_files.add(filename)
            try:
                signal.setitimer(signal.ITIMER_REAL, req["cell_seconds"])
                exec(compile(cell["source"], filename, "exec"), self.namespace)
            except BaseException as exc:
                errors.append({"cell": i, **calls.describe_exception(exc, self.student_files)})
            finally:
                signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_DFL)
        plotting.quiet_plots()  # the cells may have imported the real matplotlib themselves
        functions = sorted(k for k, v in list(self.namespace.items())
                           if type(k) is str and callable(v) and not k.startswith("__")
                           and not isinstance(v, plotting.Anything))
        return {"ok": True, "errors": errors[:50], "functions": functions[:500]}, []

    def call(self, req, body):
        """Every call is a batch (a single call is a batch of one), so both look alike."""
        fn = self.namespace.get(req["fn"]) if self.namespace is not None else None
        if not callable(fn):
            return {"ok": False, "error": {"type": "Missing", "message": "", "where": None}}, []
        arglists = wire.decode(req["args"], body, self)
        return calls.invoke(fn, arglists, pick=req.get("pick"), opaque=req.get("opaque") or (),
                            errstate=req.get("errstate"), keep=self.keep, skip=self.handle_ids,
                            student_files=self.student_files, passthrough=self.passthrough,
                            chain=req.get("chain"))

    def answer(self, req, body):
        try:
            if req["op"] == "load":
                reply, buffers = self.load(req)
            elif req["op"] == "call":
                reply, buffers = self.call(req, body)
            else:
                reply, buffers = {"ok": True}, []
        except wire.WireError as exc:
            reply, buffers = {"ok": False, "unsendable": str(exc)[:200]}, []
        except BaseException as exc:
            reply = {"ok": False, "error": calls.describe_exception(exc, self.student_files)}
            buffers = []
        reply["seq"] = req["seq"]
        return reply, buffers

    def serve_one(self):
        self.send(*self.answer(*self.receive()))

    def serve(self):
        while True:
            self.serve_one()


def run_loader(server, ctl, kill_all):
    """The loader: load once, fork the first worker at once (its start-up overlaps the grader
    reading the load reply; the grader counts on it), then fork a new one on request. `kill_all`
    says whether kill(-1) reaches exactly this submission's other processes (PID 1 of a pid
    namespace, or the only process of a sandbox uid); otherwise a worker's process group is
    killed. Orphans are re-parented here and reaped as they end, so that no zombie holds a
    process slot."""
    isolation.prctl(isolation.PR_SET_CHILD_SUBREAPER, 1)
    server.serve_one()  # the load request
    wake_r, wake_w = os.pipe()
    for fd in (wake_r, wake_w):
        os.set_blocking(fd, False)
    signal.set_wakeup_fd(wake_w)
    signal.signal(signal.SIGCHLD, lambda signum, frame: None)
    worker = None

    def tell(msg):
        ctl.send(json.dumps(msg).encode())

    def reap(block_for=None):
        """Reap every ended child; return the worker's wait status if it was one of them.
        block_for: a pid to wait for first."""
        nonlocal worker
        ended = None
        if block_for is not None:
            ended = os.waitpid(block_for, 0)[1]
            worker = None
        while True:
            try:
                pid, status = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                break
            if pid == 0:
                break
            if pid == worker:
                ended, worker = status, None
        return ended

    def stop_worker():
        if worker is None:
            return None
        _kill_rest(kill_all, worker)
        status = reap(block_for=worker)
        while kill_all:  # every other process got SIGKILL too: collect them all now
            try:
                os.waitpid(-1, 0)
            except ChildProcessError:
                break
        return status

    def fork_worker():
        nonlocal worker
        gc.freeze()  # the loaded state: a worker's collections need not walk (and copy) it
        stdlib_random, loader = random.getstate(), os.getpid()
        worker = os.fork()
        if worker == 0:
            random.setstate(stdlib_random)  # Python reseeds it from os.urandom at fork
            signal.set_wakeup_fd(-1)
            signal.signal(signal.SIGCHLD, signal.SIG_DFL)
            for fd in (wake_r, wake_w):
                os.close(fd)
            ctl.close()
            os.setpgid(0, 0)
            isolation.die_with(loader, signal.SIGKILL)  # a worker dies with its loader
            isolation.name_process("student-worker")
            server.serve()

    fork_worker()  # the first one: the grader may already be writing its first call
    while True:
        ready = select.select([ctl, wake_r], [], [])[0]
        if wake_r in ready:
            _drain(wake_r)
            if worker is not None:
                pid = worker
                status = reap()
                if worker is None:
                    _kill_rest(kill_all, pid)  # what the worker started ends with it
                    tell({"event": "exit", "status": status})
            else:
                reap()
            continue
        msg = ctl.recv(4096)
        if not msg:
            os._exit(0)
        op = json.loads(msg).get("op")
        if op == "kill":
            tell({"killed": stop_worker()})
        elif op == "fork":
            stop_worker()
            _drain(server.req_fd)  # what a dead worker left unread
            fork_worker()
            tell({"forked": True})


def _kill_rest(kill_all, worker):
    """SIGKILL every process of the submission but this one (kill_all), or the worker's group."""
    try:
        if kill_all:
            os.kill(-1, signal.SIGKILL)
        else:
            os.killpg(worker, signal.SIGKILL)
    except OSError:  # nobody left to signal
        pass


def _drain(fd):
    """Throw away what is waiting on `fd` (request bytes a dead worker left unread)."""
    blocking = os.get_blocking(fd)
    os.set_blocking(fd, False)
    try:
        while os.read(fd, 1 << 16):
            pass
    except BlockingIOError:
        pass
    finally:
        os.set_blocking(fd, blocking)


def redirect_stdio():
    """stdin reads end-of-file at once; printed output goes to capped in-memory buffers."""
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    os.close(devnull)
    sys.stdin = io.TextIOWrapper(io.BytesIO(b""))
    sys.stdout, sys.stderr = CappedText(), CappedText()
    sys.__stdout__, sys.__stderr__ = sys.stdout, sys.stderr
