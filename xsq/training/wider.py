"""A wider second network for a fit by variable projection that ends just short of ``AIM`` (``hidden`` left as None).

Which minimum a 16-unit network settles in depends on its start, and on smooth 1-D targets some minima
lie above 1e-9 of the target range: with 16 units the damped oscillation exp(-x) sin(5x) ends at
RMSE/range 2.2e-9 (seed 0) and the Runge peak 1 / (1 + 25 x^2) at 1.3e-9
(``python scripts/precision_suite.py --hidden 16``; 2,600 epochs take the damped oscillation only from 2.2e-9
to 1.6e-9 on the domain's grid: ``xsq train --target 'exp(-x)*sin(5*x)' --low 0 --high 4 --hidden 16 --epochs
2600``). A fresh 24-unit network reaches 3.7e-10 and 7.5e-11 there, but is no better in general: on the
suite's degree-6 polynomial (seed 1) it ends at 1.2e-9 where 16 units reach 4.1e-10 (``--hidden 24``).

So when the first network's validation RMSE over the targets' range ends between ``AIM`` and ``CEILING``,
:func:`fit_wider` grows it: a network ``FACTOR`` times as wide starts from the first network's units and
more spread over the inputs (:func:`grown`), variable projection solves its output layer over all of them
from the first step, and LM goes on from there as for any network with a linear output. The one with the
lower validation loss is kept (the first on a tie). Grown, the second network starts where the first ended
instead of from a fresh draw: on every fit of the suite that grew one, it reached a lower validation error
than the first.

``CEILING`` bounds the cost. A first network that reaches ``AIM`` costs nothing more. One above ``CEILING`` is
far from it: on measured data it has met the noise (xsq's measured-data defaults regularise instead), and a
noise-free target it leaves there needs a width of its own, which 1.5 times does not give (sin(20x) on [0, 3]
ends at RMSE/range 3.7e-4 with 16 units and 2.1e-6 with 24: ``xsq train --target 'sin(20*x)' --low 0 --high 3
[--hidden 24]``). With fewer than ``MIN_VAL_ROWS`` validation rows there is nothing to choose by (on the
training rows the wider network would win by fitting more), and no second network.

**Bayesian fits** (``regularization="bayes"``, ``hidden`` left as None) start narrow, as measured data
mostly want (:data:`xsq.training.settings.PER_REGULARIZATION`), and can then miss a feature that precise
data show: on a damped oscillation measured with noise 1e-3, 8 units end with an RMSE of up to 2.3 times the
noise against the noise-free curve and estimate the noise up to 2.9 times too high on 4 of 8 draws
(``python scripts/evidence_widths.py --damped``). Such a network leaves runs of residuals of one sign, which
the evidence's noise estimate does not see, so :func:`misfit_z` measures them: how far the residuals at
neighbouring inputs are correlated. Above ``MISFIT_Z`` a network ``FACTOR`` times as wide is trained by
:func:`fit_wider_bayes` and the one with the higher log evidence kept (the first on a tie). On the
benchmark's data sets no fit's z comes near ``MISFIT_Z``, and none trains a second network.
"""

from __future__ import annotations

import dataclasses
import math
import time
from collections.abc import Callable
from typing import Any

import numpy as np

from ..core import net
from ..core.params import Params
from ..errors import InputError, TrainingFailed
from . import separable
from .bayes_policy import Regularised
from .epochs import Data
from .lm_policy import separable_epochs
from .loop import Callback, run, tagged
from .record import TrainingRecord, WidthRecord
from .resources import check_memory
from .settings import TrainSettings

AIM = 5e-10  # validation RMSE over the training targets' range that the first network should reach, or ...
CEILING = 1e-6  # ... if it ends between the two, a second network is trained ...
FACTOR = 1.5  # ... this many times as wide
MIN_VAL_ROWS = 10  # fewer validation rows than this tell two networks apart by chance: no second network
MISFIT_Z = 4.0  # a Bayesian fit whose residuals at neighbouring inputs correlate beyond this z tries a wider network
MISFIT_ROWS = 2000  # misfit_z looks at this many training rows at most, evenly spaced


def wider_sizes(sizes: tuple[int, ...]) -> tuple[int, ...]:
    """The layer sizes of the second network: the one hidden layer ``FACTOR`` times as wide."""
    return (sizes[0], math.ceil(FACTOR * sizes[1]), *sizes[2:])


