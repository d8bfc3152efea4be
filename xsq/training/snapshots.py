"""Snapshots of a network while it trains, for drawing its progress afterwards (``xsq train --animate``).

:class:`Snapshots` is a training callback (see :func:`xsq.fit`): it copies the
parameters on a schedule dense at the start and geometric after
(:func:`log_schedule`), because Levenberg-Marquardt changes the fit most in its
first few epochs. Copying a small network's parameters costs next to nothing
beside an epoch, so the run is as fast as without it; the drawing happens once
training is over. Only the first network of a staged fit is kept (its later
stages report ``stage`` in their info).
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core.params import Params

DENSE = 20  # every epoch up to here is kept
RATIO = 1.03  # after it, each kept epoch is at least 3 % beyond the one before


def log_schedule(last: int, dense: int = DENSE, ratio: float = RATIO) -> np.ndarray:
    """The epochs 0..``last`` a :class:`Snapshots` keeps: all up to ``dense``, then spaced by ``ratio``, and
    ``last`` itself. Sorted, unique, as ints."""
    kept, e = list(range(min(dense, last) + 1)), dense
    while e < last:
        e = max(e + 1, int(np.ceil(e * ratio)))
        kept.append(min(e, last))
    return np.unique(np.asarray(kept + [last], dtype=int))


class Snapshot(NamedTuple):
    """The network at the end of one epoch: its parameters (a copy, on the scaled data) and losses."""

    epoch: int
    phase: str
    train_loss: float
    val_loss: float
    params: Params


class Snapshots:
    """A training callback that keeps :class:`Snapshot` s on the :func:`log_schedule` (and the latest epoch)."""

    def __init__(self, dense: int = DENSE, ratio: float = RATIO):
        self.dense, self.ratio = dense, ratio
        self.kept: list[Snapshot] = []
        self.latest: Snapshot | None = None
        self._next = 0

    def __call__(self, info: dict) -> None:
        if "stage" in info or "params" not in info:
            return
        snap = Snapshot(
            int(info["epoch"]),
            str(info["phase"]),
            float(info["train_loss"]),
            float(info["val_loss"]),
            {k: np.array(v, copy=True) for k, v in info["params"].items()},
        )
        if snap.epoch >= self._next:
            self.kept.append(snap)
            e = snap.epoch
            self._next = e + 1 if e < self.dense else max(e + 1, int(np.ceil(e * self.ratio)))
            self.latest = None
        else:
            self.latest = snap

    @property
    def all(self) -> list[Snapshot]:
        """Every snapshot kept, in epoch order, the last epoch seen included."""
        return self.kept + ([self.latest] if self.latest is not None else [])
