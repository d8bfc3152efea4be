"""The vocabulary of ``xsq check`` and the matching its verdicts rest on (:mod:`xsq.checks.classify` gives them).

A :class:`ParamVerdict` is one array's verdict. :func:`align` brings a learner's array to the gradient's
shape where its numbers allow (axes of length one dropped; one row per sample summed; a transpose undone).
:func:`explain` picks the explanation (the right gradient, or one mistake of :mod:`xsq.checks.mistakes`) that
accounts for the most arrays with one common positive factor: that factor is the learner's loss convention
(:func:`conventions`: 1/2 for ½·squared error, N for a sum over samples, ...), not a bug.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from fractions import Fraction
from typing import Literal, get_args

import numpy as np

from .gradient_check import ATOL_FD as ATOL
from .gradient_check import RTOL_FD as RTOL  # xsq gradcheck's tolerances against central differences
from .mistakes import Mistake, Mistakes

SAME = 1e-6  # two factors are one convention within this relative difference
Verdict = Literal[
    "ok", "scaled", "sign", "transposed", "not_summed", "shape", "missing_derivative", "derivative_of_output",
    "wrong_derivative", "wrong_input", "missing", "nonfinite", "wrong",
]  # fmt: skip
VERDICTS: tuple[str, ...] = get_args(Verdict)
Named = list[tuple[float, str]]  # the conventions a factor may stand for, each with what it means


def same(c: float, v: float) -> bool:
    """Whether the factors c and v are one within rounding (relative to v)."""
    return abs(c - v) <= SAME * abs(v)


def is_named(c: float, named: Named) -> bool:
    """Whether c is one of the ``named`` conventions."""
    return any(same(c, v) for v, _ in named)


@dataclass(frozen=True)
class ParamVerdict:
    """One parameter array's verdict: ``shape`` is what the learner gave (None if nothing), ``expected`` the
    gradient's; ``factor`` a scale (the convention, or a bug's own factor against it); ``layer`` where a
    mistake was made; ``index`` the largest discrepancy of a ``wrong`` array; ``rel_diff`` the largest
    difference from xsq's gradient over its largest entry (None when the numbers cannot be lined up)."""

    name: str
    verdict: Verdict
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


def conventions(N: int, m: int) -> Named:
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
    out: Named = []
    for value, text in named:
        if not is_named(value, out):
            out.append((value, text))
    return out


def factor_text(c: float) -> str:
    """A factor as a short fraction when it is one (1/2, 4, 3/8), else in 4 significant digits."""
    f = Fraction(c).limit_denominator(64)
    if same(float(f), c) and abs(f.numerator) < 10**6:
        return str(f)
    return f"{c:.4g}"


def _fit(a: np.ndarray, e: np.ndarray, scale: float) -> tuple[float | None, bool]:
    """The factor c that best gives ``a`` ≈ c·``e``, and whether it does within tolerance (c is None when ``e`` is
    all zero: then ``a`` matches any factor if it is zero too)."""
    # (the ndarray methods compute what np.sum and np.max do, without their dispatch: the check calls these
    # for every array of every mistake it tries)
    ee = float((e * e).sum())
    if ee == 0.0:
        return None, bool(np.abs(a).max(initial=0.0) <= ATOL * scale)
    c = float((a * e).sum()) / ee
    return c, _close(a, c * e, scale * max(1.0, abs(c)))


def _close(a: np.ndarray, b: np.ndarray, scale: float) -> bool:
    """max |a - b| within RTOL of the larger array and ATOL of the whole gradient's size ``scale``."""
    if a.size == 0:
        return True
    top = max(float(np.abs(a).max()), float(np.abs(b).max()))
    return float(np.abs(a - b).max()) <= RTOL * top + ATOL * scale


def _squeezed(shape: tuple) -> tuple:
    return tuple(s for s in shape if s != 1)


def align(value, expected: tuple, N: int) -> tuple[np.ndarray | None, str | None, tuple | None]:
    """The learner's array brought to the gradient's shape, if its numbers allow: (values or None, a verdict the
    shape alone settles or None, the shape given). One row per sample is summed (``not_summed``); a 2-D
    transpose is undone (``transposed``); axes of length one do not matter."""
    if value is None:
        return None, "missing", None
    try:
        a = np.asarray(value)
        if np.iscomplexobj(a) and np.any(a.imag != 0):
            return None, "wrong", None
        a = np.asarray(a.real if np.iscomplexobj(a) else a, dtype=float)
    except Exception:  # not numbers (their object may raise anything while numpy reads it)
        return None, "wrong", None
    shape = a.shape
    if not np.all(np.isfinite(a)):
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


def explain(values: Mapping, options: list[tuple[Mistakes | None, Mapping]], scale: float, named: Named) -> Explanation:
    """The option and positive factor that account for the most arrays; ties go to a named convention (or 1),
    then to the right gradient, then to 1. ``options[0]`` is the right gradient. (With one sample and one
    output, leaving out the output's slope scales every array alike: only the factor, unnamed, tells it from
    a convention.)"""
    best, best_key = Explanation(None, options[0][1], 1.0, ()), (0, True, True, True)
    for position, (mistake, grads) in enumerate(options):
        fits = {name: _fit(a, grads[name], scale) for name, a in values.items()}
        matched = {name: c for name, (c, ok) in fits.items() if ok}
        for c in sorted({c for c in matched.values() if c is not None and c > 0}) or [1.0]:  # [1.0]: zeros only
            members = tuple(n for n, f in matched.items() if f is None or same(f, c))
            known = same(c, 1.0) or is_named(c, named)
            key = (len(members), known, position == 0, same(c, 1.0))
            if key > best_key:
                best, best_key = Explanation(mistake, grads, c, members), key
    return best


Describe = Callable[[Mistake], str]  # what to change for a mistake, in one sentence
