"""Loss functions: pure ``loss(pred, target) -> float``, one registry entry each.

Each loss is the mean over every element of ``pred`` and ``target``, which
must have the same shape (N, m): nothing is broadcast, because an (N, 1)
prediction against an (N,) target would silently become an N x N matrix.
They are written with ``autograd.numpy``, so ``autograd.grad`` differentiates
them in any mode and order.

``LOSSES[name]`` is a :class:`Loss` with

* ``fn(pred, target)``: the loss, unchecked (the training loop's inner call);
* ``grad(pred, target)``: the hand-written d loss / d pred, shaped like pred,
  used by :mod:`xsq.core.net`;
* ``weight(target)``: for least-squares losses, the per-element weight w with
  ``loss = mean((w (pred - target))^2)``, which Levenberg-Marquardt needs;
  None for the others.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import autograd.numpy as anp
import numpy as np
from autograd.tracer import getval

from ..errors import InputError
from ..validation import Real
from .params import Params, as_real_array

__all__ = ["LOSSES", "Loss", "check_targets", "get", "huber", "l2_penalty", "mae", "mse", "relative_mse"]


def _pair(pred, target) -> tuple:
    """``pred`` and ``target`` checked to hold real numbers, have the same shape and some elements; lists and
    tuples become float arrays (autograd's traced arrays pass through untouched)."""
    pred, target = as_real_array(pred, "pred"), as_real_array(target, "target")
    if np.shape(pred) != np.shape(target):
        raise InputError(
            f"pred has shape {np.shape(pred)} but target has {np.shape(target)}; they must match (nothing is broadcast)"
        )
    if np.size(getval(pred)) == 0:
        raise InputError("pred and target are empty; a loss is a mean over at least one element")
    return pred, target


def _check_positive_targets(target) -> None:
    t = np.asarray(getval(target))
    if not np.all(t > 0):
        raise InputError(
            "relative_mse needs every target > 0 (it divides by the target); "
            f"smallest target is {float(np.min(t))!r}. Use mse, mae or huber instead."
        )


def _mse(pred, target):
    return anp.mean((pred - target) ** 2)


def _mae(pred, target):
    return anp.mean(anp.abs(pred - target))


def _huber(pred, target, delta: float = 1.0):
    r = pred - target
    a = anp.abs(r)
    # both branches are finite everywhere, so differentiating the untaken one is harmless
    return anp.mean(anp.where(a <= delta, 0.5 * r**2, delta * (a - 0.5 * delta)))


def _relative_mse(pred, target):
    return anp.mean(((pred - target) / target) ** 2)


def mse(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean squared error: mean((pred - target)^2)."""
    pred, target = _pair(pred, target)
    return _mse(pred, target)


def mae(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean absolute error: mean(|pred - target|) (subgradient 0 at a tie)."""
    pred, target = _pair(pred, target)
    return _mae(pred, target)


def huber(pred: np.ndarray, target: np.ndarray, delta: float = 1.0) -> float:
    """Huber loss: r^2 / 2 where |r| <= delta, delta (|r| - delta / 2) beyond; delta must be > 0."""
    pred, target = _pair(pred, target)
    return _huber(pred, target, Real(0, low_open=True).check(delta, "huber delta"))


def relative_mse(pred: np.ndarray, target: np.ndarray) -> float:
    """Mean squared relative error: mean(((pred - target) / target)^2); targets must be > 0."""
    pred, target = _pair(pred, target)
    _check_positive_targets(target)
    return _relative_mse(pred, target)


def _mse_grad(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    return (2.0 / pred.size) * (pred - target)


def _mae_grad(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    return np.sign(pred - target) / pred.size


def _huber_grad(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    return np.clip(pred - target, -1.0, 1.0) / pred.size


def _relative_mse_grad(pred: np.ndarray, target: np.ndarray) -> np.ndarray:
    return (2.0 / pred.size) * (pred - target) / target**2


class Loss(NamedTuple):
    """One loss: unchecked function, hand-written gradient, least-squares weight (or None)."""

    name: str
    fn: Callable[[np.ndarray, np.ndarray], float]
    grad: Callable[[np.ndarray, np.ndarray], np.ndarray]
    weight: Callable[[np.ndarray], np.ndarray] | None
    needs_positive_targets: bool = False


LOSSES: dict[str, Loss] = {
    loss.name: loss
    for loss in (
        Loss("mse", _mse, _mse_grad, lambda target: np.ones_like(target)),
        Loss("mae", _mae, _mae_grad, None),
        Loss("huber", _huber, _huber_grad, None),
        Loss("relative_mse", _relative_mse, _relative_mse_grad, lambda target: 1.0 / target, True),
    )
}


def get(name: str) -> Loss:
    """The loss called ``name``; an :class:`InputError` lists the known names."""
    try:
        return LOSSES[name]
    except (KeyError, TypeError):
        raise InputError(f"unknown loss {name!r}; expected one of: {', '.join(LOSSES)}") from None


def check_targets(name: str, target) -> None:
    """Refuse targets the loss called ``name`` cannot take (relative_mse divides by them)."""
    if get(name).needs_positive_targets:
        _check_positive_targets(target)


def l2_penalty(params: Params) -> float:
    """Half the sum of squared weights (biases excluded): d/dW = W."""
    return 0.5 * sum(anp.sum(v**2) for k, v in params.items() if k.startswith("W"))
