"""Progress of a long run on stderr: a tqdm bar on a terminal, periodic plain lines otherwise.

A :class:`Progress` is a training callback (see :func:`xsq.fit`) and a
context manager; it never stops the run. Each ``info`` dict has the
``epoch`` (or other unit), the ``total`` allowed, the ``phase``, the losses
(or a ``text`` to show instead) and the ``elapsed`` seconds, and (in a
staged fit) the ``stage``, or (for a wider second network, :mod:`xsq.training.wider`) the ``network``: each
stage and network gets a bar, or lines, of its own. The lines (every ``every`` seconds, and each
stage's first epoch) suit logs and pipes, where a redrawn bar would not.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from typing import Any, TextIO

from tqdm import tqdm


class Progress:
    """Report the ``info`` dicts of a training run (see the module docstring)."""

    def __init__(self, label: str = "train", unit: str = "epoch", every: float = 0.5, stream: TextIO | None = None):
        self.stream = stream or sys.stderr
        self.label, self.unit, self.every, self.next = label, unit, every, 0.0
        self.terminal = bool(getattr(self.stream, "isatty", lambda: False)())
        self.bar: tqdm | None = None
        self.part: tuple = (None, None)  # the (stage, network) reported last

    def _name(self, info: Mapping[str, Any]) -> str:
        if "stage" in info:
            return f"{self.label} stage {info['stage']}"
        return f"{self.label} network {info['network']}" if "network" in info else self.label

    def __call__(self, info: Mapping[str, Any]) -> None:
        """Show ``info``: a training run's :class:`~xsq.training.loop.EpochInfo`, a diagnosis's
        :class:`~xsq.lab.diagnose.PartInfo`, or a sweep's cell (the keys in the module docstring)."""
        text = info.get("text") or f"{info.get('phase', '')} train {info['train_loss']:.3e} val {info['val_loss']:.3e}"
        part = (info.get("stage"), info.get("network"))
        new_part = part != self.part
        self.part = part
        if self.terminal:
            if new_part or self.bar is None:
                self.close()
                self.bar = tqdm(
                    total=info.get("total") or None,
                    desc=self._name(info),
                    file=self.stream,
                    leave=False,
                    dynamic_ncols=True,
                )
            self.bar.update(info["epoch"] - self.bar.n)
            self.bar.set_postfix_str(text, refresh=False)
        elif new_part or info["elapsed"] >= self.next or info["epoch"] == 0:
            self.next = info["elapsed"] + self.every
            of = f"/{info['total']}" if info.get("total") else ""
            print(
                f"{self._name(info)} {self.unit} {info['epoch']:>6}{of}  {text}  {info['elapsed']:6.2f} s",
                file=self.stream,
                flush=True,
            )

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