def could_widen(hidden_given: bool, s: TrainSettings, n_in: int, n_out: int, rows: int) -> bool:
    """Whether a fit with settings ``s`` (its output chosen) on ``rows`` rows of ``n_in`` inputs and ``n_out``
    outputs may train a wider second network: its width was left to xsq, at least ``MIN_VAL_ROWS`` validation rows
    choose between the two (on the training rows the wider would win for fitting more), and both networks would
    train their identity output by variable projection (:func:`xsq.training.separable.would_train`)."""
    if hidden_given or s.output != "identity" or n_out != 1 or int(round(rows * s.val_fraction)) < MIN_VAL_ROWS:
        return False  # (the validation rows as xsq.training.train.split holds them out)
    wide = dataclasses.replace(s, hidden=wider_sizes((n_in, *s.hidden, n_out))[1:-1])
    return separable.would_train(s, n_in, rows) and separable.would_train(wide, n_in, rows)


def val_rmse_over_range(record: TrainingRecord, data: Data) -> float:
    """The kept parameters' validation RMSE over the range of the training targets, from the record's best mse
    on the scaled validation targets, whose scale cancels (NaN for targets of no range, as
    :func:`xsq.data.metrics.rmse_over_range` gives)."""
    spread = float(np.ptp(data.Y))
    return math.sqrt(record.best_loss) / spread if spread > 0 else math.nan


def wants_wider(record: TrainingRecord, data: Data) -> bool:
    """Whether a first network that ran to its end (not interrupted or stopped) ended between ``AIM`` and
    ``CEILING`` on its validation rows."""
    return not (record.interrupted or record.stopped) and AIM < val_rmse_over_range(record, data) <= CEILING


def grown(params: Params, X: np.ndarray, width: int, activation: str, rng: np.random.Generator) -> np.ndarray:
    """Hidden weights theta_h ((n_in + 1) width,) for the wider network: the first network's units (``params``,
    one hidden layer), then ``width - H`` more spread over the inputs X (N, n_in) as a first start's are
    (:func:`xsq.training.separable.spread_init`)."""
    n_in, H = params["W1"].shape
    more = separable.spread_init(X, width - H, activation, rng)
    W1 = np.hstack([params["W1"], more[: n_in * (width - H)].reshape(n_in, width - H)])
    b1 = np.concatenate([params["b1"], more[n_in * (width - H) :]])
    return np.concatenate([W1.ravel(), b1])


def fit_wider(
    params: Params,
    record: TrainingRecord,
    data: Data,
    rng: np.random.Generator,
    s: TrainSettings,
    callback: Callback | None,
    *,
    val_rows: np.ndarray,
    domain: tuple[tuple[float, float], ...],
    settings: dict[str, Any],
) -> tuple[Params, TrainingRecord, TrainSettings]:
    """Train a network ``FACTOR`` times as wide as the first (``params``, ``record``) on the same data and keep
    the one with the lower validation loss; return its params, its record and its settings.

    The record is the kept network's, with the seconds of both, ``interrupted`` or ``stopped`` if the second
    run was, and ``widths`` (a :class:`~xsq.training.record.WidthRecord` per network). Ctrl-C during the second
    keeps the better so far; a second that fails, or would not fit in memory, keeps the first.
    """
    sizes = wider_sizes((data.X.shape[1], *s.hidden, data.Y.shape[1]))
    wide = dataclasses.replace(s, hidden=sizes[1:-1])
    start = time.perf_counter()
    try:
        check_memory(len(data.X), sizes, s.optimizer, s.batch_size, s.regularization)
        steps = separable_epochs(data, sizes, rng, wide, start=grown(params, data.X, sizes[1], s.activation, rng))
        fields = dict(val_rows=val_rows, domain=domain, settings=dict(settings, hidden=list(wide.hidden)))
        wide_params, wide_record = run(steps, data, wide, tagged(callback, network=2), **fields)
    except (InputError, TrainingFailed, KeyboardInterrupt) as exc:
        stopped_early = isinstance(exc, KeyboardInterrupt)
        note = "Ctrl-C stopped it before it learnt" if stopped_early else f"failed: {exc}"
        second = WidthRecord(sizes[1], math.nan, 0, time.perf_counter() - start, False, note)
        wins, interrupted, stopped = False, stopped_early, False
    else:
        interrupted, stopped = wide_record.interrupted, wide_record.stopped
        note = "interrupted by Ctrl-C" if interrupted else "stopped by the callback" if stopped else ""
        wins = wide_record.best_loss < record.best_loss
        reached = val_rmse_over_range(wide_record, data)
        second = WidthRecord(sizes[1], reached, wide_record.n_epochs, wide_record.seconds, wins, note)
    first = WidthRecord(s.hidden[0], val_rmse_over_range(record, data), record.n_epochs, record.seconds, not wins)
    if wins:
        params, record, s = wide_params, wide_record, wide
    kept = dataclasses.replace(
        record,
        seconds=first.seconds + second.seconds,
        interrupted=interrupted,
        stopped=stopped,
        widths=(first, second),
    )
    return params, kept, s


