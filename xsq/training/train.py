"""``fit``: from raw data to a trained, frozen :class:`~xsq.training.model.Model`.

:func:`fit` checks the settings (:mod:`xsq.training.settings`) and the data, scales
the data for its output unit (:mod:`xsq.training.outputs`), holds out a validation split, checks the run
fits in memory (:mod:`xsq.training.resources`), and hands an epoch iterator
(:mod:`xsq.training.lm_policy` for Levenberg-Marquardt, :mod:`xsq.training.epochs` for the
gradient optimizers) to the training loop (:mod:`xsq.training.loop`), and then, for a first network that
ended just short of the precision it aims at, a wider one (:mod:`xsq.training.wider`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike
from threadpoolctl import threadpool_limits

from ..core import losses, net
from ..core.api import check_inputs
from ..core.params import Params, as_real_array
from ..errors import InputError, TrainingStalled
from . import separable, settings, wider
from .bayes_policy import run_regularised
from .epochs import Data, gradient_epochs
from .lm_policy import lm_epochs
from .loop import Callback, RecordFields, Trained, run
from .model import Model
from .outputs import check_reachable, choose_output, scaler_for
from .resources import check_memory
from .scaling import Scaler
from .settings import TrainSettings
from .staged_fit import add_stages
from .stages import Base

PRIOR_PULL = 2.0  # worse_than_constant: a prior may pull a constant fit off the mean by about spread / N, not more


def _columns(A: ArrayLike, name: str) -> np.ndarray:
    """Data as a 2-D float64 array: (N,) is N samples of one column; anything else must be (N, n)."""
    A = as_real_array(A, name)  # a ragged list or text is refused here, not by numpy below
    ndim = np.ndim(A)
    if ndim not in (1, 2):
        raise InputError(f"{name} must be 1-D (N,) or 2-D (N, n), got {ndim}-D data of shape {np.shape(A)}")
    return check_inputs(A, 1 if ndim == 1 else max(np.shape(A)[1], 1), name)


def check_data(X: ArrayLike, Y: ArrayLike, loss: str = "mse") -> tuple[np.ndarray, np.ndarray]:
    """X (N, n_in) and Y (N, n_out) as float64, finite, N >= 2, and targets the loss can take."""
    Xc, Yc = _columns(X, "X"), _columns(Y, "Y")
    if len(Xc) != len(Yc):
        raise InputError(f"X has {len(Xc)} rows but Y has {len(Yc)}; give one target row per input")
    if len(Xc) < 2:
        raise InputError(f"need at least 2 samples to train, got {len(Xc)} sample{'s' if len(Xc) != 1 else ''}")
    losses.check_targets(loss, Yc)
    return Xc, Yc


def split(
    n: int, fraction: float, rng: np.random.Generator, name: str = "val_fraction", min_held: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Random (kept, held-out) rows; ``round(n * fraction)`` of them, and at least ``min_held``, are held out."""
    order = rng.permutation(n)
    n_val = max(min_held, int(round(n * fraction)))
    if n - n_val < 1:
        raise InputError(f"{name} {fraction} leaves no training data out of {n} samples")
    return np.sort(order[n_val:]), np.sort(order[:n_val])


def worse_than_constant(params: Params, data: Data, s: TrainSettings) -> str:
    """For a regularised run the loop found stalled: which output column, if any, kept a mean squared error
    above that of predicting the column's mean, beyond what a prior's pull on the constant explains (a factor
    ``1 + PRIOR_PULL / N`` for N training rows); "" when none did, and a near-constant is the answer."""
    Y = data.Y
    mse = np.mean((net.forward(params, data.X, s.activation, s.output) - Y) ** 2, axis=0)
    spread = np.var(Y, axis=0)
    limit = 1.0 + PRIOR_PULL / len(Y)
    for j in range(Y.shape[1]):
        if spread[j] > 0 and not mse[j] <= limit * spread[j]:
            return (
                f"output {j + 1} kept a mean squared error {mse[j] / spread[j]:.3g} times that of predicting its "
                f"mean (on the scaled targets; at most {limit:.3g} is a near-constant fit)"
            )
    return ""


