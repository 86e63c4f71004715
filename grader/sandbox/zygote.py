"""The zygote: a process that has imported numpy once and forks a fresh student process on request.

It is started by the grader (grader.sandbox.Zygote) with a clean environment and never sees
reference solutions or expected values, so nothing secret is copied into a student process.
Protocol, over a SOCK_SEQPACKET socket from the grader: JSON messages; a spawned process's pipe
ends and pidfd travel back as SCM_RIGHTS file descriptors.
"""
import ctypes
import fcntl
import gc
import json
import os
import shutil
import signal
import socket
import sys
import tempfile
import traceback

from . import isolation as iso

SETUP_FAILED = 121  # exit status of a student process whose sandbox could not be set up
PIPE_BYTES = 1 << 20  # pipe capacity asked for (Linux allows unprivileged users up to 1 MB)


class Plan:
    """Which isolation steps this zygote applies to every student process."""

    def __init__(self, conf, userns):
        self.root = os.geteuid() == 0
        self.userns = userns
        self.uid = conf.get("sandbox_uid") if self.root else None
        self.pidns = self.netns = self.ipcns = self.fs = conf["namespaces"] and (self.root or userns)
        self.limits = conf["limits"]
        self.roots = conf["roots"]
        # As root, the zygote can put its next child in a new pid namespace itself (unshare,
        # fork, then setns back to its own), which saves a launcher process per submission. In
        # a user namespace, setns back to the grader's pid namespace is not allowed.
        self.own_pidns = own_pidns_fd() if self.pidns and self.root and not userns else None
        # With the keyring system calls refused (seccomp, set up before any student code runs,
        # and inherited by every process it starts), a submission cannot put anything in its
        # uid's keyrings, so there is nothing to clear after it (a fork of this large process).
        self.keyrings_refused = bool(iso.REFUSED_SYSCALLS and iso.AUDIT_ARCH)
        self.syscall_filter = (iso.SyscallFilter(iso.REFUSED_SYSCALLS.values())
                               if self.keyrings_refused else None)
        self.template = None  # a Template, once made (see use_template)

    def use_template(self):
        """Give student processes copies of one prepared root and network namespace. Only as
        root outside a user namespace (there a fresh /proc may be mounted in a copy that shows
        no other /proc); without it, each student process builds its own."""
        if self.fs and self.netns and self.root and not self.userns:
            try:
                self.template = Template(self.roots)
            except OSError:
                self.template = None

    @property
    def direct_pidns(self):
        return self.pidns and self.own_pidns is not None

    @property
    def kill_all(self):
        """kill(-1) from the student's loader reaches exactly its own other processes: it is PID 1
        of its own pid namespace, or the only process of its sandbox uid."""
        return self.pidns or self.uid is not None

    def report(self):
        return {
            "separate_process": True,
            "uid": (f"dropped to uid {self.uid}" if self.uid is not None else
                    "runs as the grader's uid (not root, cannot switch users)"),
            "pid_namespace": self.pidns,
            "ipc_namespace": self.ipcns,
            "session_keyring": "its own, empty",
            "refused_syscalls": sorted(iso.REFUSED_SYSCALLS or ()),
            "network": "none (private network namespace)" if self.netns else "not isolated",
            "filesystem": ("private read-only root: only python and its libraries are visible"
                           if self.fs else "not isolated"),
            "limits": self.limits,
            "not_protected": self.gaps(),
        }

    def gaps(self):
        """What a submission can do in this mode that it cannot do with full isolation, in
        plain words (the report prints them)."""
        gaps = []
        if not self.fs:
            gaps.append("it can read every file the sandbox uid may read (other submissions, "
                        "solutions, your files if they are world-readable)" if self.uid is not None
                        else "it can read and write every file you can")
        if not self.netns:
            gaps.append("it can use the network")
        if not self.ipcns:
            gaps.append("it can reach host-wide shared memory, message queues and semaphores "
                        "while it runs (those of its uid are removed afterwards)"
                        if self.uid is not None else
                        "it can reach your shared memory, message queues and semaphores")
        if not self.pidns:
            gaps.append("it can see every process on the machine" + (
                "" if self.uid is not None else " and signal yours"))
        if self.uid is None and not self.fs:
            gaps.append("files it leaves in /tmp, /var/tmp or /dev/shm are not removed")
        return gaps


