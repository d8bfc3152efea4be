"""Levenberg-Marquardt: damped Gauss-Newton steps on a least-squares problem.

Minimises ``cost(theta) = sum(r(theta)^2)`` for a residual vector r with
Jacobian J, one accepted step per :func:`lm_step` call:

* the step solves ``(J^T J + lam * D) delta = -J^T r``, with D the running
  maximum of ``diag(J^T J)`` (Marquardt's scaling, as in MINPACK, so the
  damping does not depend on how the parameters are scaled); a Cholesky
  factorisation first confirms the damped matrix is positive definite,
  and lam grows until it is and LU solves it (near float64's limit
  Cholesky can accept a matrix whose LU pivots are singular). (Measured:
  LAPACK's ``dpotrf``/``dpotrs`` would serve both solves from that one factorisation, 20 us a trial against 68,
  about 0.08 s over a default fit; importing ``scipy.linalg`` for them
  costs as much or more, and xsq imports no SciPy to train);
* geodesic acceleration (Transtrum and Sethna, 2012) adds the second-order
  correction ``a / 2`` from one extra residual evaluation at ``theta + h delta``,
  accepted while ``|a|_D <= 2 alpha |delta|_D``: this is what carries the
  iteration along the long curved valleys of a neural network's cost;
* the damping follows Nielsen's rule: after an accepted step with gain ratio
  rho, ``lam *= max(1/3, 1 - (2 rho - 1)^3)``; after a rejected one,
  ``lam *= nu`` and ``nu *= 2``.

The state is an immutable :class:`LMState`; the loop that calls
:func:`lm_step` decides when to stop (see :func:`xsq.fit`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

GEODESIC_H = 0.1  # finite-difference step along delta for the second directional derivative
GEODESIC_ALPHA = 0.75  # the acceleration a is used while |a|_D <= 2 alpha |delta|_D (|a / 2| <= alpha |delta|)
MAX_DAMPING = 1e20
MIN_SCALE = 1e-5  # floor of D relative to its largest entry (see lm_step)


class LeastSquares(NamedTuple):
    """A least-squares problem: ``residuals(theta) -> (r, aux)`` and ``jacobian(theta, aux) -> J``.

    ``aux`` is whatever the residual evaluation can hand to the Jacobian (for
    a network, its forward pass), so nothing is computed twice. ``normal(theta, aux, r) -> (J^T J, J^T r)``
    is for a problem that forms its normal equations more cheaply than from J (a regularised one: a data
    Gram matrix it has already, plus a diagonal); without it they are formed from J.
    """

    residuals: Callable[[np.ndarray], tuple[np.ndarray, Any]]
    jacobian: Callable[[np.ndarray, Any], np.ndarray]
    normal: Callable[[np.ndarray, Any, np.ndarray], tuple[np.ndarray, np.ndarray]] | None = None


class LMState(NamedTuple):
    theta: np.ndarray  # current parameters, flat
    r: np.ndarray  # residuals at theta
    aux: Any  # the residual evaluation's by-products at theta
    cost: float  # sum(r^2)
    damping: float  # lam
    nu: float  # growth factor of lam after a rejection
    scale: np.ndarray  # D: running max of diag(J^T J)
    converged: bool  # no step could lower the cost any more
    evaluations: int  # residual evaluations so far


def lm_init(
    problem: LeastSquares, theta: np.ndarray, damping: float = 1e-3, scale: np.ndarray | None = None
) -> LMState:
    """The starting state at ``theta`` (``scale``: a D carried over from an earlier run)."""
    r, aux = problem.residuals(theta)
    scale = np.zeros(theta.size) if scale is None else scale
    return LMState(theta, r, aux, float(r @ r), damping, 2.0, scale, False, 1)


def _damped(
    A: np.ndarray, D: np.ndarray, lam: float, g: np.ndarray
) -> tuple[np.ndarray | None, np.ndarray | None, float]:
    """M = A + lam D and the step delta solving M delta = -g, raising lam until Cholesky shows M positive definite
    and LU solves it; (None, None, lam) when no lam up to ``MAX_DAMPING`` does."""
    while lam <= MAX_DAMPING:
        M = A.copy()
        M.flat[:: len(D) + 1] += lam * D
        try:
            np.linalg.cholesky(M)
            return M, -np.linalg.solve(M, g), lam
        except np.linalg.LinAlgError:
            lam = max(lam * 10.0, 1e-12)
    return None, None, lam


def lm_step(problem: LeastSquares, state: LMState, geodesic: bool = True) -> LMState:
    """One accepted Levenberg-Marquardt step (trying larger damping after each rejection).

    Returns the state unchanged but ``converged=True`` when no damping up to
    ``MAX_DAMPING`` lowers the cost: the iteration has reached a minimum as
    far as float64 can tell.
    """
    theta, r, cost = state.theta, state.r, state.cost
    J: np.ndarray | None = None  # the geodesic correction needs J; the normal equations may not
    if problem.normal is None:
        J = problem.jacobian(theta, state.aux)
        A, g = J.T @ J, J.T @ r
    else:
        A, g = problem.normal(theta, state.aux, r)
        if geodesic:
            J = problem.jacobian(theta, state.aux)
    D = np.maximum(state.scale, np.diagonal(A))
    # A parameter whose column of J has all but vanished (a saturated unit) must still be damped:
    # with D_i ~ 1e-80 its step would be noise over noise however large lam grew, and LM would stall.
    D_safe = np.maximum(D, MIN_SCALE * D.max()) if D.max() > 0 else np.ones_like(D)
    lam, nu, evaluations = state.damping, state.nu, state.evaluations
    while lam <= MAX_DAMPING:
        M, delta, lam = _damped(A, D_safe, lam, g)
        if M is None or delta is None:
            break
        step = delta
        if geodesic:
            r_h, _ = problem.residuals(theta + GEODESIC_H * delta)
            evaluations += 1
            assert J is not None
            r_second = (2.0 / GEODESIC_H) * ((r_h - r) / GEODESIC_H - J @ delta)
            accel = -np.linalg.solve(M, J.T @ r_second)
            if np.sqrt(accel @ (D_safe * accel)) <= 2 * GEODESIC_ALPHA * np.sqrt(delta @ (D_safe * delta)):
                step = delta + 0.5 * accel
        r_new, aux_new = problem.residuals(theta + step)
        evaluations += 1
        cost_new = float(r_new @ r_new)
        if np.isfinite(cost_new) and cost_new < cost:
            predicted = -(2.0 * g @ delta + delta @ A @ delta)
            rho = (cost - cost_new) / predicted if predicted > 0 else 1.0
            lam *= max(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3)
            return LMState(theta + step, r_new, aux_new, cost_new, lam, 2.0, D, False, evaluations)
        lam = max(lam * nu, 1e-15)  # lam may have shrunk to 0 over many accepted steps
        nu *= 2.0
    return state._replace(scale=D, converged=True, evaluations=evaluations)
