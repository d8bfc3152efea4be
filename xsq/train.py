"""Training: scale the data, split off a validation set, run an optimizer, keep the best.

:func:`fit` is the one entry point. Gradient optimizers (sgd, momentum, adam)
take mini-batches of the training set each epoch; Levenberg-Marquardt
(``"lm"``, the default) takes one full-batch step per epoch. Every random
choice (split, initialisation, shuffling, restarts) flows from ``seed``.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Callable

import numpy as onp
from threadpoolctl import threadpool_limits

from . import losses
from .activations import check_activation
from .backprop import (
    flatten,
    forward_pass,
    jacobian_unchecked,
    loss_value,
    loss_value_grad,
    manual_grad_unchecked,
    unflatten,
)
from .lm import LeastSquares, lm_init, lm_step
from .model import Model
from .network import check_data, check_sizes, init_params
from .optimizers import GRADIENT_OPTIMIZERS

OPTIMIZERS = ("lm", *GRADIENT_OPTIMIZERS)
GRADS = {"autograd": loss_value_grad, "manual": manual_grad_unchecked}

# per-optimizer defaults for the arguments left as None
DEFAULTS = {
    "lm": dict(epochs=1100, lr=None, patience=200, tol=1e-10, restarts=4),
    "adam": dict(epochs=10000, lr=0.01, patience=1000, tol=1e-10, restarts=0),
    "momentum": dict(epochs=3000, lr=0.01, patience=500, tol=1e-10, restarts=0),
    "sgd": dict(epochs=3000, lr=0.05, patience=500, tol=1e-10, restarts=0),
}
WARMUP, RUNNING, CONVERGED = "warmup", "running", "converged"  # what an epoch iterator reports
RESTART_EPOCHS = 40  # LM steps given to each candidate initialisation before the best is kept
WARMUP_FRACTION = 0.4  # share of LM steps spent on relative error before mse (positive targets only)


class TrainingDiverged(RuntimeError):
    """The loss or a parameter stopped being finite: no model is returned."""


def scaling(X: onp.ndarray, Y: onp.ndarray) -> tuple[onp.ndarray, onp.ndarray, onp.ndarray]:
    """Input mean and std (per column; 1 where a column is constant) and target scale.

    Targets are divided by their root mean square (per column), never
    shifted: a positive target stays positive, so a softplus output can reach it.
    """
    x_mean = X.mean(axis=0)
    x_std = X.std(axis=0)
    x_std = onp.where(x_std > 0, x_std, 1.0)
    y_scale = onp.sqrt(onp.mean(Y**2, axis=0))
    y_scale = onp.where(y_scale > 0, y_scale, 1.0)
    return x_mean, x_std, y_scale


def _check_settings(hidden, activation, output, loss, optimizer, epochs, lr, batch_size, val_fraction,
                    patience, tol, grad, restarts) -> None:
    check_activation(activation)
    check_activation(output, "output")
    losses.get(loss)
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; expected one of: {', '.join(OPTIMIZERS)}")
    if optimizer == "lm" and loss not in losses.RESIDUALS:
        raise ValueError(f"optimizer 'lm' needs a least-squares loss ({', '.join(losses.RESIDUALS)}), "
                         f"not {loss!r}; use adam, momentum or sgd for it")
    if grad not in GRADS:
        raise ValueError(f"unknown grad {grad!r}; expected one of: {', '.join(GRADS)}")
    if any(int(h) != h or h < 1 for h in hidden):
        raise ValueError(f"hidden layer sizes must be whole numbers >= 1, got {tuple(hidden)}")
    if int(epochs) != epochs or epochs < 1:
        raise ValueError(f"epochs must be a whole number >= 1, got {epochs!r}")
    if lr is not None and not (onp.isfinite(lr) and lr > 0):
        raise ValueError(f"learning rate must be a finite number > 0, got {lr!r}")
    if batch_size is not None and (int(batch_size) != batch_size or batch_size < 1):
        raise ValueError(f"batch size must be a whole number >= 1, got {batch_size!r}")
    if not (0.0 <= val_fraction < 1.0):
        raise ValueError(f"val fraction must be in [0, 1), got {val_fraction!r}")
    if int(patience) != patience or patience < 1:
        raise ValueError(f"patience must be a whole number >= 1, got {patience!r}")
    if not (tol >= 0):
        raise ValueError(f"tol must be a number >= 0, got {tol!r}")
    if int(restarts) != restarts or restarts < 0:
        raise ValueError(f"restarts must be a whole number >= 0, got {restarts!r}")


def split(n: int, val_fraction: float, rng: onp.random.Generator) -> tuple[onp.ndarray, onp.ndarray]:
    """Random train and validation indices; the validation set gets round(n * val_fraction) rows."""
    order = rng.permutation(n)
    n_val = int(round(n * val_fraction))
    if n - n_val < 1:
        raise ValueError(f"val fraction {val_fraction} leaves no training data out of {n} samples")
    return onp.sort(order[n_val:]), onp.sort(order[:n_val])


def fit(
    X,
    Y,
    *,
    hidden: Sequence[int] = (16,),
    activation: str = "sigmoid",
    output: str = "softplus",
    loss: str = "mse",
    optimizer: str = "lm",
    epochs: int | None = None,
    lr: float | None = None,
    batch_size: int | None = None,
    val_fraction: float = 0.15,
    patience: int | None = None,
    tol: float | None = None,
    seed: int | onp.random.Generator = 0,
    grad: str = "autograd",
    restarts: int | None = None,
    scale: bool = True,
    callback: Callable[[dict], bool | None] | None = None,
) -> Model:
    """Train a network on raw data X (N, n_in) -> Y (N, n_out) and return the best :class:`Model`.

    Arguments left as None take the optimizer's defaults (``DEFAULTS``).
    ``epochs`` bounds the passes over the training set (for ``"lm"``, the
    accepted steps). Training stops early when the validation loss (the
    training loss if ``val_fraction`` is 0) has not improved by a relative
    ``tol`` for ``patience`` epochs, and the best parameters seen are
    restored. ``restarts`` (lm only) first gives that many other
    initialisations a short run each and continues from the best.
    ``scale=False`` trains on the raw numbers (to measure what scaling is worth).
    ``seed`` is a whole number or a ``numpy.random.Generator`` to continue
    (as ``xsq train`` does after drawing its inputs from it).
    ``callback(info)`` is called after every epoch with a dict of ``epoch``,
    ``train_loss``, ``val_loss``, ``best_loss`` and ``elapsed``; returning
    True stops training. Ctrl-C stops it too, returning the best model so far
    with ``interrupted=True``. A non-finite loss or parameter raises
    :class:`TrainingDiverged`.
    """
    if optimizer in DEFAULTS:
        d = DEFAULTS[optimizer]
        epochs = d["epochs"] if epochs is None else epochs
        lr = d["lr"] if lr is None else lr
        patience = d["patience"] if patience is None else patience
        tol = d["tol"] if tol is None else tol
        restarts = d["restarts"] if restarts is None else restarts
    _check_settings(hidden, activation, output, loss, optimizer, epochs, lr, batch_size, val_fraction,
                    patience, tol, grad, restarts)
    X = onp.asarray(X, dtype=float)
    if X.ndim == 1:
        X = X[:, None]
    Y = onp.asarray(Y, dtype=float)
    if Y.ndim == 1:
        Y = Y[:, None]
    sizes = check_sizes((X.shape[1] if X.ndim == 2 else 0, *hidden, Y.shape[1] if Y.ndim == 2 else 0))
    X, Y = check_data(X, Y, sizes)
    if X.shape[0] < 2:
        raise ValueError(f"need at least 2 samples to train, got {X.shape[0]}")
    if loss == "relative_mse":
        losses.check_positive_targets(Y)

    rng = onp.random.default_rng(seed)
    if scale:
        x_mean, x_std, y_scale = scaling(X, Y)
    else:
        x_mean, x_std, y_scale = onp.zeros(X.shape[1]), onp.ones(X.shape[1]), onp.ones(Y.shape[1])
    Xs, Ys = (X - x_mean) / x_std, Y / y_scale
    train_idx, val_idx = split(len(X), val_fraction, rng)
    data = (Xs[train_idx], Ys[train_idx], Xs[val_idx], Ys[val_idx])
    model = Model({}, x_mean, x_std, y_scale, activation, output, loss, optimizer,
                  seed if isinstance(seed, (int, onp.integer)) else None)
    model.val_index = val_idx
    settings = dict(sizes=sizes, activation=activation, output=output, loss=loss, epochs=int(epochs), lr=lr,
                    batch_size=batch_size, patience=int(patience), tol=tol, grad=grad, restarts=int(restarts))
    if optimizer == "lm":
        steps = _lm_epochs(data, rng, settings)
    else:
        steps = _gradient_epochs(data, rng, GRADIENT_OPTIMIZERS[optimizer](lr), settings)
    # the matrices here are small: one BLAS thread is faster than several taking turns.
    # Overflow is not warned about: a non-finite loss or parameter raises TrainingDiverged instead.
    with threadpool_limits(limits=1, user_api="blas"), onp.errstate(over="ignore", invalid="ignore"):
        return _run(steps, model, data, settings, callback)


def _loss(params, X, Y, s) -> float:
    return float(loss_value(params, X, Y, s["activation"], s["output"], s["loss"], 0.0))


def _loss_of(prediction, Y, s) -> float:
    return float(losses.LOSSES[s["loss"]](prediction, Y))


def _gradient_epochs(data, rng, opt, s):
    """Yield (params, train loss or None, status) after each epoch of mini-batch updates."""
    X, Y = data[0], data[1]
    params = init_params(s["sizes"], seed=rng, activation=s["activation"])
    grad_fn = GRADS[s["grad"]]
    state = opt.init(params)
    n = len(X)
    batch = n if s["batch_size"] is None else min(int(s["batch_size"]), n)
    step = 0
    yield params, None, RUNNING
    while True:
        order = rng.permutation(n) if batch < n else onp.arange(n)
        for start in range(0, n, batch):
            idx = order[start:start + batch]
            g = grad_fn(params, X[idx], Y[idx], s["activation"], s["output"], s["loss"], 0.0)
            params, state = opt.update(step, params, g, state)
            step += 1
        yield params, None, RUNNING


def _least_squares(X, Y, s, like) -> LeastSquares:
    """The network's residuals w * (f(X; theta) - Y) and their Jacobian, for LM."""
    weights = losses.RESIDUALS[s["loss"]](Y).ravel()
    if onp.all(weights == 1.0):
        weights = None  # plain mse: skip the multiplications
    activation, output = s["activation"], s["output"]

    def residuals(theta):
        params = unflatten(theta, like)
        passes = forward_pass(params, X, activation, output)
        r = (passes[0][-1] - Y).ravel()
        return (r if weights is None else weights * r), (params, passes)

    def jacobian(theta, aux):
        params, passes = aux
        J = jacobian_unchecked(params, X, activation, output, passes)
        return J if weights is None else weights[:, None] * J

    return LeastSquares(residuals, jacobian)