class Template:
    """Namespaces made once per zygote instead of once per student process (which cost 2 ms of
    CPU each, a twentieth of a notebook's grading): `mnt`, a mount namespace whose root is the
    private read-only root (each student process enters a copy, with its own fresh /tmp,
    /dev/shm and /proc: iso.join_private_root), and `net`, an empty network namespace that
    student processes join (it has only a loopback device, down, which they cannot bring up or
    change without privileges; what a process opens in it, such as a socket, ends with that
    process, and the grader waits for the end of a submission's processes before the next one
    loads: StudentProcess.kill). Held as file descriptors: the helper that made them is gone."""

    def __init__(self, roots):
        ready_r, ready_w = os.pipe()
        done_r, done_w = os.pipe()
        pid = os.fork()
        if pid == 0:
            status = 1
            try:
                os.close(ready_r)
                os.close(done_w)
                iso.unshare(iso.CLONE_NEWNS | iso.CLONE_NEWNET)
                iso.mount(None, "/", None, iso.MS_REC | iso.MS_PRIVATE)
                iso.build_private_root("/tmp", roots)
                iso.enter_private_root("/tmp", mount_proc_first=False)
                os.write(ready_w, b"k")
                os.read(done_r, 1)  # stay until the zygote has opened the namespaces
                status = 0
            finally:
                os._exit(status)
        os.close(ready_w)
        os.close(done_r)
        try:
            if os.read(ready_r, 1) != b"k":
                raise OSError("could not build the private root")
            self.mnt = os.open(f"/proc/{pid}/ns/mnt", os.O_RDONLY | os.O_CLOEXEC)
            self.net = os.open(f"/proc/{pid}/ns/net", os.O_RDONLY | os.O_CLOEXEC)
        finally:
            os.close(ready_r)
            os.close(done_w)
            os.waitpid(pid, 0)


def set_up_student_process(plan, conf, workdir, nproc_base, launcher_gone):
    """Everything between fork and the first line of student code. Runs as PID 1 of a fresh pid
    namespace when plan.pidns. Raises on any failure (the caller exits with SETUP_FAILED)."""
    os.setsid()
    iso.prctl(iso.PR_SET_DUMPABLE, 1)
    if plan.template is not None:
        iso.setns(plan.template.net, iso.CLONE_NEWNET)
        iso.join_private_root(plan.template.mnt, plan.roots, conf["tmp_size"])
        iso.unshare(iso.CLONE_NEWIPC)
        workdir = "/tmp"
    else:
        flags = ((iso.CLONE_NEWNS if plan.fs else 0) | (iso.CLONE_NEWNET if plan.netns else 0)
                 | (iso.CLONE_NEWIPC if plan.ipcns else 0))
        if flags:
            iso.unshare(flags)
        if plan.fs:
            iso.mount(None, "/", None, iso.MS_REC | iso.MS_PRIVATE)
            iso.build_private_root("/tmp", plan.roots)
            iso.mount_scratch("/tmp", conf["tmp_size"])
            iso.enter_private_root("/tmp", mount_proc_first=plan.pidns)
            workdir = "/tmp"
    os.chdir(workdir)
    limits = dict(plan.limits)
    limits["address_space"] = iso.address_space_in_use() + limits["memory_bytes"]
    limits["processes"] = None if nproc_base is None else limits["processes"] + nproc_base
    iso.set_limits(limits)
    iso.prctl(iso.PR_SET_NO_NEW_PRIVS, 1)
    if plan.uid is not None:
        iso.drop_to(plan.uid, plan.uid)
    elif plan.userns and plan.fs:
        iso.lock_user_namespace()
    iso.join_new_session_keyring()  # not the grader's: its keys are the instructor's secrets
    if plan.syscall_filter is not None:
        plan.syscall_filter.install()
    # Die with the zygote. The launcher that forked us must be gone first (the zygote closes
    # its end of this pipe once it has reaped the launcher, so we are then the zygote's child),
    # and a uid change clears this setting, so it comes last.
    while os.read(launcher_gone, 1):
        pass
    os.close(launcher_gone)
    iso.prctl(iso.PR_SET_PDEATHSIG, signal.SIGKILL)
    os.environ.clear()
    os.environ.update(conf["env"], HOME=workdir, TMPDIR=workdir, MPLCONFIGDIR=workdir)


