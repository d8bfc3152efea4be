"""The largest eigenvalue of a loss's Hessian, by the Lanczos method on autograd's Hessian-vector products.

Gradient descent on a loss whose Hessian's largest eigenvalue is lambda_max is
stable only for learning rates below 2 / lambda_max (near a minimum, along
the steepest direction each step multiplies the error by 1 - lr lambda).
Cohen et al., "Gradient descent on neural networks typically occurs at the
edge of stability" (ICLR 2021), show training hovering at that boundary.

:func:`largest_eigenvalue` runs Lanczos with ``H v`` from autograd (forward
over reverse: ``make_jvp`` of ``grad``), never forming H. Lanczos rather than
power iteration: it finds the largest eigenvalue itself, not the one of
largest magnitude (often negative at a random start), and in far fewer
products (at most P, the number of parameters). It stops when the Ritz
value's residual bound says lambda_max is known to a relative ``tol``, or
reports that it is not, after ``max_iter`` products.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from autograd import grad, make_jvp


class Eigen(NamedTuple):
    """The eigenvalue found, how many Hessian-vector products it took, and whether it settled."""

    value: float
    products: int
    converged: bool


def _lanczos(hvp: Callable[[np.ndarray], np.ndarray], size: int, seed: int, tol: float, max_iter: int) -> Eigen:
    """The largest eigenvalue of the symmetric H behind ``hvp``, from a random start.

    Each step extends an orthonormal basis Q of the Krylov space (reorthogonalised in full, which is cheap
    at these sizes) and the tridiagonal T = Q^T H Q. For T's largest eigenpair (theta, s), ``beta |s_last|``
    is the norm of H y - theta y with y = Q s, and some eigenvalue of H lies within it of theta.
    """
    q = np.random.default_rng(seed).normal(size=size)
    basis = [q / np.linalg.norm(q)]
    alphas: list[float] = []
    betas: list[float] = []
    value = float("nan")
    for k in range(1, min(max_iter, size) + 1):
        w = hvp(basis[-1])
        if not np.all(np.isfinite(w)):
            return Eigen(float("nan"), k, False)
        alphas.append(float(basis[-1] @ w))
        Q = np.array(basis)
        for _ in range(2):  # twice is enough (Kahan and Parlett)
            w = w - Q.T @ (Q @ w)
        beta = float(np.linalg.norm(w))
        T = np.diag(alphas) + np.diag(betas, 1) + np.diag(betas, -1)
        values, vectors = np.linalg.eigh(T)
        value = float(values[-1])
        if beta * abs(vectors[-1, -1]) <= tol * abs(value) or k == size:
            return Eigen(value, k, True)
        betas.append(beta)
        basis.append(w / beta)
    return Eigen(value, min(max_iter, size), False)


def largest_eigenvalue(
    loss: Callable[[np.ndarray], float], theta: np.ndarray, seed: int = 0, tol: float = 1e-6, max_iter: int = 500
) -> Eigen:
    """lambda_max of the Hessian of ``loss`` (a function of a flat vector of P entries) at ``theta``."""
    gradient = grad(loss)

    def hvp(v: np.ndarray) -> np.ndarray:
        return make_jvp(gradient)(theta)(v)[1]

    return _lanczos(hvp, theta.size, seed, tol, max_iter)


def largest_stable_lr(lam: float) -> float:
    """2 / lambda_max: gradient descent on a quadratic with that curvature is stable below it (inf if lam <= 0,
    NaN if lam is: a Hessian that is not finite predicts nothing)."""
    return math.nan if math.isnan(lam) else 2.0 / lam if lam > 0 else math.inf
