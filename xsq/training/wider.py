"""A wider second network for a fit by variable projection that ends short of ``AIM`` (``hidden`` left as None).

Which minimum a 16-unit network settles in depends on its start, and on smooth 1-D targets some minima
are well above 1e-9 of the target range: with 16 units, the damped oscillation exp(-x) sin(5x) ends at
RMSE/range 2.2e-9 (seed 0) and the Runge peak 1 / (1 + 25 x^2) at 1.3e-9. More steps do not get out:
2,600 epochs end the damped oscillation at 1.6e-9. 24 units reach 3.7e-10 and 7.5e-11 there, but 24
units alone are no better in general: on the degree-6 polynomial of ``scripts/precision_suite.py`` (seed
1) they end at 1.2e-9 where 16 reach 4.1e-10. The validation rows tell the two apart (their RMSE is
within 20 % of the grid's on every target of the suite), so when the first network ends above ``AIM``
on them, :func:`fit_wider` trains a network ``FACTOR`` times as wide from the same generator and the
one with the lower validation loss is kept. A first network that reaches ``AIM`` costs nothing more.
"""

from __future__ import annotations

import dataclasses
import math

import numpy as np

from ..core.params import Params
from ..errors import InputError, TrainingFailed
from . import separable
from .epochs import Data
from .lm_policy import lm_epochs
from .loop import Callback, EpochInfo, run
from .record import TrainingRecord
from .resources import check_memory
from .settings import TrainSettings

AIM = 5e-10  # validation RMSE over the training targets' range that the first network must reach, or else ...
FACTOR = 1.5  # ... a network this many times as wide is trained too


def could_widen(hidden_given: bool, s: TrainSettings, n_in: int, rows: int) -> bool:
    """Whether a fit with settings ``s`` on ``rows`` rows of ``n_in`` inputs may train a wider second network:
    its width was left as None and an identity output would train by variable projection (the output still
    has to be identity: :func:`xsq.training.separable.would_train`)."""
    return not hidden_given and separable.would_train(s, n_in, rows)


def wider_sizes(sizes: tuple[int, ...]) -> tuple[int, ...]:
    """The layer sizes of the second network: one hidden layer ``FACTOR`` times as wide."""
    return (sizes[0], math.ceil(FACTOR * sizes[1]), *sizes[2:])


def shortfall(record: TrainingRecord, data: Data) -> float:
    """The kept network's validation RMSE over the range of the training targets (the training RMSE without
    validation rows), from the record's best mse loss on the scaled targets (the scale cancels)."""
    spread = float(np.ptp(data.Y))
    return math.sqrt(record.best_loss) / spread if spread > 0 else 0.0


def wants_wider(record: TrainingRecord, data: Data) -> bool:
    """Whether a finished first network (not interrupted or stopped) ended above ``AIM``."""
    return not (record.interrupted or record.stopped) and not shortfall(record, data) <= AIM


def _as_second(callback: Callback) -> Callback:
    """``callback`` hearing of the second network's epochs with ``network`` 2 added to their info."""

    def second(info: EpochInfo) -> bool | None:
        return callback({**info, "network": 2})

    return second


def fit_wider(
    first: tuple[Params, TrainingRecord],
    data: Data,
    rng: np.random.Generator,
    s: TrainSettings,
    callback: Callback | None,
    **record_fields,
) -> tuple[Params, TrainingRecord, TrainSettings]:
    """Train a network ``FACTOR`` times as wide as the first (one hidden layer) on the same data and keep the
    one with the lower validation loss; its params, its record (the two runs' seconds, and why in its
    settings' ``hidden_reason``) and its settings. Ctrl-C during the second keeps the better so far, marked
    interrupted; a second that fails keeps the first."""
    params, record = first
    sizes = wider_sizes((data.X.shape[1], *s.hidden, data.Y.shape[1]))
    width = sizes[1]
    wide = dataclasses.replace(s, hidden=(width,))
    before = f"{s.hidden[0]} units reached RMSE/range {shortfall(record, data):.2g} on the validation rows"
    try:
        check_memory(len(data.X), sizes, s.optimizer)
    except InputError as exc:
        return params, _with(record, record, f"{before}, above {AIM:g}; a {width}-unit network: {exc}"), s
    fields = dict(record_fields, settings=dict(record_fields["settings"], hidden=[width]))
    steps = lm_epochs(data, sizes, rng, wide)
    try:
        second = run(steps, data, wide, _as_second(callback) if callback else None, **fields)
    except KeyboardInterrupt:
        second = None
    except TrainingFailed as exc:
        reason = f"{before}, above {AIM:g}; a {width}-unit network failed ({exc}), the {s.hidden[0]} were kept"
        return params, _with(record, record, reason), s
    if second is None:
        reason = f"{before}, above {AIM:g}; Ctrl-C stopped a {width}-unit network, the {s.hidden[0]} were kept"
        return params, dataclasses.replace(_with(record, record, reason), interrupted=True), s
    after = f"{width} units {shortfall(second[1], data):.2g}"
    if second[1].best_loss < record.best_loss:
        reason = f"{before}, above {AIM:g}; {after}: the {width} were kept"
        return second[0], _with(second[1], record, reason), wide
    reason = f"{before}, above {AIM:g}; {after}: the {s.hidden[0]} were kept"
    return params, _with(record, second[1], reason), s


def _with(kept: TrainingRecord, other: TrainingRecord, reason: str) -> TrainingRecord:
    """The kept run's record with both runs' seconds, the other's interruption or stop, and ``reason``."""
    seconds = kept.seconds + other.seconds if other is not kept else kept.seconds
    return dataclasses.replace(
        kept,
        seconds=seconds,
        interrupted=kept.interrupted or other.interrupted,
        stopped=kept.stopped or other.stopped,
        settings=dict(kept.settings, hidden_reason=reason),
    )
