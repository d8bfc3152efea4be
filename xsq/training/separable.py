"""Variable projection: LM on the hidden layer alone, with the linear output layer solved exactly at each step.

A network with one hidden layer and an identity output is linear in its output
weights: ``f(X) = Phi(X; W1, b1) c`` with ``Phi = [S, 1]`` (N, H + 1), S the
hidden units' outputs and ``c = [W2; b2]``. For any hidden weights the best c
is a linear least-squares solution, so the fit can be posed over the hidden
weights alone (Golub and Pereyra, 1973). With the ridge below, Phi and y are
stacked as ``Phi_s = [Phi; sqrt(RIDGE) E]`` and ``y_s = [y; 0]``, and

    minimise over theta_h = (W1, b1):  |r|^2,  r = Phi_s c - y_s = -P y_s,  P = I - Phi_s Phi_s^+,

the part of the targets that no output layer on these hidden units can reach
(plus the ridge). Its Jacobian is taken as Kaufman's (1975): ``P [dPhi/dtheta_h c; 0]``,
the network's own Jacobian for W1 and b1 with the solved c in place of W2,
projected. Each LM step then moves the hidden units knowing that the output
layer will follow at once, instead of dragging 2H + 1 more parameters along:
on the smooth targets of ``scripts/precision_suite.py`` this reaches in a few
hundred steps what LM over every parameter reaches in thousands, if at all.

Three choices make it work (measured there, as ``python scripts/precision_suite.py``):

* **spread units** (:func:`spread_init`): each unit starts with a slope drawn
  from ``SLOPES`` and its transition at a training input drawn at random, so the
  columns of Phi differ from the start. From the usual small random weights
  every unit is near its linear part, Phi has rank about 2 in float64, and the
  projected problem stalls at once;
* **a ridge on c** (``RIDGE`` * |W2|^2): without it the exact solve builds the
  target from hidden units with output weights of 1e6 and more that cancel,
  and float64 rounding of that sum is the floor of the fit (1e-9 of the range);
* **starts of several sharpnesses** (``SHARPNESS``), screened: a narrow feature needs units that
  start sharp enough to resolve it.

The ridge enters as rows of the least-squares problem, so one QR factorisation
of the stacked ``[Phi; sqrt(RIDGE) E]`` gives c, the residuals and the
projection.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..core import fastpath
from .lm import LeastSquares
from .settings import TrainSettings

RIDGE = 1e-11  # weight of |W2|^2 beside the data's squared error (scaled targets): keeps W2 from cancelling
SLOPES = (1.0, 4.0)  # a spread sigmoid unit's slope along its direction, in scaled input units
ROWS_PER_PARAMETER = 10  # fewer training rows per parameter: LM over every parameter (see applies)
# The screened candidates' sharpness (their slopes times this), in turn and repeating: three gentle starts, which
# suit most smooth targets, then two sharper ones for a narrow feature. 1 / (1 + 50 x^2) on [-1, 1] stopped at
# RMSE/range 8.7e-7 (seed 0) from gentle starts alone and reaches 5.5e-9; the sharper starts need restarts >= 4.
SHARPNESS = (1.0, 1.0, 1.0, 2.0, 4.0)
TANH_SLOPE = 0.5  # tanh(z) = 2 sigmoid(2z) - 1: a tanh unit with half the slope has the same transition width


def applies(sizes: tuple[int, ...], activation: str, output: str, loss: str, rows: int) -> bool:
    """Whether the output layer is linear in its weights, the loss a plain sum of squares and the data plentiful:
    a fast-path network (one hidden layer, one output) with an identity output, trained on mse, with at
    least ``ROWS_PER_PARAMETER`` training rows per parameter.

    Variable projection goes straight to the least-squares minimum. With fewer rows that minimum fits the
    noise of measured data, where LM over every parameter, from small weights, approaches it slowly
    enough for the validation split to stop it first (sin(3x) with noise 0.1 on 40 rows: RMSE 1.3 to 27
    against the noise-free curve for seeds 0 to 2, and 0.14 to 0.65 by LM over every parameter).
    """
    P = (sizes[0] + 2) * sizes[1] + 1 if len(sizes) == 3 else 0
    return (
        fastpath.supports(sizes, activation, output)
        and output == "identity"
        and loss == "mse"
        and rows >= ROWS_PER_PARAMETER * P
    )


def would_train(s: TrainSettings, n_in: int, rows: int) -> bool:
    """Whether :func:`xsq.fit` with settings ``s`` on ``rows`` rows of ``n_in`` inputs (before its validation
    split) would train an identity output by variable projection: LM, no regularisation, and :func:`applies`."""
    trained = rows - int(round(rows * s.val_fraction))
    sizes = (n_in, *s.hidden, 1)
    return (
        s.optimizer == "lm" and s.regularization == "none" and applies(sizes, s.activation, "identity", s.loss, trained)
    )


def spread_inits(X: np.ndarray, hidden: int, activation: str, rng: np.random.Generator, count: int) -> list[np.ndarray]:
    """``count`` starts of :func:`spread_init`, the i-th with sharpness ``SHARPNESS[i % len(SHARPNESS)]``."""
    return [spread_init(X, hidden, activation, rng, SHARPNESS[i % len(SHARPNESS)]) for i in range(count)]


def spread_init(
    X: np.ndarray, hidden: int, activation: str, rng: np.random.Generator, sharpness: float = 1.0
) -> np.ndarray:
    """Hidden weights theta_h = (W1, b1) flat ((n_in + 1) H,), for H units spread over the inputs X (N, n_in).

    Unit j gets a random direction with a slope drawn uniformly from ``SLOPES`` times ``sharpness`` (halved
    for tanh) and its transition (z = 0) at a training row drawn at random: b1_j = -W1_j . x.
    """
    n_in = X.shape[1]
    direction = rng.normal(size=(n_in, hidden))
    direction /= np.linalg.norm(direction, axis=0)
    slope = rng.uniform(*SLOPES, size=hidden) * sharpness * (TANH_SLOPE if activation == "tanh" else 1.0)
    W1 = direction * slope
    b1 = -np.einsum("ij,ij->j", X[rng.integers(0, len(X), size=hidden)].T, W1)
    return np.concatenate([W1.ravel(), b1])


class Projection(NamedTuple):
    """One evaluation at theta_h: the network's pass with the solved output layer, the full parameters theta
    (P,) in :func:`xsq.flatten`'s order, and Q ((N + H + 1), H + 1) of the stacked problem's QR."""

    passes: fastpath.Pass
    theta: np.ndarray
    Q: np.ndarray


class Separable:
    """The projected problem of a n_in-H-1 network with identity output on fixed X (N, n_in), y (N,)."""

    def __init__(self, X: np.ndarray, y: np.ndarray, hidden: int, activation: str):
        self.net = fastpath.OneHidden(X, hidden, activation, "identity")
        self.H, self.N = hidden, len(y)
        self.m = (X.shape[1] + 1) * hidden  # hidden parameters
        self.y_stacked = np.concatenate([y, np.zeros(hidden + 1)])
        self.ridge = np.zeros((hidden + 1, hidden + 1))
        self.ridge[np.arange(hidden), np.arange(hidden)] = np.sqrt(RIDGE)  # b2 is not penalised

    def full(self, theta_h: np.ndarray) -> Projection:
        """The full parameters at theta_h, with the output layer solved (see the module docstring)."""
        H = self.H
        hidden = self.net.forward(np.concatenate([theta_h, np.zeros(H + 1)]))  # S does not depend on W2, b2
        Phi = np.vstack([np.vstack([hidden.S, np.ones((1, self.N))]).T, self.ridge])
        Q, R = np.linalg.qr(Phi)
        c = np.linalg.solve(R, Q.T @ self.y_stacked)  # R is nonsingular: the ridge rows give W2 full rank
        z = c[:H] @ hidden.S
        z += c[H]
        return Projection(hidden._replace(z=z, o=z), np.concatenate([theta_h, c]), Q)

    def problem(self) -> LeastSquares:
        """Residuals ``f - y`` stacked on ``sqrt(RIDGE) W2`` at the solved output layer, and Kaufman's
        Jacobian (N + H + 1, m); the evaluation is a :class:`Projection`."""

        def residuals(theta_h: np.ndarray):
            p = self.full(theta_h)
            r = p.Q @ (p.Q.T @ self.y_stacked) - self.y_stacked  # -(I - Q Q^T) y: the fit minus the targets
            return r, p

        def jacobian(theta_h: np.ndarray, p: Projection) -> np.ndarray:
            V = np.zeros((self.N + self.H + 1, self.m))
            V[: self.N] = self.net.jacobian(p.theta, p.passes)[:, : self.m]  # d(Phi c)/d theta_h at fixed c
            return V - p.Q @ (p.Q.T @ V)

        return LeastSquares(residuals, jacobian)
