"""Staged residual fitting (``fit(..., stages=k)``): each later stage fits what the stages before it left.

In the spirit of multi-stage networks (Wang and Lai, 2024) and of Michaud,
Liu and Tegmark's precision machine learning (2023): after the first fit,
the residual is small but far from float64's limit, and it oscillates with
many more sign changes than the target. Each later stage fits that residual
divided by its own scale; a stage that does not lower the validation error is
dropped, and the record says so. The choices, each measured on x^2 over
[1, 100] (seeds 0-5; ``python scripts/bench.py`` reruns the result):

* **Stage 2 is a tangent stage** (:class:`~xsq.training.stages.TangentStage`): linear
  least squares on the first network's own parameter Jacobian (both the
  output's and the last pre-activation's), solved by SVD (``lstsq``,
  ``rcond`` 1e-14) on the column-normalised matrix, never by the normal
  equations. The correction lives in directions whose singular values are
  1e-12 to 1e-14 of the largest; J^T J (what Levenberg-Marquardt solves with)
  squares that beyond float64, and a fresh network cannot reproduce the
  residual's steep turn at the ends of the data. It takes milliseconds and
  gains about 10^4.
* **Unless the first network has one input and an identity output**: then stage 2 is a derivative
  stage (:class:`~xsq.training.stages.DerivativeStage`), linear least squares (the same SVD) on the
  network's parameter derivatives of every order up to k, for the k in ``ORDERS`` with the lowest
  validation error. For an identity output the tangent stage's two Jacobians are one, so its span is
  the first order's alone: it gained 6x to 20x on the damped oscillation exp(-x) sin(5x), where orders
  up to 4 gain 10^5 to 10^6 (``python scripts/stage_orders.py``); higher orders gained little more and
  made tanh(20x), already at the floor, worse.
* **Stage 3 on is a new network**: 1-32-1, tanh, identity output, mse on
  ``residual / rms(residual)``. One hidden unit sits at each zero crossing
  of the residual (centre there, slope 1 / local half-period; the crossings
  next to the largest residual when there are more than 32; steep units at
  the ends of the data when there are fewer), its output layer is solved by
  least squares, then LM runs up to 300 steps with patience 60. Width 32
  gained 80x over width 16's 22x; sigmoid units did as well as tanh.
* **Weights.** Stages 1 and 2 weigh each point by 1 / |target| when the
  targets are positive (the relative error near x = 1 matters as much as
  the absolute error near x = 100); the networks of stage 3 on use plain mse,
  which measured better there.
* The stage outputs are summed in plain float64, first to last: against
  ``math.fsum`` the sum differs by at most one unit in the last place
  (``python scripts/precision_floor.py`` measures it).
"""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np

from ..core import jacobian as jac
from ..core import net
from ..core.params import Params, init_params, unflatten_unchecked
from ..errors import TrainingFailed
from . import settings
from .epochs import Data
from .lm_policy import lm_epochs
from .loop import Callback, run, tagged
from .record import StageRecord, TrainingRecord
from .settings import TrainSettings
from .stages import (
    Base,
    DerivativeStage,
    NetworkStage,
    TangentStage,
    derivative_features,
    staged_output,
    takes_derivatives,
)

TANGENT_RCOND = 1e-14
ORDERS = (1, 2, 3, 4)  # the derivative stage's orders tried; the validation rows choose
STAGE_WIDTH = 32
STAGE_ACTIVATION = "tanh"
STAGE_EPOCHS = 300
STAGE_PATIENCE = 60


def weights(Y: np.ndarray) -> np.ndarray:
    """1 / |target| (positive targets) or 1, normalised to a root mean square of 1, per element of Y."""
    w = 1.0 / np.abs(Y) if np.all(Y > 0) else np.ones_like(Y)
    return w / np.sqrt(np.mean(w**2))


def fit_tangent(base: Base, X: np.ndarray, T: np.ndarray, w: np.ndarray) -> tuple[Params, Params, int]:
    """Directions (out, pre) in the base network's parameter space whose tangent stage fits T (weights w);
    and the rank the SVD found."""
    F = np.hstack(
        [
            jac.jacobian(base.params, X, base.activation, base.output),
            jac.jacobian(base.params, X, base.activation, "identity"),
        ]
    )
    c, rank = _least_squares(F, T, w)
    P = F.shape[1] // 2
    return unflatten_unchecked(c[:P], base.params), unflatten_unchecked(c[P:], base.params), rank


