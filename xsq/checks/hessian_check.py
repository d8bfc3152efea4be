"""Second-order checks: Hessian-vector products and the Gauss-Newton matrix, each against independent references.

* **Hessian-vector products.** For a random unit direction v (from ``seed``),
  autograd's forward-over-reverse product ``H v`` (``make_jvp`` of ``grad``)
  is compared per parameter array with autograd's reverse-over-reverse
  product, and with central differences of the hand-written gradient,
  ``(g(theta + h v) - g(theta - h v)) / 2h`` with ``h = FD_STEP``. A
  difference is a mismatch when it is above both ``rtol * top`` (that
  array's largest entry) and ``atol * scale`` (the whole product's largest
  entry), as in :mod:`xsq.checks.gradient_check`: ``RTOL_MODES`` (1e-10) between the two
  autograd modes, ``RTOL_FD`` (1e-6: the differences' truncation error is of
  order h^2) against the differences, both with an ``ATOL`` of 1e-12.
* **The Gauss-Newton matrix** J^T J that Levenberg-Marquardt solves with,
  from the hand-written Jacobian, against the one from ``autograd.jacobian``
  (relative difference at most ``RTOL_GN``, 1e-12).

At a kink (relu, mae, and huber's |r| = 1) the second derivative does not
exist; when any pre-activation or residual lies within ``KINK_BAND`` of one,
the difference column is reported but does not decide, as for the gradient.
"""

from __future__ import annotations

import autograd.numpy as anp
import numpy as np
from autograd import grad, make_jvp
from numpy.typing import ArrayLike

from ..core import jacobian as jac
from ..core import net
from ..core.api import autograd_jacobian, check_objective, check_problem
from ..core.params import Params, flatten, unflatten_unchecked
from .gradient_check import ParamCheck, Tolerances, compare, differences, near_kink

RTOL_MODES = 1e-10
RTOL_FD = 1e-6
ATOL = 1e-12
RTOL_GN = 1e-12
FD_STEP = 1e-4
KINK_BAND = 10 * FD_STEP  # a residual or pre-activation this close to a kink may cross it in a difference
TOLERANCES = Tolerances(RTOL_MODES, ATOL, RTOL_FD, ATOL)


def hvp_check(
    params: Params,
    X: ArrayLike,
    Y: ArrayLike,
    *,
    seed: int = 0,
    activation: str = "sigmoid",
    output: str = "softplus",
    loss: str = "mse",
    l2: float = 0.0,
) -> list[ParamCheck]:
    """One row per parameter array: forward-over-reverse H v against reverse-over-reverse and differences.

    ``seed`` draws the direction v; the other settings are :func:`xsq.objective`'s.
    """
    params, X, Y = check_objective(params, X, Y, activation, output, loss, l2)
    args = (X, Y, activation, output, loss, l2)
    theta = flatten(params)
    v = np.random.default_rng(seed).normal(size=theta.size)
    v /= np.linalg.norm(v)

    def gradient(t):  # autograd's, of the flat objective
        return grad(lambda u: net.objective(unflatten_unchecked(u, params), *args))(t)

    def hand_written(t):
        return flatten(net.manual_grad(unflatten_unchecked(t, params), *args))

    fwd = make_jvp(gradient)(theta)(v)[1]
    rev = grad(lambda t: anp.dot(gradient(t), v))(theta)
    fd = (hand_written(theta + FD_STEP * v) - hand_written(theta - FD_STEP * v)) / (2 * FD_STEP)
    scale = float(np.max(np.abs(fwd)))
    fd_decides = not near_kink(params, X, Y, activation, output, loss, KINK_BAND, order=2)
    fwd, rev, fd = (unflatten_unchecked(a, params) for a in (fwd, rev, fd))
    return [compare(k, fwd[k], rev[k], fd[k], scale, scale, fd_decides, TOLERANCES) for k in params]


def gauss_newton_check(
    params: Params, X: ArrayLike, *, activation: str = "sigmoid", output: str = "softplus"
) -> ParamCheck:
    """J^T J from the hand-written Jacobian against J^T J from ``autograd.jacobian``: one row, named "J^T J"."""
    J_ref = autograd_jacobian(params, X, activation=activation, output=output)
    params, X = check_problem(params, X, None, activation, output)
    J = jac.jacobian(params, np.asarray(X), activation, output)
    A, B = J.T @ J, J_ref.T @ J_ref
    diff, rel = differences(A, B)
    nan = float("nan")
    return ParamCheck("J^T J", A.shape, float(np.max(np.abs(A))), diff, rel, nan, nan, False, rel <= RTOL_GN)