def _lm_epochs(data, rng, s):
    """Yield (params, train loss or None, status) after each accepted LM step.

    First ``restarts`` other initialisations get ``RESTART_EPOCHS`` steps each
    and the best (by validation loss) goes on. With mse on positive targets,
    the first ``WARMUP_FRACTION`` of the steps minimise the relative error
    instead (a continuation): weighting every target alike pins down the
    small-target end of the domain, which plain mse leaves poorly determined,
    and the mse steps that follow converge far faster from there.
    """
    X, Y, Xv, Yv = data
    like = init_params(s["sizes"], seed=rng, activation=s["activation"])
    main = _least_squares(X, Y, s, like)
    warmup = 0
    if s["loss"] == "mse" and onp.all(Y > 0):
        warmup = int(round(WARMUP_FRACTION * s["epochs"]))
    problem = _least_squares(X, Y, dict(s, loss="relative_mse"), like) if warmup else main
    candidates = [like] + [init_params(s["sizes"], seed=rng, activation=s["activation"])
                           for _ in range(s["restarts"])]
    best = None
    for params in candidates:
        state = lm_init(problem, flatten(params))
        if len(candidates) > 1:
            for _ in range(RESTART_EPOCHS):
                state = lm_step(problem, state)
                if state.converged:
                    break
        score = _loss(unflatten(state.theta, like), *((Xv, Yv) if len(Xv) else (X, Y)), s)
        if best is None or score < best[0] or not onp.isfinite(best[0]):
            best = (score, state)
    state = best[1]
    n = Y.size
    for _ in range(warmup):
        prediction = state.aux[1][0][-1]  # the forward pass the step already made
        yield unflatten(state.theta, like), _loss_of(prediction, Y, s), WARMUP
        state = lm_step(problem, state)
    if warmup:
        state = lm_init(main, state.theta, state.damping)
    while True:
        yield unflatten(state.theta, like), state.cost / n, CONVERGED if state.converged else RUNNING
        state = lm_step(main, state)


