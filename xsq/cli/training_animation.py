"""The animation of a training run, ``training.gif`` of ``xsq train --animate`` (needs matplotlib).

:func:`training_gif` draws the fit against the target over the epochs, the learned slope against the
target's below it, and the loss curve drawn up to the current epoch, with the epoch, the phase and the
error printed in each frame. It draws from the :class:`xsq.training.snapshots.Snapshots` kept during
training. The frames are spaced half by log epoch and half by how much the fit's error moved
(:func:`positions`), so the first epochs, where Levenberg-Marquardt moves most, are not lost, and
neither is a late change; LM's screening of other starts gets a quarter of them.
"""

from __future__ import annotations

import math
import warnings
from typing import NamedTuple

import numpy as np

from ..data.metrics import rmse_over_range
from ..errors import PlotError
from ..training.model import Model
from ..training.snapshots import Snapshot
from .animation import DPI, held, limits, save
from .plots import finite, plt, quiet

FRAMES = 48  # frames of training drawn at most (fewer when fewer epochs were kept)
GRID = 301  # inputs the curves are drawn on

SCREENING_SHARE = 0.25  # of the frames, for LM's screening of other starts (the run proper gets the rest)


def positions(epochs, errors, screening, change: float = 0.5) -> np.ndarray:
    """Where each snapshot falls on the animation's timeline, from 0 to 1 (non-decreasing).

    A share ``change`` of it is the cumulative change of log10 of the fit's error (floored at 1e-12), the
    rest log(1 + epoch), each scaled to [0, 1], so the frames follow both what the fit does and time. LM's
    screening epochs (``screening`` True) get the first ``SCREENING_SHARE`` of the timeline, the rest of
    the run the remainder: otherwise the restarts, short and jumpy, would take most of the frames.
    ``epochs``, ``errors``, ``screening``: (k,), in epoch order.
    """
    epochs, screening = np.asarray(epochs, dtype=float), np.asarray(screening, dtype=bool)
    logs = np.log10(np.maximum(np.nan_to_num(np.asarray(errors, dtype=float), nan=1.0, posinf=1.0), 1e-12))
    out = np.zeros(len(epochs))
    parts = [p for p in (np.flatnonzero(screening), np.flatnonzero(~screening)) if len(p)]
    shares = [SCREENING_SHARE, 1 - SCREENING_SHARE] if len(parts) == 2 else [1.0]
    begin = 0.0
    for part, share in zip(parts, shares):
        e, d = epochs[part] - epochs[part[0]], np.abs(np.diff(logs[part], prepend=logs[part[0]]))
        time_ = np.log1p(e) / max(math.log1p(e[-1]), 1e-300)
        moved = np.cumsum(d)
        if moved[-1] > 0:
            time_ = (1 - change) * time_ + change * moved / moved[-1]
        out[part] = begin + share * time_
        begin += share
    return out


def choose_frames(*timelines, n: int = FRAMES) -> np.ndarray:
    """Indices of up to ``n`` snapshots to draw: those nearest to ``n`` points spaced evenly over the first
    timeline (k,) (non-decreasing, see :func:`positions`), the first and last always; where several points
    fall on one snapshot (a sudden change), the frames lost are made up from the next timeline, and so on.
    Sorted and unique."""
    k = len(timelines[0])
    if k <= n:
        return np.arange(k)
    chosen = {0, k - 1}
    for i, timeline in enumerate(timelines):
        position = np.asarray(timeline, dtype=float)
        near = {int(np.argmin(np.abs(position - t))) for t in np.linspace(position[0], position[-1], n)}
        if i == 0:
            chosen |= near
            continue
        near -= chosen
        while near and len(chosen) < n:  # the one farthest from every frame chosen so far, first
            best = max(near, key=lambda c: min(abs(position[c] - position[j]) for j in chosen))
            chosen.add(best)
            near.discard(best)
    return np.array(sorted(chosen))


class Scene(NamedTuple):
    """What a training animation draws the network against: inputs (GRID,), the target there and its
    slope (None for measured data), the training points, the error's name, and a title."""

    x: np.ndarray
    target: np.ndarray | None
    slope: np.ndarray | None
    points: tuple[np.ndarray, np.ndarray]
    domain: tuple[float, float]
    error_name: str
    title: str


def function_scene(problem, x_train: np.ndarray, title: str) -> Scene:
    """A target function on its domain and its extrapolation ranges."""
    (lo, _), (_, hi) = problem.extrapolation_ranges()
    x = np.linspace(lo, hi, GRID)
    pick = np.random.default_rng(0).permutation(len(x_train))[:200]  # enough dots to show where it trained
    xs = np.sort(x_train[pick])
    return Scene(
        x,
        problem.values_where_defined(x),
        problem.slopes(x),
        (xs, problem.values(xs)),
        (problem.low, problem.high),
        "RMSE/range on the domain",
        title,
    )


def data_scene(ds, train_rows: np.ndarray, title: str) -> Scene:
    """Measured data with one input and one output, over its range and a tenth beyond."""
    lo, hi = float(ds.X[:, 0].min()), float(ds.X[:, 0].max())
    x = np.linspace(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo), GRID)
    return Scene(
        x, None, None, (ds.X[train_rows, 0], ds.Y[train_rows, 0]), (lo, hi), "RMSE/range on the training rows", title
    )


