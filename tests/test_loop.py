"""The training loop's rules, driven by scripted epochs: which parameters it keeps and when it stops."""

import numpy as np
import pytest

from xsq.training import loop
from xsq.training.epochs import Data, Epoch
from xsq.training.record import RUNNING, SCREEN, WARMUP
from xsq.training.settings import resolve

X = np.linspace(-1.0, 1.0, 8)[:, None]
DATA = Data(X, 10 * X**2, np.empty((0, 1)), np.empty((0, 1)))  # no validation rows: the training loss is the score


def scripted(losses, phases):
    """Epochs whose params are tagged with their epoch (b1 = [epoch]) and whose losses are given."""
    for epoch, (value, phase) in enumerate(zip(losses, phases)):
        yield Epoch({"W1": np.ones((1, 1)), "b1": np.array([float(epoch)])}, value, phase)


@pytest.mark.parametrize("early", [SCREEN, WARMUP])
def test_a_screening_or_warm_up_best_is_only_a_fallback(early):
    # the early phase found a lower loss (on its own, differently weighted problem) than the run proper ever does:
    # the run proper is judged alone, so its own best (epoch 4) is kept, not the early one (epoch 1)
    losses = [4.0, 0.01, 1.0, 0.5, 0.2, 0.3]
    phases = [early, early, RUNNING, RUNNING, RUNNING, RUNNING]
    params, record = loop.run(scripted(losses, phases), DATA, resolve(epochs=5, patience=10), val_rows=[])
    assert record.best_epoch == 4 and params["b1"][0] == 4.0 and record.best_loss == 0.2


@pytest.mark.parametrize("patience", [1, 3])
def test_patience_counts_epochs_without_improvement(patience):
    # the loss improves at epoch 1, then stays flat: the run stops exactly `patience` epochs later
    losses = [2.0, 0.5] + [0.5] * 10
    _, record = loop.run(scripted(losses, [RUNNING] * 12), DATA, resolve(epochs=11, patience=patience), val_rows=[])
    assert record.n_epochs == 1 + patience and record.best_epoch == 1
