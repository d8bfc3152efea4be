"""The three plots of a training run (needs matplotlib: ``pip install xsq[plot]``)."""

from __future__ import annotations

import io
import os

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as onp  # noqa: E402

from .model import Model  # noqa: E402


def _save(fig, folder: str, name: str, write) -> str:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    write(os.path.join(folder, name), buffer.getvalue())
    return name


def plot_run(folder: str, model: Model, low: float, high: float, x_train, write) -> list[str]:
    """fit.png (x^2 and the prediction), loss.png (loss per epoch), error.png (relative error vs x)."""
    from .report import extrapolation_ranges, predict_1d, target

    (lo, _), (_, hi) = extrapolation_ranges(low, high)
    x = onp.linspace(lo, hi, 3001)
    y, p = target(x), predict_1d(model, x)

    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.axvspan(low, high, color="0.92", label="training domain")
    ax.plot(x, y, "k-", lw=3, alpha=0.35, label="$x^2$")
    ax.plot(x, p, "C0-", lw=1.2, label="network")
    ax.plot(x_train, target(x_train), "C1.", ms=2, label="training inputs")
    ax.set(xlabel="x", ylabel="y", title=f"xsq: {model.optimizer}, sizes {'-'.join(map(str, model.sizes))}")
    ax.legend()
    names = [_save(fig, folder, "fit.png", write)]

    fig, ax = plt.subplots(figsize=(7, 4.5))
    h = model.history
    ax.semilogy(h["epoch"], h["train_loss"], label="train")
    if onp.any(onp.isfinite(h["val_loss"])):
        ax.semilogy(h["epoch"], h["val_loss"], label="validation")
    warmup = [e for e, phase in zip(h["epoch"], h["phase"]) if phase == "warmup"]
    if warmup:
        ax.axvspan(0, warmup[-1], color="0.93", label="warm-up on relative error")
    ax.axvline(model.best_epoch, color="0.5", ls=":", label="best (restored)")
    ax.set(xlabel="epoch", ylabel=f"{model.loss} (scaled targets)", title="loss per epoch")
    ax.legend()
    names.append(_save(fig, folder, "loss.png", write))

    fig, ax = plt.subplots(figsize=(7, 4.5))
    nz = y != 0
    rel = onp.abs(p[nz] - y[nz]) / onp.abs(y[nz])
    ax.axvspan(low, high, color="0.92", label="training domain")
    ax.semilogy(x[nz], onp.maximum(rel, 1e-17), "C3-", lw=1)
    ax.set(xlabel="x", ylabel="|prediction - x^2| / x^2", title="relative error (outside the band: extrapolation)")
    ax.legend()
    names.append(_save(fig, folder, "error.png", write))
    return names
