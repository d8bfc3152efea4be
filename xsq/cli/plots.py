"""The plots of a training run, as PNG bytes (needs matplotlib: ``pip install 'xsq[plot]'``).

* ``fit.png``: the target and the prediction over the domain and beyond, and
  below it the learned slope against the target's;
* ``loss.png``: training and validation loss per epoch, with LM's screening
  and warm-up shaded and the restored epoch marked;
* ``error.png``: the relative error against x on a log axis, for a staged
  model one curve per stage.
"""

from __future__ import annotations

import functools
import io
import os
import warnings

import matplotlib

matplotlib.use("Agg")  # files, never a window: every drawing module takes pyplot from here
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from ..data.problem import Problem  # noqa: E402
from ..errors import PlotError  # noqa: E402
from ..training.bayes import Z95  # noqa: E402
from ..validation import shorten  # noqa: E402

DPI = 110


def png(fig, **options) -> bytes:
    """``fig`` as PNG bytes (``options`` go to savefig), closed after. What matplotlib raises while it draws
    is :class:`PlotError`: values it cannot lay out, or a configuration it cannot honour (TeX text without
    LaTeX, say)."""
    buffer = io.BytesIO()
    try:
        fig.savefig(buffer, format="png", **{"dpi": DPI, **options})
    except (OverflowError, ValueError, RuntimeError, OSError) as exc:
        raise _why(exc) from None
    finally:
        plt.close(fig)
    return buffer.getvalue()


def _fit(model, problem: Problem, x_train: np.ndarray, x: np.ndarray, y: np.ndarray, p: np.ndarray) -> bytes:
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(7, 7), sharex=True, gridspec_kw={"height_ratios": [3, 2]})
    for ax in (top, bottom):
        ax.axvspan(problem.low, problem.high, color="0.92", label="training domain")
    top.plot(x, y, "k-", lw=3, alpha=0.35, label=problem.label)
    top.plot(x, p, "C0-", lw=1.2, label="network")
    top.plot(x_train, problem.values(x_train), "C1.", ms=2, label="training inputs")
    sizes = "-".join(map(str, model.sizes))
    staged = f", {len(model.stages) + 1} stages" if model.stages else ""
    top.set(ylabel="y", title=f"xsq: {model.record.settings.get('optimizer', '')}, sizes {sizes}{staged}")
    top.legend()
    bottom.plot(x, problem.slopes(x), "k-", lw=3, alpha=0.35, label=f"d/dx {problem.label}")
    bottom.plot(x, finite(model.derivative(x)[:, 0, 0]), "C2-", lw=1.2, label="learned slope")
    bottom.set(xlabel="x", ylabel="dy/dx")
    bottom.legend()
    fig.tight_layout()
    return png(fig)


def _loss(model) -> bytes:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    r = model.record
    h = r.history
    ax.semilogy(h.epoch, h.train_loss, label="train")
    if np.any(np.isfinite(h.val_loss)):
        ax.semilogy(h.epoch, h.val_loss, label="validation")
    for phase, color, label in (
        ("screen", "0.85", "screening restarts"),
        ("warmup", "0.93", "warm-up (relative error, variable projection or evidence)"),
    ):
        epochs = h.epoch[h.phase == phase]
        if len(epochs):
            ax.axvspan(epochs[0], epochs[-1], color=color, label=label)
    ax.axvline(r.best_epoch, color="0.5", ls=":", label="best (restored)")
    ax.set(xlabel="epoch", ylabel=f"{r.settings.get('loss', 'loss')} (scaled targets)", title="loss per epoch")
    ax.legend()
    return png(fig)


def _error(model, problem: Problem, x: np.ndarray, y: np.ndarray) -> bytes:
    """The relative error against x, one curve per stage of a staged model (the total last)."""
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ok = np.isfinite(y) & (y != 0)
    ax.axvspan(problem.low, problem.high, color="0.92", label="training domain")
    n = len(model.stages) + 1
    for k in range(1, n + 1):
        with np.errstate(all="ignore"):
            p = model.upto(k).predict(x[ok])[:, 0]
        label = "network" if n == 1 else f"after stage {k}" + (" (the model)" if k == n else "")
        ax.semilogy(x[ok], np.maximum(np.abs(p - y[ok]) / np.abs(y[ok]), 1e-17), lw=1, label=label)
    ax.set(
        xlabel="x",
        ylabel=f"|prediction - {problem.label}| / |{problem.label}|",
        title="relative error (outside the band: extrapolation)",
    )
    ax.legend()
    return png(fig)


def finite(values: np.ndarray) -> np.ndarray:
    """``values`` with every infinity made NaN: matplotlib leaves a gap at NaN, but cannot place infinity."""
    return np.where(np.isfinite(values), values, np.nan)


def _why(exc: Exception) -> PlotError:
    """What matplotlib raised while drawing, as a :class:`PlotError` (one line)."""
    if isinstance(exc, PlotError):
        return exc
    text = " ".join(str(exc).split())  # one line, whatever matplotlib's message spans
    if isinstance(exc, (OverflowError, ValueError)) and "dpi" not in text:  # laying out ticks and limits
        return PlotError(f"matplotlib could not draw these values ({shorten(text, 160)})")
    return PlotError(f"matplotlib could not draw ({shorten(f'{type(exc).__name__}: {text}', 160)})")


def _raised_in_matplotlib(exc: BaseException) -> bool:
    """Whether matplotlib's own code was running when ``exc`` was raised (else it is xsq's bug)."""
    tb = exc.__traceback__
    while tb is not None:
        if tb.tb_frame.f_globals.get("__name__", "").split(".")[0] in ("matplotlib", "PIL", "kiwisolver"):
            return True
        tb = tb.tb_next
    return False


