"""The standard problem: a target function of x on a domain [low, high], and how it is sampled and scored.

``xsq train`` fits ``Problem(target, low, high)`` (by default x**2 on [1, 100]):
training inputs are drawn uniformly from the domain, the fit is scored on an
evenly spaced grid of ``GRID_POINTS`` points of it, and extrapolation is
scored on ``extrapolation_ranges`` either side. A problem checks itself when
built: a domain float64 cannot resolve, or a target that overflows,
underflows or is undefined on the domain, is refused with an :class:`InputError`.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass

import numpy as np
from autograd import elementwise_grad

from ..errors import InputError
from ..validation import Real, shorten
from .expr import Expression, compile_expression

DRAWN = 1000  # inputs drawn from a target's domain to train on, unless told (xsq train --n, xsq diagnose)
GRID_POINTS = 2001
EXTRAPOLATION_POINTS = 500
SAMPLE_POINTS = (1.0, 2.0, 10.0, 50.0, 99.0, 100.0)
MIN_FLOATS = 10**6  # a domain must hold at least this many float64 numbers
LABEL_LENGTH = 40  # characters of a target's name shown in tables and plots
X_SQUARED = compile_expression("x**2")
_FLOAT_ERRORS = {
    "overflow": "overflows float64",
    "underflow": "underflows float64 (values below 2.2e-308 round towards 0)",
    "invalid": "is undefined (NaN) somewhere",
    "divide": "divides by zero somewhere",
}


@dataclass(frozen=True)
class Problem:
    """Learn ``target`` on [low, high]."""

    target: Expression = X_SQUARED
    low: float = 1.0
    high: float = 100.0

    def __post_init__(self):
        low, high = Real().check(self.low, "low"), Real().check(self.high, "high")
        if not low < high:
            raise InputError(f"low must be below high, got low={low:g} high={high:g}")
        object.__setattr__(self, "low", low)
        object.__setattr__(self, "high", high)
        (lo, _), (_, hi) = self.extrapolation_ranges()  # Python floats: an overflow is inf, not an error
        if not math.isfinite(hi - lo):  # the whole span that is evaluated and plotted
            raise InputError(
                f"the domain [{low:g}, {high:g}] is too wide for float64 (its extrapolation ranges overflow)"
            )
        width = high - low
        floats = width / np.spacing(max(abs(low), abs(high)))
        if floats < MIN_FLOATS:
            raise InputError(
                f"the domain [{low:g}, {high:g}] is too narrow for float64: it holds only about {floats:.3g} "
                f"distinct numbers (at least {MIN_FLOATS:g} are needed)"
            )
        grid = self.grid()
        self.values(np.array(self.sample_points()))  # every point xsq evaluates the target at on the domain
        y = self.values(grid)
        if np.all(y == y[0]):
            raise InputError(f"{self.name} is constant ({y[0]:g}) on [{low:g}, {high:g}]: there is nothing to learn")

    @property
    def name(self) -> str:
        """The target as written, e.g. ``x**2``."""
        return self.target.text

    @property
    def label(self) -> str:
        """The name, cut to ``LABEL_LENGTH`` characters for table headings and plot legends."""
        return shorten(self.name, LABEL_LENGTH)

    def values(self, x: np.ndarray) -> np.ndarray:
        """The target at x (any shape), refusing overflow, underflow and undefined values."""
        try:
            with np.errstate(all="raise"):
                y = np.asarray(self.target(x), dtype=float)
        except FloatingPointError as exc:
            what = next((v for k, v in _FLOAT_ERRORS.items() if k in str(exc)), "fails in float64")
            raise InputError(f"{self.name} {what} on [{self.low:g}, {self.high:g}]") from None
        if not np.all(np.isfinite(y)):
            raise InputError(f"{self.name} is not finite everywhere on [{self.low:g}, {self.high:g}]")
        return y

    def values_where_defined(self, x: np.ndarray) -> np.ndarray:
        """The target at x, NaN wherever it is not a finite number (for scoring beyond the domain)."""
        with np.errstate(all="ignore"):
            y = np.asarray(self.target(x), dtype=float)
        return np.where(np.isfinite(y), y, np.nan)

    def slopes(self, x: np.ndarray) -> np.ndarray:
        """The target's derivative at x, by autograd (NaN where it is not finite)."""
        with np.errstate(all="ignore"), warnings.catch_warnings():
            warnings.filterwarnings("ignore", "Output seems independent of input")  # a constant part's slope is 0
            d = np.asarray(elementwise_grad(self.target)(np.asarray(x, dtype=float)), dtype=float)
        return np.where(np.isfinite(d), d, np.nan)

    def draw(self, n: int, seed: int) -> tuple[np.ndarray, np.random.Generator]:
        """``n`` inputs drawn uniformly from [low, high], and the generator, to hand on to :func:`xsq.fit`
        (so that data and training take different random numbers)."""
        rng = np.random.default_rng(seed)
        return rng.uniform(self.low, self.high, n), rng

    def grid(self, points: int = GRID_POINTS) -> np.ndarray:
        """``points`` evenly spaced inputs from low to high."""
        return np.linspace(self.low, self.high, points)

    def extrapolation_ranges(self) -> tuple[tuple[float, float], tuple[float, float]]:
        """[0.5 low, low) and (high, 1.5 high] for a positive domain; half its width either side otherwise."""
        if self.low > 0:
            return (0.5 * self.low, self.low), (self.high, 1.5 * self.high)
        half = 0.5 * (self.high - self.low)
        return (self.low - half, self.low), (self.high, self.high + half)

    def extrapolation_grids(self) -> tuple[np.ndarray, np.ndarray]:
        """``EXTRAPOLATION_POINTS`` inputs in each extrapolation range (the domain's own ends excluded)."""
        (lo, _), (_, hi) = self.extrapolation_ranges()
        below = np.linspace(lo, self.low, EXTRAPOLATION_POINTS, endpoint=False)
        above = np.linspace(self.high, hi, EXTRAPOLATION_POINTS + 1)[1:]
        return below, above

    def sample_points(self) -> list[float]:
        """A few telling inputs: the standard ones inside the domain, its ends and its middle."""
        inside = {x for x in SAMPLE_POINTS if self.low <= x <= self.high}
        return sorted(inside | {self.low, (self.low + self.high) / 2, self.high})
