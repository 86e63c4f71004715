"""Where the points of a single-function bug go (issue 10): every bug of tests/corpus/<topic>/bugs.py
written over the reference solution, graded in-process with every check (hidden included), and
the points it loses split into: its own function's checks; other functions' checks that judged
and failed (bugs marked `also_charges`: a cache made by one formula and read by another); other
functions' checks that were not judged (the result they needed could not be used).

    .venv/bin/python benchmarks/attribution.py [--seed 0] [--verbose] [TOPIC ...]
"""
import argparse
import pathlib
import sys
import warnings

ROOT = pathlib.Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))  # the corpus of bugs

from corpus import bugs_of  # noqa: E402
from grader.checks.core import checks_for, run_checks  # noqa: E402
from grader.checks.topics import TOPIC_IDS, TOPICS  # noqa: E402
from grader.course.grading import load_reference  # noqa: E402
from grader.course.selfcheck import LocalStudent  # noqa: E402


def losses(topic, bug, seed, ref):
    """(own, other judged, other not judged) points lost by one bug."""
    source = (ROOT / "solutions" / f"{topic}.py").read_text() + "\n\n" + bug["code"]
    namespace = {"__name__": "submission"}
    exec(compile(source, f"{topic}.py", "exec"), namespace)
    module = TOPICS[topic]
    results = run_checks(checks_for(module, hidden=True),
                         LocalStudent(namespace, module.FUNCTIONS), topic, seed, ref)
    own = sum(r.max_score - r.score for r in results if r.function == bug["function"])
    judged = sum(r.max_score - r.score for r in results
                 if r.function != bug["function"] and not r.waits_for)
    unjudged = sum(r.max_score - r.score for r in results
                   if r.function != bug["function"] and r.waits_for)
    return own, judged, unjudged


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("topics", nargs="*", default=list(TOPIC_IDS), metavar="TOPIC")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--verbose", action="store_true", help="one line per bug that loses "
                        "points outside its function")
    args = parser.parse_args()
    warnings.simplefilter("ignore")
    total = [0.0, 0.0, 0.0]
    print(f"{'topic':>16} | bugs | own | other, judged | other, not judged")
    for topic in args.topics:
        ref = load_reference(str(ROOT / "solutions"), topic)
        sums, count = [0.0, 0.0, 0.0], 0
        for bug in bugs_of(topic):
            lost = losses(topic, bug, args.seed, ref)
            sums = [a + b for a, b in zip(sums, lost)]
            count += 1
            if args.verbose and (lost[1] or lost[2]):
                print(f"    {lost[1]:5.2f} {lost[2]:5.2f}  {bug['name']}")
        total = [a + b for a, b in zip(total, sums)]
        print(f"{topic:>16} | {count:4d} | {sums[0]:6.2f} | {sums[1]:6.2f} | {sums[2]:6.2f}")
    points = sum(total)
    print(f"of {points:.2f} points lost: {100 * total[0] / points:.1f} % in the bug's own function, "
          f"{100 * total[1] / points:.1f} % on other functions' judged checks, "
          f"{100 * total[2] / points:.1f} % on checks not judged")


if __name__ == "__main__":
    main()