def quiet(draw):
    """``draw`` with numpy's floating-point warnings off (values near float64's limit make matplotlib's own
    tick arithmetic overflow, which is no concern of the run's), and whatever matplotlib raises in any step
    of drawing (laying out, a user's matplotlibrc, TeX without LaTeX) raised as :class:`PlotError`, so that
    the run is saved without the plots. Every xsq figure is drawn through it."""

    def wrapped(*args, **kwargs):
        try:
            # titles at the top of their axes: xsq puts no ticks there, and placing them around ticks is slow
            with np.errstate(all="ignore"), warnings.catch_warnings(), plt.rc_context({"axes.titley": 1.0}):
                warnings.simplefilter("ignore", UserWarning)  # matplotlib's layout and glyph notes
                return draw(*args, **kwargs)
        except Exception as exc:
            plt.close("all")
            if not (isinstance(exc, PlotError) or _raised_in_matplotlib(exc)):
                raise  # a bug in xsq's own drawing code is not the environment's
            raise _why(exc) from None

    return functools.update_wrapper(wrapped, draw)


def each(panels: dict) -> dict[str, bytes]:
    """Draw each of ``panels`` (file name -> a function returning PNG bytes) on its own: one that cannot be
    drawn (values too large to lay out, say) is skipped, the others kept. :class:`PlotError` if any was
    skipped, with those drawn in its ``drawn``."""
    drawn, skipped, reason = {}, [], None
    for name, draw in panels.items():
        try:
            drawn[name] = quiet(draw)()
        except PlotError as exc:
            skipped.append(name)
            reason = reason or exc
    if skipped:
        raise PlotError(str(reason), drawn, tuple(skipped))
    return drawn


@quiet
def figures(model, problem: Problem, x_train: np.ndarray) -> dict[str, bytes]:
    """The three plots of a run, by file name."""
    (lo, _), (_, hi) = problem.extrapolation_ranges()
    x = np.linspace(lo, hi, 3001)
    y = problem.values_where_defined(x)
    p = finite(model.predict(x)[:, 0])
    return each(
        {
            "fit.png": lambda: _fit(model, problem, x_train, x, y, p),
            "loss.png": lambda: _loss(model),
            "error.png": lambda: _error(model, problem, x, y),
        }
    )


@quiet
def data_figures(model, ds, train_rows, test_rows) -> dict[str, bytes]:
    """The three plots of a run on measured data: the data with the fit (or, with several inputs or outputs,
    prediction against target), the loss, and the relative error on the held-out rows."""
    return each(
        {
            "fit.png": lambda: _data_fit(model, ds, train_rows, test_rows),
            "loss.png": lambda: _loss(model),
            "error.png": lambda: _data_error(model, ds, test_rows),
        }
    )


def _data_fit(model, ds, train_rows, test_rows) -> bytes:
    fig, axes = plt.subplots(1, len(ds.outputs), figsize=(6 * len(ds.outputs), 4.5), squeeze=False)
    for j, ax in enumerate(axes[0]):
        if ds.X.shape[1] == 1:
            lo, hi = ds.X[:, 0].min(), ds.X[:, 0].max()
            x = np.linspace(lo - 0.1 * (hi - lo), hi + 0.1 * (hi - lo), 1000)
            ax.axvspan(lo, hi, color="0.92", label="data range")
            if model.posterior is not None:  # the Laplace error bars: where 95 % of new measurements should fall
                mean, std = model.predict(x, return_std=True)
                band = (mean[:, j] - Z95 * std[:, j], mean[:, j] + Z95 * std[:, j])
                ax.fill_between(x, *band, color="C0", alpha=0.2, lw=0, label="95 % band")
            ax.plot(x, model.predict(x)[:, j], "C0-", lw=1.2, label="network")
            ax.plot(ds.X[train_rows, 0], ds.Y[train_rows, j], "C1.", ms=3, label="training rows")
            ax.plot(ds.X[test_rows, 0], ds.Y[test_rows, j], "C3x", ms=4, label="held-out rows")
            ax.set(xlabel=ds.inputs[0], ylabel=ds.outputs[j])
        else:
            for rows, style, label in ((train_rows, "C1.", "training rows"), (test_rows, "C3x", "held-out rows")):
                ax.plot(ds.Y[rows, j], model.predict(ds.X[rows])[:, j], style, ms=3, label=label)
            ax.axline((0, 0), slope=1, color="0.5", lw=1)
            ax.set(xlabel=f"{ds.outputs[j]} (data)", ylabel=f"{ds.outputs[j]} (network)")
        ax.legend()
    fig.suptitle(f"xsq: {os.path.basename(ds.path)}, sizes {'-'.join(map(str, model.sizes))}")
    return png(fig)


def _data_error(model, ds, test_rows) -> bytes:
    fig, ax = plt.subplots(figsize=(7, 4.5))
    y, p = ds.Y[test_rows], model.predict(ds.X[test_rows])
    with np.errstate(all="ignore"):
        rel = np.abs(p - y) / np.abs(y)
    for j, name in enumerate(ds.outputs):
        ok = np.isfinite(rel[:, j])
        ax.semilogy(ds.X[test_rows, 0][ok], np.maximum(rel[ok, j], 1e-17), ".", label=name)
    ax.set(xlabel=ds.inputs[0], ylabel="|prediction - data| / |data|", title="relative error on the held-out rows")
    ax.legend()
    return png(fig)