def _least_squares(F: np.ndarray, T: np.ndarray, w: np.ndarray) -> tuple[np.ndarray, int]:
    """The coefficients c minimising |w (F c - T)| by SVD on the column-normalised ``w F``, and the rank found."""
    A = F * w.reshape(-1, 1)
    norms = np.linalg.norm(A, axis=0)
    norms[norms == 0] = 1.0
    c, _, rank, _ = np.linalg.lstsq(A / norms, (w * T).ravel(), rcond=TANGENT_RCOND)
    return c / norms, int(rank)


def fit_derivatives(base: Base, X: np.ndarray, T: np.ndarray, w: np.ndarray, order: int) -> tuple[np.ndarray, int]:
    """The coefficients ((:func:`~xsq.training.stages.columns`,)) of a derivative stage of ``order`` on the base
    network that fits T (N, 1) at the scaled inputs X (N, 1), weighing row i by w[i] ((N, 1)); and the rank the
    SVD found."""
    return _least_squares(np.asarray(derivative_features(base, X, order)), T, w)


def crossing_init(x: np.ndarray, r: np.ndarray, width: int, rng: np.random.Generator) -> Params:
    """A 1-width-1 tanh network with a unit at each zero crossing of r(x) (see the module docstring)."""
    order = np.argsort(x)
    x, r = x[order], r[order]
    lo, hi = x[0], x[-1]
    i = np.nonzero(np.sign(r[1:]) * np.sign(r[:-1]) < 0)[0]
    z = x[i] - r[i] * (x[i + 1] - x[i]) / (r[i + 1] - r[i])  # the crossings, by linear interpolation
    direction = np.sign(r[i + 1] - r[i])
    ends = np.concatenate([[lo], z, [hi]])
    half = (ends[2:] - ends[:-2]) / 2  # the local half-period at each crossing
    if len(z) > width:  # keep the crossings next to the largest residual
        size = [np.max(np.abs(r[(x >= ends[j]) & (x <= ends[j + 2])])) for j in range(len(z))]
        keep = np.sort(np.argsort(size)[::-1][:width])
        z, direction, half = z[keep], direction[keep], half[keep]
    W, centre = direction / half, z
    extra = width - len(z)
    if extra > 0:  # steep units near either end, where the residual turns fastest
        left = np.arange(extra) % 2 == 0
        h = np.where(left, half[0], half[-1]) if len(half) else np.full(extra, hi - lo)
        centre = np.concatenate([centre, np.where(left, lo, hi) + np.where(left, 1, -1) * rng.uniform(0, 1, extra) * h])
        W = np.concatenate([W, rng.choice([-1.0, 1.0], extra) / h])
    return {"W1": W[None, :], "b1": -W * centre, "W2": np.zeros((width, 1)), "b2": np.zeros(1)}


def output_by_least_squares(params: Params, X: np.ndarray, T: np.ndarray, activation: str) -> Params:
    """The same network with its last layer (W, b) solved by linear least squares on its hidden outputs."""
    k = len(params) // 2
    hidden = {key: v for key, v in params.items() if int(key[1:]) < k}
    H = net.forward(hidden, X, activation, activation) if hidden else X
    coef = np.linalg.lstsq(np.hstack([H, np.ones((len(H), 1))]), T, rcond=None)[0]
    return dict(params, **{f"W{k}": coef[:-1], f"b{k}": coef[-1]})


def _network_stage(X, T, Xv, Tv, s: TrainSettings, rng, callback: Callback | None) -> tuple[Params, TrainingRecord]:
    """A new network fitted to T (scaled residuals) by LM from the crossing initialisation."""
    sizes = (X.shape[1], STAGE_WIDTH, T.shape[1])
    start = (
        crossing_init(X[:, 0], T[:, 0], STAGE_WIDTH, rng)
        if sizes[0] == sizes[-1] == 1
        else init_params(sizes, seed=rng, activation=STAGE_ACTIVATION)
    )
    start = output_by_least_squares(start, X, T, STAGE_ACTIVATION)
    stage = settings.resolve(
        hidden=(STAGE_WIDTH,),
        activation=STAGE_ACTIVATION,
        output="identity",
        loss="mse",
        epochs=STAGE_EPOCHS,
        patience=STAGE_PATIENCE,
        restarts=0,
        val_fraction=s.val_fraction,
        tol=s.tol,
        seed=s.seed,
    )
    data = Data(X, T, Xv, Tv)
    return run(lm_epochs(data, sizes, rng, stage, start=start), data, stage, callback, val_rows=np.zeros(0, int))