def misfit_z(X: np.ndarray, R: np.ndarray) -> float:
    """How far residuals R (N, K) at neighbouring inputs X (N, n_in) are correlated, as a z score: for each row
    its nearest other row (Euclidean, on the inputs as given), ``sum r_i r_near(i) / sum r_i^2 * sqrt(N)`` of
    the residuals less their mean, the largest over the K outputs; NaN with fewer than 3 rows.

    For independent noise this is about standard normal (a little below 0 for a fit's own residuals); a
    network that misses a feature of the data leaves runs of residuals of one sign where the feature is, and
    a large positive z. At most ``MISFIT_ROWS`` rows, evenly spaced, are looked at (the distances are N^2)."""
    rows = np.unique(np.linspace(0, len(X) - 1, min(len(X), MISFIT_ROWS)).astype(int))
    X, R = np.asarray(X, dtype=float)[rows], np.asarray(R, dtype=float)[rows]
    if len(X) < 3:
        return math.nan
    sq = np.sum(X**2, axis=1)
    D = sq[:, None] - 2.0 * (X @ X.T) + sq[None, :]  # squared distances
    np.fill_diagonal(D, np.inf)
    E = R - R.mean(axis=0)
    spread = np.sum(E**2, axis=0)
    together = np.sum(E * E[np.argmin(D, axis=1)], axis=0)
    return float(np.max(np.where(spread > 0, together / np.where(spread > 0, spread, 1.0), 0.0)) * math.sqrt(len(X)))


def residual_z(params: Params, data: Data, s: TrainSettings) -> float:
    """:func:`misfit_z` of the network ``params`` on its (scaled) training rows."""
    return misfit_z(data.X, net.forward(params, data.X, s.activation, s.output) - data.Y)


def could_widen_bayes(hidden_given: bool, s: TrainSettings) -> bool:
    """Whether a fit with settings ``s`` may train a wider second network judged by the evidence: Bayesian
    regularisation, one hidden layer, and its width left to xsq (:func:`fit_wider_bayes`)."""
    return not hidden_given and s.regularization == "bayes" and len(s.hidden) == 1


def fit_wider_bayes(
    first: Regularised,
    z: float,
    data: Data,
    s: TrainSettings,
    train: Callable[[TrainSettings, Callback | None], Regularised],
    callback: Callback | None,
) -> tuple[Regularised, TrainSettings]:
    """Train a network ``FACTOR`` times as wide as ``first`` (whose residuals gave :func:`misfit_z` ``z``) by
    ``train(settings, callback)`` and keep the one with the higher log evidence; return it and its settings.

    The kept record gets the seconds of both and ``widths`` (a :class:`~xsq.training.record.WidthRecord` per
    network, with its log evidence and misfit z). A second network that fails, would not fit in memory, did not
    learn, or was interrupted or stopped (it never reached its mode, so its evidence does not compare) keeps
    the first; the record says it was interrupted or stopped."""
    assert first.record.evidence is not None  # a Bayesian run's record has one
    before = first.record.evidence.log_evidence
    sizes = wider_sizes((data.X.shape[1], *s.hidden, data.Y.shape[1]))
    wide = dataclasses.replace(s, hidden=sizes[1:-1])
    start = time.perf_counter()
    interrupted = stopped = wins = False
    try:
        check_memory(len(data.X), sizes, s.optimizer, s.batch_size, s.regularization)
        second = train(wide, tagged(callback, network=2))
    except (InputError, TrainingFailed, KeyboardInterrupt) as exc:
        interrupted = isinstance(exc, KeyboardInterrupt)
        note = "Ctrl-C stopped it before it learnt" if interrupted else f"failed: {exc}"
        other = WidthRecord(sizes[1], math.nan, 0, time.perf_counter() - start, False, note)
    else:
        r = second.record
        interrupted, stopped = r.interrupted, r.stopped
        note = (
            "interrupted by Ctrl-C"
            if interrupted
            else "stopped by the callback"
            if stopped
            else "did not learn"
            if second.stalled
            else ""
        )
        assert r.evidence is not None
        after = r.evidence.log_evidence
        wins = not note and after > before
        other = WidthRecord(
            sizes[1], math.nan, r.n_epochs, r.seconds, wins, note, after, residual_z(second.params, data, wide)
        )
    r = first.record
    mine = WidthRecord(s.hidden[0], math.nan, r.n_epochs, r.seconds, not wins, "", before, z)
    kept, kept_s = (second, wide) if wins else (first, s)
    record = dataclasses.replace(
        kept.record,
        seconds=mine.seconds + other.seconds,
        interrupted=interrupted,
        stopped=stopped,
        widths=(mine, other),
    )
    return kept._replace(record=record), kept_s
