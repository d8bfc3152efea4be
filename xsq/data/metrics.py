"""How good a fit is: RMSE, RMSE over the target range, relative errors, on the problem's grid and beyond.

Every number ``xsq train`` reports, and the benchmarks and the diagnosis
compare, comes from here.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .problem import Problem


def rmse(pred: np.ndarray, y: np.ndarray) -> float:
    """Root mean squared error (computed on the errors divided by the largest, so squares cannot overflow)."""
    d = np.abs(np.asarray(pred, dtype=float) - np.asarray(y, dtype=float))
    top = float(np.max(d)) if d.size else 0.0
    if not (top > 0 and np.isfinite(top)):
        return top if d.size else float("nan")
    return top * float(np.sqrt(np.mean((d / top) ** 2)))


def rmse_over_range(pred: np.ndarray, y: np.ndarray, of: np.ndarray | None = None) -> float:
    """RMSE divided by the range (max - min) of the targets ``of`` (default y: given when y is a sample of
    them, such as held-out rows); NaN when that range is 0 or y is empty."""
    of = y if of is None else of
    if not np.size(of):
        return float("nan")
    top, bottom = float(np.max(of)), float(np.min(of))
    if abs(top - bottom) == float("inf"):  # a range beyond float64 (-1e308 to 1e308): halve both sides
        return rmse(pred, y) / 2 / (top / 2 - bottom / 2)
    span = top - bottom
    return rmse(pred, y) / span if span > 0 else float("nan")


def max_rel_error(pred: ArrayLike, y: ArrayLike) -> float:
    """max |pred - y| / |y| over the points where y is a non-zero number; NaN when there are none."""
    pred, y = np.asarray(pred, dtype=float), np.asarray(y, dtype=float)
    ok = np.isfinite(y) & (y != 0)
    if not np.any(ok):
        return float("nan")
    with np.errstate(all="ignore"):
        return float(np.max(np.abs(pred[ok] - y[ok]) / np.abs(y[ok])))


def evaluate(model, problem: Problem, x_train: np.ndarray | None = None) -> dict:
    """Errors of ``model`` (1 input, 1 output) against ``problem``'s target, and of its slope against the target's.

    On the grid of [low, high]: ``test_rmse``, ``test_rmse_over_range``,
    ``test_max_rel_error`` and ``test_derivative_max_rel_error``; on each
    extrapolation range: the max relative error of value and slope. With
    ``x_train`` (the inputs it was fitted on) also ``train_rmse`` and
    ``val_rmse``, split by the rows its record held out.
    """
    grid = problem.grid()
    y, p = problem.values(grid), model.predict(grid)[:, 0]
    out: dict[str, Any] = {
        "test_rmse": rmse(p, y),
        "test_rmse_over_range": rmse_over_range(p, y),
        "test_max_rel_error": max_rel_error(p, y),
        "test_derivative_max_rel_error": max_rel_error(model.derivative(grid)[:, 0, 0], problem.slopes(grid)),
    }
    (b0, b1), (a0, a1) = problem.extrapolation_ranges()
    out["extrapolation_below"], out["extrapolation_above"] = [b0, b1], [a0, a1]
    for side, x in zip(("below", "above"), problem.extrapolation_grids()):
        with np.errstate(all="ignore"):
            out[f"extrapolation_max_rel_error_{side}"] = max_rel_error(
                model.predict(x)[:, 0], problem.values_where_defined(x)
            )
            out[f"extrapolation_derivative_max_rel_error_{side}"] = max_rel_error(
                model.derivative(x)[:, 0, 0], problem.slopes(x)
            )
    sides = [out[f"extrapolation_max_rel_error_{side}"] for side in ("below", "above")]
    out["extrapolation_max_rel_error"] = max((v for v in sides if v == v), default=float("nan"))
    if x_train is not None:
        held_out = np.zeros(len(x_train), bool)
        held_out[model.record.val_rows] = True
        p, y = model.predict(x_train)[:, 0], problem.values(x_train)
        out["train_rmse"] = rmse(p[~held_out], y[~held_out])
        out["val_rmse"] = rmse(p[held_out], y[held_out]) if np.any(held_out) else float("nan")
    return out


def evaluate_data(model, X: np.ndarray, Y: np.ndarray, train_rows: np.ndarray, test_rows: np.ndarray) -> dict:
    """Errors of ``model`` on measured data: on the held-out ``test_rows`` (the RMSE also over the range of
    all targets, and per output column), and on the training rows (split by the validation rows its record held
    out of them)."""
    p = model.predict(X)
    test, train = p[test_rows], p[train_rows]
    held_out = np.zeros(len(train_rows), bool)
    held_out[model.record.val_rows] = True
    out = {
        "test_rows": int(len(test_rows)),
        "test_rmse": rmse(test, Y[test_rows]) if len(test_rows) else float("nan"),
        "test_rmse_per_output": [
            rmse(test[:, k], Y[test_rows, k]) if len(test_rows) else float("nan") for k in range(Y.shape[1])
        ],
        "test_rmse_over_range": rmse_over_range(test, Y[test_rows], of=Y),  # all targets' range, not the few rows
        "test_max_rel_error": max_rel_error(test, Y[test_rows]) if len(test_rows) else float("nan"),
        "train_rmse": rmse(train[~held_out], Y[train_rows][~held_out]),
        "val_rmse": rmse(train[held_out], Y[train_rows][held_out]) if held_out.any() else float("nan"),
    }
    return out
