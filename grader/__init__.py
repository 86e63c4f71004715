"""An auto-grader for deep-learning fundamentals. See README.md."""

__version__ = "0.1.0"

# True inside a sandboxed student process: a notebook's self-check cell then does nothing.
IN_SANDBOX = False


def check(topic, namespace=None):
    """Run the public checks of `topic` on the functions defined in the calling notebook."""
    if IN_SANDBOX:
        return None
    from .course.selfcheck import check as run
    if namespace is None:
        import inspect
        namespace = inspect.currentframe().f_back.f_globals
    return run(topic, namespace)
