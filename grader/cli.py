"""The `grader` command."""
import argparse
import os
import signal
import sys
import time

from . import __version__
from .checks.topics import TOPIC_IDS  # a plain tuple: the topic modules load on first use

# numpy's BLAS would start a thread per core that spins between calls, on the cores the student
# processes need; the grader's own arrays are small. Set before numpy loads.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

# The heavy modules (numpy, the sandbox) are imported inside main(), so that Ctrl-C while they
# load ends as quietly as Ctrl-C later on.
PROJECT_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PROJECT_ASSIGNMENTS = os.path.join(PROJECT_ROOT, "assignments")

GRADE_HELP = """\
Grade submissions: each PATH is a .py module, an .ipynb notebook, or a folder of them (searched
recursively; symbolic links are never followed). Every submission runs in its own sandboxed
process; the checks and the scores are computed outside it. Files that cannot be graded (links,
unreadable, empty, binary, not Python, no topic) get a score of 0 and a one-line error.

The topic is --topic if given, else in an nbgrader course (submitted/<student>/<assignment>/) the
assignment's, else the notebook's metadata (metadata.grader.topic), else the topic named in the
file or folder name (e.g. 06_batchnorm.ipynb, alice_cross_entropy.py).
"""

GRADE_EXAMPLES = """\
examples:
  grader grade examples/                      grade the demo class
  grader grade --topic batchnorm bob.py       grade one file as batch normalization
  grader grade --format json -j 2 subs/ > grades.json
  grader grade --journal run.jsonl subs/      resumable: rerun the same command after an interruption
  grader grade --feedback fb/ --report class.html --csv scores.csv subs/
                                              feedback per student, a class report, a score sheet

exit status: 0 when every PATH has a result (whatever the scores), 1 when the sandbox cannot
start or --gradebook could not record every submission, 2 for a usage error (such as a PATH that
does not exist), 130 when interrupted.
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
    g.add_argument("paths", nargs="*", metavar="PATH",
                   help=".py, .ipynb, or a folder of them (default with --gradebook: the "
                        "course's submitted/ folder)")
    g.add_argument("--topic", choices=TOPIC_IDS, help="grade every PATH as this topic")
    g.add_argument("--format", choices=("text", "json", "gradescope", "prairielearn"),
                   default="text",
                   help="text report (default); one JSON object on stdout (documented by "
                        "docs/results.schema.json); or the results.json of Gradescope or "
                        "PrairieLearn for one student's files (all PATHs together)")
    g.add_argument("--seed", type=int, default=0,
                   help="seed of the check inputs; same seed and files give the same grades "
                        "(default 0)")
    g.add_argument("-j", "--jobs", type=positive(int), default=min(2, os.cpu_count() or 1),
                   help="submissions graded in parallel (default: up to 2); with no more jobs "
                        "than CPUs, each job keeps to CPUs of its own")
    g.add_argument("--solutions", metavar="DIR",
                   help="reference solutions for the hidden checks (default: $GRADER_SOLUTIONS "
                        "or the project's solutions/ folder)")
    g.add_argument("--public-only", action="store_true",
                   help="run only the public checks (what students can run themselves)")
    g.add_argument("--journal", metavar="FILE",
                   help="append each result to FILE and skip submissions already in it, so an "
                        "interrupted batch resumes where it stopped")
    g.add_argument("--call-timeout", type=positive(float), default=10.0, metavar="S",
                   help="seconds for one call of a student function (default 10): CPU time "
                        "of the submission where cgroups count it (with a wall-clock backstop "
                        "of 3x + 2 s), else wall-clock time")
    g.add_argument("--submission-timeout", type=positive(float), default=120.0, metavar="S",
                   help="seconds for everything one submission costs, the grader's own work "
                        "on it included (default 120), counted as --call-timeout is")
    g.add_argument("--memory", type=positive(int), default=1024, metavar="MB",
                   help="memory a submission may allocate, in MB (default 1024): all its "
                        "processes together where cgroups allow, else per process")
    g.add_argument("--no-namespaces", action="store_true",
                   help="do not use Linux namespaces (pid, network, private filesystem) even "
                        "where available; rlimits, a separate uid (as root) still apply")
    g.add_argument("--gradebook", metavar="COURSE_DIR",
                   help="also write the scores into the gradebook of the nbgrader course in "
                        "COURSE_DIR (the folder of its nbgrader_config.py; run nbgrader "
                        "generate_assignment first). Only submissions in COURSE_DIR/submitted/"
                        "<student>/<assignment>/ are recorded; with no PATH, that folder is graded")
    g.add_argument("-v", "--verbose", action="store_true", help="list passed checks too")
    add_output_options(g)

    n = commands.add_parser(
        "nbgrader", help="write an nbgrader course directory for the topics",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Write an nbgrader course in DIR: nbgrader_config.py, source/<assignment>/ "
                    "with each notebook of --assignments, the reference solution inside "
                    "solution regions and an autograded test cell per function (hidden checks "
                    "in hidden-test regions), and the reference solutions in DIR/solutions/ "
                    "for the hidden tests.",
        epilog="then, in DIR:\n  nbgrader generate_assignment 06_batchnorm\n"
               "  nbgrader autograde 06_batchnorm            (quick, runs in the student's kernel)\n"
               "  grader grade --gradebook submitted/         (sandboxed, cannot be tampered with)")
    n.add_argument("dir", metavar="DIR")
    n.add_argument("--assignments", metavar="DIR", default=PROJECT_ASSIGNMENTS,
                   help="student notebooks (default: this project's assignments/)")
    n.add_argument("--solutions", metavar="DIR", help="reference solutions (default as for grade)")
    n.add_argument("--course-id", default="dl-fundamentals",
                   help="the course id written into nbgrader_config.py (default dl-fundamentals)")
    n.add_argument("--force", action="store_true",
                   help="overwrite files of an existing course that differ from what would be "
                        "written (nbgrader_config.py, source notebooks, solutions); without it, "
                        "nothing that exists is changed")

    v = commands.add_parser(
        "validate", help="prove a course is sound (solutions, skeletons, notebooks)",
        description="Check that every reference solution gets full marks, every notebook as "
                    "shipped scores 0 without a grader error, every notebook with the solution "
                    "filled in gets full marks, and every notebook runs top to bottom in a "
                    "kernel. Exit status 1 if anything fails, with a report of what.")
    v.add_argument("--assignments", metavar="DIR", default=PROJECT_ASSIGNMENTS)
    v.add_argument("--solutions", metavar="DIR")
    v.add_argument("--seeds", type=positive(int), default=3,
                   help="seeds under which each solution must get full marks (default 3)")
    v.add_argument("--no-execute", action="store_true",
                   help="skip running the notebooks in a kernel")
    parser.commands = {"grade": g, "nbgrader": n, "validate": v,  # usage errors name the command
                       **add_platform_commands(commands)}
    return parser


def add_output_options(g):
    """`grader grade` options that write files besides the report on stdout."""
    g.add_argument("--feedback", metavar="DIR",
                   help="write a feedback page per student and topic, DIR/<student>/<topic>.html "
                        "and .md: the score, every check, each failure's message")
    g.add_argument("--report", metavar="FILE.html",
                   help="write a self-contained class report: score distributions, the most "
                        "common mistakes, what could not be graded, the protections in force")
    g.add_argument("--csv", metavar="FILE",
                   help="write the scores as CSV: one row per student, one column per topic, "
                        "and the total")


def add_platform_commands(commands):
    gs = commands.add_parser(
        "gradescope", help="write a Gradescope autograder zip",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Write OUT.zip for a Gradescope programming assignment: setup.sh (installs "
                    "the grader from the wheel inside the zip), run_autograder (grades "
                    "$AUTOGRADER_ROOT/submission/ into $AUTOGRADER_ROOT/results/results.json; "
                    "AUTOGRADER_ROOT defaults to /autograder), the grader as a wheel built "
                    "offline from this checkout, and the reference solutions. Keep the zip "
                    "away from students: it holds the solutions.",
        epilog="example:\n  grader gradescope --topic batchnorm batchnorm-autograder.zip\n"
               "then upload the zip in the assignment's Configure Autograder page.")
    gs.add_argument("out", metavar="OUT.zip")
    gs.add_argument("--topic", choices=TOPIC_IDS,
                    help="grade every submitted file as this topic (default: from each "
                         "notebook's metadata or file name)")
    gs.add_argument("--solutions", metavar="DIR", help="reference solutions (default as for grade)")
    gs.add_argument("--wheel", metavar="FILE",
                    help="bundle this grader wheel instead of building one from the checkout")

    pl = commands.add_parser(
        "prairielearn", help="write a PrairieLearn question folder for a topic",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Write a PrairieLearn question in DIR for TOPIC: info.json (external "
                    "grading with --image), question.html (the student uploads the file), the "
                    "notebook to download in clientFilesQuestion/, and tests/ with run.sh, "
                    "which grades $PL_GRADE_ROOT/student/ into "
                    "$PL_GRADE_ROOT/results/results.json (PL_GRADE_ROOT defaults to /grade), "
                    "and the topic's reference solution.",
        epilog="example:\n  grader prairielearn --topic batchnorm --image you/grader:0.1.0 "
               "course/questions/batchnorm")
    pl.add_argument("dir", metavar="DIR")
    pl.add_argument("--topic", choices=TOPIC_IDS, required=True)
    pl.add_argument("--image", default=None,
                    help="the Docker image PrairieLearn runs (built from this project's "
                         "Dockerfile and pushed where PrairieLearn can pull it; default "
                         "grader:latest)")
    pl.add_argument("--file-name", metavar="NAME",
                    help="the file students upload (default: the topic's notebook name)")
    pl.add_argument("--timeout", type=positive(int), default=None, metavar="S",
                    help="seconds PrairieLearn gives a grading job (default 120, at most 600)")
    pl.add_argument("--assignments", metavar="DIR", default=PROJECT_ASSIGNMENTS,
                    help="student notebooks (default: this project's assignments/)")
    pl.add_argument("--solutions", metavar="DIR", help="reference solutions (default as for grade)")
    return {"gradescope": gs, "prairielearn": pl}




class InterruptsDeferred:
    """Within `with InterruptsDeferred() as d:`, Ctrl-C only sets d.caught. For steps that must
    not be cut in the middle: imports (numpy turns an interrupted import into a long ImportError)
    and starting the sandbox (half-started workers would be left behind)."""

    def __enter__(self):
        self.caught = False
        self.previous = signal.signal(signal.SIGINT, self._note)
        return self

    def _note(self, signum, frame):
        self.caught = True

    def __exit__(self, *exc):
        signal.signal(signal.SIGINT, self.previous)
        return False


def main(argv=None):
    code = run(argv)
    if argv is None:
        # The `grader` command itself, its output complete: a Ctrl-C from here on would only
        # cut Python's own teardown short (once it has put back the default handler, the process
        # dies of the signal with no word), so it is ignored for the last milliseconds.
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    return code


def run(argv):
    try:
        with InterruptsDeferred() as deferred:
            parser = build_parser()
        if deferred.caught:
            raise KeyboardInterrupt
        args = parser.parse_args(argv)
        command = {"grade": grade, "nbgrader": write_nbgrader_course, "validate": validate_course,
                   "gradescope": write_gradescope_zip, "prairielearn": write_prairielearn_question}
        return command[args.command](args, parser.commands[args.command])
    except KeyboardInterrupt:
        print("grader: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # the reader went away (grader grade ... | head): stop quietly
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 141  # 128 + SIGPIPE, as a shell reports it
    except CommandError as exc:
        print(f"grader: error: {exc}", file=sys.stderr)
        return 1


class CommandError(Exception):
    """A failure that is not a usage error, told in one line (exit status 1)."""


def solutions_or_exit(args, parser, topics=None):
    """The reference solutions folder: --solutions, else $GRADER_SOLUTIONS, else this project's.
    A folder named but missing, or lacking a topic being graded, is a usage error: hidden checks
    never silently disappear from some topics."""
    from .course.grading import find_solutions
    named = [("--solutions", args.solutions),
             ("GRADER_SOLUTIONS", os.environ.get("GRADER_SOLUTIONS"))]
    for name, folder in named:
        if folder:
            if not os.path.isdir(folder):
                parser.error(f"{name} {folder}: no such folder")
            solutions = os.path.abspath(folder)
            break
    else:
        solutions = find_solutions()
        if solutions is None:
            parser.error("no reference solutions found: pass --solutions DIR (or --public-only)")
    if topics is None:
        topics = assignment_topics(args.assignments)
    missing = [t for t in topics
               if not os.path.isfile(os.path.join(solutions, f"{t}.py"))]
    if missing:
        parser.error(f"{solutions} has no reference solution for {', '.join(missing)} "
                     f"({', '.join(t + '.py' for t in missing)}): add it, or grade with "
                     "--public-only")
    return solutions


def assignment_topics(folder):
    """The topics of the notebooks in `folder` (from their metadata.grader.topic)."""
    import json
    topics = set()
    for name in sorted(os.listdir(folder)):
        if name.endswith(".ipynb"):
            try:
                with open(os.path.join(folder, name), encoding="utf-8") as f:
                    topic = json.load(f)["metadata"]["grader"]["topic"]
            except (OSError, ValueError, KeyError, TypeError):
                continue  # the command itself reports what is wrong with that notebook
            if isinstance(topic, str):
                topics.add(topic)
    return sorted(topics)


def write_nbgrader_course(args, parser):
    from .course.nbgrader import CourseError, write_course
    if not os.path.isdir(args.assignments):
        parser.error(f"--assignments {args.assignments}: no such folder")
    try:
        written = write_course(args.dir, args.assignments, solutions_or_exit(args, parser),
                               args.course_id, force=args.force)
    except CourseError as exc:
        raise CommandError(str(exc))
    print(f"wrote an nbgrader course in {args.dir}: {len(written)} assignments in source/ "
          f"({', '.join(written)}), the reference solutions in solutions/")
    print(f"next: cd {args.dir} && nbgrader generate_assignment {written[0] if written else 'NAME'}")
    return 0


def validate_course(args, parser):
    from .course.validate import validate
    if not os.path.isdir(args.assignments):
        parser.error(f"--assignments {args.assignments}: no such folder")
    ok = validate(args.assignments, solutions_or_exit(args, parser), seeds=args.seeds,
                  run_notebooks=not args.no_execute)
    print("the course is sound" if ok else "the course has problems (see FAIL above)")
    return 0 if ok else 1


def grade(args, parser):
    with InterruptsDeferred() as deferred:  # these import numpy
        from .course import journal as journal_mod, report, submissions
        from .course.grading import error_result
    if deferred.caught:
        raise KeyboardInterrupt
    if args.gradebook:
        check_course_root(args.gradebook, parser)
        if not args.paths:
            args.paths = [os.path.join(args.gradebook, "submitted")]
    if not args.paths:
        parser.error("give at least one PATH (a file or a folder of submissions)")
    check_output_paths(args, parser)
    for path in args.paths:
        if not os.path.lexists(path):
            parser.error(f"{path}: no such file or folder")
    with InterruptsDeferred() as deferred:  # reading imports IPython for notebooks
        subs = [submissions.load(f, args.topic, given) for f, given in submissions.find(args.paths)]
    if deferred.caught:
        raise KeyboardInterrupt
    solutions = None
    if not args.public_only:
        solutions = solutions_or_exit(args, parser, sorted({s.topic for s in subs if s.topic}))
    hidden = solutions is not None
    try:
        journal = journal_mod.Journal(args.journal) if args.journal else None
    except (OSError, UnicodeDecodeError) as exc:
        parser.error(f"--journal {args.journal}: cannot be used ({getattr(exc, 'strerror', None) or exc})")
    results = [None] * len(subs)
    todo = []
    for i, sub in enumerate(subs):
        previous = journal.get(journal_mod.key(sub, args.seed, hidden)) if journal else None
        if previous is not None:
            results[i] = previous
        elif sub.error:
            results[i] = error_result(sub, hidden)
        else:
            todo.append(i)
    protections = None
    progress = Progress(len(todo))
    for i, sub in enumerate(subs):
        if results[i] is not None and sub.notes:
            results[i]["notes"] = list(sub.notes)
    if todo:
        pool = None
        with InterruptsDeferred() as deferred:
            try:
                pool = start_pool(args, len(todo), solutions)
            except CommandError:
                if not deferred.caught:
                    raise
                # a terminal's Ctrl-C also reaches the sandbox's starting processes
        if deferred.caught:
            if pool:
                pool.close()
            raise KeyboardInterrupt
        protections = pool.protections
        try:
            for k, result in pool.grade([subs[i] for i in todo]):
                i = todo[k]
                if subs[i].notes:
                    result["notes"] = list(subs[i].notes)
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
    elif args.format in ("gradescope", "prairielearn"):
        print(platform_results(args.format, results, meta))
    else:
        print(report.as_text(results, protections, meta, verbose=args.verbose))
    sys.stdout.flush()
    write_outputs(args, results, protections, meta)
    recorded = record_in_gradebook(results, args.gradebook) if args.gradebook else True
    return 0 if recorded else 1


def check_output_paths(args, parser):
    """Refuse, before grading, files that could not be written afterwards."""
    for option, path in (("--report", args.report), ("--csv", args.csv)):
        if path and not os.path.isdir(os.path.dirname(os.path.abspath(path))):
            parser.error(f"{option} {path}: its folder does not exist")
        if path and os.path.isdir(path):
            parser.error(f"{option} {path}: is a folder, not a file")
    if args.feedback and os.path.exists(args.feedback) and not os.path.isdir(args.feedback):
        parser.error(f"--feedback {args.feedback}: exists and is not a folder")


def platform_results(name, results, meta):
    if name == "gradescope":
        from .course import gradescope
        return gradescope.as_json(results, meta)
    from .course import prairielearn
    return prairielearn.as_json(results)


def write_outputs(args, results, protections, meta):
    """--feedback, --report and --csv, each announced on stderr."""
    if args.feedback:
        from .course import feedback
        written = feedback.write(args.feedback, results)
        print(f"wrote {len(written) // 2} feedback pages (.html and .md) in {args.feedback}",
              file=sys.stderr)
    if args.report:
        from .course import classreport
        classreport.write(args.report, results, protections, meta)
        print(f"wrote the class report to {args.report}", file=sys.stderr)
    if args.csv:
        from .course import scoresheet
        scoresheet.write(args.csv, results)
        print(f"wrote the scores to {args.csv}", file=sys.stderr)


def write_gradescope_zip(args, parser):
    from .course import gradescope
    if not args.out.endswith(".zip"):
        parser.error(f"{args.out}: the autograder must be a .zip file")
    if not os.path.isdir(os.path.dirname(os.path.abspath(args.out))):
        parser.error(f"{args.out}: its folder does not exist")
    if args.wheel and not os.path.isfile(args.wheel):
        parser.error(f"--wheel {args.wheel}: no such file")
    solutions = solutions_or_exit(args, parser, [args.topic] if args.topic else [])
    try:
        names = gradescope.write_autograder(args.out, solutions,
                                            project_root=PROJECT_ROOT,
                                            wheel=args.wheel, topic=args.topic)
    except RuntimeError as exc:
        print(f"grader gradescope: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.out}: {', '.join(names)}")
    print("upload it in the assignment's Configure Autograder page; it holds the reference "
          "solutions, so keep it away from students")
    return 0


def write_prairielearn_question(args, parser):
    from .course import prairielearn
    if os.path.exists(args.dir) and not os.path.isdir(args.dir):
        parser.error(f"{args.dir}: exists and is not a folder")
    if args.timeout is not None and args.timeout > 600:
        parser.error("--timeout: PrairieLearn allows at most 600 seconds")
    solutions = solutions_or_exit(args, parser, [args.topic])
    if not os.path.isfile(os.path.join(solutions, f"{args.topic}.py")):
        parser.error(f"no reference solution {args.topic}.py in {solutions}")
    written = prairielearn.write_question(
        args.dir, args.topic, solutions, assignments=args.assignments,
        image=args.image or prairielearn.DEFAULT_IMAGE, file_name=args.file_name,
        timeout=args.timeout or prairielearn.DEFAULT_TIMEOUT)
    print(f"wrote a PrairieLearn question in {args.dir}: {', '.join(written)}")
    print("tests/ holds the reference solution: PrairieLearn keeps it from students, keep it "
          "out of any public copy of the course")
    return 0


def start_pool(args, count, solutions):
    """The sandbox's worker pool; any failure to start it is one line saying what to do."""
    from .course.grading import Options, Pool
    from .sandbox.process import Limits
    limits = Limits(call_seconds=args.call_timeout, submission_seconds=args.submission_timeout,
                    memory_mb=args.memory)
    options = Options(seed=args.seed, jobs=min(args.jobs, count), limits=limits,
                      namespaces=not args.no_namespaces, solutions=solutions)
    try:
        return Pool(options)
    except Exception as exc:
        text = str(exc).strip()
        if isinstance(exc, PermissionError) or "PermissionError" in text:
            where = f" ({exc.filename})" if getattr(exc, "filename", None) else ""
            raise CommandError(
                f"cannot start the sandbox: permission denied{where}. The sandbox runs student "
                "code as an unprivileged user, who must be able to read this Python and the "
                "grader: install the grader in a virtual environment made with a Python every "
                "user can read (e.g. /usr/bin/python3 -m venv .venv), in a folder every user "
                "can read")
        reason = " ".join(text.splitlines()[-1].split())[:300] if text else type(exc).__name__
        raise CommandError(f"cannot start the sandbox: {reason}. Try --no-namespaces, or "
                           "grade as root")


