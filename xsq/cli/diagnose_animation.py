"""The animation of ``xsq diagnose --animate``: the question's run beside two fixes (needs matplotlib).

:func:`diagnose_gif` shows the question's run (its network's output against x^2, step by step) climbing
towards targets it cannot reach until the step where it goes non-finite, beside the same run with xsq's
stable formulas and with scaled data (:func:`xsq.lab.recorded.recorded_runs` records all three).
"""

from __future__ import annotations

import numpy as np

from ..lab.recorded import Recorded
from .animation import DPI, held, save
from .plots import finite, plt, quiet


@quiet
def diagnose_gif(runs: list[Recorded], ceiling: float, path: str) -> int:
    """Write ``runs`` side by side, frame by frame, to ``path``; return the frame count.

    Each panel draws a run's output on x = 1..100 against x^2 on a log scale, with the largest output the
    question's softplus can give (``ceiling``, where exp(z) overflows) as a dashed line. Every run has the
    same frames (the same steps); one that went non-finite keeps its last finite output, in red, with the
    step and operation that failed. Steps are counted from 0, as the report counts them.
    """
    x = np.arange(1.0, 1.0 + runs[0].outputs.shape[1])
    fig, axes = plt.subplots(1, len(runs), figsize=(3.6 * len(runs), 3.9), dpi=DPI, sharey=True, squeeze=False)
    lines, notes = [], []
    for ax, run in zip(axes[0], runs):
        ax.plot(x, x**2, "k-", lw=3, alpha=0.3, label="target x^2")
        ax.axhline(ceiling, color="C3", ls="--", lw=1, label=f"softplus as written: at most {ceiling:.0f}")
        (line,) = ax.plot(x, finite(run.outputs[0]), "C0-", lw=1.8, label="network")
        ax.set(title=run.title, xlabel="x", yscale="log", ylim=(0.3, 3e4))
        ax.legend(loc="upper left", fontsize=7)
        lines.append(line)
        notes.append(ax.text(0.97, 0.04, "", transform=ax.transAxes, ha="right", fontsize=8, family="monospace"))
    axes[0][0].set_ylabel("output")
    caption = fig.suptitle("", fontsize=10, family="monospace")
    fig.subplots_adjust(left=0.07, right=0.99, bottom=0.13, top=0.84, wspace=0.06)  # fixed: tight_layout is slow

    def draw(k: int) -> None:
        taken = int(runs[0].steps[k])
        when = "the start" if taken == 0 else f"after step {taken - 1}"
        caption.set_text(f"{when}: per-sample SGD, one random x in 1..100 a step, lr 1e-4")
        for run, line, note in zip(runs, lines, notes):
            past = run.nonfinite_step is not None and taken > run.nonfinite_step
            if past or not np.all(np.isfinite(run.outputs[k])):  # the step that fails may still lie ahead
                finite_frames = [i for i in range(k + 1) if np.all(np.isfinite(run.outputs[i]))]
                line.set_ydata(finite(run.outputs[finite_frames[-1]] if finite_frames else x * np.nan))
                line.set_color("C3")
                where = f"at step {run.nonfinite_step}\nin {run.nonfinite_op}" if run.nonfinite_op else "on the grid"
                note.set_text(f"non-finite {where}")
                note.set_color("C3")
            else:
                line.set_ydata(finite(run.outputs[k]))
                line.set_color("C0")
                note.set_text(f"RMSE/range {run.errors[k]:.3g}")
                note.set_color("k")

    frames = held(list(range(len(runs[0].steps))))
    save(fig, [caption, *lines, *notes], frames, path, draw)
    return len(frames)
