"""Declarative constraints on settings: one check serves the Python API and the command line.

Each constraint checks a Python value (``check(value, name)``, returning it
normalised: ``16.0`` becomes ``16`` for a whole number) and reads one from
command-line text (``parse(text, name)``). Both raise :class:`InputError` with
a message that names the setting and what it must be. In the spirit of
scikit-learn's ``_parameter_constraints``. Every kind of constraint lives here,
one small class each, so that there is one place to look.
"""

from __future__ import annotations

import math
import numbers
import reprlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from .errors import InputError


def _real(value) -> float | None:
    """``value`` as a float if it is a real number (not bool, not str), else None."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        return None
    try:
        return float(value)
    except (TypeError, ValueError, OverflowError):
        return None


def shorten(text: str, most: int = 60) -> str:
    """``text`` cut to ``most`` characters, ending in "..." when cut (a value to show may be any size)."""
    return text if len(text) <= most else text[: most - 3] + "..."


def _read_with(reader: Callable[[str], Any], text: str) -> Any:
    """``reader(text)``, or None when the text cannot be read (``reader`` raises ValueError)."""
    try:
        return reader(text)
    except ValueError:
        return None


def _sizes(text: str) -> tuple[int, ...]:
    return tuple(int(s) for s in text.split(",")) if text.strip() else ()


_REPR = reprlib.Repr()
_REPR.maxstring = _REPR.maxother = 100  # a long list or text is cut before it is rendered whole
_REPR.maxlong = 5000  # numbers whole (then cut at the end, as every value is)


def shown(value: Any) -> str:
    """``value`` as a message quotes it: one line of printable characters, at most 60 of them, and never an
    error of its own (a value whose repr fails is named by its type)."""
    try:
        text = _REPR.repr(value)
    except Exception:
        text = f"<{type(value).__name__} object>"
    text = "".join(c if c.isprintable() else " " for c in str(text))
    return shorten(" ".join(text.split()))


NAME_CHARS = 1000  # the longest column name a data file or a model may hold ...
NAMES_CHARS = 100_000  # ... and all of them together (a model file's metadata keeps them: it is bounded)


def names_problem(names: Any) -> str | None:
    """What is wrong with ``names`` as a list of column names (non-empty, printable, distinct, bounded strings), or
    None when nothing is."""
    if not isinstance(names, (list, tuple)) or not all(isinstance(name, str) for name in names):
        return "are not a list of column names"
    bad = [name for name in names if not name or len(name) > NAME_CHARS or not name.isprintable()]
    if bad:
        return f"hold {shown(bad[0])}: a name must be 1 to {NAME_CHARS} printable characters"
    if len(set(names)) < len(names):
        return f"name the column {shown(next(name for name in names if names.count(name) > 1))} twice"
    if sum(map(len, names)) > NAMES_CHARS:
        return f"hold more than {NAMES_CHARS} characters in all"
    return None


def read_number(text: str) -> float | None:
    """``text`` as a float (the notations Python reads, inf and nan included, but not ``1_000``), or None."""
    return None if "_" in text else _read_with(float, text)


class Constraint:
    """What a setting must be: ``describe()`` says it, ``check`` and ``parse`` enforce it."""

    def describe(self) -> str:
        raise NotImplementedError

    def ok(self, value) -> Any:
        """The normalised value, or None when ``value`` does not qualify."""
        raise NotImplementedError

    def read(self, text: str) -> Any:
        """Command-line text as a Python value (None when it cannot be read)."""
        return read_number(text)

    def check(self, value, name: str = ""):
        """``value`` normalised, or an :class:`InputError` naming ``name`` and the requirement."""
        out = self.ok(value)
        if out is None:
            raise InputError(f"{name} must be {self.describe()}, got {shown(value)}".lstrip())
        return out

    def parse(self, text: str, name: str = ""):
        """Command-line text, read and checked; the error quotes the text as typed."""
        value = self.read(text)
        out = None if value is None else self.ok(value)
        if out is None:
            raise InputError(f"{name} must be {self.describe()}, got {shorten(repr(text))}".lstrip())
        return out


@dataclass(frozen=True)
class Flag(Constraint):
    """True or False (numpy's booleans too, as Python's)."""

    def describe(self) -> str:
        return "True or False"

    def ok(self, value):
        return bool(value) if isinstance(value, (bool, np.bool_)) else None

    def read(self, text: str):
        return {"true": True, "false": False}.get(text.strip().lower())


@dataclass(frozen=True)
class Whole(Constraint):
    """A whole number in [low, high] (``16.0`` counts; ``16.5``, ``True`` and ``"16"`` do not)."""

    low: int
    high: int | None = None

    def describe(self) -> str:
        return f"a whole number >= {self.low}" + (f" and <= {self.high}" if self.high is not None else "")

    def ok(self, value):
        if isinstance(value, numbers.Integral) and not isinstance(value, bool):
            v = int(value)  # exact, however large (a seed, say)
        else:
            f = _real(value)
            v = int(f) if f is not None and math.isfinite(f) and f.is_integer() else None
        if v is None or v < self.low or (self.high is not None and v > self.high):
            return None
        return v

    def read(self, text: str):
        return _read_with(int, text)


@dataclass(frozen=True)
class Seed(Constraint):
    """A whole number >= 0, or a ``numpy.random.Generator`` to continue."""

    def describe(self) -> str:
        return "a whole number >= 0 or a numpy.random.Generator"

    def ok(self, value):
        return value if isinstance(value, np.random.Generator) else Whole(0).ok(value)

    def read(self, text: str):
        return Whole(0).read(text)


@dataclass(frozen=True)
class Real(Constraint):
    """A finite real number between ``low`` and ``high`` (either end open or closed, or absent)."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    def describe(self) -> str:
        parts = []
        if self.low is not None:
            parts.append(f"{'>' if self.low_open else '>='} {self.low:g}")
        if self.high is not None:
            parts.append(f"{'<' if self.high_open else '<='} {self.high:g}")
        return "a finite number" + (" " + " and ".join(parts) if parts else "")

    def ok(self, value):
        v = _real(value)
        if v is None or not math.isfinite(v):
            return None
        if self.low is not None and (v < self.low or (self.low_open and v == self.low)):
            return None
        if self.high is not None and (v > self.high or (self.high_open and v == self.high)):
            return None
        return v


