"""The largest eigenvalue of a loss's Hessian, by power iteration on autograd's Hessian-vector products.

Gradient descent on a loss whose Hessian's largest eigenvalue is lambda_max is
stable only for learning rates below 2 / lambda_max (near a minimum, along
the steepest direction each step multiplies the error by 1 - lr lambda).
Cohen et al., "Gradient descent on neural networks typically occurs at the
edge of stability" (ICLR 2021), show training hovering at that boundary.

:func:`largest_eigenvalue` runs power iteration with ``H v`` from autograd
(forward over reverse: ``make_jvp`` of ``grad``), never forming H, and stops
when the Rayleigh quotient has settled to a relative ``tol`` (or reports that
it did not, after ``max_iter`` products).
"""

from __future__ import annotations

import math
from typing import Callable, NamedTuple

import numpy as onp
from autograd import grad, make_jvp

Array = onp.ndarray


class Eigen(NamedTuple):
    """The eigenvalue found, how many Hessian-vector products it took, and whether it settled."""

    value: float
    products: int
    converged: bool


def _power(hvp: Callable[[Array], Array], size: int, shift: float, seed: int, tol: float, max_iter: int) -> Eigen:
    """The eigenvalue of largest magnitude of H + shift I, by power iteration from a random start."""
    v = onp.random.default_rng(seed).normal(size=size)
    v /= onp.linalg.norm(v)
    value = 0.0
    for i in range(1, max_iter + 1):
        w = hvp(v) + shift * v
        new, norm = float(v @ w), float(onp.linalg.norm(w))
        if not onp.isfinite(norm):
            return Eigen(float("nan"), i, False)
        if norm == 0:
            return Eigen(0.0, i, True)
        v = w / norm
        if i > 2 and abs(new - value) <= tol * abs(new):
            return Eigen(new, i, True)
        value = new
    return Eigen(value, max_iter, False)


def largest_eigenvalue(
    loss: Callable[[Array], float], theta: Array, seed: int = 0, tol: float = 1e-6, max_iter: int = 500
) -> Eigen:
    """lambda_max of the Hessian of ``loss`` (a function of a flat vector) at ``theta``.

    Power iteration finds the eigenvalue of largest magnitude. When that is
    negative (at a random start the loss is often concave along some
    direction), a second run on H + |lambda| I, whose eigenvalues are all >= 0,
    finds the largest positive one (shifted back).
    """
    gradient = grad(loss)

    def hvp(v: Array) -> Array:
        return make_jvp(gradient)(theta)(v)[1]

    first = _power(hvp, theta.size, 0.0, seed, tol, max_iter)
    if not first.value < 0:
        return first
    shift = -first.value
    second = _power(hvp, theta.size, shift, seed + 1, tol, max_iter)
    return Eigen(second.value - shift, first.products + second.products, second.converged)


def largest_stable_lr(lam: float) -> float:
    """2 / lambda_max: gradient descent on a quadratic with that curvature is stable below it (inf if lam <= 0)."""
    return 2.0 / lam if lam > 0 else math.inf
