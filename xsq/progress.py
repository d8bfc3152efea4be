"""Progress of a long run on stderr: a tqdm bar on a terminal, periodic plain lines otherwise.

A :class:`Progress` is a training callback (see :func:`xsq.fit`) and a
context manager; it never stops the run. The lines (every ``every`` seconds,
and the first epoch) suit logs and pipes, where a redrawn bar would not.
"""

from __future__ import annotations

import sys
from typing import TextIO

from tqdm import tqdm


class Progress:
    """Report ``info`` dicts (epoch, phase, train_loss, val_loss, elapsed) of up to ``total`` epochs."""

    def __init__(self, total: int, label: str = "train", every: float = 0.5, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.total, self.label, self.every, self.next = total, label, every, 0.0
        isatty = getattr(self.stream, "isatty", None)
        self.bar = (
            tqdm(total=total, desc=label, file=self.stream, leave=False, dynamic_ncols=True)
            if (isatty and isatty())
            else None
        )

    def __call__(self, info: dict) -> None:
        text = f"{info.get('phase', '')} train {info['train_loss']:.3e} val {info['val_loss']:.3e}"
        if self.bar is not None:
            self.bar.update(info["epoch"] - self.bar.n)
            self.bar.set_postfix_str(text, refresh=False)
        elif info["elapsed"] >= self.next or info["epoch"] == 0:
            self.next = info["elapsed"] + self.every
            print(
                f"{self.label} epoch {info['epoch']:>6}/{self.total}  {text}  {info['elapsed']:6.2f} s",
                file=self.stream,
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
