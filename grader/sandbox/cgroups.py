"""Per-submission control groups (cgroup v1 controllers memory, pids, cpu, cpuacct, freezer).

One group per submission holds all of its processes, so its limits are per submission, not per
process: memory counts every process, shared memory segment, memfd and tmpfs page together;
pids bounds the process count; cpu caps it at one core; cpuacct gives the CPU time it used, so
time limits count the submission's own work and a busy machine cannot make it time out.

Groups are made under the grader's own group in each hierarchy (so this works in a delegated
subtree as well as at the root). Where that is not possible, `Hierarchy.open()` returns None and
says why; the grader then keeps rlimits alone and reports it.
"""
import os
import secrets
import signal
import time

CONTROLLERS = ("memory", "pids", "cpu", "cpuacct", "freezer")
REQUIRED = ("memory", "pids", "cpuacct")


def _mounts():
    """controller -> mount point of its v1 hierarchy."""
    out = {}
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            fields, tail = left.split(), right.split()
            if len(tail) < 3 or tail[0] != "cgroup":
                continue
            for option in tail[2].split(","):
                if option in CONTROLLERS:
                    out.setdefault(option, fields[4])
    return out


def _own_paths():
    """controller -> this process's group path inside its hierarchy."""
    out = {}
    with open("/proc/self/cgroup") as f:
        for line in f:
            _, names, path = line.rstrip("\n").split(":", 2)
            for name in names.split(","):
                out[name] = path
    return out


def _write(path, value):
    with open(path, "w") as f:
        f.write(str(value))


def _read(path):
    with open(path) as f:
        return f.read()


class Hierarchy:
    """This grader's parent group in each controller's hierarchy."""

    def __init__(self, dirs):
        self.dirs = dirs
        self.retired = []  # groups whose processes were killed, to remove once they are gone

    @classmethod
    def open(cls):
        """(Hierarchy, None) where per-submission groups can be made, else (None, reason)."""
        try:
            mounts, own = _mounts(), _own_paths()
        except OSError as exc:
            return None, f"cannot read this process's cgroups ({exc.strerror})"
        missing = [c for c in REQUIRED if c not in mounts]
        if missing:
            return None, f"no cgroup v1 {', '.join(missing)} controller is mounted"
        name = f"grader-{os.getpid()}-{secrets.token_hex(4)}"
        for c in set(CONTROLLERS) & set(mounts):
            _remove_stale(os.path.join(mounts[c], own.get(c, "/").lstrip("/")))
        dirs = {}
        try:
            for c in CONTROLLERS:
                if c in mounts:
                    base = os.path.join(mounts[c], own.get(c, "/").lstrip("/"))
                    path = os.path.join(base, name)
                    if path not in dirs.values():
                        os.mkdir(path, 0o755)
                    dirs[c] = path
        except OSError as exc:
            Hierarchy(dirs).close()
            return None, f"cannot create cgroups ({exc.strerror}; needs root or a delegated subtree)"
        return cls(dirs), None

    def group(self, memory_bytes, processes):
        """A fresh group for one submission with its limits set."""
        self.retired = [g for g in self.retired if not g.remove(wait=False)]
        name = secrets.token_hex(6)
        dirs = {}
        for c, parent in self.dirs.items():
            path = os.path.join(parent, name)
            if path not in dirs.values():
                os.mkdir(path, 0o755)
            dirs[c] = path
        group = Group(dirs, self)
        try:
            group.limit(memory_bytes, processes)
        except OSError:
            group.remove()
            raise
        return group

    def close(self):
        for group in self.retired:
            group.kill()
            group.remove()
        self.retired = []
        for path in set(self.dirs.values()):
            try:
                for child in os.listdir(path):
                    child_path = os.path.join(path, child)
                    if os.path.isdir(child_path):
                        leftover = Group({"x": child_path})
                        leftover.kill()
                        leftover.remove()
                os.rmdir(path)
            except OSError:
                pass


