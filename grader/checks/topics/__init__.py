"""The topics of docs/exercise-api.md. Each module lists its functions and its checks."""
from . import (backprop, batchnorm, cross_entropy, dropout, matrix_calculus, moving_average,
               relu, residual)

# id -> module with FUNCTIONS (name -> spec signature) and CHECKS (list of grader.checks.Check)
TOPICS = {m.ID: m for m in (cross_entropy, matrix_calculus, backprop, relu, moving_average,
                            batchnorm, dropout, residual)}
TOPIC_IDS = tuple(TOPICS)
