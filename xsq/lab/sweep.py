"""A map of where training diverges: a grid of short runs, each a pure function of its settings.

Every cell of a :class:`Grid` trains the question's problem (x^2 on the
integers 1..100, softplus output, mse) for ``steps`` optimizer steps through
xsq's own optimizers and training loop (:func:`xsq.training.epochs.gradient_epochs`
driven by :func:`xsq.training.loop.run`), with one learning rate, data scaling,
hidden width, batch size ("1": the question's per-sample updates, or "all"),
optimizer, seed and set of formulas:

* ``stable``: xsq's activations and initialisation;
* ``question``: the question's formulas as written, ``1 / (1 + exp(-z))`` and
  ``log(1 + exp(z))`` differentiated by autograd, and its initialisation
  (standard-normal weights, biases 1), as ``xsq diagnose`` rebuilds them.

Each step is watched: the run ends as soon as a value goes non-finite or the
loss reaches 10 times its start, and :mod:`xsq.lab.outcomes` names the outcome.
xsq's mse is mean((f - y)^2); for one sample its gradient is twice that of
the question's (f - y)^2 / 2, so learning rate 1e-4 here is the question's 2e-4.

The predicted largest stable learning rate is 2 / lambda_max, with lambda_max
the largest eigenvalue of the Hessian of the full training loss (the mean
over samples) at the cell's initial parameters (:mod:`xsq.core.hessian`). For
per-sample batches each step follows one sample's loss, whose Hessian varies
from sample to sample around that mean; the mean's 2 / lambda_max is the
boundary gradient descent would have, which per-sample SGD (noisier, with
steeper single samples) reaches at or below.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import math
import time
from itertools import product

import numpy as np

from ..core import net
from ..core.hessian import largest_eigenvalue, largest_stable_lr
from ..core.params import Params, flatten, init_params, param_keys, unflatten_unchecked
from ..data.metrics import rmse_over_range
from ..data.problem import Problem
from ..errors import TrainingFailed
from ..training.epochs import Data, gradient_epochs
from ..training.loop import run
from ..training.scaling import Scaler
from ..training.settings import TrainSettings
from . import question
from .formulas import QUESTION_SIGMOID, QUESTION_SOFTPLUS
from .outcomes import BLOWUP, Evidence, classify

FORMULAS: dict[str, tuple[net.Act, net.Act]] = {
    "stable": ("sigmoid", "softplus"),
    "question": (QUESTION_SIGMOID, QUESTION_SOFTPLUS),
}
SCALINGS = ("raw", "scaled")
BATCHES = ("1", "all")
OPTIMIZERS = ("sgd", "momentum", "adam")
X = np.arange(1.0, 101.0)[:, None]  # the question's inputs: the integers 1..100


@dataclasses.dataclass(frozen=True)
class Cell:
    """One short run: every setting that determines it (and so its result, bit for bit)."""

    formulas: str
    scaling: str
    hidden: int
    batch: str
    optimizer: str
    seed: int
    lr: float
    steps: int

    @property
    def row(self) -> tuple:
        """The settings that shape its loss and start (all but lr and optimizer): one row of the map."""
        return (self.formulas, self.scaling, self.hidden, self.batch, self.seed)

    @property
    def is_question(self) -> bool:
        """The question's own configuration: raw data, 1 hidden unit, per-sample SGD at lr 1e-4."""
        return (self.scaling, self.hidden, self.batch, self.optimizer, self.lr) == ("raw", 1, "1", "sgd", 1e-4)


@dataclasses.dataclass(frozen=True)
class Grid:
    """The axes of a sweep; the cells are every combination."""

    lrs: tuple[float, ...]
    scalings: tuple[str, ...]
    hiddens: tuple[int, ...]
    batches: tuple[str, ...]
    optimizers: tuple[str, ...]
    seeds: tuple[int, ...]
    formulas: tuple[str, ...]
    steps: int
    learned_below: float

    def size(self) -> int:
        """How many cells the grid has."""
        axes = (self.formulas, self.scalings, self.hiddens, self.batches, self.optimizers, self.seeds, self.lrs)
        return math.prod(len(a) for a in axes)

    def cells(self) -> list[Cell]:
        return [
            Cell(f, s, h, b, o, seed, lr, self.steps)
            for f, s, h, b, o, seed, lr in product(
                self.formulas, self.scalings, self.hiddens, self.batches, self.optimizers, self.seeds, self.lrs
            )
        ]

    def key(self) -> str:
        """A short hash of the axes: the same command gives the same key (and so resumes the same folder)."""
        return hashlib.sha1(json.dumps(dataclasses.asdict(self), sort_keys=True).encode()).hexdigest()[:10]


def _data(scaling: str) -> tuple[Scaler, Data]:
    Y = X**2
    scaler = Scaler.fit(X, Y) if scaling == "scaled" else Scaler.none(1, 1)
    empty = np.zeros((0, 1))
    return scaler, Data(scaler.inputs(X), scaler.targets(Y), empty, empty)


def _start(cell_row: tuple) -> Params:
    formulas, _, hidden, _, seed = cell_row
    rng = np.random.default_rng(seed)
    sizes = (1, hidden, 1)
    return question.fit_init(sizes, rng) if formulas == "question" else init_params(sizes, seed=rng)