def make_workdir(plan):
    """Without a private /tmp: a fresh folder of the student's own, with a name nobody can guess
    and created exclusively (so nothing planted beforehand can take its place), owned by the
    sandbox uid, mode 0700. Removed at release."""
    path = tempfile.mkdtemp(prefix="grader-student-", dir="/tmp")
    if plan.uid is not None:
        os.chown(path, plan.uid, plan.uid)
    return path


def close_fds_except(*keep):
    low = 3
    for fd in sorted(keep):
        os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, 1 << 16)


def student_main(plan, conf, req_r, resp_w, ctl, workdir, nproc_base, launcher_gone):
    import grader
    from . import server
    grader.IN_SANDBOX = True  # a notebook's check(...) and test(...) cells do nothing here
    try:
        iso.name_process("student-loader")
        set_up_student_process(plan, conf, workdir, nproc_base, launcher_gone)
        close_fds_except(req_r, resp_w, ctl.fileno())
        server.redirect_stdio()
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGPIPE, signal.SIGCHLD):
            signal.signal(sig, signal.SIG_DFL)
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    except BaseException:
        try:
            os.write(resp_w, traceback.format_exc()[-2000:].encode())
        finally:
            os._exit(SETUP_FAILED)
    try:
        server.run_loader(server.Server(req_r, resp_w), ctl, plan.kill_all)
    finally:
        os._exit(0)


def own_pidns_fd():
    """An fd of this process's pid namespace, if it can unshare a new one for its children and
    setns back to this one (else None)."""
    fd = os.open("/proc/self/ns/pid", os.O_RDONLY | os.O_CLOEXEC)
    try:
        iso.unshare(iso.CLONE_NEWPID)
        iso.setns(fd, iso.CLONE_NEWPID)
    except OSError:
        os.close(fd)
        return None
    return fd


def spawn(plan, conf, join=()):
    """Fork a student process (through a short-lived launcher, which first joins the
    submission's cgroups, and which unshares the pid namespace so that this zygote stays in its
    own). Returns (pid, workdir, req_w, resp_r, ctl): the grader's ends of the request and
    response pipes and of the loader's control socket."""
    req_r, req_w = os.pipe()
    resp_r, resp_w = os.pipe()
    for fd in (req_w, resp_w):  # arrays of ~1 MB in one write: fewer wake-ups per call
        try:
            fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        except OSError:
            pass  # over the user's pipe-size allowance: the default 64 KB still works
    ctl, ctl_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
    gone_r, gone_w = os.pipe()
    # RLIMIT_NPROC counts every process of the real uid: without a uid of its own, the student
    # process may start a few more than exist now. In a cgroup, its pids limit counts the
    # submission's own processes, and RLIMIT_NPROC (the uid's, so also those of the previous
    # submission, maybe still dying) is left out.
    nproc_base = (None if join else 0 if plan.uid is not None
                  else iso.count_processes_of(os.getuid()))
    gc.freeze()  # what the zygote holds is never collected in a child: no copy-on-write for it
    if plan.direct_pidns:
        return spawn_direct(plan, conf, join, nproc_base, (req_r, req_w, resp_r, resp_w),
                            (ctl, ctl_child), (gone_r, gone_w))
    report_r, report_w = os.pipe()
    launcher = os.fork()
    if launcher == 0:
        try:
            os.close(req_w)
            os.close(resp_r)
            os.close(report_r)
            ctl.close()
            for procs in join:
                with open(procs, "w") as f:
                    f.write(str(os.getpid()))
            workdir = "/tmp" if plan.fs else make_workdir(plan)
            if plan.pidns:
                iso.unshare(iso.CLONE_NEWPID)
            pid = os.fork()
            if pid == 0:
                os.close(report_w)
                os.close(gone_w)
                student_main(plan, conf, req_r, resp_w, ctl_child, workdir, nproc_base, gone_r)
            # Only the zygote's copy of gone_w may remain: it closes it after reaping this
            # launcher, when the student process has surely been re-parented to the zygote.
            os.close(gone_r)
            os.close(gone_w)
            os.write(report_w, json.dumps([pid, workdir]).encode())
        finally:
            os._exit(0)
    for fd in (req_r, resp_w, report_w, gone_r):
        os.close(fd)
    ctl_child.close()
    os.waitpid(launcher, 0)
    os.close(gone_w)
    report = os.read(report_r, 4096)
    os.close(report_r)
    if not report:
        for fd in (req_w, resp_r):
            os.close(fd)
        ctl.close()
        raise OSError("could not start a student process")
    pid, workdir = json.loads(report)
    return pid, workdir, req_w, resp_r, ctl


