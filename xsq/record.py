"""What happened while a model was trained: a record built once, at the end of training.

:class:`TrainingRecord` is kept apart from the :class:`xsq.Model` (which holds
only what prediction needs) and is saved and loaded with it. Its fields:

* ``history``: per epoch (epoch 0 is the untrained network), the training
  and validation losses on the scaled targets and the phase: ``"screen"``
  (Levenberg-Marquardt screening other initialisations), ``"warmup"`` (LM on
  the relative error first), ``"running"`` or ``"converged"``;
* ``best_epoch``, ``best_loss``: the epoch whose parameters were kept, and
  its validation loss (training loss without a validation set);
* ``n_epochs``: epochs run; ``seconds``: training wall time;
* ``converged``: LM found no step that lowers the cost any more;
  ``interrupted``: stopped by Ctrl-C; ``stopped``: stopped by the callback;
* ``start_loss``: epoch 0's training loss; ``baseline_loss``: the training
  loss of the best constant prediction (what "did not learn" is judged against);
* ``val_rows``: the rows of the training data held out for validation;
* ``domain``: per input, the (lowest, highest) value trained on (beyond it, a
  prediction is extrapolation);
* ``settings``: the training settings, as plain values;
* ``stages``: for a staged fit, one :class:`StageRecord` per stage tried.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

import numpy as onp

Array = onp.ndarray

PHASES = ("screen", "warmup", "running", "converged")


def frozen(array) -> Array:
    """A read-only copy of ``array``."""
    out = onp.array(array)
    out.setflags(write=False)
    return out


class History(NamedTuple):
    """One entry per epoch, as read-only arrays."""

    epoch: Array
    train_loss: Array
    val_loss: Array
    phase: Array

    @classmethod
    def of(cls, rows: list[tuple[int, float, float, str]]) -> History:
        """From (epoch, train loss, validation loss, phase) rows."""
        cols = list(zip(*rows)) if rows else [[], [], [], []]
        return cls(
            frozen(onp.asarray(cols[0], dtype=int)),
            frozen(onp.asarray(cols[1], dtype=float)),
            frozen(onp.asarray(cols[2], dtype=float)),
            frozen(onp.asarray(cols[3], dtype="<U9")),
        )


@dataclass(frozen=True)
class StageRecord:
    """One later stage of a staged fit: what it was, and what it did to the validation error.

    ``kind`` is "tangent" or "network"; the validation error is the (weighted,
    see :mod:`xsq.staged_fit`) root mean square error on the scaled targets
    before and after the stage; ``kept`` is whether it lowered it.
    """

    stage: int
    kind: str
    activation: str
    hidden: tuple[int, ...]
    kept: bool
    val_error_before: float
    val_error_after: float
    epochs: int
    seconds: float
    note: str = ""


@dataclass(frozen=True)
class TrainingRecord:
    """See the module docstring for every field."""

    history: History
    best_epoch: int
    best_loss: float
    n_epochs: int
    converged: bool
    interrupted: bool
    stopped: bool
    seconds: float
    start_loss: float
    baseline_loss: float
    val_rows: Array
    domain: tuple[tuple[float, float], ...] = ()
    settings: dict[str, Any] = field(default_factory=dict)
    stages: tuple[StageRecord, ...] = ()
