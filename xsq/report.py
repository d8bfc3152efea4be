"""Measure a trained model of f(x) = x^2 on its domain, and write its run folder.

Everything the ``xsq train`` summary prints comes from :func:`evaluate`, and
everything it writes comes from :func:`write_run`.
"""

from __future__ import annotations

import csv
import io
import json
import os
import tempfile

import numpy as onp

from .model import Model

SAMPLE_POINTS = (1.0, 2.0, 10.0, 50.0, 99.0, 100.0)
GRID_POINTS = 2001


def target(x: onp.ndarray) -> onp.ndarray:
    """The function being learnt: f(x) = x^2."""
    return x**2


def training_inputs(low: float, high: float, n: int, seed: int) -> tuple[onp.ndarray, onp.random.Generator]:
    """The n inputs ``xsq train --seed seed`` draws uniformly from [low, high], and the generator it
    then hands on to :func:`xsq.fit`, so that data and training take different random numbers."""
    rng = onp.random.default_rng(seed)
    return rng.uniform(low, high, n), rng


def rmse(pred: onp.ndarray, y: onp.ndarray) -> float:
    return float(onp.sqrt(onp.mean((pred - y) ** 2)))


def max_rel_error(pred: onp.ndarray, y: onp.ndarray) -> float:
    """max |pred - y| / |y| over the points where y != 0."""
    nz = y != 0
    return float(onp.max(onp.abs(pred[nz] - y[nz]) / onp.abs(y[nz]))) if onp.any(nz) else float("nan")


def extrapolation_ranges(low: float, high: float) -> tuple[tuple[float, float], tuple[float, float]]:
    """[0.5 low, low) and (high, 1.5 high] for a positive domain; half its width either side otherwise."""
    if low > 0:
        return (0.5 * low, low), (high, 1.5 * high)
    half = 0.5 * (high - low)
    return (low - half, low), (high, high + half)


def predict_1d(model: Model, x: onp.ndarray) -> onp.ndarray:
    return model.predict(onp.asarray(x, dtype=float)[:, None])[:, 0]


def evaluate(model: Model, low: float, high: float, x_train: onp.ndarray | None = None) -> dict:
    """Errors of ``model`` against x^2: on the data it saw, a dense grid of [low, high], and beyond it.

    ``x_train`` are the inputs it was fitted on; ``model.val_index`` says which
    of them it held out for validation.
    """
    grid = onp.linspace(low, high, GRID_POINTS)
    y_grid = target(grid)
    p_grid = predict_1d(model, grid)
    span = float(y_grid.max() - y_grid.min())
    (lo, _), (_, hi) = extrapolation_ranges(low, high)
    below = onp.linspace(lo, low, 500, endpoint=False)
    above = onp.linspace(high, hi, 501)[1:]
    out = {
        "test_rmse": rmse(p_grid, y_grid),
        "test_rmse_over_range": rmse(p_grid, y_grid) / span if span > 0 else float("nan"),
        "test_max_rel_error": max_rel_error(p_grid, y_grid),
        "extrapolation_below": [float(below[0]), float(low)],
        "extrapolation_above": [float(high), float(above[-1])],
        "extrapolation_max_rel_error_below": max_rel_error(predict_1d(model, below), target(below)),
        "extrapolation_max_rel_error_above": max_rel_error(predict_1d(model, above), target(above)),
    }
    out["extrapolation_max_rel_error"] = max(out["extrapolation_max_rel_error_below"],
                                             out["extrapolation_max_rel_error_above"])
    if x_train is not None:
        p = predict_1d(model, x_train)
        y = target(x_train)
        held_out = onp.zeros(len(x_train), bool)
        held_out[model.val_index] = True
        out["train_rmse"] = rmse(p[~held_out], y[~held_out])
        out["val_rmse"] = rmse(p[held_out], y[held_out]) if onp.any(held_out) else float("nan")
    return out


def sample_table(model: Model, low: float, high: float) -> str:
    """Rows of x, x^2, prediction and relative error at a few telling points of [low, high]."""
    xs = sorted({x for x in SAMPLE_POINTS if low <= x <= high} | {low, (low + high) / 2, high})
    preds = predict_1d(model, onp.array(xs))
    lines = [f"{'x':>10} {'x^2':>14} {'prediction':>22} {'rel. error':>11}"]
    for x, p in zip(xs, preds):
        y = x * x
        rel = abs(p - y) / y if y else float("nan")
        lines.append(f"{x:>10.4g} {y:>14.8g} {p:>22.15g} {rel:>11.2e}")
    return "\n".join(lines)


def _write_atomic(path: str, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(prefix=".tmp-", dir=os.path.dirname(os.path.abspath(path)))
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def write_run(folder: str, model: Model, metrics: dict, low: float, high: float,
              x_train: onp.ndarray) -> list[str]:
    """Write model.npz, metrics.json, history.csv and (with matplotlib) the plots; return the names written."""
    model.save(os.path.join(folder, "model.npz"))
    # strict JSON has no NaN: a metric that does not apply (no validation set, say) is null
    clean = {k: None if isinstance(v, float) and not onp.isfinite(v) else v for k, v in metrics.items()}
    _write_atomic(os.path.join(folder, "metrics.json"), (json.dumps(clean, indent=2, allow_nan=False) + "\n").encode())
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["epoch", "train_loss", "val_loss", "phase"])
    h = model.history
    writer.writerows(zip(h["epoch"], map(repr, h["train_loss"]), map(repr, h["val_loss"]), h["phase"]))
    _write_atomic(os.path.join(folder, "history.csv"), buffer.getvalue().encode())
    written = ["model.npz", "metrics.json", "history.csv"]
    try:
        from .plots import plot_run
    except ImportError:
        return written
    return written + plot_run(folder, model, low, high, x_train, _write_atomic)
