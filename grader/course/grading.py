"""Grading submissions: one Sandbox with a worker slot per job, one student process per
submission, checks run and verdicts computed here in the grader process."""
import importlib.util
import os
import queue
import threading
from concurrent.futures import ThreadPoolExecutor
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
    """Worker slots of one Sandbox, each graded by a thread of its own."""

    def __init__(self, options):
        self.options = options
        self.references = {}
        if options.solutions:
            self.references = {t: load_reference(options.solutions, t) for t in TOPICS
                               if os.path.exists(os.path.join(options.solutions, f"{t}.py"))}
        self.sandbox = Sandbox(options.limits, options.namespaces, options.jobs)

    @property
    def protections(self):
        return self.sandbox.protections

    def grade(self, subs, seed=None):
        """Yield (index, result) as submissions finish, in any order."""
        seed = self.options.seed if seed is None else seed
        todo, done = queue.Queue(), queue.Queue()
        for item in enumerate(subs):
            todo.put(item)

        def work(slot):
            while True:
                try:
                    i, sub = todo.get_nowait()
                except queue.Empty:
                    return
                try:
                    done.put((i, grade_submission(self.sandbox, slot, sub, seed, self.references)))
                except BaseException as exc:  # a grader failure must not lose the batch
                    done.put((i, dict(error_result(sub, bool(self.references)),
                                      error=f"grader failure: {type(exc).__name__}: {exc}")))

        threads = [threading.Thread(target=work, args=(slot,), daemon=True)
                   for slot in range(len(self.sandbox.zygotes))]
        for t in threads:
            t.start()
        for _ in range(len(subs)):
            yield done.get()
        for t in threads:
            t.join()

    def close(self):
        self.sandbox.close()
