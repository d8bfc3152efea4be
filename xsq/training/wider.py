"""A wider second network for a fit that falls short: by variable projection, just short of ``AIM``; Bayesian, with
structure left in its residuals or no parameters to spare (``hidden`` left as None).

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
data show. On a damped oscillation measured with noise 1e-3, on the 7 of 12 draws where 8 units show one of
the signs below, they end 0.57 to 2.39 times the noise away from the noise-free curve, and estimate the
noise at 1.10 to 2.09 times its true level
(``python scripts/evidence_widths.py --damped 12``). Such a network leaves runs of residuals of one sign,
which the evidence's noise estimate does not see, so their neighbour z measures them
(:func:`xsq.training.residuals.neighbour_z`). Above ``MISFIT_Z``, or where the evidence finds nearly every
parameter in use (gamma above ``FULL`` of them: the network has no room left), a network ``FACTOR`` times as
wide is trained afresh, and the one with the higher log evidence kept (the first on a tie, or where the
second did not run to its end).
"""

from __future__ import annotations

import dataclasses
import math
import time
from typing import Unpack

import numpy as np

from ..core.params import Params
from ..errors import InputError, TrainingFailed
from . import separable
from .bayes_policy import run_regularised
from .epochs import Data
from .lm_policy import separable_epochs
from .loop import Callback, RecordFields, Trained, run, tagged
from .record import TrainingRecord, WidthRecord
from .residuals import fit_neighbour_z
from .resources import check_memory
from .scaling import Scaler
from .settings import TrainSettings

AIM = 5e-10  # validation RMSE over the training targets' range that the first network should reach, or ...
CEILING = 1e-6  # ... if it ends between the two, a second network is trained ...
FACTOR = 1.5  # ... this many times as wide
MIN_VAL_ROWS = 10  # fewer validation rows than this tell two networks apart by chance: no second network
MISFIT_Z = 4.0  # a Bayesian fit whose residuals at neighbouring inputs correlate beyond this z tries a wider network,
FULL = 0.9  # ... as does one whose effective number of parameters gamma is above this share of them all


def wider_sizes(sizes: tuple[int, ...]) -> tuple[int, ...]:
    """The layer sizes of the second network: the one hidden layer ``FACTOR`` times as wide."""
    return (sizes[0], math.ceil(FACTOR * sizes[1]), *sizes[2:])


def could_widen(hidden_given: bool, s: TrainSettings, n_in: int, n_out: int, rows: int) -> bool:
    """Whether a fit with settings ``s`` (its output chosen) on ``rows`` rows of ``n_in`` inputs and ``n_out``
    outputs may train a wider second network. Its width must have been left to xsq, with one hidden layer. A
    Bayesian fit may, whatever its data (the evidence judges). An unregularised one needs at least
    ``MIN_VAL_ROWS`` validation rows to choose between the two (on the training rows the wider would win for
    fitting more), and both networks must train their identity output by variable projection
    (:func:`xsq.training.separable.would_train`)."""
    if hidden_given or len(s.hidden) != 1:
        return False
    if s.regularization == "bayes":
        return True
    if s.output != "identity" or n_out != 1 or int(round(rows * s.val_fraction)) < MIN_VAL_ROWS:
        return False  # (the validation rows as xsq.training.train.split holds them out)
    wide = dataclasses.replace(s, hidden=wider_sizes((n_in, *s.hidden, n_out))[1:-1])
    return separable.would_train(s, n_in, rows) and separable.would_train(wide, n_in, rows)


def val_rmse_over_range(record: TrainingRecord, data: Data) -> float:
    """The kept parameters' validation RMSE over the range of the training targets, from the record's best mse
    on the scaled validation targets, whose scale cancels (NaN for targets of no range, as
    :func:`xsq.data.metrics.rmse_over_range` gives)."""
    spread = float(np.ptp(data.Y))
    return math.sqrt(record.best_loss) / spread if spread > 0 else math.nan


def wants_wider(first: Trained, data: Data, s: TrainSettings) -> bool:
    """Whether a first network that ran to its end (not interrupted or stopped) asks for a wider one: on a
    Bayesian fit, its residuals' neighbour z above ``MISFIT_Z`` or gamma above ``FULL`` of its parameters (a
    first that stalled near a constant too: structure in its residuals says there was more to learn); else a
    validation RMSE/range between ``AIM`` and ``CEILING``."""
    r = first.record
    if r.interrupted or r.stopped or (first.stalled and r.evidence is None):
        return False
    if r.evidence is not None:
        ev = r.evidence
        return s.regularization == "bayes" and bool(
            signs(fit_neighbour_z(first.params, data, s), ev.gamma, ev.n_params)
        )
    return AIM < val_rmse_over_range(r, data) <= CEILING


