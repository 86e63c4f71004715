"""Linux isolation for student processes: namespaces, a private read-only filesystem, rlimits, uid.

Used by the zygote (grader.zygote) and by each student process between fork and running student
code. Every step is optional: `probe()` finds which steps this machine and user allow, and the
grader reports them. SECURITY.md says what each step defends against.
"""
import ctypes
import os
import platform
import resource
import sysconfig

libc = ctypes.CDLL(None, use_errno=True)

CLONE_NEWNS = 0x00020000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 16384, 1 << 18
MNT_DETACH = 2

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4
PR_SET_NAME = 15
PR_SET_CHILD_SUBREAPER = 36
PR_SET_NO_NEW_PRIVS = 38

SYS_PIVOT_ROOT = {"x86_64": 155, "aarch64": 41}.get(platform.machine())
SYS_KEYCTL = {"x86_64": 250, "aarch64": 219}.get(platform.machine())
# Refused to student code (seccomp): keyrings (a channel that outlives processes: the user and
# persistent keyrings of a uid), ptrace and reading or writing another process's memory.
REFUSED_SYSCALLS = {
    "x86_64": {"add_key": 248, "request_key": 249, "keyctl": 250, "ptrace": 101,
               "process_vm_readv": 310, "process_vm_writev": 311},
    "aarch64": {"add_key": 217, "request_key": 218, "keyctl": 219, "ptrace": 117,
                "process_vm_readv": 270, "process_vm_writev": 271},
}.get(platform.machine())
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}.get(platform.machine())
KEYCTL_JOIN_SESSION_KEYRING, KEYCTL_CLEAR, KEYCTL_GET_PERSISTENT = 1, 7, 22
KEY_SPEC_SESSION_KEYRING, KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING = -3, -4, -5
IPC_RMID = 0

# Devices a Python program may open; everything else under /dev is absent.
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")


def _ok(ret, what):
    if ret != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")


def unshare(flags):
    _ok(libc.unshare(ctypes.c_int(flags)), "unshare")


def die_with(parent, sig):
    """Receive `sig` when process `parent` ends; end at once if it has already ended (this
    process then has another parent). `parent` is taken before the fork: taken after, it could
    already be the process that adopted the orphan."""
    prctl(PR_SET_PDEATHSIG, sig)
    if os.getppid() != parent:
        os._exit(0)


def setns(fd, nstype):
    _ok(libc.setns(ctypes.c_int(fd), ctypes.c_int(nstype)), "setns")


def mount(source, target, fstype, flags, data=None):
    enc = lambda s: None if s is None else os.fsencode(s)
    _ok(libc.mount(enc(source), enc(target), enc(fstype), ctypes.c_ulong(flags), enc(data)),
        f"mount {target}")


def umount(target, flags=0):
    _ok(libc.umount2(os.fsencode(target), ctypes.c_int(flags)), f"umount {target}")


def prctl(option, arg):
    _ok(libc.prctl(ctypes.c_int(option), ctypes.c_ulong(arg), ctypes.c_ulong(0),
                   ctypes.c_ulong(0), ctypes.c_ulong(0)), "prctl")


def name_process(name):
    """The name `ps` and `top` show for this process (up to 15 bytes): which part of the grader
    it is. Best effort."""
    libc.prctl(ctypes.c_int(PR_SET_NAME), ctypes.c_char_p(name.encode()[:15]), ctypes.c_ulong(0),
               ctypes.c_ulong(0), ctypes.c_ulong(0))


def pivot_root(new_root, put_old):
    if SYS_PIVOT_ROOT is None:
        raise OSError(0, "pivot_root: unknown syscall number on this architecture")
    _ok(libc.syscall(ctypes.c_long(SYS_PIVOT_ROOT), os.fsencode(new_root), os.fsencode(put_old)),
        "pivot_root")


