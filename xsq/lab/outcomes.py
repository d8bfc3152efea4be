"""What became of one short training run in a sweep: diverged, stalled or learned, with the evidence.

The three outcomes of a sweep's cell, defined here and nowhere else (a cell
is judged more strictly than :func:`xsq.fit` judges a run, which calls a
loss 100 times its start that never came back a divergence: xsq.training.loop):

* ``diverged``: a value went non-finite (the evidence names the step and
  the first operation, or the loss, that did), or the training loss rose to
  at least ``BLOWUP`` (10) times its starting value at some step (the
  evidence gives the step and the factor);
* ``stalled``: it ran all its steps, but its final test RMSE/range is above
  the ``learned_below`` threshold, or its loss never went below its start;
* ``learned``: it ran all its steps and its final test RMSE/range is at or
  below the threshold.
"""

from __future__ import annotations

import math
from typing import NamedTuple

DIVERGED, STALLED, LEARNED = "diverged", "stalled", "learned"
BLOWUP = 10.0


class Evidence(NamedTuple):
    """What a run did, step by step: the first non-finite step and operation, the first blow-up, the losses."""

    nonfinite_step: int | None = None
    nonfinite_op: str | None = None
    blowup_step: int | None = None
    blowup_factor: float | None = None
    start_loss: float = math.nan
    best_loss: float = math.nan
    final_loss: float = math.nan
    test_rmse_over_range: float = math.nan


def classify(e: Evidence, learned_below: float) -> tuple[str, str]:
    """The outcome of a run and the reason, in words (see the module docstring)."""
    if e.nonfinite_step is not None:
        return DIVERGED, f"non-finite at step {e.nonfinite_step}, in {e.nonfinite_op}"
    if e.blowup_step is not None:
        return DIVERGED, f"loss x{e.blowup_factor:.3g} its start at step {e.blowup_step}"
    if not e.best_loss < e.start_loss:
        return STALLED, "never went below its starting loss"
    if not e.test_rmse_over_range <= learned_below:
        return STALLED, f"test RMSE/range {e.test_rmse_over_range:.3g} > {learned_below:g}"
    return LEARNED, f"test RMSE/range {e.test_rmse_over_range:.3g}"


def settled(e: Evidence) -> bool:
    """Whether a run was stable in the sense of a learning-rate boundary: it never diverged and ended
    below its starting loss (it may have spiked on the way, as in the catapult phase above 2 / lambda_max)."""
    return e.nonfinite_step is None and e.blowup_step is None and e.final_loss < e.start_loss
