"""The sweep's map, as PNG bytes (needs matplotlib): one heatmap per optimizer and batch size.

Learning rate runs across (log), one configuration per line down (formulas,
scaling, hidden units, seed); the colour is log10 of the final test
RMSE/range. Diverged cells are crossed out, stalled cells ringed, and a
black bar on each line marks its predicted largest stable rate, 2 / lambda_max.
The question's own configuration is framed in red.
"""

from __future__ import annotations

import math

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as onp  # noqa: E402

from ..lab.outcomes import DIVERGED, STALLED  # noqa: E402
from .plots import png, quiet  # noqa: E402


@quiet
def heatmap(rows: list[dict]) -> bytes:
    """The map of a sweep's rows (see the module docstring), as PNG bytes."""
    panels = sorted({(r["optimizer"], r["batch"]) for r in rows})
    lines = sorted({(r["formulas"], r["scaling"], r["hidden"], r["seed"]) for r in rows})
    lrs = sorted({r["lr"] for r in rows})
    fig, axes = plt.subplots(
        1, len(panels), figsize=(4.2 * len(panels) + 1.5, 0.38 * len(lines) + 1.8), squeeze=False, sharey=True
    )
    for ax, (optimizer, batch) in zip(axes[0], panels):
        grid = onp.full((len(lines), len(lrs)), onp.nan)
        for r in rows:
            if (r["optimizer"], r["batch"]) != (optimizer, batch):
                continue
            i, j = lines.index((r["formulas"], r["scaling"], r["hidden"], r["seed"])), lrs.index(r["lr"])
            error = r["test_rmse_over_range"]
            grid[i, j] = math.log10(error) if error and math.isfinite(error) and error > 0 else onp.nan
            if r["outcome"] == DIVERGED:
                ax.plot(j, i, "kx", ms=7, mew=1.5)
            elif r["outcome"] == STALLED:
                ax.plot(j, i, "o", mfc="none", mec="k", ms=7)
            if r["question"]:
                ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="red", lw=2.5))
            predicted = r["predicted_lr"]
            if predicted and math.isfinite(predicted) and lrs[0] <= predicted <= lrs[-1]:
                x = onp.interp(math.log10(predicted), onp.log10(lrs), onp.arange(len(lrs)))
                ax.plot([x, x], [i - 0.45, i + 0.45], "k-", lw=3)
        image = ax.imshow(grid, aspect="auto", cmap="viridis", vmin=-10, vmax=0)
        ax.set_xticks(range(len(lrs)), [f"{lr:.0e}" for lr in lrs], rotation=90, fontsize=7)
        ax.set_title(f"{optimizer}, batch {batch}")
        ax.set_xlabel("learning rate")
    axes[0][0].set_yticks(
        range(len(lines)), [f"{f}, {s}, {h} hidden, seed {seed}" for f, s, h, seed in lines], fontsize=8
    )
    fig.colorbar(image, ax=axes[0].tolist(), label="log10 test RMSE / range")
    fig.suptitle("x marks diverged, o stalled; bar: 2 / lambda_max; red: the question's configuration", fontsize=9)
    return png(fig, dpi=100, bbox_inches="tight")
