"""The sweep's map, as PNG bytes (needs matplotlib): one heatmap per optimizer and batch size.

Learning rate runs across (log), one configuration per line down (formulas,
scaling, hidden units, seed). The colour says the outcome at a glance:
learned cells green (darker for a lower final test RMSE/range, on the
colour bar), stalled cells pale grey, diverged cells pale red; diverged cells
are also crossed out and stalled cells ringed, for readers who do not tell
the colours apart. A black bar on each line marks its predicted largest
stable rate, 2 / lambda_max. The question's own configuration is framed in red.
"""

from __future__ import annotations

import math

import numpy as np
from matplotlib.colors import ListedColormap, LogNorm
from matplotlib.patches import Patch

from ..lab.outcomes import DIVERGED, LEARNED, STALLED
from .plots import plt, png, quiet

STALLED_COLOUR, DIVERGED_COLOUR, EMPTY = (0.86, 0.86, 0.86, 1.0), (0.98, 0.78, 0.76, 1.0), (1.0, 1.0, 1.0, 1.0)
LEARNED_DECADES = 100.0  # the darkest green: a test RMSE/range this many times below the threshold


GREENS = ListedColormap(plt.get_cmap("Greens_r")(np.linspace(0.05, 0.65, 256)))  # never white, never black


def colour(outcome: str, error: float, learned_below: float) -> tuple[float, float, float, float]:
    """A cell's RGBA: pale grey if it stalled, pale red if it diverged; if it learned, a green, darker the
    lower its test RMSE/range ``error`` (palest at ``learned_below``, darkest 100 times below)."""
    if outcome != LEARNED:
        return DIVERGED_COLOUR if outcome == DIVERGED else STALLED_COLOUR
    floor = learned_below / LEARNED_DECADES
    r, g, b, a = GREENS(float(LogNorm(floor, learned_below, clip=True)(max(error, floor))))
    return r, g, b, a


@quiet
def heatmap(rows: list[dict], learned_below: float | None = None) -> bytes:
    """The map of a sweep's rows (see the module docstring), as PNG bytes. ``learned_below``: the sweep's
    threshold, the palest green (default: the largest error of a learned cell)."""
    errors = [r["test_rmse_over_range"] for r in rows if r["outcome"] == LEARNED]
    top = learned_below or max(errors, default=1e-2)
    panels = sorted({(r["optimizer"], r["batch"]) for r in rows})
    lines = sorted({(r["formulas"], r["scaling"], r["hidden"], r["seed"]) for r in rows})
    lrs = sorted({r["lr"] for r in rows})
    fig, axes = plt.subplots(
        1, len(panels), figsize=(4.2 * len(panels) + 1.5, 0.38 * len(lines) + 1.8), squeeze=False, sharey=True
    )
    for ax, (optimizer, batch) in zip(axes[0], panels):
        grid = np.tile(EMPTY, (len(lines), len(lrs), 1))
        for r in rows:
            if (r["optimizer"], r["batch"]) != (optimizer, batch):
                continue
            i, j = lines.index((r["formulas"], r["scaling"], r["hidden"], r["seed"])), lrs.index(r["lr"])
            grid[i, j] = colour(r["outcome"], r["test_rmse_over_range"], top)
            if r["outcome"] == DIVERGED:
                ax.plot(j, i, "kx", ms=7, mew=1.5)
            elif r["outcome"] == STALLED:
                ax.plot(j, i, "o", mfc="none", mec="k", ms=7)
            if r["question"]:
                ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="red", lw=2.5))
            predicted = r["predicted_lr"]
            if predicted and math.isfinite(predicted) and lrs[0] <= predicted <= lrs[-1]:
                x = np.interp(math.log10(predicted), np.log10(lrs), np.arange(len(lrs)))
                ax.plot([x, x], [i - 0.45, i + 0.45], "k-", lw=3)
        ax.imshow(grid, aspect="auto")
        ax.set_xticks(range(len(lrs)), [f"{lr:.0e}" for lr in lrs], rotation=90, fontsize=7)
        ax.set_title(f"{optimizer}, batch {batch}")
        ax.set_xlabel("learning rate")
    axes[0][0].set_yticks(
        range(len(lines)), [f"{f}, {s}, {h} hidden, seed {seed}" for f, s, h, seed in lines], fontsize=8
    )
    counts = {o: sum(r["outcome"] == o for r in rows) for o in (LEARNED, STALLED, DIVERGED)}
    scale = plt.cm.ScalarMappable(norm=LogNorm(top / LEARNED_DECADES, top), cmap=GREENS)
    fig.colorbar(scale, ax=axes[0].tolist(), label="learned: test RMSE / range", fraction=0.03)
    fig.legend(
        handles=[
            Patch(color=GREENS(0.5), label=f"learned ({counts[LEARNED]})"),
            Patch(color=STALLED_COLOUR, label=f"stalled, o ({counts[STALLED]})"),
            Patch(color=DIVERGED_COLOUR, label=f"diverged, x ({counts[DIVERGED]})"),
        ],
        loc="upper center",
        bbox_to_anchor=(0.45, -0.03),
        ncol=3,
        fontsize=9,
    )
    framed = "; red frame: the question's configuration" if any(r["question"] for r in rows) else ""
    fig.suptitle(f"bar: 2 / lambda_max{framed}", fontsize=9)
    return png(fig, dpi=100, bbox_inches="tight")
