"""Snapshots of a network while it trains, for drawing its progress afterwards (``xsq train --animate``).

:class:`Snapshots` is a training callback (see :func:`xsq.fit`): it copies the
parameters on a schedule dense at the start and geometric after
(:func:`log_schedule`), because Levenberg-Marquardt changes the fit most in its
first few epochs. Copying a small network's parameters costs next to nothing
beside an epoch, so the run is as fast as without it; the drawing happens once
training is over. Only the first network of a staged fit is kept (its later
stages report ``stage`` in their info); a wider second network (:mod:`xsq.training.wider`, ``network`` 2
in its info) is kept apart, and :meth:`Snapshots.kept_by` gives the network a model kept.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core.params import Params
from .loop import EpochInfo
from .record import TrainingRecord

DENSE = 20  # every epoch up to here is kept
RATIO = 1.03  # after it, each kept epoch is at least 3 % beyond the one before


def log_schedule(last: int, dense: int = DENSE, ratio: float = RATIO) -> np.ndarray:
    """The epochs 0..``last`` a :class:`Snapshots` keeps: all up to ``dense``, then spaced by ``ratio``, and
    ``last`` itself. Sorted, unique, as ints."""
    kept, e = [0], 0
    while e < last:
        e = _next_kept(e, dense, ratio)
        kept.append(min(e, last))
    return np.unique(np.asarray(kept + [last], dtype=int))


def _next_kept(epoch: int, dense: int, ratio: float) -> int:
    """The first epoch after ``epoch`` that the schedule keeps."""
    return epoch + 1 if epoch < dense else max(epoch + 1, int(np.ceil(epoch * ratio)))


class Snapshot(NamedTuple):
    """The network at the end of one epoch: its parameters (a copy, on the scaled data) and losses."""

    epoch: int
    phase: str
    train_loss: float
    val_loss: float
    params: Params


class Snapshots:
    """A training callback that keeps :class:`Snapshot` s on the :func:`log_schedule` (and the latest epoch),
    for each network a fit trains."""

    def __init__(self, dense: int = DENSE, ratio: float = RATIO):
        self.dense, self.ratio = dense, ratio
        self.kept: dict[int, list[Snapshot]] = {}  # per network (1, or 2 for a wider second one)
        self.latest: dict[int, Snapshot] = {}
        self._next: dict[int, int] = {}

    def __call__(self, info: EpochInfo) -> None:
        if "stage" in info or "params" not in info:
            return
        network = int(info.get("network", 1))
        snap = Snapshot(
            int(info["epoch"]),
            str(info["phase"]),
            float(info["train_loss"]),
            float(info["val_loss"]),
            {k: np.array(v, copy=True) for k, v in info["params"].items()},
        )
        if snap.epoch >= self._next.get(network, 0):
            self.kept.setdefault(network, []).append(snap)
            self._next[network] = _next_kept(snap.epoch, self.dense, self.ratio)
            self.latest.pop(network, None)
        else:
            self.latest[network] = snap

    def network(self, number: int = 1) -> list[Snapshot]:
        """Every snapshot kept of network ``number``, in epoch order, the last epoch seen included."""
        latest = self.latest.get(number)
        return self.kept.get(number, []) + ([latest] if latest is not None else [])

    def kept_by(self, record: TrainingRecord | None) -> list[Snapshot]:
        """The snapshots of the network a model's training ``record`` kept: the wider second network's when its
        ``widths`` say so (:mod:`xsq.training.wider`), else the first's."""
        widths = record.widths if record is not None else ()
        return self.network(next((k for k, w in enumerate(widths, start=1) if w.kept), 1))
