"""The kinds of error xsq raises, so that callers (and the CLI) can tell them apart.

* :class:`InputError`: the user's input is wrong (an argument, a file, a
  setting). A ``ValueError``, so ``except ValueError`` still catches it; the
  CLI reports it in one line and exits with status 2.
* :class:`TrainingFailed` and its kinds :class:`TrainingDiverged` and
  :class:`TrainingStalled`: the input was fine but training did not produce a
  model worth keeping. They carry the training record up to the failure. The
  CLI exits with status 1 and writes no model.
* :class:`PlotError`: matplotlib could not be loaded, or could not lay out a figure's values (near
  float64's limit, say); the run itself is fine and is saved without plots.

Anything else that escapes xsq is a bug in xsq.
"""

from __future__ import annotations

from typing import Any


class InputError(ValueError):
    """The user's input is wrong; the message names what and how."""


class PlotError(Exception):
    """matplotlib could not be loaded, or could not draw these values; the message says which, and why.
    ``drawn`` holds the plots (PNG bytes by file name) that were drawn nonetheless, ``skipped`` the names of
    those that were not (empty when none was attempted)."""

    def __init__(self, message: str, drawn: dict | None = None, skipped: tuple[str, ...] = ()):
        super().__init__(message)
        self.drawn, self.skipped = dict(drawn or {}), tuple(skipped)


class TrainingFailed(RuntimeError):
    """Training ran but produced no model worth keeping; ``record`` is its history up to the failure."""

    def __init__(self, message: str, record: Any = None):
        super().__init__(message)
        self.record = record


class TrainingDiverged(TrainingFailed):
    """The loss or a parameter stopped being finite, or the loss blew up and never came back."""


class TrainingStalled(TrainingFailed):
    """Training ended without learning: its best loss is no real improvement.

    ``params`` and (from :func:`xsq.fit`) ``model`` are what it kept
    nonetheless, for a caller that would rather warn than stop, as
    scikit-learn's estimators do.
    """

    def __init__(self, message: str, record: Any = None, params: Any = None, model: Any = None):
        super().__init__(message, record)
        self.params, self.model = params, model