class Group:
    """One submission's group in each hierarchy."""

    def __init__(self, dirs, hierarchy=None):
        self.dirs = dirs
        self.hierarchy = hierarchy
        self._usage_fd = None  # cpuacct.usage, kept open: it is read around every call

    def limit(self, memory_bytes, processes):
        memory = self.dirs.get("memory")
        _write(os.path.join(memory, "memory.limit_in_bytes"), memory_bytes)
        swap = os.path.join(memory, "memory.memsw.limit_in_bytes")
        if os.path.exists(swap):
            _write(swap, memory_bytes)  # no escape into swap
        _write(os.path.join(self.dirs["pids"], "pids.max"), processes)
        if "cpu" in self.dirs:
            _write(os.path.join(self.dirs["cpu"], "cpu.cfs_period_us"), 100_000)
            _write(os.path.join(self.dirs["cpu"], "cpu.cfs_quota_us"), 100_000)  # one core

    @property
    def procs_files(self):
        """The files a process writes its pid to, to join this group."""
        return sorted({os.path.join(d, "cgroup.procs") for d in self.dirs.values()})

    def cpu_seconds(self):
        try:
            if self._usage_fd is None:
                self._usage_fd = os.open(os.path.join(self.dirs["cpuacct"], "cpuacct.usage"),
                                         os.O_RDONLY | os.O_CLOEXEC)
            return int(os.pread(self._usage_fd, 64, 0)) / 1e9
        except (OSError, ValueError, KeyError):
            return 0.0

    def _close_usage(self):
        if self._usage_fd is not None:
            os.close(self._usage_fd)
            self._usage_fd = None

    def oom_kills(self):
        """How many times the kernel killed a process of this group for lack of memory."""
        try:
            for line in _read(os.path.join(self.dirs["memory"], "memory.oom_control")).splitlines():
                if line.startswith("oom_kill "):
                    return int(line.split()[1])
            return int(_read(os.path.join(self.dirs["memory"], "memory.failcnt")) != "0\n")
        except (OSError, ValueError):
            return 0

    def pids(self):
        found = set()
        for d in set(self.dirs.values()):
            try:
                found.update(int(p) for p in _read(os.path.join(d, "cgroup.procs")).split())
            except (OSError, ValueError):
                pass
        return found

    def kill(self, timeout=10.0):
        """SIGKILL every process of the group (frozen first, so none can fork meanwhile) and wait
        until the group is empty. Returns True when it is."""
        freezer = self.dirs.get("freezer")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = self.pids()
            if not pids:
                return True
            if freezer:
                _try_write(os.path.join(freezer, "freezer.state"), "FROZEN")
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            if freezer:
                _try_write(os.path.join(freezer, "freezer.state"), "THAWED")
            time.sleep(0.002)
        return not self.pids()

    def retire(self):
        """SIGKILL what is left and let the hierarchy remove the group once its processes have
        left (at the next group() or close()), so that nobody waits for that."""
        self._close_usage()
        for pid in self.pids():
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
        if self.hierarchy is None or not self.remove(wait=False):
            self.hierarchy.retired.append(self) if self.hierarchy else self.remove()

    def remove(self, wait=True):
        """Remove the group's folders; True once they are gone. wait=False: one try."""
        self._close_usage()
        left = []
        for d in sorted(set(self.dirs.values()), reverse=True):
            for _ in range(100 if wait else 1):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    if not wait:
                        left.append(d)
                        break
                    time.sleep(0.005)  # the last processes are still leaving
        self.dirs = {c: d for c, d in self.dirs.items() if d in left}
        return not left


def _remove_stale(base):
    """Groups left by graders that were killed (grader-<pid>-...) whose pid is gone."""
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        parts = name.split("-")
        if len(parts) == 3 and parts[0] == "grader" and parts[1].isdigit():
            if not os.path.exists(f"/proc/{parts[1]}"):
                Hierarchy({"x": os.path.join(base, name)}).close()


def _try_write(path, value):
    try:
        _write(path, value)
    except OSError:
        pass