Stage = TangentStage | DerivativeStage | NetworkStage


def _linear_stage(base: Base, X, T, w, S: float, error: Callable[[list[Stage]], float]) -> tuple[Stage, str]:
    """Stage 2, fitted to T = residual / S (weights w) by linear least squares, and its note: the derivative stage
    of the order in ``ORDERS`` with the lowest ``error`` (the validation rows', or the training rows' when there
    are none, where the highest order wins) where the base takes one, else the tangent stage."""
    if not takes_derivatives(base):
        out, pre, rank = fit_tangent(base, X, T, w)
        return TangentStage(out, pre, S), f"SVD rank {rank}"
    tried = []
    for order in ORDERS:
        coef, rank = fit_derivatives(base, X, T, w, order)
        stage = DerivativeStage(coef, order, S)
        tried.append((error([stage]), order, stage, rank))
    _, order, stage, rank = min(tried, key=lambda t: t[:2])
    return stage, f"order {order}, SVD rank {rank}"


def add_stages(base: Base, Xs, Ys, train, val, s: TrainSettings, rng, callback: Callback | None):
    """Stages 2 .. s.stages on the scaled data; returns (kept stages, one StageRecord per stage tried,
    whether Ctrl-C stopped it, whether the callback did: no stage starts after it returns true)."""
    w = weights(Ys)
    rows = val if len(val) else train  # judged on the validation rows (the training rows without them)

    def error(stages) -> float:
        return float(np.sqrt(np.mean((w[rows] * (staged_output(base, stages, Xs[rows]) - Ys[rows])) ** 2)))

    kept: list[Stage] = []
    records: list = []
    for k in range(2, s.stages + 1):
        start, before, stop = time.perf_counter(), error(kept), None
        R = Ys - staged_output(base, kept, Xs)
        try:
            if k == 2:
                S = float(np.sqrt(np.mean((w[train] * R[train]) ** 2)))
                stage, note = _linear_stage(base, Xs[train], R[train] / S, w[train], S, error)
                epochs = 0
                if callback:
                    stop = callback(
                        {
                            "stage": k,
                            "epoch": 0,
                            "total": 0,
                            "phase": stage.kind,
                            "train_loss": before,
                            "val_loss": before,
                            "best_loss": before,
                            "elapsed": time.perf_counter() - start,
                        }
                    )
            else:
                S = float(np.sqrt(np.mean(R[train] ** 2)))
                staged = tagged(callback, stage=k)
                params, rec = _network_stage(Xs[train], R[train] / S, Xs[val], R[val] / S, s, rng, staged)
                stage, epochs = NetworkStage(params, STAGE_ACTIVATION, "identity", S), rec.n_epochs
                stop = rec.stopped
                note = "interrupted" if rec.interrupted else ""
        except TrainingFailed as exc:
            records.append(
                StageRecord(
                    k,
                    "network",
                    STAGE_ACTIVATION,
                    (STAGE_WIDTH,),
                    False,
                    before,
                    before,
                    0,
                    time.perf_counter() - start,
                    f"dropped: {exc}",
                )
            )
            continue
        except KeyboardInterrupt:
            return tuple(kept), tuple(records), True, False
        after = error([*kept, stage])
        keep = after < before
        if keep:
            kept.append(stage)
        records.append(
            StageRecord(
                k,
                stage.kind,
                getattr(stage, "activation", base.activation),
                (STAGE_WIDTH,) if stage.kind == "network" else (),
                keep,
                before,
                after,
                epochs,
                time.perf_counter() - start,
                note if keep else f"dropped: validation error {after:.3g} >= {before:.3g}",
            )
        )
        if note == "interrupted" or stop:
            return tuple(kept), tuple(records), note == "interrupted", bool(stop)
    return tuple(kept), tuple(records), False, False
