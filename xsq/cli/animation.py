"""What xsq's animations share (needs matplotlib and Pillow: ``pip install 'xsq[plot]'``).

Frames are drawn by blitting: the figure is drawn once, and each frame redraws only the artists that
move onto that background, so a frame costs a few milliseconds and the axes, ticks and legends are
drawn once. ``matplotlib.animation.PillowWriter`` writes the GIF. The animations themselves:
:mod:`xsq.cli.training_animation` (``xsq train --animate``) and :mod:`xsq.cli.diagnose_animation`
(``xsq diagnose --animate``).
"""

from __future__ import annotations

import numpy as np
from matplotlib.animation import PillowWriter
from PIL import Image

from ..errors import PlotError
from .plots import plt

HOLD = 6  # frames the last one is shown for (a pause before the GIF loops; Pillow merges them into one)
FPS = 8
DPI = 72


def limits(values: np.ndarray, margin: float = 0.15) -> tuple[float, float]:
    """Axis limits around the finite ``values``, ``margin`` of their span beyond each end."""
    values = values[np.isfinite(values)]
    if not len(values):
        return -1.0, 1.0
    lo, hi = float(values.min()), float(values.max())
    pad = margin * (hi - lo) if hi > lo else max(abs(hi), 1.0) * margin
    return lo - pad, hi + pad


class _BlitWriter(PillowWriter):
    """A PillowWriter that takes each frame from the canvas as it stands (after blitting the artists that
    change onto a background drawn once) instead of redrawing the whole figure with ``savefig``: axes, ticks
    and legends are drawn once, not once per frame."""

    def grab_frame(self, **savefig_kwargs) -> None:
        rgba = np.array(self.fig.canvas.buffer_rgba(), copy=True)  # type: ignore[attr-defined]  # Agg's canvas
        self._frames.append(Image.fromarray(rgba, "RGBA"))  # type: ignore[attr-defined]  # PillowWriter's list


def save(fig, moving: list, frames: list, path: str, draw) -> None:
    """Draw each of ``frames`` with ``draw(frame)`` (which updates the ``moving`` artists only) and write
    the GIF to ``path``. What matplotlib raises while drawing is :class:`PlotError`; a file that cannot be
    written raises its OSError."""
    for artist in moving:
        artist.set_animated(True)
    writer = _BlitWriter(fps=FPS)
    canvas = fig.canvas
    writer.setup(fig, path, fig.dpi)
    try:
        canvas.draw()
        background = canvas.copy_from_bbox(fig.bbox)
        for frame in frames:
            draw(frame)
            canvas.restore_region(background)
            for artist in moving:
                fig.draw_artist(artist)
            writer.grab_frame()
    except (OverflowError, ValueError) as exc:
        raise PlotError(f"matplotlib could not draw these values ({exc})") from None
    except RuntimeError as exc:  # a configuration matplotlib cannot honour (TeX text without LaTeX, say)
        raise PlotError(f"matplotlib could not draw ({type(exc).__name__}: {exc})") from None
    else:
        writer.finish()  # written only when every frame was drawn
    finally:
        plt.close(fig)


def held(frames: list, hold: int = HOLD) -> list:
    """``frames`` with the last shown ``hold`` times."""
    return frames + [frames[-1]] * (hold - 1)
