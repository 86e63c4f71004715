"""Realistic buggy implementations (<topic>/bugs.py: BUGS, each a dict with the bug's name, the
function it is in, the cause its message must name, and its code) and correct alternatives
(<topic>/correct_*.py), used by the tests and the benchmarks."""
import importlib.util
import pathlib

CORPUS = pathlib.Path(__file__).resolve().parent


def bugs_of(topic):
    """The BUGS list of <topic>/bugs.py (empty if there is none)."""
    path = CORPUS / topic / "bugs.py"
    if not path.exists():
        return []
    spec = importlib.util.spec_from_file_location(f"bugs_{topic}", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module.BUGS


def bug_named(topic, name):
    return next(b for b in bugs_of(topic) if b["name"] == name)
