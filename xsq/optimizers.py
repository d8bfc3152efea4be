"""Gradient optimizers as small pure update rules over the params dict.

Each optimizer is an ``Optimizer(init, update)`` pair, as in jax's
``example_libraries/optimizers.py``:

* ``state = init(params)``
* ``params, state = update(step, params, grads, state)``

``update`` returns new dicts and never changes its arguments, so a training
loop is a plain loop over pure calls. Levenberg-Marquardt, which needs
residuals and a Jacobian rather than a gradient, lives in :mod:`xsq.lm`.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as onp

Params = dict


class Optimizer(NamedTuple):
    init: Callable[[Params], dict]
    update: Callable[[int, Params, Params, dict], tuple[Params, dict]]


def sgd(lr: float) -> Optimizer:
    """Plain gradient descent: p <- p - lr * g."""

    def init(params):
        return {}

    def update(step, params, grads, state):
        return {k: params[k] - lr * grads[k] for k in params}, state

    return Optimizer(init, update)


def momentum(lr: float, mass: float = 0.9) -> Optimizer:
    """Heavy-ball momentum: v <- mass * v + g; p <- p - lr * v."""

    def init(params):
        return {"velocity": {k: onp.zeros_like(v) for k, v in params.items()}}

    def update(step, params, grads, state):
        v = {k: mass * state["velocity"][k] + grads[k] for k in params}
        return {k: params[k] - lr * v[k] for k in params}, {"velocity": v}

    return Optimizer(init, update)


def adam(lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8) -> Optimizer:
    """Adam (Kingma and Ba) with bias-corrected first and second moments; ``step`` counts from 0."""

    def init(params):
        zeros = {k: onp.zeros_like(v) for k, v in params.items()}
        return {"m": zeros, "v": dict(zeros)}

    def update(step, params, grads, state):
        m = {k: b1 * state["m"][k] + (1 - b1) * grads[k] for k in params}
        v = {k: b2 * state["v"][k] + (1 - b2) * grads[k] ** 2 for k in params}
        c1, c2 = 1 - b1 ** (step + 1), 1 - b2 ** (step + 1)
        new = {k: params[k] - lr * (m[k] / c1) / (onp.sqrt(v[k] / c2) + eps) for k in params}
        return new, {"m": m, "v": v}

    return Optimizer(init, update)


GRADIENT_OPTIMIZERS: dict[str, Callable[[float], Optimizer]] = {
    "sgd": sgd,
    "momentum": momentum,
    "adam": adam,
}
