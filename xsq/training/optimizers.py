"""Gradient optimizers as small pure update rules, each written for one array and lifted to the params dict.

Each optimizer is an ``Optimizer(init, update)`` pair, as in jax's
``example_libraries/optimizers.py``:

* ``state = init(params)``
* ``params, state = update(step, params, grads, state)`` (``step`` counts from 0)

A rule is written for a single array, ``init_one(p) -> s`` and
``update_one(step, p, g, s) -> (p, s)``; :func:`optimizer` lifts it to dicts
of arrays once. ``update`` returns new dicts and never changes its
arguments, so a training loop is a plain loop over pure calls.
Levenberg-Marquardt, which needs residuals and a Jacobian rather than a
gradient, lives in :mod:`xsq.training.lm`.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ..core.params import Params


class Optimizer(NamedTuple):
    init: Callable[[Params], dict]
    update: Callable[[int, Params, Params, dict], tuple[Params, dict]]


def optimizer(make_rule: Callable[..., tuple[Callable, Callable]]) -> Callable[..., Optimizer]:
    """Lift a per-array rule ``(init_one, update_one)`` to an :class:`Optimizer` over params dicts."""

    @functools.wraps(make_rule)
    def make(*args: Any, **kwargs: Any) -> Optimizer:
        init_one, update_one = make_rule(*args, **kwargs)

        def init(params: Params) -> dict:
            return {k: init_one(v) for k, v in params.items()}

        def update(step: int, params: Params, grads: Params, state: dict) -> tuple[Params, dict]:
            pairs = {k: update_one(step, params[k], grads[k], state[k]) for k in params}
            return {k: p for k, (p, _) in pairs.items()}, {k: s for k, (_, s) in pairs.items()}

        return Optimizer(init, update)

    return make


@optimizer
def sgd(lr: float):
    """Plain gradient descent: p <- p - lr g."""
    return (lambda p: ()), (lambda step, p, g, s: (p - lr * g, s))


@optimizer
def momentum(lr: float, mass: float = 0.9):
    """Heavy-ball momentum: v <- mass v + g; p <- p - lr v."""

    def update_one(step, p, g, v):
        v = mass * v + g
        return p - lr * v, v

    return np.zeros_like, update_one


@optimizer
def adam(lr: float, b1: float = 0.9, b2: float = 0.999, eps: float = 1e-8):
    """Adam (Kingma and Ba, 2015, Algorithm 1): bias-corrected first and second moments."""

    def init_one(p):
        return np.zeros_like(p), np.zeros_like(p)

    def update_one(step, p, g, s):
        m, v = s
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g**2
        c1, c2 = 1 - b1 ** (step + 1), 1 - b2 ** (step + 1)
        return p - lr * (m / c1) / (np.sqrt(v / c2) + eps), (m, v)

    return init_one, update_one


GRADIENT_OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {"sgd": sgd, "momentum": momentum, "adam": adam}
