"""The `grader` command."""
import argparse
import os
import sys
import time

from . import __version__, journal as journal_mod, report, submissions
from .grading import Options, Pool, find_solutions, max_score
from .sandbox import Limits
from .topics import TOPIC_IDS

GRADE_HELP = """\
Grade submissions: each PATH is a .py module, an .ipynb notebook, or a folder of them (searched
recursively). Every submission runs in its own sandboxed process; the checks and the scores are
computed outside it. Files that cannot be graded (unreadable, empty, binary, not Python, no topic)
get a score of 0 and a one-line error.

The topic is --topic if given, else the notebook's metadata (metadata.grader.topic), else the
topic named in the file or folder name (e.g. 06_batchnorm.ipynb, alice_cross_entropy.py).
"""

GRADE_EXAMPLES = """\
examples:
  grader grade examples/                      grade the demo class
  grader grade --topic batchnorm bob.py       grade one file as batch normalization
  grader grade --format json -j 2 subs/ > grades.json
  grader grade --journal run.jsonl subs/      resumable: rerun the same command after an interruption

exit status: 0 when every PATH has a result (whatever the scores), 2 for a usage error.
"""


def positive(kind):
    def parse(text):
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}")
        if value <= 0:
            raise argparse.ArgumentTypeError(f"must be positive: {text!r}")
        return value
    return parse


def build_parser():
    parser = argparse.ArgumentParser(
        prog="grader", description="Auto-grader for deep-learning fundamentals in numpy.")
    parser.add_argument("--version", action="version", version=f"grader {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    g = commands.add_parser("grade", help="grade submissions", description=GRADE_HELP,
                            epilog=GRADE_EXAMPLES,
                            formatter_class=argparse.RawDescriptionHelpFormatter)
    g.add_argument("paths", nargs="+", metavar="PATH", help=".py, .ipynb, or a folder of them")
    g.add_argument("--topic", choices=TOPIC_IDS, help="grade every PATH as this topic")
    g.add_argument("--format", choices=("text", "json"), default="text",
                   help="text report (default) or one JSON object on stdout")
    g.add_argument("--seed", type=int, default=0,
                   help="seed of the check inputs; same seed and files give the same grades "
                        "(default 0)")
    g.add_argument("-j", "--jobs", type=positive(int), default=min(2, os.cpu_count() or 1),
                   help="submissions graded in parallel (default: up to 2)")
    g.add_argument("--solutions", metavar="DIR",
                   help="reference solutions for the hidden checks (default: $GRADER_SOLUTIONS "
                        "or the project's solutions/ folder)")
    g.add_argument("--public-only", action="store_true",
                   help="run only the public checks (what students can run themselves)")
    g.add_argument("--journal", metavar="FILE",
                   help="append each result to FILE and skip submissions already in it, so an "
                        "interrupted batch resumes where it stopped")
    g.add_argument("--call-timeout", type=positive(float), default=10.0, metavar="S",
                   help="wall-clock seconds for one call of a student function (default 10)")
    g.add_argument("--submission-timeout", type=positive(float), default=120.0, metavar="S",
                   help="wall-clock seconds for everything one submission runs (default 120)")
    g.add_argument("--memory", type=positive(int), default=1024, metavar="MB",
                   help="memory a submission may allocate, in MB (default 1024)")
    g.add_argument("--no-namespaces", action="store_true",
                   help="do not use Linux namespaces (pid, network, private filesystem) even "
                        "where available; rlimits, a separate uid (as root) still apply")
    g.add_argument("-v", "--verbose", action="store_true", help="list passed checks too")
    return parser


def main(argv=None):
    parser = build_parser()
    args = parser.parse_args(argv)
    return grade(args, parser)


def grade(args, parser):
    solutions = None
    if not args.public_only:
        if args.solutions and not os.path.isdir(args.solutions):
            parser.error(f"--solutions {args.solutions}: no such folder")
        solutions = find_solutions(args.solutions)
    hidden = solutions is not None
    files = submissions.find(args.paths)
    subs = [submissions.load(f, args.topic) for f in files]
    journal = journal_mod.Journal(args.journal) if args.journal else None
    results = [None] * len(subs)
    todo = []
    for i, sub in enumerate(subs):
        previous = journal.get(journal_mod.key(sub, args.seed, hidden)) if journal else None
        if previous is not None:
            results[i] = previous
        elif sub.error:
            results[i] = {"submission": sub.path, "topic": sub.topic, "score": 0,
                          "max_score": max_score(sub.topic, hidden), "error": sub.error,
                          "checks": []}
        else:
            todo.append(i)
    protections = None
    progress = Progress(len(todo))
    if todo:
        limits = Limits(call_seconds=args.call_timeout, submission_seconds=args.submission_timeout,
                        memory_mb=args.memory)
        options = Options(seed=args.seed, jobs=min(args.jobs, len(todo)), limits=limits,
                          namespaces=not args.no_namespaces, solutions=solutions)
        pool = Pool(options)
        protections = pool.protections
        try:
            for k, result in pool.grade([subs[i] for i in todo]):
                i = todo[k]
                results[i] = result
                if journal:
                    journal.add(journal_mod.key(subs[i], args.seed, hidden), result)
                progress.step(subs[i].path)
        except KeyboardInterrupt:
            progress.done()
            where = (f"run the same command again to resume from {args.journal}" if journal
                     else "use --journal FILE to make a batch resumable")
            print(f"interrupted after {progress.count} of {len(todo)} submissions; {where}",
                  file=sys.stderr)
            return 130
        finally:
            pool.close()
            if journal:
                journal.close()
    progress.done()
    broken = sum(bool(c.get("grader_error")) for r in results for c in r["checks"])
    if broken:
        print(f"warning: {broken} check(s) failed because of an error in the grader itself, not "
              "in the submissions; their messages start with 'grader error'", file=sys.stderr)
    meta = {"seed": args.seed, "hidden_checks": hidden}
    if args.format == "json":
        print(report.as_json(results, protections, meta))
    else:
        print(report.as_text(results, protections, meta, verbose=args.verbose))
    return 0


class Progress:
    """A one-line progress counter on stderr, only when it is a terminal."""

    def __init__(self, total):
        self.total, self.count, self.start = total, 0, time.monotonic()
        self.live = sys.stderr.isatty() and total > 1

    def step(self, path):
        self.count += 1
        if self.live:
            rate = self.count / max(time.monotonic() - self.start, 1e-9)
            sys.stderr.write(f"\r\x1b[Kgraded {self.count}/{self.total} ({rate:.1f}/s)  {path[-60:]}")
            sys.stderr.flush()

    def done(self):
        if self.live and self.count:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


if __name__ == "__main__":
    sys.exit(main())
