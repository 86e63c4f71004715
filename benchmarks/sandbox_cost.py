"""What the sandbox's protections cost per submission, one configuration at a time.

    python benchmarks/sandbox_cost.py [--count 100] [--topic relu]

Grades --count copies of one topic's reference solution, one after another in one worker slot
(all checks, hidden ones included), and prints the median wall time per submission for the
configurations below, which take turns submission by submission:
- in-process: the same checks on the same code in this process, no sandbox (the floor);
- rlimits only: a separate process, no namespaces, no cgroups (as root: a sandbox uid);
- + namespaces: pid, mount (private read-only root), network and IPC namespaces;
- + cgroups: one cgroup per submission (memory, pids, cpu, cpuacct, freezer), CPU-time limits;
and the difference of each line to the one before: what that protection adds. Run as root for
all lines; an ordinary user gets the lines its machine allows. The lines share one run's
machine, so they compare even where its speed drifts; compare other runs' lines with care.

Everything runs on one CPU (the last this process may use), as a grading job does when there
are no more jobs than CPUs (the default, -j 2, on 2 CPUs): the grader, its zygote and the
student processes take turns on it. --any-cpu lets the scheduler place them (as -j 1 does).
"""
import argparse
import os
import pathlib
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.checks import core  # noqa: E402
from grader.checks.topics import TOPICS  # noqa: E402
from grader.course import submissions  # noqa: E402
from grader.course.grading import find_solutions, grade_submission, load_reference  # noqa: E402
from grader.course.selfcheck import LocalStudent  # noqa: E402
from grader.sandbox.process import Limits, Sandbox  # noqa: E402


def timed_in_process(sub, topic, ref):
    """A function that runs the checks in this process, no sandbox (the floor), and times it."""
    namespace = {"__name__": "submission"}
    exec(compile(sub.cells[0].source, sub.path, "exec"), namespace)

    def once():
        start = time.perf_counter()
        student = LocalStudent(namespace, TOPICS[topic].FUNCTIONS)
        core.run_checks(core.checks_for(TOPICS[topic], hidden=True), student, topic, 0, ref)
        return time.perf_counter() - start
    return once


def timed_sandboxed(box, sub, references):
    """A function that grades the submission in `box` and times it."""
    def once():
        start = time.perf_counter()
        result = grade_submission(box, 0, sub, 0, references)
        seconds = time.perf_counter() - start
        assert result["score"] == result["max_score"], result
        return seconds
    for _ in range(3):  # warm-up: imports, the first cgroup, the prepared process
        once()
    return once


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=100)
    parser.add_argument("--topic", default="relu", choices=list(TOPICS))
    parser.add_argument("--any-cpu", action="store_true",
                        help="do not keep to one CPU (as `grader grade -j 1`)")
    args = parser.parse_args()
    if not args.any_cpu:
        os.sched_setaffinity(0, {max(os.sched_getaffinity(0))})
    solutions = find_solutions()
    sub = submissions.load(str(ROOT / "solutions" / f"{args.topic}.py"))
    references = {args.topic: load_reference(solutions, args.topic)}
    names = ["in-process (no sandbox)"]
    runs = [timed_in_process(sub, args.topic, references[args.topic])]
    boxes = []
    try:
        for name, config in (("rlimits only", dict(namespaces=False, use_cgroups=False)),
                             ("+ namespaces", dict(namespaces=True, use_cgroups=False)),
                             ("+ cgroups", dict(namespaces=True, use_cgroups=True))):
            box = Sandbox(Limits(), slots=1, **config)
            boxes.append(box)
            if name == "+ cgroups" and box.protections["cgroups"].startswith("none"):
                name += " (unavailable: " + box.protections["cgroups"] + ")"
            names.append(name)
            runs.append(timed_sandboxed(box, sub, references))
        times = [[] for _ in runs]
        for _ in range(args.count):  # in turn, so that every line sees the same machine
            for run, measured in zip(runs, times):
                measured.append(run())
    finally:
        for box in boxes:
            box.close()
    rows = [(name, statistics.median(measured)) for name, measured in zip(names, times)]
    where = "any CPU" if args.any_cpu else "one CPU"
    print(f"{args.count} submissions of {args.topic}, one slot on {where}; median ms per "
          "submission")
    previous = None
    for name, seconds in rows:
        added = "" if previous is None else f"{(seconds - previous) * 1e3:+8.1f}"
        print(f"{name:<40} {seconds * 1e3:8.1f} {added}")
        previous = seconds


if __name__ == "__main__":
    main()
