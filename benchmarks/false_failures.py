"""False failures: the reference solutions and every correct alternative of tests/corpus, graded
in-process (grader.course.selfcheck.LocalStudent, hidden checks included) over many seeds.
Correct code must never lose a point; this prints how many seeds ran and every failure.

    python benchmarks/false_failures.py [--seeds N] [--start S] [--jobs J] [TOPIC ...]
"""
import argparse
import multiprocessing
import pathlib
import sys
import time
import warnings

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader.checks.core import checks_for, run_checks  # noqa: E402
from grader.checks.topics import TOPICS  # noqa: E402
from grader.course.grading import load_reference  # noqa: E402
from grader.course.selfcheck import LocalStudent  # noqa: E402


def implementations(topic):
    return [ROOT / "solutions" / f"{topic}.py",
            *sorted((ROOT / "tests" / "corpus" / topic).glob("correct_*.py"))]


def sweep(job):
    """Every implementation of `topic` at seeds start, start + step, ... below stop: the
    failures as (file, seed, check, message)."""
    topic, start, stop, step = job
    warnings.simplefilter("ignore")
    module, ref = TOPICS[topic], load_reference(str(ROOT / "solutions"), topic)
    checks = checks_for(module, hidden=True)
    failures, namespaces = [], []
    for path in implementations(topic):
        namespace = {"__name__": f"_sweep_{path.stem}"}
        exec(compile(path.read_text(), str(path), "exec"), namespace)
        namespaces.append((path.name, namespace))
    for seed in range(start, stop, step):
        for name, namespace in namespaces:
            for r in run_checks(checks, LocalStudent(namespace, module.FUNCTIONS), topic, seed,
                                ref):
                if r.score < r.max_score:
                    failures.append((name, seed, r.name, r.message[:300]))
    return topic, failures


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, default=200, help="number of seeds (default 200)")
    parser.add_argument("--start", type=int, default=0, help="first seed (default 0)")
    parser.add_argument("--jobs", type=int, default=1, help="worker processes (default 1)")
    parser.add_argument("topics", nargs="*", default=list(TOPICS), help="topics (default all)")
    args = parser.parse_args()
    stop = args.start + args.seeds
    jobs = [(t, args.start + k, stop, args.jobs) for t in args.topics for k in range(args.jobs)]
    began = time.monotonic()
    total = {t: [] for t in args.topics}
    with multiprocessing.Pool(args.jobs) as pool:
        for topic, failures in pool.imap_unordered(sweep, jobs):
            total[topic] += failures
    print(f"seeds {args.start}..{stop - 1} ({args.seeds} seeds), "
          f"{time.monotonic() - began:.0f} s")
    for topic in args.topics:
        files = len(implementations(topic))
        print(f"{topic:16} {files:2} implementations x {args.seeds} seeds: "
              f"{len(total[topic])} checks lost points")
        kinds = {}
        for name, seed, check, message in sorted(total[topic], key=lambda f: f[1]):
            kinds.setdefault((check, message[:120]), []).append((seed, name))
        for (check, message), where in kinds.items():
            seeds = sorted({seed for seed, _ in where})
            print(f"    {len(where)} x (seeds {', '.join(map(str, seeds[:5]))}"
                  f"{', ...' if len(seeds) > 5 else ''}; first in {where[0][1]}) {check}: "
                  f"{message}")
    return 1 if any(total.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