def spawn_direct(plan, conf, join, nproc_base, pipes, sockets, gone):
    """spawn() without a launcher (see Plan.direct_pidns): the child is PID 1 of a new pid
    namespace at once, and waits until the zygote has put it in the submission's cgroups
    (the end of `gone`) before it does anything else."""
    req_r, req_w, resp_r, resp_w = pipes
    ctl, ctl_child = sockets
    gone_r, gone_w = gone
    workdir = "/tmp" if plan.fs else make_workdir(plan)
    pid = None
    iso.unshare(iso.CLONE_NEWPID)
    try:
        pid = os.fork()
        if pid == 0:
            try:
                for fd in (req_w, resp_r, gone_w):
                    os.close(fd)
                ctl.close()
                if os.read(gone_r, 1) != b"j":  # the zygote has put it in its cgroups
                    os._exit(SETUP_FAILED)
                student_main(plan, conf, req_r, resp_w, ctl_child, workdir, nproc_base, gone_r)
            finally:
                os._exit(SETUP_FAILED)
    finally:
        if pid != 0:
            iso.setns(plan.own_pidns, iso.CLONE_NEWPID)
    for fd in (req_r, resp_w):
        os.close(fd)
    ctl_child.close()
    os.close(gone_r)
    try:
        for procs in join:
            with open(procs, "w") as f:
                f.write(str(pid))
    except OSError:
        os.kill(pid, signal.SIGKILL)
        os.waitpid(pid, 0)
        for fd in (req_w, resp_r, gone_w):
            os.close(fd)
        ctl.close()
        raise
    os.write(gone_w, b"j")
    os.close(gone_w)
    return pid, workdir, req_w, resp_r, ctl


def sweep_children(keep=()):
    """Kill and reap every child of this zygote but the student processes in `keep` (one
    prepared for the next submission): a released student process and whatever it left behind
    (orphans are re-parented here, as this process is a child subreaper)."""
    for _ in range(1000):
        kids = set()
        for tid in os.listdir("/proc/self/task"):
            try:
                with open(f"/proc/self/task/{tid}/children") as f:
                    kids.update(int(p) for p in f.read().split())
            except OSError:
                pass
        kids -= set(keep)
        if not kids:
            return
        for pid in kids:
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
        for pid in kids:
            try:
                os.waitpid(pid, 0)
            except ChildProcessError:
                pass


def probe(plan, conf):
    """Start one student process without student code and check that its set-up succeeds.
    Returns None on success, else the failure text."""
    pid, workdir, req_w, resp_r, ctl = spawn(plan, conf)
    os.close(req_w)  # the server reads end-of-file and exits
    ctl.close()
    out = b""
    while True:
        chunk = os.read(resp_r, 4096)
        if not chunk:
            break
        out += chunk
    os.close(resp_r)
    _, status = os.waitpid(pid, 0)
    sweep_children()
    clean_up(plan, workdir, live=())
    if os.waitstatus_to_exitcode(status) == SETUP_FAILED:
        return out.decode(errors="replace")
    return None