@quiet
def training_gif(snapshots: list[Snapshot], model: Model, scene: Scene, history, path: str) -> int:
    """Write the animation of a training run to ``path`` (see the module docstring); return its frame count.

    ``snapshots``: in epoch order (scaled-data parameters of the first network); ``model``: the trained
    model, whose scaler and activations turn a snapshot into predictions, and whose kept parameters are
    the last frame; ``history``: the run's :class:`~xsq.training.record.History`.
    """
    if not snapshots:
        raise PlotError("no epoch was recorded")

    def net(params) -> Model:
        return Model(params, model.scaler, model.activation, model.output)

    X = scene.x
    inside = (X >= scene.domain[0]) & (X <= scene.domain[1])
    points_x, points_y = scene.points

    def error(pred: np.ndarray) -> float:
        if scene.target is not None:
            return rmse_over_range(pred[inside], scene.target[inside])
        return rmse_over_range(np.interp(points_x, X, pred), points_y)

    errors = [error(finite(net(s.params).predict(X)[:, 0])) for s in snapshots]
    epochs_, screening = [s.epoch for s in snapshots], [s.phase == "screen" for s in snapshots]
    order = choose_frames(positions(epochs_, errors, screening), positions(epochs_, errors, screening, change=0))

    fig = plt.figure(figsize=(9.5, 5.2), dpi=DPI)
    grid = fig.add_gridspec(2, 2, height_ratios=[3, 2], width_ratios=[1.15, 1])
    top, bottom, right = fig.add_subplot(grid[0, 0]), fig.add_subplot(grid[1, 0]), fig.add_subplot(grid[:, 1])
    top.sharex(bottom)
    for ax in (top, bottom):
        ax.axvspan(*scene.domain, color="0.93", zorder=0)
    if scene.target is not None and scene.slope is not None:
        top.plot(X, scene.target, "k-", lw=3, alpha=0.3, label="target")
        bottom.plot(X, scene.slope, "k-", lw=3, alpha=0.3, label="target's slope")
    top.plot(points_x, points_y, "C1.", ms=2, label="training inputs")
    (fit_line,) = top.plot(X, np.full_like(X, np.nan), "C0-", lw=1.5, label="network")
    (slope_line,) = bottom.plot(X, np.full_like(X, np.nan), "C2-", lw=1.5, label="network's slope")
    top.set_ylim(*limits(np.concatenate([scene.target if scene.target is not None else points_y, points_y])))
    top.set(ylabel="y")
    top.legend(loc="upper left", fontsize=8)
    top.tick_params(labelbottom=False)
    bottom.set(xlabel="x", ylabel="dy/dx")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        final_slope = finite(model.derivative(X)[:, 0, 0])
    bottom.set_ylim(*limits(scene.slope if scene.slope is not None else final_slope))
    bottom.legend(loc="upper left", fontsize=8)

    epochs = np.asarray(history.epoch)
    train, val = np.asarray(history.train_loss), np.asarray(history.val_loss)
    for phase, color, label in (("screen", "0.85", "screening restarts"), ("warmup", "0.93", "warm-up")):
        kept = epochs[np.asarray(history.phase) == phase]
        if len(kept):
            right.axvspan(kept[0], kept[-1] + 1, color=color, label=label, zorder=0)
    positive = np.concatenate([train, val])
    positive = positive[np.isfinite(positive) & (positive > 0)]
    (train_line,) = right.plot([], [], "C0-", lw=1.2, label="train")
    has_val = bool(np.any(np.isfinite(val)))
    (val_line,) = right.plot([], [], "C1-", lw=1.0, label="validation") if has_val else (None,)
    (now,) = right.plot([], [], "ko", ms=4)
    right.set_xscale("symlog", linthresh=1.0)
    right.set_xlim(0, max(int(epochs[-1]), 1) * 1.05)
    if len(positive):
        right.set_yscale("log")
        right.set_ylim(positive.min() / 2, positive.max() * 2)
    right.set(xlabel="epoch", ylabel="loss (scaled targets)")
    right.legend(loc="lower left", fontsize=8)
    caption = fig.suptitle("", fontsize=11, family="monospace")
    fig.text(0.01, 0.005, scene.title, fontsize=8, color="0.35")
    fig.subplots_adjust(
        left=0.09, right=0.98, bottom=0.11, top=0.9, hspace=0.08, wspace=0.22
    )  # fixed: tight_layout is slow

    frames = [snapshots[i] for i in order]
    final = Snapshot(int(history.epoch[-1]), "kept", math.nan, math.nan, dict(model.params))

    def draw(snap: Snapshot) -> None:
        pred = finite(net(snap.params).predict(X)[:, 0])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            slope = finite(net(snap.params).derivative(X)[:, 0, 0])
        fit_line.set_ydata(pred)
        slope_line.set_ydata(slope)
        upto = epochs <= snap.epoch
        train_line.set_data(epochs[upto], train[upto])
        if val_line is not None:
            val_line.set_data(epochs[upto], val[upto])
        if snap.phase == "kept":
            best = model.record.best_epoch if model.record is not None else snap.epoch
            now.set_data([best], [train[epochs == best][0]] if np.any(epochs == best) else [np.nan])
            text = f"the kept network (epoch {best})   {scene.error_name} {error(pred):.2e}"
        else:
            now.set_data([snap.epoch], [snap.train_loss])
            text = f"epoch {snap.epoch:>5}  {snap.phase:<9}  {scene.error_name} {error(pred):.2e}"
        caption.set_text(text)

    frames = held(frames + [final])
    save(fig, [fit_line, slope_line, train_line, now, caption] + ([val_line] if val_line else []), frames, path, draw)
    return len(frames)
