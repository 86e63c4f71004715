"""Time the notebook self-check, `check(topic)`, on each topic's reference solution.

    python benchmarks/selfcheck.py [--repeat 5]

This is what a student waits for when running the last cell of a notebook (target: under 2 s).
Printed per topic: the number of public checks, the first call (which imports the topic's
checks) and the median and worst of the following calls, in milliseconds.
"""
import argparse
import pathlib
import runpy
import statistics
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from grader import check  # noqa: E402
from grader.checks.core import checks_for  # noqa: E402
from grader.checks.topics import TOPICS  # noqa: E402


def timed(topic, namespace):
    start = time.perf_counter()
    report = check(topic, namespace)
    elapsed = (time.perf_counter() - start) * 1e3
    if report.score != report.max_score:
        sys.exit(f"{topic}: the reference solution failed a public check: {report!r}")
    return elapsed


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    print(f"{'topic':>16} | {'checks':>6} | {'first ms':>8} | {'median ms':>9} | {'worst ms':>8}")
    for topic in TOPICS:
        namespace = runpy.run_path(str(ROOT / "solutions" / f"{topic}.py"))
        first = timed(topic, namespace)
        rest = [timed(topic, namespace) for _ in range(args.repeat)]
        print(f"{topic:>16} | {len(checks_for(TOPICS[topic], hidden=False)):>6} | {first:>8.0f} | "
              f"{statistics.median(rest):>9.0f} | {max(rest):>8.0f}")


if __name__ == "__main__":
    main()