def check_course_root(root, parser):
    """--gradebook names an nbgrader course root: a folder with nbgrader_config.py that is not
    inside a submitted/ folder (a student's folder must never be taken for a course, since its
    configuration file is Python that would run here)."""
    if not os.path.isdir(root):
        parser.error(f"--gradebook {root}: no such folder")
    if "submitted" in os.path.realpath(root).split(os.sep):
        parser.error(f"--gradebook {root}: is inside a submitted/ folder; give the course root "
                     "(the folder that holds submitted/ and nbgrader_config.py)")
    config = os.path.join(root, "nbgrader_config.py")
    if os.path.islink(config) or not os.path.isfile(config):
        parser.error(f"--gradebook {root}: has no nbgrader_config.py; give the course root "
                     "(the folder that holds submitted/ and nbgrader_config.py)")


def record_in_gradebook(results, root):
    """Write the scores into the course's gradebook; True when every result was recorded."""
    from .course.nbgrader import write_gradebook
    try:
        recorded, problems = write_gradebook(root, results)
    except Exception as exc:  # nbgrader's configuration or database: say so in one line
        reason = " ".join(str(exc).split())[:300]
        print(f"grader: error: nothing was recorded in the gradebook of {root}: "
              f"{type(exc).__name__}: {reason}", file=sys.stderr)
        return False
    for line in problems:
        print(f"warning: {line}", file=sys.stderr)
    missing = len(results) - recorded
    print(f"recorded {recorded} of {len(results)} submission(s) in the gradebook of {root}"
          + (f"; {missing} not recorded (see the warnings above)" if missing else ""),
          file=sys.stderr)
    return missing == 0


class Progress:
    """A one-line progress counter on stderr, only when it is a terminal."""

    def __init__(self, total):
        self.total, self.count, self.start = total, 0, time.monotonic()
        self.live = sys.stderr.isatty() and total > 1

    def step(self, path):
        self.count += 1
        if self.live:
            from .course.report import clean
            rate = self.count / max(time.monotonic() - self.start, 1e-9)
            sys.stderr.write(f"\r\x1b[Kgraded {self.count}/{self.total} ({rate:.1f}/s)  "
                             f"{clean(path)[-60:]}")
            sys.stderr.flush()

    def done(self):
        if self.live and self.count:
            sys.stderr.write("\r\x1b[K")
            sys.stderr.flush()


if __name__ == "__main__":
    sys.exit(main())
