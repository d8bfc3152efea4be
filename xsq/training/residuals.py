"""Whether a fit's residuals hold structure: a z score for the correlation of residuals at neighbouring inputs.

A network that misses a feature of the data leaves runs of residuals of one sign where the feature is; noise
leaves none. :func:`neighbour_z` pairs each row with its nearest other row and asks whether the products of
their residuals add up to more than chance allows. A pair of rows that are each other's nearest counts once,
and the sum is divided by its standard error for independent noise of one spread, ``mean(e^2) sqrt(pairs)``.
For such noise z is close to standard normal: over 2,000 draws of 400 rows its spread is 1.01, and 1.25 where
the noise's spread grows tenfold across the inputs (``python scripts/evidence_widths.py --null 2000``).
"""

from __future__ import annotations

import math

import numpy as np

from ..core import net
from ..core.params import Params
from .epochs import Data
from .settings import TrainSettings

MOST_ROWS = 2000  # neighbour_z looks at this many distinct rows at most, evenly spaced (its distances are N^2)


def neighbour_z(X: np.ndarray, R: np.ndarray) -> float:
    """The z score of the correlation of residuals R (N, K) at neighbouring inputs X (N, n_in), the largest over
    the K outputs; NaN with fewer than 3 distinct rows or anything not finite (see the module docstring).

    Rows alike in X and R both (a row given twice) count once. Each row's neighbour is its nearest other row in
    Euclidean distance on X with each column centred and scaled to unit spread (so that neither an offset nor
    units change it); among rows at the same inputs (repeated measurements), the one given first. The distinct
    pairs (i, j) so found give ``z = sum e_i e_j / (mean(e^2) sqrt(pairs))`` of the residuals less their mean.
    Of more than ``MOST_ROWS`` distinct rows, that many evenly spaced in the order of their inputs are looked
    at."""
    X, R = np.asarray(X, dtype=float), np.asarray(R, dtype=float)
    if X.size == 0 or R.size == 0 or not (np.all(np.isfinite(X)) and np.all(np.isfinite(R))):
        return math.nan
    X, R = X.reshape(len(X), -1), R.reshape(len(R), -1)
    X, R = _unit(X), _unit(R)  # within [-1, 1]: no overflow or underflow in what follows
    _, first = np.unique(np.hstack([X, R]), axis=0, return_index=True)  # each distinct row once ...
    rows = np.sort(first)  # ... in the order given, so that the residuals never decide which row comes first
    rows = rows[np.lexsort(X[rows].T[::-1], axis=0)]  # by inputs, ties in the order given
    rows = rows[np.unique(np.linspace(0, len(rows) - 1, min(len(rows), MOST_ROWS)).astype(int))]
    X, R = X[rows], R[rows]
    if len(X) < 3:
        return math.nan
    spread = X.std(axis=0)
    X = (X - X.mean(axis=0)) / np.where(spread > 0, spread, 1.0)
    sq = np.sum(X**2, axis=1)
    D = sq[:, None] - 2.0 * (X @ X.T) + sq[None, :]  # squared distances
    np.fill_diagonal(D, np.inf)
    near = np.argmin(D, axis=1)  # (the first of equals: the one given first)
    pairs = np.unique(np.sort(np.stack([np.arange(len(X)), near], axis=1), axis=1), axis=0)  # each pair once
    E = R - R.mean(axis=0)
    variance = np.mean(E**2, axis=0)  # (K,)
    together = np.sum(E[pairs[:, 0]] * E[pairs[:, 1]], axis=0)
    z = np.where(variance > 0, together / np.where(variance > 0, variance, 1.0), 0.0) / math.sqrt(len(pairs))
    return float(np.max(z))


def _unit(A: np.ndarray) -> np.ndarray:
    """A (N, k) with each column divided by its largest magnitude (a column of zeros as it is)."""
    top = np.max(np.abs(A), axis=0)
    return A / np.where(top > 0, top, 1.0)


def fit_neighbour_z(params: Params, data: Data, s: TrainSettings) -> float:
    """:func:`neighbour_z` of the network ``params`` (settings ``s``) on its scaled training rows."""
    return neighbour_z(data.X, net.forward(params, data.X, s.activation, s.output) - data.Y)
