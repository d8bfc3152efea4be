"""The animation of ``xsq diagnose --animate``: the question's run beside two fixes (needs matplotlib).

:func:`diagnose_gif` shows the question's run (its network's output against x^2, step by step) climbing
towards targets it cannot reach until the step where it goes non-finite, beside the same run with xsq's
stable formulas and with scaled data (:func:`xsq.lab.diagnose.recorded_runs` records all three).
"""

from __future__ import annotations

from typing import NamedTuple

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as onp  # noqa: E402

from .animation import DPI, held, save  # noqa: E402
from .plots import finite, quiet  # noqa: E402


class Panel(NamedTuple):
    """One recorded run of the question's network for :func:`diagnose_gif`: a title, the step of each frame,
    the network's raw-scale outputs on ``x`` at each (frames, len(x)), the loss there, and the step at
    which it went non-finite (None if it never did) with the operation that did."""

    title: str
    steps: onp.ndarray
    outputs: onp.ndarray
    losses: onp.ndarray
    nonfinite_step: int | None
    nonfinite_op: str | None


@quiet
def diagnose_gif(panels: list[Panel], x: onp.ndarray, target: onp.ndarray, path: str) -> int:
    """Write the runs of ``panels`` side by side, frame by frame, to ``path``; return the frame count.

    Every panel has the same frames (the same steps). A run that went non-finite keeps its last finite
    output, in red, with the step and operation that failed.
    """
    fig, axes = plt.subplots(1, len(panels), figsize=(4.0 * len(panels), 4.2), dpi=DPI, sharey=True, squeeze=False)
    lines, notes = [], []
    top = float(onp.max(target))
    for ax, panel in zip(axes[0], panels):
        ax.plot(x, target, "k-", lw=3, alpha=0.3, label="target x^2")
        (line,) = ax.plot(x, panel.outputs[0], "C0-", lw=1.8, label="network")
        ax.set(title=panel.title, xlabel="x")
        ax.set_ylim(-0.1 * top, 1.25 * top)
        ax.legend(loc="upper left", fontsize=8)
        lines.append(line)
        notes.append(ax.text(0.97, 0.04, "", transform=ax.transAxes, ha="right", fontsize=9, family="monospace"))
    axes[0][0].set_ylabel("output")
    caption = fig.suptitle("", fontsize=11, family="monospace")
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    n = len(panels[0].steps)

    def draw(k: int) -> None:
        step = int(panels[0].steps[k])
        caption.set_text(f"step {step}  (SGD, one random x in 1..100 per step, lr 1e-4)")
        for panel, line, note in zip(panels, lines, notes):
            failed = panel.nonfinite_step is not None and step >= panel.nonfinite_step
            out = panel.outputs[k]
            if failed:
                last = [i for i in range(k + 1) if onp.all(onp.isfinite(panel.outputs[i]))]
                out = panel.outputs[last[-1]] if last else onp.full_like(x, onp.nan)
                line.set_color("C3")
                note.set_text(f"non-finite at step {panel.nonfinite_step}\nin {panel.nonfinite_op}")
                note.set_color("C3")
            else:
                line.set_color("C0")
                note.set_text(f"loss {panel.losses[k]:.3g}")
                note.set_color("k")
            line.set_ydata(finite(out))

    frames = held(list(range(n)))
    save(fig, [caption, *lines, *notes], frames, path, draw)
    return len(frames)
