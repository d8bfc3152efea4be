"""A faster forward pass and Jacobian for the network Levenberg-Marquardt trains most: one hidden layer.

The reading path is :func:`xsq.core.net.forward` and :func:`xsq.core.jacobian.jacobian`;
this module computes the same numbers for a network with one hidden layer
(sigmoid or tanh units, a softplus or identity output, one output column),
with the inputs fixed for the whole run. What it saves, per LM epoch
(``python scripts/bench.py`` measures the whole fit):

* the bias column is appended to X once, so each pre-activation is one matmul
  ``[X, 1] @ [W; b]`` without building ``[X, 1]`` again;
* a sigmoid is ``1 / (1 + exp(-z))`` in three in-place passes, and its slope
  (``sigmoid(z) sigmoid(-z)``) is computed only when the Jacobian asks for
  it, not in every trial evaluation;
* the hidden arrays and the Jacobian are computed transposed, (H, N) and
  (P, N), so that every block written is contiguous; the Jacobian returned is
  the (N, P) transpose view, which BLAS takes as it is;
* no ``autograd.numpy`` wrappers and no parameter dictionaries on the way;
* the Jacobian is filled column block by column block into one array
  allocated once per problem (it is overwritten by the next call).

``tests/test_precision.py`` holds it equal to the plain passes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from .params import Params

HIDDEN = ("sigmoid", "tanh")
OUTPUTS = ("softplus", "identity")


def _sigmoid(Z: np.ndarray) -> np.ndarray:
    """1 / (1 + exp(-Z)) in place of a new array: accurate to rounding for every z (exp(-z) overflowing to inf
    gives 0, the limit), and faster here than ``scipy.special.expit``, whose import alone outweighs it."""
    with np.errstate(over="ignore"):
        e = np.exp(np.negative(Z))
    e += 1.0
    return np.reciprocal(e, out=e)


def supports(sizes: tuple[int, ...], activation: str, output: str) -> bool:
    """Whether a network of layer ``sizes`` with these units has a fast path here."""
    return len(sizes) == 3 and sizes[-1] == 1 and activation in HIDDEN and output in OUTPUTS


class Pass(NamedTuple):
    """One evaluation, hidden arrays transposed (H, N) so that each unit's row is contiguous: pre-activations Z
    and outputs S; then the output's pre-activation z and the output o (N,)."""

    Z: np.ndarray
    S: np.ndarray
    z: np.ndarray
    o: np.ndarray


class OneHidden:
    """Forward pass and Jacobian of a n_in-H-1 network on fixed inputs X (N, n_in); theta is flat
    (W1, b1, W2, b2 as :func:`xsq.flatten` orders them)."""

    def __init__(self, X: np.ndarray, hidden: int, activation: str, output: str):
        self.N, self.n_in = X.shape
        self.H = hidden
        self.activation, self.output = activation, output
        self.XT = np.ascontiguousarray(X.T)
        self.X1T = np.vstack([self.XT, np.ones((1, self.N))])
        self.P = (self.n_in + 1) * hidden + hidden + 1
        self._JT: np.ndarray | None = None

    def forward(self, theta: np.ndarray) -> Pass:
        """The pass at theta."""
        n, H = self.n_in, self.H
        Wb1 = theta[: (n + 1) * H].reshape(n + 1, H)  # W1 rows, then b1: the layout of flatten
        Z = Wb1.T @ self.X1T
        S = _sigmoid(Z) if self.activation == "sigmoid" else np.tanh(Z)
        w2, b2 = theta[(n + 1) * H : (n + 2) * H], theta[-1]
        z = w2 @ S
        z += b2
        if self.output == "softplus":
            e = np.abs(z)
            np.negative(e, out=e)
            np.exp(e, out=e)
            o = np.maximum(z, 0.0)
            o += np.log1p(e)
        else:
            o = z
        return Pass(Z, S, z, o)

    def jacobian(self, theta: np.ndarray, p: Pass) -> np.ndarray:
        """d o / d theta (N, P) at the pass p of theta: the transpose of a (P, N) array that the next call
        overwrites."""
        if self._JT is None:
            self._JT = np.empty((self.P, self.N))
        n, H, JT = self.n_in, self.H, self._JT
        if self.activation == "sigmoid":  # sigmoid(z) sigmoid(-z): no cancellation where a unit saturates
            slope = _sigmoid(-p.Z)
            slope *= p.S
        else:  # sech(z)^2 = 4e / (1 + e)^2 with e = exp(-2|z|), as xsq.core.activations computes it
            e = np.abs(p.Z)
            e *= -2.0
            np.exp(e, out=e)
            r = 1.0 + e
            np.reciprocal(r, out=r)
            slope = e * r
            slope *= r
            slope *= 4.0
        w2 = theta[(n + 1) * H : (n + 2) * H]
        G = JT[n * H : (n + 1) * H]  # the b1 block: do * w2 * slope
        np.multiply(slope, w2[:, None], out=G)
        W2 = JT[(n + 1) * H : (n + 2) * H]
        if self.output == "softplus":
            e = np.exp(-np.abs(p.z))
            do = np.where(p.z >= 0, 1.0, e) / (1.0 + e)  # sigmoid(z)
            G *= do
            np.multiply(p.S, do, out=W2)
            JT[-1] = do
        else:
            W2[...] = p.S
            JT[-1] = 1.0
        for i in range(n):
            np.multiply(self.XT[i], G, out=JT[i * H : (i + 1) * H])
        return JT.T


def theta_of(params: Params) -> np.ndarray:
    """The flat parameters of a one-hidden-layer network (the layout of :func:`xsq.flatten`, unchecked)."""
    return np.concatenate([params["W1"].ravel(), params["b1"], params["W2"].ravel(), params["b2"]])


def predictor(X: np.ndarray, activation: str, output: str) -> Callable[[Params], np.ndarray | None]:
    """``params -> outputs (N, 1)`` at the fixed inputs X by the fast path, or None for a network it has none for
    (built on the first call, reused while the hidden width stays the same)."""
    nets: dict[int, OneHidden] = {}

    def predict(params: Params) -> np.ndarray | None:
        if len(params) != 4 or params["W2"].shape[1] != 1 or not supports((X.shape[1], 0, 1), activation, output):
            return None
        width = params["b1"].size
        if width not in nets:
            nets[width] = OneHidden(X, width, activation, output)
        return nets[width].forward(theta_of(params)).o[:, None]

    return predict
