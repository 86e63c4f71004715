"""Every tolerance and threshold the checks use, each with the sentence that justifies it.

tests/test_tolerances.py measures each one's margin: what correct code gives against the
threshold, and what a realistic bug gives against it.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Tol:
    """|actual - expected| <= rtol * |expected| + atol * max|expected| + floor, entry by entry.
    `floor` is for results whose round-off is set by the inputs, not by the result itself."""

    rtol: float = 1e-6
    atol: float = 1e-6
    floor: float = 0.0


# -- comparing values ----------------------------------------------------------------------------
VALUES = Tol(rtol=1e-6, atol=1e-6)
EXACT = Tol(rtol=0.0, atol=0.0)
ROUND_OFF = Tol(rtol=1e-12, atol=0.0)
IDENTITY = Tol(rtol=1e-9, atol=1e-9)
FORMULA = Tol(rtol=1e-8, atol=1e-8)
FACTOR_RTOL = 1e-4
FACTOR_FIT = 1e-6
FLOAT32_RTOL = 1e-6
LSE_ROUND_OFF = 1e3
ROW_SUM = 1e-9

# -- numerical gradients ------------------------------------------------------------------------
H = 1e-5
KINK_MARGIN = 100 * H
GRAD_TOL = 1e-6
GRAD_FLOOR = 1e3
LOCATE = Tol(rtol=1e-4, atol=1e-5)
RECHECK = Tol(rtol=1e-9, atol=1e-9)
RECHECKS = 3

# -- time --------------------------------------------------------------------------------------
LONG_SEQUENCE_CPU = 2.0

# -- statistics and identities ------------------------------------------------------------------
FALSE_FAILURE = 1e-9
SUM_TO_ZERO = 1e-8
VARIANCE_PATH = 1e-2

WHY = {
    "VALUES": "Equivalent float64 formulas on the well-conditioned inputs the checks use differ by "
              "< 1e-12 relative, so 1e-6 leaves > 1000x margin, while real bugs are off by 1e-3 "
              "or much more.",
    "EXACT": "ReLU selects or zeroes entries without arithmetic, so every correct formula gives "
             "the same bits.",
    "ROUND_OFF": "Dropout's kept entries are x / (1 - p), one division whose result differs "
                 "between correct formulas (x * (1 / (1 - p)), x / (1 - p)) by at most 2 ulps "
                 "(~4e-16 relative).",
    "IDENTITY": "Batch norm's output mean and variance equal beta and gamma^2 var / (var + eps) "
                "exactly in exact arithmetic; float64 round-off over a batch of 7 is ~1e-15.",
    "FORMULA": "A numerical Jacobian computed with the spec's formula and h equals the grader's "
               "up to ~1e-13 round-off; a forward difference is off by O(h) >= 1e-6.",
    "FACTOR_RTOL": "A fitted constant factor within 1e-4 of a known one is named: eps = 1e-5 "
                   "blurs some factors by ~1e-5, and unrelated factors differ by > 1e-2.",
    "FACTOR_FIT": "A constant factor is claimed only if it explains the values to 1e-6 "
                  "relative (far below any real second mistake, far above round-off).",
    "FLOAT32_RTOL": "Values that went through float32 differ from float64 ones by up to ~6e-8 "
                    "relative per rounding and a few roundings; more than 1e-6 is another "
                    "mistake.",
    "LSE_ROUND_OFF": "A loss or dlogits from log-sum-exp carries round-off of ~eps * max|logits| "
                     "whatever the formula (measured 2e-15 at |logits| ~ 100 on entries of "
                     "1e-13); the floor allows 1000 times that, far below real bugs.",
    "ROW_SUM": "Each row of a correct softmax sums to 1 within ~1e-15; a row normalized over the "
               "wrong axis, or not at all, is off by far more than 1e-9.",
    "H": "Central differences with h = 1e-5 have truncation error ~1e-10 and round-off ~1e-11 "
         "on the layers here (grading-notes.md).",
    "KINK_MARGIN": "Inputs of a gradient check stay 100 h from a kink, so no central difference "
                   "straddles it.",
    "GRAD_TOL": "Correct layers gave a norm-relative error of at most 5.1e-10 over 300 seeds, "
                "so 1e-6 leaves > 1000x margin; real bugs give 1e-2 .. 1.",
    "GRAD_FLOOR": "A central difference carries round-off of ~eps * sum|f * dout| / h per entry "
                  "whatever the gradient's size, so a gradient near 0 (a ReLU unit that is "
                  "almost never active) is accepted within 1000 times that (measured: 1e-11 "
                  "against a floor of 6e-8, where real bugs are off by the gradient's size).",
    "LOCATE": "Only used to point at which entries are wrong in a failure message, never to "
              "decide a verdict.",
    "RECHECK": "A function gives the same bits for the same input (batched or not); 1e-9 "
               "allows for a library that reorders a reduction, while an answer that differs "
               "for the same input (a lie to the batch) differs by O(1).",
    "RECHECKS": "Three inputs of each batch are repeated as ordinary calls: a forward that lies "
                "on a fraction f of a batch's calls escapes with probability (1 - f)^3; a "
                "forward that lies to whole batches never escapes.",
    "LONG_SEQUENCE_CPU": "CPU seconds for one call of ema or ema_bias_corrected on T = 20000, "
                         "where the submission's CPU time is counted (cgroups; elsewhere the "
                         "usual call limit holds, since wall-clock time on a busy machine could "
                         "fail correct code): the slowest correct alternative (blocked matrix "
                         "products) measured 0.2-0.25 s on a slow machine with one BLAS thread "
                         "(8x below), a weighted sum recomputed at every step over 8 s (4x "
                         "above). Without it, each such bug would cost the batch the whole call "
                         "limit.",
    "FALSE_FAILURE": "The probability that a correct implementation fails any one statistical "
                     "check (Chernoff bounds computed in grader.checks.stats).",
    "SUM_TO_ZERO": "Batch norm's dx sums to exactly 0 over the batch in exact arithmetic; the "
                   "float64 round-off of the sum is ~1e-16 of sum |dx|, a missing mean path "
                   "gives O(1).",
    "VARIANCE_PATH": "sum_n dx (x - mu) is eps / (var + eps) < 1e-4 of sum |dx| |x - mu| at the "
                     "variances used (>= 0.25, eps <= 1e-3 would give < 4e-3); a missing "
                     "variance path gives O(1 / sqrt(N)) ~ 0.3.",
}