def fit(
    X: ArrayLike,
    Y: ArrayLike,
    *,
    hidden: Sequence[int] | int | None = None,
    activation: str = "sigmoid",
    output: str = "auto",
    loss: str = "mse",
    optimizer: str = "lm",
    epochs: int | None = None,
    lr: float | None = None,
    batch_size: int | None = None,
    val_fraction: float | None = None,
    patience: int | None = None,
    tol: float | None = None,
    seed: int | np.random.Generator = 0,
    grad: str | None = None,
    restarts: int | None = None,
    regularization: str = "none",
    stages: int = 1,
    scale: bool = True,
    callback: Callback | None = None,
) -> Model:
    """Train a network on raw data X (N, n_in) or (N,) -> Y (N, n_out) or (N,); return the best :class:`Model`.

    ``output="auto"`` lets :func:`xsq.training.outputs.choose_output` pick softplus or identity from the targets
    and the regularization (``model.record.settings["output_reason"]`` says which and why);
    targets are scaled by their root mean square for softplus (never shifted,
    so they stay positive) and centred for identity.
    ``hidden`` left as None is 16, or 8 with ``regularization="bayes"``; a network trained by variable
    projection whose validation RMSE over the targets' range ends between ``xsq.training.wider.AIM`` and
    ``CEILING`` (on at least ``MIN_VAL_ROWS`` validation rows) gets one 1.5 times as wide beside it, and the
    lower validation loss is kept; a Bayesian fit whose residuals at neighbouring inputs correlate beyond
    ``MISFIT_Z`` (:func:`xsq.training.residuals.neighbour_z`), or whose gamma is above ``FULL`` of its
    parameters, gets one too, and the higher log evidence is kept (``model.record.widths`` says what each
    reached).
    Settings left as None take the optimizer's defaults (``xsq.training.settings.PER_OPTIMIZER``;
    ``lr``, ``batch_size`` and ``grad`` apply to sgd, momentum and adam only,
    ``restarts`` to lm only, and giving one to another optimizer is an error).
    ``regularization`` (lm only): ``"none"``; ``"bayes"``, weight decay and noise precision re-estimated
    from the evidence, restarts scored by it, every row trained on (``val_fraction`` 0), and error bars
    (``model.predict(X, return_std=True)``; see :mod:`xsq.training.bayes_policy`); ``"l2"``, a fixed weight decay.
    ``epochs`` bounds the passes over the training set (for ``"lm"``, the
    accepted steps, restart screening included). Training stops early when
    the validation loss (the training loss if ``val_fraction`` is 0) has not
    improved by a relative ``tol`` for ``patience`` epochs, and the best
    parameters seen are restored. ``stages`` (lm only) fits that many stages,
    each later one to what the ones before left (see :mod:`xsq.training.staged_fit`);
    the record lists each, kept or dropped. ``scale=False`` trains on the raw numbers
    (to measure what scaling is worth). ``seed`` is a whole number or a
    ``numpy.random.Generator`` to continue; every random choice (split,
    initialisation, shuffling, restarts) comes from it.

    ``callback(info)`` is called after every epoch with an
    :class:`~xsq.training.loop.EpochInfo` dict of ``epoch``, ``total``,
    ``phase``, ``train_loss``, ``val_loss``, ``best_loss``, ``elapsed`` and
    ``params`` (the epoch's parameters, on the scaled data: read them, copy to
    keep); returning True stops training. Ctrl-C stops it too, returning the best
    model so far (``model.record.interrupted``) once an epoch has improved on
    the start; before that the KeyboardInterrupt goes on to the caller.

    A run that failed raises instead of returning: :class:`xsq.TrainingDiverged`
    when a loss or parameter stops being finite, or the loss rose to 100
    times its start and never came back below it; :class:`xsq.TrainingStalled`
    when the kept parameters' training loss is not below half of the smaller
    of its start and the loss of the best constant prediction. Bad settings or
    data raise :class:`xsq.InputError` (a ``ValueError``).
    """
    s = settings.resolve(
        hidden=hidden,
        activation=activation,
        output=output,
        loss=loss,
        optimizer=optimizer,
        epochs=epochs,
        lr=lr,
        batch_size=batch_size,
        val_fraction=val_fraction,
        patience=patience,
        tol=tol,
        seed=seed,
        grad=grad,
        restarts=restarts,
        regularization=regularization,
        stages=stages,
        scale=scale,
    )
    if callback is not None and not callable(callback):
        raise InputError(f"callback must be a function of one dict (or None), not {type(callback).__name__}")
    X, Y = check_data(X, Y, s.loss)
    reason = "chosen"
    if s.output == "auto":
        output, reason = choose_output(
            Y, X=X, projectable=separable.would_train(s, X.shape[1], len(X)), regularization=s.regularization
        )
        s = dataclasses.replace(s, output=output)
    sizes = (X.shape[1], *s.hidden, Y.shape[1])
    scaler = scaler_for(X, Y, s.output) if s.scale else Scaler.none(X.shape[1], Y.shape[1])
    with np.errstate(all="ignore"):
        Xs, Ys = scaler.inputs(X), scaler.targets(Y)
    if not (np.all(np.isfinite(Xs)) and np.all(np.isfinite(Ys))):
        raise InputError("the data do not scale to finite numbers in float64")
    check_reachable(Y, Ys, s.output)
    rng = np.random.default_rng(s.seed)
    train, val = split(len(X), s.val_fraction, rng)
    if np.all(X[train] == X[train][0]):
        raise InputError(
            f"all {len(train)} input rows to train on are the same: a network cannot learn from inputs that do not vary"
        )
    check_memory(len(train), sizes, s.optimizer, s.batch_size, s.regularization)
    data = Data(Xs[train], Ys[train], Xs[val], Ys[val])
    domain = tuple(zip(X.min(axis=0).tolist(), X.max(axis=0).tolist()))
    # the matrices here are small: one BLAS thread is faster than several taking turns.
    # Overflow is not warned about: a non-finite loss or parameter raises TrainingDiverged instead.
    with threadpool_limits(limits=1, user_api="blas"), np.errstate(over="ignore", invalid="ignore"):
        fields = RecordFields(val_rows=val, domain=domain, settings=dict(s.as_dict(), output_reason=reason))
        if s.regularization != "none":
            first = run_regularised(data, rng, s, callback, scaler, **fields)
        else:
            steps = lm_epochs(data, sizes, rng, s) if s.optimizer == "lm" else gradient_epochs(data, sizes, rng, s)
            try:
                first = Trained(*run(steps, data, s, callback, **fields))
            except TrainingStalled as exc:  # with the model it kept, for callers that would rather warn (xsq.sklearn)
                model = Model(exc.params, scaler, s.activation, s.output, exc.record)
                raise TrainingStalled(str(exc), exc.record, exc.params, model) from None
        try:
            widen = wider.could_widen(hidden is not None, s, X.shape[1], Y.shape[1], len(X))
            widen = widen and wider.wants_wider(first, data, s)
        except KeyboardInterrupt:  # while the first network's residuals were measured: it is kept, and the run ends
            first, widen = first._replace(record=dataclasses.replace(first.record, interrupted=True)), False
        if widen:
            first, s = wider.fit_wider(first, data, rng, s, callback, scaler, **fields)
        params, record = first.params, first.record
        if s.regularization != "none":
            model = Model(params, scaler, s.activation, s.output, record, posterior=first.posterior)
            worse = worse_than_constant(params, data, s) if first.stalled else ""
            if worse:  # a near-constant, yes; worse than the mean, no
                raise TrainingStalled(f"training did not learn: {worse}", record, params, model)
            return model
        if s.stages == 1 or record.interrupted or record.stopped:
            return Model(params, scaler, s.activation, s.output, record)
        base = Base(params, s.activation, s.output)
        later, stage_records, interrupted, stopped = add_stages(base, Xs, Ys, train, val, s, rng, callback)
    record = dataclasses.replace(
        record,
        stages=stage_records,
        interrupted=interrupted,
        stopped=stopped,
        seconds=record.seconds + sum(r.seconds for r in stage_records),
    )
    return Model(params, scaler, s.activation, s.output, record, later)


def fit_whole(X: ArrayLike, Y: ArrayLike, **settings: Any) -> Model:
    """:func:`fit` for a caller that needs its whole result, not the best so far: a Ctrl-C (or another
    signal raised as KeyboardInterrupt) that fit turns into the model so far (``record.interrupted``) is
    raised again, so that it stops the caller as it would anywhere else."""
    model = fit(X, Y, **settings)
    if model.record is not None and model.record.interrupted:
        raise KeyboardInterrupt
    return model