@dataclass(frozen=True)
class Text(Constraint):
    """A string of at most ``most`` characters."""

    most: int

    def describe(self) -> str:
        return f"text of at most {self.most} characters"

    def ok(self, value):
        return value if isinstance(value, str) and len(value) <= self.most else None

    def read(self, text: str):
        return text


@dataclass(frozen=True)
class Options(Constraint):
    """One of a fixed set of names."""

    names: tuple[str, ...]

    def describe(self) -> str:
        return "one of: " + ", ".join(self.names)

    def ok(self, value):
        return value if isinstance(value, str) and value in self.names else None

    def read(self, text: str):
        return text


@dataclass(frozen=True)
class Sizes(Constraint):
    """A sequence of whole numbers >= 1 (layer sizes), at least ``min_len`` of them."""

    min_len: int = 0
    max_size: int | None = None

    def describe(self) -> str:
        most = f" and <= {self.max_size}" if self.max_size is not None else ""
        count = {0: "a list of", 1: "one or more"}.get(self.min_len, f"at least {self.min_len}")
        return f"{count} whole numbers >= 1{most}"

    def ok(self, value):
        if isinstance(value, numbers.Real) and not isinstance(value, bool):
            value = (value,)
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or len(value) < self.min_len:
            return None
        whole = Whole(1, self.max_size)
        sizes = tuple(whole.ok(v) for v in value)
        return None if any(s is None for s in sizes) else sizes

    def read(self, text: str):
        return _read_with(_sizes, text)


@dataclass(frozen=True)
class Maybe(Constraint):
    """None, or what ``inner`` accepts."""

    inner: Constraint

    def ok(self, value):
        return self.inner.ok(value)  # None itself is let through by check, not here

    def describe(self) -> str:
        return f"None or {self.inner.describe()}"

    def check(self, value, name: str = ""):
        return None if value is None else self.inner.check(value, name)

    def parse(self, text: str, name: str = ""):
        return self.inner.parse(text, name)


MAX_LOG_RANGE = 10_000  # values of an a:b:n range


@dataclass(frozen=True)
class Axis(Constraint):
    """A comma-separated, non-empty list of distinct values, each what ``inner`` accepts.

    With ``log_range``, ``a:b:n`` also reads as n values spaced evenly in log
    from a to b (e.g. ``1e-6:10:15``).
    """

    inner: Constraint
    log_range: bool = False

    def describe(self) -> str:
        extra = (
            f" (or a:b:n, n values from a to b spaced evenly in log, n at most {MAX_LOG_RANGE})"
            if self.log_range
            else ""
        )
        return f"a comma-separated list of distinct values, each {self.inner.describe()}{extra}"

    def ok(self, value):
        if isinstance(value, (str, bytes)) or not hasattr(value, "__len__") or not len(value):
            return None
        out = tuple(self.inner.ok(v) for v in value)
        return None if any(v is None for v in out) or len(set(out)) != len(out) else out

    def read(self, text: str):
        if self.log_range and text.count(":") == 2:
            a, b, n = (read_number(part) for part in text.split(":"))
            whole = Whole(1, MAX_LOG_RANGE).ok(n) if n is not None else None
            if a is None or b is None or whole is None or not (0 < a and 0 < b and math.isfinite(a * b)):
                return None
            step = (math.log10(b) - math.log10(a)) / max(whole - 1, 1)
            return tuple(float(10.0 ** (math.log10(a) + i * step)) for i in range(whole))
        parts = [p.strip() for p in text.split(",")]
        values = [self.inner.read(p) for p in parts]
        return None if any(v is None for v in values) else tuple(values)


def quoted_name(name: str) -> str:
    """A column name as a list of them shows it: in quotes where a comma or an edge space would blur it."""
    return repr(name) if "," in name or name != name.strip() else name