def write_id_maps(inside, outside):
    """Map one uid and gid in a fresh user namespace (setgroups denied, as unprivileged users must)."""
    with open("/proc/self/setgroups", "w") as f:
        f.write("deny")
    for kind in ("uid", "gid"):
        with open(f"/proc/self/{kind}_map", "w") as f:
            f.write(f"{inside} {outside[kind]} 1\n")


def enter_user_namespace():
    """For a non-root grader: become root of a new user namespace so that the other namespaces
    can be created. Must run before any thread exists (so before importing numpy)."""
    outside = {"uid": os.getuid(), "gid": os.getgid()}
    unshare(CLONE_NEWUSER)
    write_id_maps(0, outside)


def readable_roots(extra=()):
    """Paths a student process needs to read: the interpreter, its libraries, the grader package.

    Project folders (solutions/, tests/, submissions) are deliberately not here.
    """
    import sys
    roots = {"/usr", "/lib", "/lib32", "/lib64", "/libx32", "/bin", "/sbin", "/etc",
             sys.prefix, sys.exec_prefix, sys.base_prefix, sys.base_exec_prefix,
             os.path.dirname(os.path.realpath(sys.executable)), *extra}
    for base in ({}, {"base": sys.base_prefix, "platbase": sys.base_exec_prefix}):
        paths = sysconfig.get_paths(vars=base)
        roots.update(paths[k] for k in ("stdlib", "platstdlib", "purelib", "platlib") if k in paths)
    roots = sorted({os.path.normpath(r) for r in roots if r and os.path.lexists(r)})
    # A root inside another root is already mirrored.
    return [r for r in roots if not any(r.startswith(o + "/") for o in roots if o != "/")]


def build_private_root(new_root, roots):
    """Mirror `roots` read-only under `new_root` (mounted here as a fresh tmpfs), with a few
    devices and empty /tmp, /dev/shm and /proc (mount_scratch and mount_proc fill them).

    Sources are opened before the tmpfs covers `new_root`, so they may live anywhere (even under
    it). Intermediate directories are created world-traversable, so a python under a 0700 home
    directory stays importable after dropping to another uid.
    """
    sources = _open_all((*roots, *DEVICES))
    mount("tmpfs", new_root, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=1m")
    for d in SCRATCH:
        os.makedirs(new_root + d, mode=0o755, exist_ok=True)
    _mirror(new_root, sources)
    os.makedirs(new_root + "/proc", mode=0o555, exist_ok=True)
    os.makedirs(new_root + "/.old", mode=0o700, exist_ok=True)


def _open_all(paths):
    """(path, O_PATH fd or symlink target) for each path that exists."""
    return [(p, os.readlink(p) if os.path.islink(p) else os.open(p, os.O_PATH | os.O_NOFOLLOW))
            for p in paths if os.path.lexists(p)]


def _mirror(new_root, sources):
    """Bind each opened source at the same path under new_root (read-only but for devices);
    recreate symlinks."""
    for src, fd in sources:
        dst = new_root + src
        if isinstance(fd, str):
            os.makedirs(os.path.dirname(dst), mode=0o755, exist_ok=True)
            os.symlink(fd, dst)
            continue
        if os.path.isdir(f"/proc/self/fd/{fd}"):
            os.makedirs(dst, mode=0o755, exist_ok=True)
        else:
            os.makedirs(os.path.dirname(dst), mode=0o755, exist_ok=True)
            open(dst, "a").close()
        mount(f"/proc/self/fd/{fd}", dst, None, MS_BIND | MS_REC)
        if not src.startswith("/dev/"):
            mount(None, dst, None, MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV)
        os.close(fd)


SCRATCH = ("/tmp", "/dev/shm")  # the only places a student process may write


def mount_scratch(root, tmp_size):
    """A fresh, empty tmpfs on each SCRATCH folder under `root` (the process's own)."""
    for d in SCRATCH:
        mount("tmpfs", root + d, "tmpfs", MS_NOSUID | MS_NODEV, f"mode=1777,size={tmp_size}")


def mount_proc(path):
    """/proc of this process's pid namespace (it shows only the processes of that namespace)."""
    mount("proc", path, "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC)


def enter_private_root(new_root, mount_proc_first):
    """Switch to the new root. With mount_proc_first, a fresh /proc (of this pid namespace) is
    mounted before: in a user namespace the kernel allows that only while another proc mount is
    still visible."""
    if mount_proc_first:
        mount_proc(new_root + "/proc")
    pivot_root(new_root, new_root + "/.old")
    os.chdir("/")
    umount("/.old", MNT_DETACH)
    os.rmdir("/.old")
    mount(None, "/", None, MS_REMOUNT | MS_RDONLY | MS_NOSUID | MS_NODEV)


def join_private_root(mount_ns, roots, tmp_size):
    """Enter a copy of a mount namespace whose root build_private_root and enter_private_root
    made from `roots` (see grader.sandbox.zygote.Template), with scratch folders and a /proc
    of this process's own: copies share only the read-only mounts. Roots inside a scratch
    folder (a python under /tmp) are mirrored again on top of the fresh one."""
    setns(mount_ns, CLONE_NEWNS)
    unshare(CLONE_NEWNS)
    mount_proc("/proc")
    covered = _open_all(r for r in roots if any(r == d or r.startswith(d + "/") for d in SCRATCH))
    mount_scratch("", tmp_size)
    _mirror("", covered)


def set_limits(limits):
    """rlimits for the student process. CPU hard = soft + 1 so SIGXCPU comes first."""
    cpu = int(limits["cpu_seconds"])
    resource.setrlimit(resource.RLIMIT_CPU, (cpu, cpu + 1))
    resource.setrlimit(resource.RLIMIT_AS, (limits["address_space"],) * 2)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limits["file_size"],) * 2)
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_NOFILE, (limits["open_files"],) * 2)
    if limits["processes"] is not None:
        resource.setrlimit(resource.RLIMIT_NPROC, (limits["processes"],) * 2)


