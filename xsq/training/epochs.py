"""Epoch iterators: what an optimizer hands the training loop, and the one for gradient optimizers.

An epoch iterator yields one :class:`Epoch` per epoch, starting with the
untrained network (epoch 0). The loop in :mod:`xsq.training.loop` drives it, judges
it and keeps the best; the iterator only optimizes. Levenberg-Marquardt's
iterator, with its restart and warm-up policy, is in :mod:`xsq.training.lm_policy`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import NamedTuple

import numpy as np

from ..core import net
from ..core.params import Params, init_params
from .optimizers import GRADIENT_OPTIMIZERS
from .record import RUNNING
from .settings import TrainSettings


class Data(NamedTuple):
    """Scaled training and validation data: X (N, n_in), Y (N, n_out); validation may have 0 rows."""

    X: np.ndarray
    Y: np.ndarray
    X_val: np.ndarray
    Y_val: np.ndarray


class Epoch(NamedTuple):
    """The parameters after an epoch, their training loss if the optimizer already knows it, and the phase."""

    params: Params
    train_loss: float | None
    phase: str


def screening_budget(most: int, epochs: int, runs: int) -> int:
    """Steps for each of ``runs`` screening runs of candidate initialisations: ``most``, or fewer so that
    screening takes at most half of ``epochs``."""
    return min(most, (epochs // 2) // runs)


def gradient_epochs(
    data: Data,
    sizes: tuple[int, ...],
    rng: np.random.Generator,
    s: TrainSettings,
    start: Params | None = None,
    on_step: Callable[[int, Params], None] | None = None,
) -> Iterator[Epoch]:
    """Mini-batch epochs of sgd, momentum or adam; batches are reshuffled every epoch (from ``rng``).

    ``start``: parameters to begin from instead of a random initialisation. ``on_step(step, params)`` is
    called after every update (the sweep watches each step with it; it may raise to end the run).
    """
    X, Y = data.X, data.Y
    params = init_params(sizes, seed=rng, activation=s.activation) if start is None else start
    opt = GRADIENT_OPTIMIZERS[s.optimizer](s.lr)
    assert s.grad is not None  # resolve fills it ("autograd" by default); the sweep sets "manual"
    grad_fn = net.GRADIENTS[s.grad]
    state = opt.init(params)
    n = len(X)
    batch = n if s.batch_size is None else min(s.batch_size, n)
    step = 0
    yield Epoch(params, None, RUNNING)
    while True:
        order = rng.permutation(n) if batch < n else np.arange(n)
        for begin in range(0, n, batch):
            idx = order[begin : begin + batch]
            g = grad_fn(params, X[idx], Y[idx], s.activation, s.output, s.loss, 0.0)
            params, state = opt.update(step, params, g, state)
            step += 1
            if on_step is not None:
                on_step(step, params)
        yield Epoch(params, None, RUNNING)
