"""The training loop: drive an epoch iterator, keep the best, stop early, and judge the run.

:func:`run` records every epoch's losses, restores the parameters with the
best validation loss (training loss without a validation set), stops when
that has not improved by a relative ``tol`` for ``patience`` epochs (LM
screening and warm-up epochs do not count), and calls ``callback(info)``
after every epoch. Ctrl-C stops it with the best parameters so far (when
nothing has been learnt yet, the KeyboardInterrupt goes on to the caller).

A run that failed is never returned as a result. It raises

* :class:`TrainingDiverged` when a loss or parameter stops being finite, or
  when the training loss rose to ``DIVERGED_FACTOR`` (100) times its start and was
  never back below its start by the end;
* :class:`TrainingStalled` when the training loss of the kept parameters is
  not below ``LEARNED`` (half) of the smaller of its start and the loss of
  the best constant prediction: it did not learn.

Each message names the epoch, the loss path (start, worst, best) and a hint.
Runs stopped by Ctrl-C or by the callback are returned as they are (the
record says so) without being judged.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, NamedTuple, NotRequired, TypedDict, Unpack

import numpy as np

from ..core import fastpath, losses, net
from ..core.params import Params
from ..errors import TrainingDiverged, TrainingStalled
from .epochs import Data, Epoch
from .record import CONVERGED, SCREEN, WARMUP, History, TrainingRecord
from .settings import TrainSettings

if TYPE_CHECKING:
    from .model import Posterior

DIVERGED_FACTOR = 100.0  # a fit diverged at 100x its start (a sweep's cell at 10x: xsq.lab.outcomes)
LEARNED = 0.5


class EpochInfo(TypedDict):
    """What the training callback hears after each epoch (:func:`run`; a staged fit adds ``stage``, a wider
    second network ``network``).

    ``params`` (arrays as in :mod:`xsq.core.params`, on the scaled data) are the epoch's own, not a copy;
    a staged fit's linear stage 2 (tangent or derivatives), which has no epochs, reports without them.
    """

    epoch: int
    total: int  # the epochs allowed
    train_loss: float
    val_loss: float  # nan without a validation set
    best_loss: float
    phase: str  # a phase of xsq.training.record, or a linear stage 2's kind ("tangent" or "derivatives")
    elapsed: float  # seconds since the run began
    params: NotRequired[Params]
    stage: NotRequired[int]  # 2, 3, ... in a staged fit's later stages
    network: NotRequired[int]  # 2 for the wider second network of a fit that fell short (xsq.training.wider)


Callback = Callable[[EpochInfo], "bool | None"]  # a true return stops the run


class RecordFields(TypedDict, total=False):
    """What a run puts into its record as it is (:class:`~xsq.training.record.TrainingRecord`'s fields): the
    validation rows, each input's trained range, and the settings as plain values."""

    val_rows: np.ndarray
    domain: tuple[tuple[float, float], ...]
    settings: dict[str, Any]


class Trained(NamedTuple):
    """One network trained to the end of its run: the kept parameters and the record; for a regularised run,
    its posterior (error bars) and whether the loop found it stalled (a near-constant, judged by the caller)."""

    params: Params
    record: TrainingRecord
    posterior: Posterior | None = None
    stalled: bool = False


def tagged(callback: Callback | None, **extra: int) -> Callback | None:
    """``callback`` hearing of a run's epochs with ``extra`` (``stage=3``, ``network=2``) added to their info;
    None for None."""
    if callback is None:
        return None
    cb = callback

    def told(info: EpochInfo) -> bool | None:
        return cb({**info, **extra})  # type: ignore[typeddict-item]

    return told


def baseline_loss(Y: np.ndarray, loss: str) -> float:
    """The loss of predicting a constant (the column means or medians, whichever is lower)."""
    fn = losses.LOSSES[loss].fn
    return min(float(fn(np.broadcast_to(c, Y.shape), Y)) for c in (Y.mean(axis=0), np.median(Y, axis=0)))


def hint(s: TrainSettings, diverged: bool) -> str:
    """What to try when a run with these settings fails: it ``diverged``, or it did not learn."""
    tips = []
    if not s.scale:
        tips.append("keep the input/target scaling on")
    if s.optimizer != "lm":
        rate = "lower" if diverged else "lower or higher"  # a stall may be either's doing
        tips.append(f"a {rate} learning rate than {s.lr:g} (--lr), or the default optimizer lm")
    if s.batch_size == 1:
        tips.append("larger batches (--batch-size)")
    if not diverged:  # more of a run that blew up would not help
        tips.append("more hidden units or epochs" if s.optimizer == "lm" else "more epochs")
    return "try " + "; ".join(tips) if tips else "try other settings"


def _loss_on(X, Y, s: TrainSettings) -> Callable[[Params], float]:
    """``params -> loss`` on (X, Y), through :mod:`xsq.core.fastpath` for a network it has a fast path for."""
    fast = fastpath.predictor(X, s.activation, s.output)
    fn = losses.LOSSES[s.loss].fn

    def loss(params: Params) -> float:
        out = fast(params)
        return float(fn(net.forward(params, X, s.activation, s.output) if out is None else out, Y))

    return loss


def run(
    epochs: Iterator[Epoch],
    data: Data,
    s: TrainSettings,
    callback: Callback | None = None,
    **record_fields: Unpack[RecordFields],
) -> tuple[Params, TrainingRecord]:
    """Drive ``epochs`` to the end (see the module docstring); return the best params and the record.

    ``record_fields`` (val_rows, domain, settings) go into the record as they are.
    """
    has_val = len(data.X_val) > 0
    rows: list[tuple[int, float, float, str]] = []
    best_params, best, best_epoch = None, np.inf, 0
    improved_at, previous = 0, None  # the last epoch that beat the best by more than tol; the phase before
    converged = interrupted = stopped = False
    baseline = baseline_loss(data.Y, s.loss)
    train_loss_of, val_loss_of = _loss_on(data.X, data.Y, s), _loss_on(data.X_val, data.Y_val, s)
    start = time.perf_counter()

    def record() -> TrainingRecord:
        history = History.of(rows)
        return TrainingRecord(
            history,
            best_epoch,
            float(best),
            rows[-1][0] if rows else 0,
            converged,
            interrupted,
            stopped,
            time.perf_counter() - start,
            rows[0][1] if rows else np.nan,
            baseline,
            **record_fields,
        )

    try:
        for epoch, (params, train_loss, phase) in enumerate(epochs):
            if train_loss is None:
                train_loss = train_loss_of(params)
            val_loss = val_loss_of(params) if has_val else float("nan")
            if not (np.isfinite(train_loss) and all(np.all(np.isfinite(v)) for v in params.values())):
                rows.append((epoch, train_loss, val_loss, phase))
                r = record()
                raise TrainingDiverged(
                    f"training diverged at epoch {epoch}: the loss became {train_loss} ({_path(r)}); {hint(s, True)}", r
                )
            rows.append((epoch, train_loss, val_loss, phase))
            score = val_loss if has_val else train_loss
            if previous in (SCREEN, WARMUP) and phase not in (SCREEN, WARMUP):
                best = np.inf  # screening and warm-up bests are only fallbacks: the run proper is judged alone
            if not score >= best * (1.0 - s.tol) or phase in (SCREEN, WARMUP):  # patience counts from here
                improved_at = epoch
            if best_params is None or score < best:
                best_params, best, best_epoch = params, score, epoch
            previous = phase
            info: EpochInfo = {
                "epoch": epoch,
                "total": s.epochs,
                "train_loss": train_loss,
                "val_loss": val_loss,
                "best_loss": best,
                "phase": phase,
                "elapsed": time.perf_counter() - start,
                "params": params,
            }
            if callback is not None and callback(info):
                stopped = True
                break
            if phase == CONVERGED or epoch >= s.epochs or epoch - improved_at >= s.patience:
                converged = phase == CONVERGED
                break
    except KeyboardInterrupt:
        interrupted = True
        if len(rows) < 2 or best_epoch == 0:  # nothing learnt yet: there is no model worth returning
            raise
    assert best_params is not None  # set at the first epoch, and an interrupt before any re-raises
    r, kept = record(), {k: np.array(v) for k, v in best_params.items()}
    if not (interrupted or stopped):
        _judge(r, s, kept)
    return kept, r


def _path(r: TrainingRecord) -> str:
    h = r.history
    worst = int(np.argmax(h.train_loss)) if len(h.train_loss) else 0
    finite = np.isfinite(h.train_loss)
    best = int(np.argmin(np.where(finite, h.train_loss, np.inf))) if np.any(finite) else 0
    return (
        f"loss path: start {r.start_loss:.3g}, worst {h.train_loss[worst]:.3g} at epoch {worst}, "
        f"best {h.train_loss[best]:.3g} at epoch {best}"
    )


def _judge(r: TrainingRecord, s: TrainSettings, kept_params: Params) -> None:
    """Raise if the finished run ``r`` diverged or did not learn (the rules in the module docstring)."""
    h = r.history
    start, kept = r.start_loss, float(h.train_loss[r.best_epoch])
    worst = int(np.argmax(h.train_loss))
    if start > 0 and h.train_loss[worst] >= DIVERGED_FACTOR * start and h.train_loss[-1] >= start:
        raise TrainingDiverged(
            f"training diverged: the loss rose to {h.train_loss[worst] / start:.3g} times its start at epoch {worst} "
            f"and never came back below its start ({_path(r)}); {hint(s, True)}",
            r,
        )
    reference = min((v for v in (start, r.baseline_loss) if v > 0), default=0.0)  # constant targets: the start
    if reference > 0 and not kept < LEARNED * reference:
        what = "its untrained start" if reference == start else "predicting a constant"
        chosen = ", the best on the validation rows" if np.isfinite(h.val_loss[r.best_epoch]) else ""
        raise TrainingStalled(
            f"training did not learn: the training loss of the epoch it kept ({kept:.3g} at epoch {r.best_epoch}"
            f"{chosen}) is not below half of {reference:.3g}, the loss of {what} ({_path(r)}); {hint(s, False)}",
            r,
            kept_params,
        )
