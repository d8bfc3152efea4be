"""Loss functions: pure ``loss(pred, target) -> float`` and their gradients.

Each loss is the mean over every element of ``pred`` and ``target`` (both of
shape (N, m)). They are written with ``autograd.numpy`` so ``autograd.grad``
differentiates them; ``GRADIENTS[name](pred, target)`` is the hand-written
d loss / d pred (same shape as ``pred``) used by :mod:`xsq.backprop`.
``RESIDUALS`` lists the least-squares losses, written as mean(r^2), with
r = residual scale * (pred - target): what Levenberg-Marquardt needs.
"""

from __future__ import annotations

from typing import Callable

import autograd.numpy as np
import numpy as onp

Array = onp.ndarray


def mse(pred: Array, target: Array) -> float:
    """Mean squared error: mean((pred - target)^2)."""
    return np.mean((pred - target) ** 2)


def mae(pred: Array, target: Array) -> float:
    """Mean absolute error: mean(|pred - target|) (subgradient 0 at a tie)."""
    return np.mean(np.abs(pred - target))


def huber(pred: Array, target: Array, delta: float = 1.0) -> float:
    """Huber loss: r^2 / 2 where |r| <= delta, delta (|r| - delta / 2) beyond."""
    r = pred - target
    a = np.abs(r)
    # both branches are finite everywhere, so differentiating the untaken one is harmless
    return np.mean(np.where(a <= delta, 0.5 * r**2, delta * (a - 0.5 * delta)))


def relative_mse(pred: Array, target: Array) -> float:
    """Mean squared relative error: mean(((pred - target) / target)^2); targets must be > 0."""
    check_positive_targets(target)
    return np.mean(((pred - target) / target) ** 2)


def check_positive_targets(target: Array) -> None:
    """Raise a ValueError unless every target is > 0 (relative_mse divides by them)."""
    t = getattr(target, "_value", target)
    if not onp.all(onp.asarray(t) > 0):
        raise ValueError(
            "relative_mse needs every target > 0 (it divides by the target); "
            f"smallest target is {onp.min(t)!r}. Use mse, mae or huber instead."
        )


def _mse_grad(pred: Array, target: Array) -> Array:
    return (2.0 / pred.size) * (pred - target)


def _mae_grad(pred: Array, target: Array) -> Array:
    return onp.sign(pred - target) / pred.size


def _huber_grad(pred: Array, target: Array, delta: float = 1.0) -> Array:
    return onp.clip(pred - target, -delta, delta) / pred.size


def _relative_mse_grad(pred: Array, target: Array) -> Array:
    return (2.0 / pred.size) * (pred - target) / target**2


LOSSES: dict[str, Callable[..., float]] = {
    "mse": mse,
    "mae": mae,
    "huber": huber,
    "relative_mse": relative_mse,
}

GRADIENTS: dict[str, Callable[..., Array]] = {
    "mse": _mse_grad,
    "mae": _mae_grad,
    "huber": _huber_grad,
    "relative_mse": _relative_mse_grad,
}

# least-squares losses: name -> per-element weight w(target) with loss = mean((w (pred - target))^2)
RESIDUALS: dict[str, Callable[[Array], Array]] = {
    "mse": lambda target: onp.ones_like(target),
    "relative_mse": lambda target: 1.0 / target,
}


def get(name: str) -> Callable[..., float]:
    """The loss function called ``name``; a ValueError lists the known names."""
    if name not in LOSSES:
        raise ValueError(f"unknown loss {name!r}; expected one of: {', '.join(LOSSES)}")
    return LOSSES[name]


def l2_penalty(params: dict) -> float:
    """Half the sum of squared weights (biases excluded): d/dW = W."""
    return 0.5 * sum(np.sum(v**2) for k, v in params.items() if k.startswith("W"))