def main():
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is for the grader to handle
    sock = socket.socket(fileno=int(sys.argv[1]))
    conf = json.loads(sock.recv(1 << 20))
    conf["zygote_pid"] = os.getpid()
    userns = False
    if conf["namespaces"] and os.geteuid() != 0:
        try:
            iso.enter_user_namespace()
            userns = True
        except OSError:
            pass
    # No parent-death signal here: it would fire when the grader *thread* that started this
    # zygote ends. The zygote ends instead when the grader's end of the socket closes.
    iso.prctl(iso.PR_SET_CHILD_SUBREAPER, 1)
    iso.name_process("grader-zygote")
    import numpy  # noqa: F401  (the point of the zygote)
    import numpy.linalg, numpy.random, numpy.fft  # noqa: E401,F401
    warm_up_numpy()
    from . import plotting, server  # noqa: F401
    plotting.submodules()
    warm_up_calls()
    from .. import nbgrader  # noqa: F401  (what a notebook's test cells import; a no-op here)
    preload(conf.get("preload", ()))
    heap_in_huge_pages()  # what it imported and warmed up
    plan = Plan(conf, userns)
    plan.use_template()
    failure = probe(plan, conf) if (plan.fs or plan.netns or plan.pidns) else None
    if failure and plan.template is not None:  # then with namespaces of its own
        plan.template = None
        failure = probe(plan, conf)
    namespace_failure = failure
    if failure:
        plan.pidns = plan.netns = plan.fs = False
        failure = probe(plan, conf)
    report = plan.report()
    if namespace_failure:
        report["namespaces_unavailable"] = last_line(namespace_failure)
    elif conf["namespaces"] and not plan.pidns:
        report["namespaces_unavailable"] = "cannot create user namespaces as this user"
    if failure:
        report["setup_error"] = last_line(failure)
    sock.send(json.dumps({"ready": failure is None, "protections": report}).encode())
    workdirs = {}
    while True:
        try:
            msg = sock.recv(1 << 16)
        except OSError:  # ECONNRESET: the grader died with a reply of ours unread
            msg = b""
        if not msg:  # the grader is gone: take every student process and its leftovers along
            sweep_children()
            for workdir in workdirs.values():
                clean_up(plan, workdir)
            return
        req = json.loads(msg)
        if req["op"] == "spawn":
            if preload(req.get("preload", ())):
                heap_in_huge_pages()  # the new modules too
            pid, workdir, req_w, resp_r, ctl = spawn(plan, conf, req.get("join", ()))
            workdirs[pid] = workdir
            try:
                pidfd = os.pidfd_open(pid)
            except OSError:
                pidfd = os.open("/dev/null", os.O_RDONLY)
            socket.send_fds(sock, [json.dumps({"pid": pid}).encode()],
                            [req_w, resp_r, ctl.fileno(), pidfd])
            for fd in (req_w, resp_r, pidfd):
                os.close(fd)
            ctl.close()
        elif req["op"] == "release":
            try:
                status = os.waitpid(req["pid"], 0)[1]
            except ChildProcessError:
                status = None
            workdir = workdirs.pop(req["pid"], None)
            sweep_children(keep=workdirs)
            clean_up(plan, workdir, live=set(workdirs.values()))
            if req.get("reply", True):
                sock.send(json.dumps({"status": status}).encode())


def clean_up(plan, workdir, live=()):
    """After a student's processes are gone: nothing it made may outlive it. With a private
    root and IPC namespace, its files and IPC objects died with its namespaces; otherwise remove
    its work folder and, with a sandbox uid of its own, whatever that uid left in the places
    every user may write (files, SysV IPC objects, POSIX queues). A sandbox uid's own keyrings
    live on with the uid: clear them, unless the keyring system calls were refused to it."""
    if workdir and not plan.fs:
        shutil.rmtree(workdir, ignore_errors=True)
    if plan.uid is not None:
        if not plan.fs:
            iso.remove_files_of(plan.uid, ("/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue"),
                                keep=live)  # the work folder of the next student process
        if not plan.ipcns:
            iso.remove_sysv_ipc_of(plan.uid)
        if not plan.keyrings_refused:
            iso.clear_keyrings_of(plan.uid)


def last_line(text):
    lines = text.strip().splitlines()
    return lines[-1][:300] if lines else "unknown error"


# Modules a notebook may import that are worth importing once here rather than in every student
# process. Only these names are ever imported on a grader's request.
PRELOADABLE = {"matplotlib", "matplotlib.pyplot"}


def preload(names):
    """Import what is asked for and preloadable; return what was new."""
    new = [name for name in names if name in PRELOADABLE and name not in sys.modules]
    for name in new:
        try:
            if name.startswith("matplotlib"):
                import matplotlib
                matplotlib.use("Agg")
            __import__(name)
            if name == "matplotlib.pyplot":
                warm_up_plots()
                from . import plotting
                plotting.quiet_plots()  # once here, not in every student process
        except Exception:
            pass
    return new


MADV_COLLAPSE = 25  # Linux 6.1: back a range with huge pages now, whatever the THP setting
HUGE_PAGE = 2 << 20


