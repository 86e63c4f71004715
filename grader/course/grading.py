"""Grading submissions: a grading process per job, each with a Sandbox of its own, one student
process per submission; checks run and verdicts are computed in the grading processes."""
import collections
import importlib.util
import multiprocessing
import multiprocessing.connection
import os
import signal
from dataclasses import dataclass

from ..checks import core as checks_mod
from ..sandbox.process import Limits, Sandbox
from ..sandbox.student import Student
from ..checks.topics import TOPICS

PROJECT_SOLUTIONS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                                 "solutions")


def find_solutions(path=None):
    """The reference solutions folder: --solutions, $GRADER_SOLUTIONS, or the project's own."""
    for candidate in (path, os.environ.get("GRADER_SOLUTIONS"), PROJECT_SOLUTIONS):
        if candidate and os.path.isdir(candidate):
            return os.path.abspath(candidate)
    return None


def load_reference(solutions, topic):
    """Import solutions/<topic>.py by path (trusted code, run only in the grader)."""
    path = os.path.join(solutions, f"{topic}.py")
    spec = importlib.util.spec_from_file_location(f"_grader_reference_{topic}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def max_score(topic, hidden):
    if topic not in TOPICS:
        return 0.0
    return float(sum(c.points for c in checks_mod.checks_for(TOPICS[topic], hidden)))


def error_result(sub, hidden):
    return {"submission": sub.path, "student": sub.student, "assignment": sub.assignment,
            "topic": sub.topic, "score": 0,
            "max_score": max_score(sub.topic, hidden), "error": sub.error, "checks": []}


def open_student(sandbox, slot, sub, seed=0):
    """The functions of submission `sub`, its code run in worker slot `slot` of `sandbox`."""
    return Student(lambda: sandbox.start(slot, sub.preload), sub.cells, sub.module, seed=seed,
                   signatures=TOPICS[sub.topic].FUNCTIONS, limits=sandbox.limits)


def grade_submission(sandbox, slot, sub, seed, references):
    """All checks of one submission's topic, its code run in worker slot `slot` of `sandbox`.
    `references` maps topic -> module (or is empty)."""
    if sub.error:
        return error_result(sub, bool(references))
    topic = TOPICS[sub.topic]
    ref = references.get(sub.topic)
    student = open_student(sandbox, slot, sub, seed)
    try:
        results = checks_mod.run_checks(checks_mod.checks_for(topic, hidden=ref is not None),
                                        student, sub.topic, seed, ref)
    finally:
        student.close()
    out = {"submission": sub.path, "student": sub.student, "assignment": sub.assignment,
           "topic": sub.topic,
           "score": round(float(sum(r.score for r in results)), 6),
           "max_score": float(sum(r.max_score for r in results)), "error": None,
           "checks": [r.as_json() for r in results]}
    if student.load_errors:
        out["load_errors"] = student.load_errors
    return out


@dataclass
class Options:
    seed: int = 0
    jobs: int = 1
    limits: Limits = Limits()
    namespaces: bool = True
    solutions: str | None = None   # None: no hidden checks


class Pool:
    """One grading process per job, forked from this one, each with a Sandbox of one slot (its
    zygote, sandbox uid and cgroups). Processes rather than threads: the checks of one job never
    wait for another job's turn at the interpreter lock (with threads, that left a core idle
    about 8 % of the time). This process only hands out submissions and collects results; a
    grading process that dies costs the submission it was grading, never the batch."""

    def __init__(self, options):
        self.options = options
        self.references = {}
        if options.solutions:
            self.references = {t: load_reference(options.solutions, t) for t in TOPICS
                               if os.path.exists(os.path.join(options.solutions, f"{t}.py"))}
        self.slots = []
        self.cpus = cpus_for(max(1, options.jobs))
        try:
            for k in range(max(1, options.jobs)):  # all start at once, then report
                self.slots.append(Slot(self, k))
            for slot in self.slots:
                slot.wait_ready()
        except BaseException:
            self.close()
            raise
        self.protections = self.slots[0].protections

    @property
    def uids(self):
        """The sandbox uids the grading processes use (as root)."""
        return [slot.uid for slot in self.slots if slot.uid is not None]

    def grade(self, subs, seed=None):
        """Yield (index, result) as submissions finish, in any order."""
        seed = self.options.seed if seed is None else seed
        todo = collections.deque(enumerate(subs))
        for slot in self.slots:
            slot.hand(todo, seed)
        while any(slot.busy for slot in self.slots):
            by_conn = {slot.conn: slot for slot in self.slots if slot.busy}
            for conn in multiprocessing.connection.wait(list(by_conn)):
                slot = by_conn[conn]
                result = slot.collect(bool(self.references))
                if slot.dead:
                    slot = self._replace(slot)
                if slot is not None:  # the next one first: the caller's work on the result
                    slot.hand(todo, seed)  # (files, a journal synced to disk) overlaps it
                yield result
        for i, sub in todo:  # only when no grading process could be started any more
            yield i, dict(error_result(sub, bool(self.references)),
                          error="grader failure: no grading process could be started")

    def _replace(self, slot):
        """A new grading process in place of one that died (None if none can start)."""
        k = self.slots.index(slot)
        slot.stop()
        try:
            self.slots[k] = Slot(self, k)
            self.slots[k].wait_ready()
            return self.slots[k]
        except Exception:
            self.slots.pop(k).stop()
            return None

    def close(self):
        for slot in self.slots:
            slot.stop()
        self.slots = []


class Slot:
    """The parent's side of one grading process: a pipe to it, and what it is grading."""

    def __init__(self, pool, k):
        context = multiprocessing.get_context("fork")
        self.conn, child = context.Pipe()
        others = [slot.conn for slot in pool.slots]
        cpus = pool.cpus[k] if pool.cpus else None
        self.process = context.Process(target=_grading_process, daemon=True,
                                       args=(child, others, pool.options, pool.references,
                                             os.getpid(), cpus))
        self.process.start()
        child.close()
        self.busy = None   # (index, submission) being graded
        self.dead = False
        self.protections, self.uid = None, None

    def wait_ready(self):
        try:
            message = self.conn.recv()
        except (EOFError, OSError):
            raise RuntimeError("a grading process ended before its sandbox was ready") from None
        if message[0] == "failed":
            raise message[1]
        _, self.protections, self.uid = message

    def hand(self, todo, seed):
        if todo and not self.dead:
            self.busy = todo.popleft()
            i, sub = self.busy
            self.conn.send((i, sub, seed))

    def collect(self, hidden):
        """(index, result) of the submission this process was grading."""
        i, sub = self.busy
        self.busy = None
        try:
            return self.conn.recv()
        except (EOFError, OSError):
            self.dead = True
            self.process.join(5)
            how = _ended(self.process.exitcode)
            return i, dict(error_result(sub, hidden),
                           error=f"grader failure: the grading process {how} while grading this")

    def stop(self):
        """End the grading process: at once if it is grading (its student process is killed on
        the way out), else when it has read the request to stop."""
        if self.process.is_alive():
            if self.busy is not None:
                self.process.terminate()
            else:
                try:
                    self.conn.send(None)
                except OSError:
                    self.process.terminate()
            self.process.join(30)
            if self.process.is_alive():
                self.process.kill()
                self.process.join()
        self.conn.close()


def cpus_for(jobs):
    """The CPUs of each grading process: this process's CPUs dealt out among the jobs (with 2
    jobs on 2 CPUs, one each), or None when there are more jobs than CPUs (then they share them
    as the scheduler sees fit). A grading process, its zygote and its student processes take
    turns (a call, then its reply): on the same CPU they hand over without waking another one
    and find their data in its cache (a round trip costs 0.6x), and two jobs never crowd onto
    one CPU while another idles. Every CPU stays in use, whatever other graders run."""
    try:
        cpus = sorted(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return None
    if jobs > len(cpus):
        return None
    return [set(cpus[k::jobs]) for k in range(jobs)]


def _ended(exitcode):
    if exitcode is not None and exitcode < 0:
        return f"was killed by signal {signal.Signals(-exitcode).name}"
    return f"ended (status {exitcode})"


def _stop_on_sigterm(signum, frame):
    raise SystemExit(1)  # so that the submission's student process is killed on the way out


def _grading_process(conn, others, options, references, parent, cpus):
    """The body of one grading process: start a Sandbox of one slot, then grade what arrives.
    `cpus`: the CPUs it keeps to, with everything it starts (None: any)."""
    for other in others:
        other.close()
    if cpus:
        try:
            os.sched_setaffinity(0, cpus)
        except OSError:
            pass
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # a terminal's Ctrl-C is the parent's to handle
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    from ..sandbox import isolation
    isolation.die_with(parent, signal.SIGTERM)
    isolation.name_process("grader-job")
    try:
        sandbox = Sandbox(options.limits, options.namespaces, 1)
    except BaseException as exc:
        try:
            conn.send(("failed", exc))
        except Exception:  # an exception that cannot be pickled
            conn.send(("failed", RuntimeError(f"{type(exc).__name__}: {exc}")))
        return
    try:
        conn.send(("ready", sandbox.protections, sandbox.zygotes[0].conf["sandbox_uid"]))
        while True:
            try:
                task = conn.recv()
            except (EOFError, OSError):
                return
            if task is None:
                return
            i, sub, seed = task
            try:
                result = grade_submission(sandbox, 0, sub, seed, references)
            except Exception as exc:  # a grader failure must not lose the batch
                result = dict(error_result(sub, bool(references)),
                              error=f"grader failure: {type(exc).__name__}: {exc}")
            conn.send((i, result))
    finally:
        sandbox.close()