def _run(steps, model: Model, data, s, callback) -> Model:
    """Drive an epoch iterator: record history, stop early, keep the best, guard against divergence."""
    X, Y, Xv, Yv = data
    has_val = len(Xv) > 0
    best_params, best, best_epoch, last_finite = None, onp.inf, 0, None
    improved_at = 0  # the last epoch that beat the best by more than tol, or the end of a warm-up
    previous = None  # the status of the epoch before
    start = time.perf_counter()
    epoch = 0
    try:
        for epoch, (params, train_loss, status) in enumerate(steps):
            if train_loss is None:
                train_loss = _loss(params, X, Y, s)
            val_loss = _loss(params, Xv, Yv, s) if has_val else float("nan")
            if not (onp.isfinite(train_loss) and all(onp.all(onp.isfinite(v)) for v in params.values())):
                raise TrainingDiverged(
                    f"training diverged at epoch {epoch}: the loss became {train_loss} "
                    f"(last finite loss {last_finite}); try a lower learning rate (--lr) or keep the "
                    "input/target scaling on")
            last_finite = train_loss
            model.history["epoch"].append(epoch)
            model.history["train_loss"].append(train_loss)
            model.history["val_loss"].append(val_loss)
            model.history["phase"].append(status)
            score = val_loss if has_val else train_loss
            if previous == WARMUP and status != WARMUP:
                best = onp.inf  # a warm-up's best is only a fallback: the run proper is judged on its own
            if not score >= best * (1.0 - s["tol"]) or status == WARMUP:  # patience counts from here
                improved_at = epoch
            if best_params is None or score < best:
                best_params, best, best_epoch = params, score, epoch
            previous = status
            info = dict(epoch=epoch, train_loss=train_loss, val_loss=val_loss, best_loss=best,
                        elapsed=time.perf_counter() - start)
            if callback is not None and callback(info):
                break
            if status == CONVERGED or epoch >= s["epochs"] or epoch - improved_at >= s["patience"]:
                model.converged = status == CONVERGED
                break
    except KeyboardInterrupt:
        model.interrupted = True
        if best_params is None:  # stopped before the first epoch: there is no model to return
            raise
    model.params = {k: onp.array(v) for k, v in best_params.items()}
    model.best_loss, model.best_epoch, model.n_epochs = float(best), best_epoch, epoch
    model.train_seconds = time.perf_counter() - start
    return model