def heap_in_huge_pages():
    """Back this process's private heap (Python's arenas, malloc's heap) with 2 MB pages where
    the kernel can. fork() then copies one entry per 2 MB instead of 512, and an exiting child
    drops them as fast; a child's first write to one still copies only 4 KB. Without kernel
    support this does nothing."""
    iso.libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    with open("/proc/self/maps") as f:
        maps = f.read().splitlines()
    for line in maps:
        fields = line.split()
        if fields[1] != "rw-p" or (len(fields) > 5 and fields[5] != "[heap]"):
            continue
        start, end = (int(x, 16) for x in fields[0].split("-"))
        start = -(-start // HUGE_PAGE) * HUGE_PAGE
        end = end // HUGE_PAGE * HUGE_PAGE
        if end > start:
            iso.libc.madvise(start, end - start, MADV_COLLAPSE)


def warm_up_numpy():
    """Do once here what numpy sets up on first use (a Generator's first seeding costs 12 ms,
    the first array repr 1 ms), so that no student process pays for it. Nothing random is
    kept: every generator below is local and seeded."""
    import numpy as np
    np.random.default_rng(0).choice(3, size=2, p=[0.5, 0.25, 0.25])
    np.random.default_rng(0).normal(size=(2, 2)).sum()
    repr(np.ones((2, 2)))
    f"{np.float64(0.5):.2f}"


# A layer as students write them, for warm_up_calls: nothing of a solution, only the numpy
# operations such layers use (it need not compute anything meaningful).
WARM_UP_CELL = """
import numpy as np

def forward(x, w, b):
    z = x @ w.T + b
    mu, var = x.mean(axis=0), x.var(axis=0, keepdims=True)
    out = np.maximum(z, 0) * (1 / (1 + np.exp(-z))) + np.sqrt(var + 1e-5).sum()
    return np.where(z > 0, out, 0.0), (x, w, z, mu)

def backward(dout, cache):
    x, w, z, mu = cache
    dz = dout * (z > 0) - np.log(np.abs(z) + 1).mean(axis=1, keepdims=True)
    return dz @ w, dz.T @ x, dz.sum(axis=0), float(np.linalg.norm(mu))
"""


def warm_up_calls():
    """Serve calls of a throwaway layer through the student server's own code (a request read
    from a pipe, decoded, the call with its argument checks, the reply encoded and written),
    so that what Python and numpy set up on first use along that path (specialized bytecode,
    ufunc loop caches) is done once here, not in every student process. Nothing of it is
    kept."""
    import numpy as np
    from . import server, wire
    namespace = {}
    exec(compile(WARM_UP_CELL, "<warm-up>", "exec"), namespace)
    pipes = os.pipe() + os.pipe()
    try:
        srv = server.Server(pipes[0], pipes[3])
        srv.namespace = namespace
        x, w, b = np.linspace(-2, 2, 12).reshape(4, 3), np.ones((5, 3)), np.zeros(5)
        for seq in range(4):
            node, buffers = wire.encode([[x, w, b]])
            os.write(pipes[1], wire.pack({"op": "call", "fn": "forward", "args": node,
                                          "pick": None, "opaque": [1], "seq": seq}, buffers))
            srv.serve_one()
            os.read(pipes[2], 1 << 16)
            handle = wire.Opaque(max(srv.handles), "tuple")
            node, buffers = wire.encode([[np.ones((4, 5)), handle]])
            os.write(pipes[1], wire.pack({"op": "call", "fn": "backward", "args": node,
                                          "pick": None, "opaque": [], "seq": seq}, buffers))
            srv.serve_one()
            os.read(pipes[2], 1 << 16)
    finally:
        for fd in pipes:
            os.close(fd)
    gc.collect()


def warm_up_plots():
    """Build (never draw) a figure with the usual parts once, so that what matplotlib sets up
    lazily on first use (fonts, locators, colour tables) is done here once, not in every
    student process."""
    import numpy as np
    from matplotlib import pyplot
    fig, axes = pyplot.subplots(1, 3, sharey=False)
    line = np.linspace(1, 2, 10)
    axes[0].plot(line, line, "o-", label="a")
    axes[0].semilogy(line, line, "--", color="tab:blue")
    axes[0].axvspan(0, 1, alpha=0.2)
    axes[0].axhline(1, color="0.5")
    axes[0].legend(loc="upper left", fontsize=8)
    axes[0].text(1, 1, "t")
    axes[1].hist(line, bins=5)
    axes[2].imshow(np.ones((2, 2)), cmap="gray")
    axes[1].set_title("t")
    axes[1].set_xlabel("x")
    fig.suptitle("s")
    pyplot.close("all")


if __name__ == "__main__":
    main()
