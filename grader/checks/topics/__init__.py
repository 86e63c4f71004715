"""The topics of docs/exercise-api.md, in the course's order. Each module lists its functions
(FUNCTIONS: name -> spec signature) and its checks (CHECKS). The modules, and numpy with them,
are imported when TOPICS is first used, so that `grader --help` starts at once."""
import importlib

TOPIC_IDS = ("cross_entropy", "matrix_calculus", "backprop", "relu", "moving_average",
             "batchnorm", "dropout", "residual")


def __getattr__(name):
    if name == "TOPICS":
        global TOPICS
        TOPICS = {t: importlib.import_module(f"{__name__}.{t}") for t in TOPIC_IDS}
        return TOPICS
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