def drop_to(uid, gid):
    os.setgroups([])
    os.setresgid(gid, gid, gid)
    os.setresuid(uid, uid, uid)


def lock_user_namespace():
    """Non-root path: move into a nested user namespace so the mounts made above are locked
    (cannot be unmounted or remounted writable) and this process holds no capability over them."""
    unshare(CLONE_NEWUSER | CLONE_NEWNS)
    try:
        write_id_maps(1000, {"uid": 0, "gid": 0})
    except OSError:
        pass


def count_processes_of(uid):
    n = 0
    for name in os.listdir("/proc"):
        if name.isdigit():
            try:
                if os.stat(f"/proc/{name}").st_uid == uid:
                    n += 1
            except OSError:
                pass
    return n


def address_space_in_use():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return 0


def keyctl(op, *args):
    if SYS_KEYCTL is None:
        raise OSError(0, "keyctl: unknown syscall number on this architecture")
    ret = libc.syscall(ctypes.c_long(SYS_KEYCTL), ctypes.c_int(op),
                       *(ctypes.c_long(a) if isinstance(a, int) else a for a in args))
    if ret < 0:
        err = ctypes.get_errno()
        raise OSError(err, f"keyctl: {os.strerror(err)}")
    return ret


def join_new_session_keyring():
    """Replace the inherited session keyring (the grader's, with the instructor's keys) with a
    new, empty, anonymous one."""
    keyctl(KEYCTL_JOIN_SESSION_KEYRING, None)


