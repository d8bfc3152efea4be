"""Name what is wrong with a learner's gradient, array by array: the vocabulary of ``xsq check``, and the match.

:func:`classify` holds the learner's arrays against xsq's gradient and against what each known mistake
(:mod:`xsq.checks.mistakes`) would give. First each array is brought to the gradient's shape where its
numbers allow (axes of length one dropped; one row per sample summed; a transpose undone). Then the
explanation (the right gradient, or one mistake) that accounts for the most arrays with one common
positive factor is chosen: that factor is the learner's loss convention (1/2 for ½·squared error, N for a
sum over samples, ...), not a bug. What is left is named against it: another mistake, another factor, a
sign, a transpose, or ``wrong`` with the index of the largest difference.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Callable

import numpy as onp

from .mistakes import Mistakes

RTOL, ATOL = 1e-6, 1e-8  # gradcheck's tolerances against central differences (xsq.gradient_check)
SAME = 1e-6  # two factors are one convention within this relative difference
VERDICTS = (
    "ok scaled sign transposed not_summed shape missing_derivative derivative_of_output wrong_derivative "
    "wrong_input missing nonfinite wrong"
).split()


@dataclass(frozen=True)
class ParamVerdict:
    """One parameter array's verdict: ``shape`` is what the learner gave (None if nothing), ``expected`` the
    gradient's; ``factor`` a scale (the convention, or a bug's own factor against it); ``layer`` where a
    mistake was made; ``index`` the largest discrepancy of a ``wrong`` array; ``rel_diff`` the largest
    difference from xsq's gradient over its largest entry (None when the numbers cannot be lined up)."""

    name: str
    verdict: str
    message: str
    shape: tuple | None = None
    expected: tuple = ()
    factor: float | None = None
    layer: int | None = None
    index: tuple | None = None
    rel_diff: float | None = None

    def as_dict(self) -> dict:
        """The JSON entry of ``xsq check --json``."""
        index = None if self.index is None else [int(i) for i in self.index]
        return dict(verdict=self.verdict, factor=self.factor, layer=self.layer, index=index, message=self.message)


def conventions(N: int, m: int) -> list[tuple[float, str]]:
    """The common scale factors of a loss convention, with what each means, for N samples and m outputs."""
    mean = "where xsq's loss is their mean"
    named = [
        (0.5, "the gradient of ½·squared error, where xsq's loss has no ½"),
        (2.0, "twice the gradient"),
        (N / 2, f"N/2 = {N / 2:g}: the gradient of ½·the sum of squared errors over the samples, {mean}"),
        (float(N), f"N = {N}: a sum over the samples, {mean}"),
        (1 / N, f"1/N = 1/{N}: divided by the number of samples once more"),
        (float(m), f"m = {m}: a sum over the outputs, {mean}"),
        (1 / m, f"1/m = 1/{m}: divided by the number of outputs once more"),
        (N * m / 2, f"N·m/2 = {N * m / 2:g}: ½·the sum over every sample and output, {mean}"),
        (float(N * m), f"N·m = {N * m}: the sum over every sample and output, {mean}"),
    ]
    out: list[tuple[float, str]] = []
    for value, text in named:
        if not any(abs(value - v) <= SAME * v for v, _ in out):
            out.append((value, text))
    return out


def factor_text(c: float) -> str:
    """A factor as a short fraction when it is one (1/2, 4, 3/8), else in 4 significant digits."""
    f = Fraction(c).limit_denominator(64)
    if abs(float(f) - c) <= SAME * abs(c) and abs(f.numerator) < 10**6:
        return str(f)
    return f"{c:.4g}"


def _fit(a: onp.ndarray, e: onp.ndarray, scale: float) -> tuple[float | None, bool]:
    """The factor c that best gives ``a`` ≈ c·``e``, and whether it does within tolerance (c is None when ``e`` is
    all zero: then ``a`` matches any factor if it is zero too)."""
    ee = float(onp.sum(e * e))
    if ee == 0.0:
        return None, bool(onp.max(onp.abs(a), initial=0.0) <= ATOL * scale)
    c = float(onp.sum(a * e)) / ee
    return c, _close(a, c * e, scale * max(1.0, abs(c)))


def _close(a: onp.ndarray, b: onp.ndarray, scale: float) -> bool:
    """max |a - b| within RTOL of the larger array and ATOL of the whole gradient's size ``scale``."""
    if a.size == 0:
        return True
    top = max(float(onp.max(onp.abs(a))), float(onp.max(onp.abs(b))))
    return float(onp.max(onp.abs(a - b))) <= RTOL * top + ATOL * scale


def _squeezed(shape: tuple) -> tuple:
    return tuple(s for s in shape if s != 1)


def align(value, expected: tuple, N: int) -> tuple[onp.ndarray | None, str | None, tuple | None]:
    """The learner's array brought to the gradient's shape, if its numbers allow: (values or None, a verdict the
    shape alone settles or None, the shape given). One row per sample is summed (``not_summed``); a 2-D
    transpose is undone (``transposed``); axes of length one do not matter."""
    if value is None:
        return None, "missing", None
    try:
        a = onp.asarray(value)
        if onp.iscomplexobj(a) and onp.any(a.imag != 0):
            return None, "wrong", None
        a = onp.asarray(a.real if onp.iscomplexobj(a) else a, dtype=float)
    except Exception:  # not numbers (their object may raise anything while numpy reads it)
        return None, "wrong", None
    shape = a.shape
    if not onp.all(onp.isfinite(a)):
        return None, "nonfinite", shape
    if _squeezed(shape) == _squeezed(expected):
        return a.reshape(expected), None, shape
    if N > 1 and a.ndim >= 1 and shape[0] == N and _squeezed(shape[1:]) == _squeezed(expected):
        return a.sum(axis=0).reshape(expected), "not_summed", shape
    if a.ndim == 2 and len(expected) == 2 and shape == expected[::-1]:
        return a.T, "transposed", shape
    return None, "shape", shape


@dataclass(frozen=True)
class Explanation:
    """Which gradient (the right one when ``mistake`` is None) and convention ``factor`` the arrays follow."""

    mistake: Mistakes | None
    grads: Mapping
    factor: float
    explained: tuple


def explain(values: Mapping, options: list[tuple[Mistakes | None, Mapping]], scale: float, named: list) -> Explanation:
    """The option and positive factor that account for the most arrays; ties go to a named convention (or 1),
    then to the right gradient, then to 1. ``options[0]`` is the right gradient. (With one sample and one
    output, leaving out the output's slope scales every array alike: only the factor, unnamed, tells it from
    a convention.)"""
    best, best_key = Explanation(None, options[0][1], 1.0, ()), (0, True, True, True)
    for position, (mistake, grads) in enumerate(options):
        fits = {name: _fit(a, grads[name], scale) for name, a in values.items()}
        matched = {name: c for name, (c, ok) in fits.items() if ok}
        for c in sorted({c for c in matched.values() if c is not None and c > 0}) or [1.0]:  # [1.0]: zeros only
            members = tuple(n for n, f in matched.items() if f is None or abs(f - c) <= SAME * c)
            known = abs(c - 1) <= SAME or any(abs(c - v) <= SAME * v for v, _ in named)
            key = (len(members), known, position == 0, abs(c - 1) <= SAME)
            if key > best_key:
                best, best_key = Explanation(mistake, grads, c, members), key
    return best


Describe = Callable  # (a Mistake) -> what to change, in one sentence
