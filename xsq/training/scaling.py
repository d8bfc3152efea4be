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

import numpy as onp

from ..core.params import as_real_array
from ..errors import InputError

Array = onp.ndarray


def _stats(A: Array, centre: bool) -> tuple[Array, Array]:
    if centre:
        return A.mean(axis=0), A.std(axis=0)
    return onp.zeros(A.shape[1]), onp.sqrt(onp.mean(A**2, axis=0))


def _centre_and_spread(A: Array, centre: bool, name: str) -> tuple[Array, Array]:
    """Per column: (mean or 0, std or rms). A column whose largest magnitude is so large or so small that its
    squares would overflow or underflow is measured divided by that magnitude; a constant column's spread is
    its magnitude (1 if it is all zero)."""
    if not onp.all(onp.isfinite(A)):
        raise InputError(f"{name} cannot be scaled in float64: they are not all finite numbers")
    top = onp.max(onp.abs(A), axis=0)
    top = onp.where(top > 0, top, 1.0)
    with onp.errstate(all="ignore"):
        if onp.all((top > 1e-150) & (top < 1e150)):
            mid, spread = _stats(A, centre)
        else:
            mid, spread = (v * top for v in _stats(A / top, centre))
    return mid, onp.where(spread > 0, spread, top)


def _onto(A: Array, low: float, high: float) -> tuple[Array, Array]:
    """Per column: (shift, scale) that map the column's [min, max] onto [low, high] (a constant column onto
    the middle), measured divided by the largest magnitude so that nothing overflows on the way."""
    if not onp.all(onp.isfinite(A)):
        raise InputError("targets cannot be scaled in float64: they are not all finite numbers")
    top = onp.max(onp.abs(A), axis=0)
    top = onp.where(top > 0, top, 1.0)
    least, most = onp.min(A / top, axis=0), onp.max(A / top, axis=0)
    with onp.errstate(over="ignore"):
        scale = onp.where(most > least, (most - least) / (high - low), 1.0) * top
    if not onp.all(onp.isfinite(scale)):
        raise InputError("targets cannot be scaled in float64: their span overflows")
    at = onp.where(most > least, low, (low + high) / 2)
    return least * top - at * scale, scale


@dataclass(frozen=True)
class Scaler:
    """Per-column input and target scaling; shapes (n_in,) for x_*, (n_out,) for y_*. Checked and read-only."""

    x_mean: Array
    x_std: Array
    y_shift: Array
    y_scale: Array

    def __post_init__(self):
        for name in ("x_mean", "x_std", "y_shift", "y_scale"):
            value = onp.array(getattr(self, name), dtype=float)
            if value.ndim != 1 or not onp.all(onp.isfinite(value)):
                raise InputError(f"the scaling's {name} must be a 1-D array of finite numbers")
            value.setflags(write=False)
            object.__setattr__(self, name, value)
        if self.x_mean.shape != self.x_std.shape or self.y_shift.shape != self.y_scale.shape:
            raise InputError("the scaling's means and spreads differ in length")
        if not (onp.all(self.x_std > 0) and onp.all(self.y_scale > 0)):
            raise InputError("the scaling's x_std and y_scale must be > 0")

    @classmethod
    def fit(cls, X: Array, Y: Array, centre_targets: bool = False, onto: tuple[float, float] | None = None) -> Scaler:
        """The scaling of raw X (N, n_in) and Y (N, n_out); ``onto=(low, high)`` maps each target column's
        [min, max] onto [low, high] instead (for an output unit with a bounded range)."""
        X, Y = as_real_array(X, "X"), as_real_array(Y, "Y")
        if onp.ndim(X) != 2 or onp.ndim(Y) != 2 or not (len(X) == len(Y) > 0):
            raise InputError(f"X and Y must be (N, n) arrays with the same N >= 1, got {onp.shape(X)}, {onp.shape(Y)}")
        x_mean, x_std = _centre_and_spread(X, True, "inputs")
        if onto is not None:
            y_shift, y_scale = _onto(Y, *onto)
        else:
            y_shift, y_scale = _centre_and_spread(Y, centre_targets, "targets")
        return cls(x_mean, x_std, y_shift, y_scale)

    @classmethod
    def none(cls, n_in: int, n_out: int) -> Scaler:
        """No scaling at all (train on the raw numbers)."""
        return cls(onp.zeros(n_in), onp.ones(n_in), onp.zeros(n_out), onp.ones(n_out))

    def inputs(self, X):
        """Raw inputs (N, n_in) to scaled ones."""
        return (X - self.x_mean) / self.x_std

    def targets(self, Y):
        """Raw targets (N, n_out) to scaled ones."""
        return (Y - self.y_shift) / self.y_scale

    def outputs(self, Ys):
        """Scaled outputs (N, n_out) back to the raw scale."""
        return Ys * self.y_scale + self.y_shift

    def slopes(self, dYs_dXs: Array) -> Array:
        """d scaled output / d scaled input (N, n_out, n_in) to d raw output / d raw input."""
        return dYs_dXs * (self.y_scale[:, None] / self.x_std[None, :])

    def arrays(self) -> dict[str, Array]:
        """The four arrays by name (for saving)."""
        return {"x_mean": self.x_mean, "x_std": self.x_std, "y_shift": self.y_shift, "y_scale": self.y_scale}
