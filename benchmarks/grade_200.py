"""Grade 200 submissions of one topic and print the cost per submission next to its floor.

    python benchmarks/grade_200.py [--topic batchnorm] [--count 200] [--jobs 1]

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

from grader import checks, submissions  # noqa: E402
from grader.grading import Options, Pool, find_solutions, load_reference  # noqa: E402
from grader.selfcheck import LocalStudent  # noqa: E402
from grader.topics import TOPICS  # noqa: E402


def variants(topic, count):
    """The reference plus small realistic edits, so that not every submission is identical."""
    base = (ROOT / "solutions" / f"{topic}.py").read_text()
    out = []
    for i in range(count):
        out.append(base + f"\n\n# submission {i}\nSTUDENT_ID = {i}\n")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--topic", default="batchnorm", choices=sorted(TOPICS))
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--jobs", type=int, default=1)
    args = parser.parse_args()

    folder = pathlib.Path(tempfile.mkdtemp(prefix="grader-bench-"))
    sources = variants(args.topic, args.count)
    for i, text in enumerate(sources):
        (folder / f"s{i:04d}_{args.topic}.py").write_text(text)
    subs = [submissions.load(str(p)) for p in sorted(folder.iterdir())]

    solutions = find_solutions()
    start = time.perf_counter()
    pool = Pool(Options(jobs=args.jobs, solutions=solutions))
    startup = time.perf_counter() - start
    per_sub, finished = [], time.perf_counter()
    scores = []
    for _, result in pool.grade(subs):
        now = time.perf_counter()
        per_sub.append(now - finished)
        finished = now
        scores.append(result["score"])
    batch = time.perf_counter() - start - startup
    pool.close()

    # Floor A: exec the code once. Floor B: the same checks in-process.
    ref = load_reference(solutions, args.topic)
    floor_a, floor_b = [], []
    for sub in subs[:50]:
        t = time.perf_counter()
        namespace = {"__name__": "submission"}
        exec(compile(sub.cells[0].source, sub.path, "exec"), namespace)
        floor_a.append(time.perf_counter() - t)
        student = LocalStudent(namespace, TOPICS[args.topic].FUNCTIONS)
        t = time.perf_counter()
        for c in checks.checks_for(TOPICS[args.topic], hidden=True):
            checks.run_check(c, student, args.topic, 0, ref)
        floor_b.append(time.perf_counter() - t + floor_a[-1])

    ms = lambda xs: f"median {statistics.median(xs) * 1e3:6.1f} ms, p90 {sorted(xs)[int(0.9 * len(xs))] * 1e3:6.1f} ms"
    self_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    child_rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    print(f"topic {args.topic}: {args.count} submissions, {len(checks.checks_for(TOPICS[args.topic], True))} checks each, jobs {args.jobs}")
    print(f"scores: all {max(scores):g}" if min(scores) == max(scores) else f"scores {min(scores)}..{max(scores)}")
    print(f"start-up (zygotes, references):         {startup * 1e3:7.1f} ms once")
    print(f"graded, wall per submission:            {ms(per_sub)}")
    print(f"batch throughput:                       {args.count / batch:7.1f} submissions/s ({batch:.2f} s)")
    print(f"floor A, exec the code in-process:      {ms(floor_a)}")
    print(f"floor B, same checks in-process:        {ms(floor_b)}")
    print(f"overhead over floor B:                  {(statistics.median(per_sub) - statistics.median(floor_b)) * 1e3:7.1f} ms per submission")
    print(f"peak RSS: grader {self_rss:.0f} MB, largest child {child_rss:.0f} MB")


if __name__ == "__main__":
    main()
