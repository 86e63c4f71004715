"""The topics of ../shared/exercise-api.md. Each module lists its functions and its checks."""
from . import batchnorm, cross_entropy

TOPIC_IDS = ("cross_entropy", "matrix_calculus", "backprop", "relu", "moving_average",
             "batchnorm", "dropout", "residual")

# id -> module with FUNCTIONS (name -> spec signature) and CHECKS (list of grader.checks.Check)
TOPICS = {m.ID: m for m in (cross_entropy, batchnorm)}
