"""Run every check of a topic (hidden ones too) on source text through the sandbox, with
grader.checks.core.run_checks, which reports each cause once."""
from grader.checks.core import checks_for, run_checks
from grader.checks.topics import TOPICS
from grader.course import submissions
from grader.course.grading import open_student


def check_source(checker, folder, topic, source, seed=0):
    """CheckResults of all checks of `topic` for `source`, written to a fresh file in `folder`."""
    path = folder / f"{len(list(folder.iterdir()))}" / f"{topic}.py"
    path.parent.mkdir()
    path.write_text(source)
    sub = submissions.load(str(path), topic)
    module = TOPICS[topic]
    sandbox, references = checker
    student = open_student(sandbox, 0, sub, seed)
    try:
        return run_checks(checks_for(module, hidden=True), student, topic, seed,
                          references[topic])
    finally:
        student.close()
