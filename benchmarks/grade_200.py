"""Grade 200 submissions of each topic and print the cost per submission next to its floor.

    python benchmarks/grade_200.py [--topic all|batchnorm|...] [--count 200] [--jobs 1]

Figures printed:
- wall time per submission through `grader grade`'s machinery (sandboxed process per
  submission, all public and hidden checks), sequential (--jobs 1) and the batch's throughput;
- floor A: executing the same student code once in this already-started Python;
- floor B: running the same checks on the same code in-process, without any sandbox
  (grader.selfcheck's LocalStudent), i.e. the work the checks themselves need;
- peak memory (max RSS) of the grader process and of its largest child.
"""
import argparse
import os
import pathlib
import resource
import statistics
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.checks import core as checks  # noqa: E402
from grader.course import submissions  # noqa: E402
from grader.course.grading import Options, Pool, find_solutions, load_reference  # noqa: E402
from grader.course.selfcheck import LocalStudent  # noqa: E402
from grader.checks.topics import TOPICS  # noqa: E402


def variants(topic, count):
    """The reference plus small realistic edits, so that not every submission is identical."""
    base = (ROOT / "solutions" / f"{topic}.py").read_text()
    out = []
    for i in range(count):
        out.append(base + f"\n\n# submission {i}\nSTUDENT_ID = {i}\n")
    return out


def measure(topic, count, jobs, solutions):
    """Grade `count` submissions of one topic; return the figures for one table row."""
    folder = pathlib.Path(tempfile.mkdtemp(prefix="grader-bench-"))
    for i, text in enumerate(variants(topic, count)):
        (folder / f"s{i:04d}_{topic}.py").write_text(text)
    subs = [submissions.load(str(p)) for p in sorted(folder.iterdir())]

    start = time.perf_counter()
    pool = Pool(Options(jobs=jobs, solutions=solutions))
    startup = time.perf_counter() - start
    per_sub, finished, scores = [], time.perf_counter(), []
    for _, result in pool.grade(subs):
        now = time.perf_counter()
        per_sub.append(now - finished)
        finished = now
        scores.append(result["score"])
    batch = time.perf_counter() - start - startup
    pool.close()

    # Floor A: exec the code once. Floor B: the same checks, in-process, no sandbox.
    ref = load_reference(solutions, topic)
    floor_a, floor_b = [], []
    for sub in subs[:30]:
        t = time.perf_counter()
        namespace = {"__name__": "submission"}
        exec(compile(sub.cells[0].source, sub.path, "exec"), namespace)
        floor_a.append(time.perf_counter() - t)
        student = LocalStudent(namespace, TOPICS[topic].FUNCTIONS)
        t = time.perf_counter()
        checks.run_checks(checks.checks_for(TOPICS[topic], hidden=True), student, topic, 0, ref)
        floor_b.append(time.perf_counter() - t + floor_a[-1])
    med = lambda xs: statistics.median(xs) * 1e3
    return {"topic": topic, "checks": len(checks.checks_for(TOPICS[topic], True)),
            "full marks": sum(s == 10 for s in scores), "startup ms": startup * 1e3,
            "wall ms": med(per_sub), "p90 ms": sorted(per_sub)[int(0.9 * len(per_sub))] * 1e3,
            "per s": count / batch, "floor A ms": med(floor_a), "floor B ms": med(floor_b),
            "overhead ms": med(per_sub) - med(floor_b)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", default="all", choices=["all", *TOPICS])
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()
    solutions = find_solutions()
    topics = list(TOPICS) if args.topic == "all" else [args.topic]
    rows = [measure(t, args.count, args.jobs, solutions) for t in topics]
    columns = list(rows[0])
    print(f"{args.count} submissions per topic, jobs {args.jobs}; times are medians per submission")
    print(" | ".join(f"{c:>11}" for c in columns))
    for row in rows:
        print(" | ".join(f"{v:>11.1f}" if isinstance(v, float) else f"{v:>11}" for v in row.values()))
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"peak RSS: grader {self_rss:.0f} MB, largest child process {child_rss:.0f} MB")


if __name__ == "__main__":
    main()