def lam_max(cell_row: tuple) -> dict:
    """lambda_max of the training loss at a row's initial parameters, 2 / lambda_max, and the time it took."""
    t = time.perf_counter()
    formulas, scaling = cell_row[0], cell_row[1]
    activation, output = FORMULAS[formulas]
    _, data = _data(scaling)
    like = _start(cell_row)
    with np.errstate(all="ignore"):
        eig = largest_eigenvalue(
            lambda th: net.objective(unflatten_unchecked(th, like), data.X, data.Y, activation, output, "mse"),
            flatten(like),
            seed=0,
        )
    return {
        "lam_max": eig.value,
        "predicted_lr": largest_stable_lr(eig.value),
        "lam_products": eig.products,
        "lam_converged": eig.converged,
        "lam_seconds": time.perf_counter() - t,
    }


class _Stop(Exception):
    """Raised from the step watcher to end a run (its evidence is on the watcher)."""


class _Watch:
    """Called after every step: keeps the latest parameters, the best loss, and stops at non-finite or blow-up."""

    def __init__(self, data: Data, activation: net.Act, output: net.Act, steps: int, start: Params):
        self.data, self.activation, self.output, self.steps = data, activation, output, steps
        self.params, self.start = start, self._loss(start)
        self.best, self.last = self.start, self.start
        self.evidence: dict = {}

    def _loss(self, params: Params) -> float:
        return float(net.objective(params, self.data.X, self.data.Y, self.activation, self.output, "mse"))

    def _first_nonfinite(self, params: Params) -> str:
        for key in param_keys(params):
            if not np.all(np.isfinite(params[key])):
                return f"the update of {key}"
        passes = net.forward_pass(params, self.data.X, self.activation, self.output)
        for i in range(1, len(passes.Zs)):
            if not np.all(np.isfinite(passes.Zs[i])):
                return f"Z{i} = A{i - 1} W{i} + b{i}"
            if not np.all(np.isfinite(passes.As[i])):
                act = net.layer_activation(i, len(passes.Zs) - 1, self.activation, self.output)
                return f"A{i} = {act.name}(Z{i})"
        return "the loss"

    def __call__(self, step: int, params: Params) -> None:
        self.params = params
        loss = self._loss(params)
        if not np.isfinite(loss):
            self.evidence = dict(nonfinite_step=step, nonfinite_op=self._first_nonfinite(params))
            raise _Stop
        self.best, self.last = min(self.best, loss), loss
        if loss >= BLOWUP * self.start:
            self.evidence = dict(blowup_step=step, blowup_factor=loss / self.start)
            raise _Stop
        if step >= self.steps:
            raise _Stop


def run_cell(cell: Cell, learned_below: float) -> dict:
    """Train one cell and return its row: every setting, the outcome with its evidence, and the seconds."""
    t = time.perf_counter()
    activation, output = FORMULAS[cell.formulas]
    scaler, data = _data(cell.scaling)
    per_epoch = len(X) if cell.batch == "1" else 1
    epochs = math.ceil(cell.steps / per_epoch)
    s = TrainSettings(  # not through settings.resolve: no setting accepts the question's formulas
        hidden=(cell.hidden,),
        activation=activation,  # type: ignore[arg-type]  # the question's formulas: activations no name reaches
        output=output,  # type: ignore[arg-type]
        loss="mse",
        optimizer=cell.optimizer,
        epochs=epochs,
        lr=cell.lr,
        batch_size=1 if cell.batch == "1" else None,
        grad="manual",
        restarts=0,
        val_fraction=0.0,
        patience=epochs + 1,
        tol=0.0,
        stages=1,
        scale=cell.scaling == "scaled",
        seed=cell.seed,
    )
    start = _start(cell.row)
    watch = _Watch(data, activation, output, cell.steps, start)
    rng = np.random.default_rng([cell.seed, 1])  # the shuffling (the start took the seed's own stream)
    with np.errstate(all="ignore"):
        try:
            steps = gradient_epochs(data, (1, cell.hidden, 1), rng, s, start, watch)
            _, record = run(steps, data, s, val_rows=np.zeros(0, int))
        except (_Stop, TrainingFailed):
            pass
        else:
            if record.interrupted:  # cut short, so not this cell's result: the sweep stops, without it
                raise KeyboardInterrupt
        problem = Problem()
        pred = scaler.outputs(net.forward(watch.params, scaler.inputs(problem.grid()[:, None]), activation, output))
        error = rmse_over_range(pred[:, 0], problem.values(problem.grid()))
    evidence = Evidence(
        **watch.evidence,
        start_loss=watch.start,
        best_loss=watch.best,
        final_loss=watch.last,
        test_rmse_over_range=error if np.isfinite(error) else math.nan,
    )
    outcome, reason = classify(evidence, learned_below)
    return {
        **dataclasses.asdict(cell),
        "outcome": outcome,
        "reason": reason,
        **evidence._asdict(),
        "question": cell.is_question,
        "seconds": time.perf_counter() - t,
    }
