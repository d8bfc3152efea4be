"""The affine scaling between raw data and what a network is trained on, as one immutable object.

Inputs are standardised per column: ``(X - x_mean) / x_std``. Targets are
``(Y - y_shift) / y_scale`` per column. By default targets are only divided by
their root mean square, never shifted (``y_shift = 0``): a positive target
stays positive, so a softplus output can reach it. With ``centre_targets``
(for an identity output, where sign does not matter) they are centred and
divided by their standard deviation instead; with ``onto=(low, high)`` (for a
bounded output such as sigmoid) each column's [min, max] is mapped onto
[low, high].

Data whose largest magnitude is beyond 1e150 or below 1e-150 (where squares
would overflow or underflow) is measured divided by that magnitude, so
any finite data scales; data that still does not (a span beyond float64's
limit) is refused with an :class:`InputError`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.params import as_real_array
from ..errors import InputError


def _stats(A: np.ndarray, centre: bool) -> tuple[np.ndarray, np.ndarray]:
    if centre:
        return A.mean(axis=0), A.std(axis=0)
    return np.zeros(A.shape[1]), np.sqrt(np.mean(A**2, axis=0))


def _centre_and_spread(A: np.ndarray, centre: bool, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Per column: (mean or 0, std or rms). A column whose largest magnitude is so large or so small that its
    squares would overflow or underflow is measured divided by that magnitude; a constant column's spread is
    its magnitude (1 if it is all zero)."""
    if not np.all(np.isfinite(A)):
        raise InputError(f"{name} cannot be scaled in float64: they are not all finite numbers")
    top = np.max(np.abs(A), axis=0)
    top = np.where(top > 0, top, 1.0)
    with np.errstate(all="ignore"):
        if np.all((top > 1e-150) & (top < 1e150)):
            mid, spread = _stats(A, centre)
        else:
            mid, spread = (v * top for v in _stats(A / top, centre))
    return mid, np.where(spread > 0, spread, top)


def _onto(A: np.ndarray, low: float, high: float) -> tuple[np.ndarray, np.ndarray]:
    """Per column: (shift, scale) that map the column's [min, max] onto [low, high] (a constant column onto
    the middle), measured divided by the largest magnitude so that nothing overflows on the way."""
    if not np.all(np.isfinite(A)):
        raise InputError("targets cannot be scaled in float64: they are not all finite numbers")
    top = np.max(np.abs(A), axis=0)
    top = np.where(top > 0, top, 1.0)
    least, most = np.min(A / top, axis=0), np.max(A / top, axis=0)
    with np.errstate(over="ignore"):
        scale = np.where(most > least, (most - least) / (high - low), 1.0) * top
    if not np.all(np.isfinite(scale)):
        raise InputError("targets cannot be scaled in float64: their span overflows")
    at = np.where(most > least, low, (low + high) / 2)
    return least * top - at * scale, scale


@dataclass(frozen=True)
class Scaler:
    """Per-column input and target scaling; shapes (n_in,) for x_*, (n_out,) for y_*. Checked and read-only."""

    x_mean: np.ndarray
    x_std: np.ndarray
    y_shift: np.ndarray
    y_scale: np.ndarray

    def __post_init__(self):
        for name in ("x_mean", "x_std", "y_shift", "y_scale"):
            value = np.array(getattr(self, name), dtype=float)
            if value.ndim != 1 or not np.all(np.isfinite(value)):
                raise InputError(f"the scaling's {name} must be a 1-D array of finite numbers")
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        if self.x_mean.shape != self.x_std.shape or self.y_shift.shape != self.y_scale.shape:
            raise InputError("the scaling's means and spreads differ in length")
        if not (np.all(self.x_std > 0) and np.all(self.y_scale > 0)):
            raise InputError("the scaling's x_std and y_scale must be > 0")

    @classmethod
    def fit(
        cls, X: np.ndarray, Y: np.ndarray, centre_targets: bool = False, onto: tuple[float, float] | None = None
    ) -> Scaler:
        """The scaling of raw X (N, n_in) and Y (N, n_out); ``onto=(low, high)`` maps each target column's
        [min, max] onto [low, high] instead (for an output unit with a bounded range)."""
        X, Y = as_real_array(X, "X"), as_real_array(Y, "Y")
        if np.ndim(X) != 2 or np.ndim(Y) != 2 or not (len(X) == len(Y) > 0):
            raise InputError(f"X and Y must be (N, n) arrays with the same N >= 1, got {np.shape(X)}, {np.shape(Y)}")
        x_mean, x_std = _centre_and_spread(X, True, "inputs")
        if onto is not None:
            y_shift, y_scale = _onto(Y, *onto)
        else:
            y_shift, y_scale = _centre_and_spread(Y, centre_targets, "targets")
        return cls(x_mean, x_std, y_shift, y_scale)

    @classmethod
    def none(cls, n_in: int, n_out: int) -> Scaler:
        """No scaling at all (train on the raw numbers)."""
        return cls(np.zeros(n_in), np.ones(n_in), np.zeros(n_out), np.ones(n_out))

    def inputs(self, X):
        """Raw inputs (N, n_in) to scaled ones."""
        return (X - self.x_mean) / self.x_std

    def targets(self, Y):
        """Raw targets (N, n_out) to scaled ones."""
        return (Y - self.y_shift) / self.y_scale

    def outputs(self, Ys):
        """Scaled outputs (N, n_out) back to the raw scale."""
        return Ys * self.y_scale + self.y_shift

    def slopes(self, dYs_dXs: np.ndarray) -> np.ndarray:
        """d scaled output / d scaled input (N, n_out, n_in) to d raw output / d raw input."""
        return dYs_dXs * (self.y_scale[:, None] / self.x_std[None, :])

    def arrays(self) -> dict[str, np.ndarray]:
        """The four arrays by name (for saving)."""
        return {"x_mean": self.x_mean, "x_std": self.x_std, "y_shift": self.y_shift, "y_scale": self.y_scale}