def clear_keyrings_of(uid):
    """Empty the keyrings of `uid` that outlive its processes (user, user session and
    persistent keyrings), from a short-lived child that takes that uid."""
    pid = os.fork()
    if pid == 0:
        try:
            drop_to(uid, uid)
            rings = [KEY_SPEC_USER_KEYRING, KEY_SPEC_USER_SESSION_KEYRING]
            try:
                rings.append(keyctl(KEYCTL_GET_PERSISTENT, -1, KEY_SPEC_SESSION_KEYRING))
            except OSError:
                pass
            for ring in rings:
                try:
                    keyctl(KEYCTL_CLEAR, ring)
                except OSError:
                    pass
        finally:
            os._exit(0)
    os.waitpid(pid, 0)


def remove_files_of(uid, folders, keep=()):
    """Remove every entry owned by `uid` directly in `folders` (a folder with all it holds),
    except the paths in `keep`. shutil.rmtree never follows symbolic links, so nothing outside
    can be reached through one."""
    import shutil
    for folder in folders:
        try:
            names = os.listdir(folder)
        except OSError:
            continue
        for name in names:
            path = os.path.join(folder, name)
            if path in keep:
                continue
            try:
                st = os.lstat(path)
            except OSError:
                continue
            if st.st_uid != uid:
                continue
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                try:
                    os.unlink(path)
                except OSError:
                    pass


def remove_sysv_ipc_of(uid):
    """Remove the System V shared memory segments, message queues and semaphore sets that `uid`
    owns or created (without an IPC namespace of its own they would outlive it)."""
    for kind, ctl in (("shm", libc.shmctl), ("msg", libc.msgctl), ("sem", libc.semctl)):
        try:
            with open(f"/proc/sysvipc/{kind}") as f:
                header, *rows = f.read().splitlines()
        except OSError:
            continue
        cols = header.split()
        for row in rows:
            fields = dict(zip(cols, row.split()))
            try:
                if uid in (int(fields["uid"]), int(fields["cuid"])):
                    ident = int(fields["shmid" if kind == "shm" else
                                       "msqid" if kind == "msg" else "semid"])
                    if kind == "sem":
                        ctl(ctypes.c_int(ident), ctypes.c_int(0), ctypes.c_int(IPC_RMID))
                    else:
                        ctl(ctypes.c_int(ident), ctypes.c_int(IPC_RMID), None)
            except (KeyError, ValueError):
                continue


class SyscallFilter:
    """A seccomp filter: the syscalls `numbers` fail with EPERM, and so does every syscall of
    another ABI (32-bit or x32 entry points, which would have other numbers). A small
    classic-BPF program, built by hand once (in the zygote); `install` applies it to the
    calling process and, through fork, to everything it starts. Needs PR_SET_NO_NEW_PRIVS."""

    class Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    def __init__(self, numbers):
        import struct
        ld_abs, jeq, jge, ret = 0x20, 0x15, 0x35, 0x06
        allow, refuse = 0x7FFF0000, 0x00050000 | 1  # SECCOMP_RET_ALLOW, SECCOMP_RET_ERRNO | EPERM
        numbers = sorted(numbers)
        n = len(numbers)
        # 0: arch; 1: other ABI -> refuse; 2: nr; 3: x32 -> refuse; 4..: listed -> refuse; allow
        program = [(ld_abs, 0, 0, 4), (jeq, 0, n + 3, AUDIT_ARCH), (ld_abs, 0, 0, 0),
                   (jge, n + 1, 0, 0x40000000)]
        program += [(jeq, n - i, 0, nr) for i, nr in enumerate(numbers)]
        program += [(ret, 0, 0, allow), (ret, 0, 0, refuse)]
        code = b"".join(struct.pack("<HBBI", *insn) for insn in program)
        self.buffer = ctypes.create_string_buffer(code, len(code))
        self.prog = self.Prog(len(program), ctypes.addressof(self.buffer))

    def install(self):
        _ok(libc.prctl(ctypes.c_int(22), ctypes.c_ulong(2), ctypes.byref(self.prog),
                       ctypes.c_ulong(0), ctypes.c_ulong(0)), "prctl(PR_SET_SECCOMP)")
