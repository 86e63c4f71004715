"""What a notebook's autograded test cells import: `from grader.nbgrader import test`.

The nbgrader integration itself is grader.course.nbgrader; this name stays short and stable for
the notebooks students hold.
"""


def test(topic, function, hidden=False, namespace=None):
    """Run the checks about `function` on the calling notebook's functions; see
    grader.course.nbgrader.test."""
    import grader
    if grader.IN_SANDBOX:  # while `grader grade` runs the notebook, the grader does the grading
        return None
    import inspect

    from .course.nbgrader import test as run
    if namespace is None:
        namespace = inspect.currentframe().f_back.f_globals
    return run(topic, function, hidden, namespace)
