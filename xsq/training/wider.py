"""A wider second network for a fit by variable projection that ends just short of ``AIM`` (``hidden`` left as None).

Which minimum a 16-unit network settles in depends on its start, and on smooth 1-D targets some minima
lie above 1e-9 of the target range: with 16 units the damped oscillation exp(-x) sin(5x) ends at
RMSE/range 2.2e-9 (seed 0) and the Runge peak 1 / (1 + 25 x^2) at 1.3e-9, and more steps do not get
out (``python scripts/precision_suite.py --hidden 16``). 24 units reach 3.7e-10 and 7.5e-11 there, but
are no better in general: on the suite's degree-6 polynomial (seed 1) they end at 1.2e-9 where 16 reach
4.1e-10 (``--hidden 24``). The validation rows tell the two apart, so when the first network's
validation RMSE over the targets' range is above ``AIM`` (but not above ``CEILING``), :func:`fit_wider`
trains a network ``FACTOR`` times as wide on the same data, from the same generator, and the one with the
lower validation loss is kept (the first on a tie). A first network that reaches ``AIM`` costs nothing
more; one above ``CEILING`` has met noise (measured data, which xsq's measured-data defaults regularise
instead), and a second network would cost a fit for nothing. With fewer than ``MIN_VAL_ROWS`` validation
rows there is nothing to choose by (on the training rows the wider network would win by fitting more), and no
second network.
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Any

import numpy as np

from ..core.params import Params
from ..errors import InputError, TrainingFailed
from . import separable
from .epochs import Data
from .lm_policy import lm_epochs
from .loop import Callback, run, tagged
from .record import TrainingRecord, WidthRecord
from .resources import check_memory
from .settings import TrainSettings

AIM = 5e-10  # validation RMSE over the training targets' range that the first network should reach, or ...
CEILING = 1e-6  # ... if it ends between the two, a second network is trained ...
FACTOR = 1.5  # ... this many times as wide
MIN_VAL_ROWS = 10  # fewer validation rows than this tell two networks apart by chance: no second network


def wider_sizes(sizes: tuple[int, ...]) -> tuple[int, ...]:
    """The layer sizes of the second network: the one hidden layer ``FACTOR`` times as wide."""
    return (sizes[0], math.ceil(FACTOR * sizes[1]), *sizes[2:])


def could_widen(hidden_given: bool, s: TrainSettings, n_in: int, n_out: int, rows: int) -> bool:
    """Whether a fit with settings ``s`` (its output chosen) on ``rows`` rows of ``n_in`` inputs and ``n_out``
    outputs may train a wider second network: its width was left to xsq, there are validation rows to choose
    between the two by (on the training rows the wider would win for fitting more), and both networks would train
    their identity output by variable projection (:func:`xsq.training.separable.would_train`)."""
    if hidden_given or s.output != "identity" or n_out != 1 or s.val_fraction <= 0:
        return False
    wide = dataclasses.replace(s, hidden=wider_sizes((n_in, *s.hidden, n_out))[1:-1])
    return separable.would_train(s, n_in, rows) and separable.would_train(wide, n_in, rows)


def val_rmse_over_range(record: TrainingRecord, data: Data) -> float:
    """The kept parameters' validation RMSE over the range of the training targets, from the record's best mse
    on the scaled validation targets, whose scale cancels."""
    spread = float(np.ptp(data.Y))
    return math.sqrt(record.best_loss) / spread if spread > 0 else 0.0


def wants_wider(record: TrainingRecord, data: Data) -> bool:
    """Whether a first network that ran to its end (not interrupted or stopped) ended between ``AIM`` and
    ``CEILING`` on at least ``MIN_VAL_ROWS`` validation rows (a ``val_fraction`` may round to none)."""
    if record.interrupted or record.stopped or len(data.X_val) < MIN_VAL_ROWS:
        return False
    return AIM < val_rmse_over_range(record, data) <= CEILING


def fit_wider(
    params: Params,
    record: TrainingRecord,
    data: Data,
    rng: np.random.Generator,
    s: TrainSettings,
    callback: Callback | None,
    val_rows: np.ndarray,
    domain: tuple[tuple[float, float], ...],
    settings: dict[str, Any],
) -> tuple[Params, TrainingRecord, TrainSettings]:
    """Train a network ``FACTOR`` times as wide as the first (``params``, ``record``) on the same data and keep
    the one with the lower validation loss; return its params, its record and its settings.

    The record is the kept network's, with the seconds of both, ``interrupted`` or ``stopped`` if either run
    was, and ``widths`` (a :class:`~xsq.training.record.WidthRecord` per network). Ctrl-C during the second
    keeps the better so far; a second that fails, or would not fit in memory, keeps the first.
    """
    sizes = wider_sizes((data.X.shape[1], *s.hidden, data.Y.shape[1]))
    wide = dataclasses.replace(s, hidden=sizes[1:-1])
    first = WidthRecord(s.hidden[0], val_rmse_over_range(record, data), record.n_epochs, record.seconds, True)
    start = time.perf_counter()
    try:
        check_memory(len(data.X), sizes, s.optimizer, s.batch_size, s.regularization)
        steps = lm_epochs(data, sizes, rng, wide)
        fields = dict(val_rows=val_rows, domain=domain, settings=dict(settings, hidden=list(wide.hidden)))
        params2, record2 = run(steps, data, wide, tagged(callback, network=2), **fields)
    except (InputError, TrainingFailed, KeyboardInterrupt) as exc:
        why = "Ctrl-C stopped it before it learnt" if isinstance(exc, KeyboardInterrupt) else f"failed: {exc}"
        second = WidthRecord(sizes[1], math.nan, 0, time.perf_counter() - start, False, why)
        kept = dataclasses.replace(
            record,
            seconds=record.seconds + second.seconds,
            interrupted=isinstance(exc, KeyboardInterrupt),  # the first ran to its end (wants_wider)
            widths=(first, second),
        )
        return params, kept, s
    cut = "interrupted by Ctrl-C" if record2.interrupted else "stopped by the callback" if record2.stopped else ""
    second = WidthRecord(sizes[1], val_rmse_over_range(record2, data), record2.n_epochs, record2.seconds, False, cut)
    wins = record2.best_loss < record.best_loss
    first, second = dataclasses.replace(first, kept=not wins), dataclasses.replace(second, kept=wins)
    params, record, s = (params2, record2, wide) if wins else (params, record, s)
    kept = dataclasses.replace(
        record,
        seconds=first.seconds + second.seconds,
        interrupted=record2.interrupted,
        stopped=record2.stopped,
        widths=(first, second),
    )
    return params, kept, s


def describe(widths: tuple[WidthRecord, ...]) -> str:
    """The width records in a line: each network's validation RMSE/range, and which was kept."""
    parts = []
    for w in widths:
        reached = f"{w.val_rmse_over_range:.2g}" if np.isfinite(w.val_rmse_over_range) else "nothing"
        parts.append(f"{w.hidden} units reached {reached}" + (f" ({w.note})" if w.note else ""))
    kept = next(w.hidden for w in widths if w.kept)
    return (
        f"validation RMSE/range: {'; '.join(parts)}; the {kept} were kept "
        f"(a wider network is tried when the first ends between {AIM:g} and {CEILING:g})"
    )