def signs(z: float, gamma: float, n_params: int) -> tuple[str, ...]:
    """The signs of a missed feature that a Bayesian network with residuals' neighbour z and effective number
    of parameters gamma (of ``n_params``) shows: ``"z"`` above ``MISFIT_Z``, ``"gamma"`` above ``FULL`` of its
    parameters (NaN shows neither)."""
    return tuple(name for name, shown in (("z", z > MISFIT_Z), ("gamma", gamma > FULL * n_params)) if shown)


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
    first: Trained,
    data: Data,
    rng: np.random.Generator,
    s: TrainSettings,
    callback: Callback | None,
    scaler: Scaler,
    **fields: Unpack[RecordFields],
) -> tuple[Trained, TrainSettings]:
    """Train a network ``FACTOR`` times as wide as ``first`` on the same data and keep one of the two
    (:func:`_second_wins`); return it, with its settings.

    A Bayesian fit trains the second afresh, screened as the first was; an unregularised one grows it from the
    first (:func:`grown`) and goes on by variable projection. ``fields`` (val_rows, domain, settings) go into the
    record, and ``scaler`` gives a regularised run its posterior. The record returned is the kept network's,
    with the seconds of both, ``interrupted`` or ``stopped`` if the second run was, and ``widths`` (a
    :class:`~xsq.training.record.WidthRecord` per network). A second that fails, or would not fit in memory,
    keeps the first.
    """
    sizes = wider_sizes((data.X.shape[1], *s.hidden, data.Y.shape[1]))
    wide = dataclasses.replace(s, hidden=sizes[1:-1])
    fields = {**fields, "settings": dict(fields.get("settings", {}), hidden=list(wide.hidden))}
    start = time.perf_counter()
    try:
        check_memory(len(data.X), sizes, s.optimizer, s.batch_size, s.regularization)
        told = tagged(callback, network=2)
        if s.regularization == "bayes":
            second = run_regularised(data, rng, wide, told, scaler, **fields)
        else:
            steps = separable_epochs(
                data, sizes, rng, wide, start=grown(first.params, data.X, sizes[1], s.activation, rng)
            )
            second = Trained(*run(steps, data, wide, told, **fields))
    except (InputError, TrainingFailed, KeyboardInterrupt) as exc:
        interrupted, stopped, wins = isinstance(exc, KeyboardInterrupt), False, False
        note = "Ctrl-C stopped it before it learnt" if interrupted else f"failed: {exc}"
        other = WidthRecord(sizes[1], math.nan, 0, time.perf_counter() - start, False, note)
    else:
        interrupted, stopped = second.record.interrupted, second.record.stopped
        cut = "interrupted by Ctrl-C" if interrupted else "stopped by the callback" if stopped else ""
        wins = _second_wins(first, second, s)
        other, late = _width(second, wide, data, wins, cut or ("did not learn" if second.stalled else ""))
        interrupted = interrupted or late
    mine, late = _width(first, s, data, not wins, "")
    interrupted = interrupted or late
    kept, kept_s = (second, wide) if wins else (first, s)
    record = dataclasses.replace(
        kept.record,
        seconds=mine.seconds + other.seconds,
        interrupted=interrupted,
        stopped=stopped,
        widths=(mine, other),
    )
    return kept._replace(record=record), kept_s


def _second_wins(first: Trained, second: Trained, s: TrainSettings) -> bool:
    """Whether the second network is kept (on a tie, the first): on a Bayesian fit, one that ran to its end with
    the higher log evidence (a run cut short never reached its mode, so its evidence does not compare); else the
    lower validation loss, even cut short (the better so far)."""
    if s.regularization != "bayes":
        return second.record.best_loss < first.record.best_loss
    r, before = second.record, first.record.evidence
    if second.stalled or r.interrupted or r.stopped or r.evidence is None or before is None:
        return False
    return r.evidence.log_evidence > before.log_evidence


def _width(t: Trained, s: TrainSettings, data: Data, kept: bool, note: str) -> tuple[WidthRecord, bool]:
    """The width record of a network trained with settings ``s``: its validation RMSE/range, or on a regularised
    fit its log evidence, its residuals' neighbour z and its gamma; and whether Ctrl-C came while the z was
    measured (it is then NaN, and the run is marked interrupted)."""
    r, ev = t.record, t.record.evidence
    if ev is None:
        return WidthRecord(s.hidden[0], val_rmse_over_range(r, data), r.n_epochs, r.seconds, kept, note), False
    try:
        z, late = fit_neighbour_z(t.params, data, s), False
    except KeyboardInterrupt:
        z, late = math.nan, True
    width = WidthRecord(s.hidden[0], math.nan, r.n_epochs, r.seconds, kept, note, ev.log_evidence, z, ev.gamma)
    return width, late
