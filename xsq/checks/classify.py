"""One check of a learner's gradient: every array's verdict (:mod:`xsq.checks.verdicts`), in one pass.

:func:`classify` takes what the learner's code gave for one batch, xsq's gradient, and what each known
mistake would give, and returns a :class:`Check`: its batch size, what the learner's code raised (if it
did), each array's :class:`~xsq.checks.verdicts.ParamVerdict`, and the check's overall verdict
(``ok``, ``consistent``: every array the same positive factor of the gradient, or ``wrong``).
"""

from __future__ import annotations

import ast
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np

from .learner_file import Raised
from .mistakes import Mistakes, responsible
from .verdicts import (
    Describe,
    Explanation,
    Named,
    ParamVerdict,
    _close,
    _fit,
    align,
    conventions,
    explain,
    factor_text,
    is_named,
    same,
)

# numpy's words for an in-place update whose right side has more rows than the array: (array, broadcast) shapes
NOT_BROADCAST = re.compile(r"operand with shape \(([\d, ]*)\) doesn't match the broadcast shape \(([\d, ]*)\)")


Overall = Literal["ok", "consistent", "wrong"]  # a check's verdict over every array


@dataclass(frozen=True)
class Check:
    """One check: ``batch`` samples, ``raised`` (None, or what their code raised), each array's verdict."""

    batch: int
    raised: Raised | None
    params: dict[str, ParamVerdict] = field(default_factory=dict)
    overall: Overall = "ok"
    factor: float = 1.0  # the convention: the positive factor of the gradient that most arrays share

    def as_dict(self) -> dict:
        """The JSON entry of ``xsq check --json``."""
        raised = None if self.raised is None else dict(vars(self.raised))
        return dict(batch=self.batch, raised=raised, params={k: v.as_dict() for k, v in self.params.items()})


def _snap(c: float, named: Named) -> float:
    """c as the named convention (or 1) it is within rounding of, else c."""
    return next((v for v in [1.0] + [v for v, _ in named] if same(c, v)), c)


def _convention(c: float, named: Named) -> str:
    return next((text for v, text in named if v == c), f"{factor_text(c)} × the gradient")


def classify(
    given: Mapping,
    reference: Mapping,
    options: Sequence[tuple[Mistakes, Mapping]],
    describe: Describe,
    batch: int,
    outputs: int,
    raised: Raised | None = None,
    failed: tuple[str, str] | None = None,
    absent: str = "is not returned",
) -> Check:
    """The verdicts for ``given`` (the learner's arrays by name; absent ones are missing) against ``reference``
    (xsq's gradient) and ``options`` (each known mistake and what it gives). ``failed`` is (array, the update
    it raised on, as written) when their code raised while updating that array; ``absent`` says how an array
    they did not give is described."""
    named = conventions(batch, outputs)
    scale = max((float(np.max(np.abs(r), initial=0.0)) for r in reference.values()), default=0.0) or 1.0
    aligned = {k: align(given.get(k), np.shape(r), batch) for k, r in reference.items()}
    values = {k: a for k, (a, kind, _) in aligned.items() if a is not None and kind is None}
    best = explain(values, [(None, reference), *options], scale, named)
    if not best.explained and values:  # every array against the gradient: the convention is what the signs hide
        flipped = explain({k: -a for k, a in values.items()}, [(None, reference), *options], scale, named)
        best = Explanation(flipped.mistake, flipped.grads, flipped.factor, ())
    c0 = _snap(best.factor, named)
    out: dict[str, ParamVerdict] = {}
    for name, ref in reference.items():
        a, kind, shape = aligned[name]
        common = dict(name=name, shape=shape, expected=np.shape(ref))
        if a is not None:  # from the gradient under the convention the arrays share
            top = max(float(np.max(np.abs(c0 * ref), initial=0.0)), 1e-300)
            common["rel_diff"] = float(np.max(np.abs(a - c0 * ref), initial=0.0)) / top
        out[name] = _one(name, a, kind, common, best, c0, reference, options, describe, scale, named, values)
    if failed is not None and raised is not None:
        out[failed[0]] = _failed(failed, raised, out[failed[0]], batch)
    for name, v in out.items():
        if v.verdict == "missing":
            where = f"line {raised.line}" if raised and raised.line else "your code"
            text = f"{name} was not reached: {where} raised first" if raised else f"{name} {absent}"
            out[name] = replace(v, message=text)
    verdicts = {v.verdict for v in out.values()}
    overall: Overall
    if raised is None and verdicts <= {"ok"}:
        overall = "ok"
    elif raised is None and verdicts <= {"ok", "scaled"} and all(v.factor in (None, c0) for v in out.values()):
        overall = "consistent"
    else:
        overall = "wrong"
    return Check(batch, raised, out, overall, c0)


def _one(name, a, kind, common, best, c0, reference, options, describe, scale, named, values) -> ParamVerdict:
    """The verdict for one array (see :func:`classify`)."""
    shape, expected = common["shape"], common["expected"]
    conv = None if c0 == 1.0 else c0
    if kind == "missing":
        return ParamVerdict(verdict="missing", message=f"{name} is not returned", **common)
    if kind == "nonfinite":
        return ParamVerdict(verdict="nonfinite", message=f"{name} holds NaN or inf", **common)
    if kind == "wrong" and a is None:
        return ParamVerdict(verdict="wrong", message=f"{name} is not an array of numbers", **common)
    if kind == "shape":
        return ParamVerdict(
            verdict="shape", message=f"{name} has shape {shape}; the gradient has shape {expected}", **common
        )
    if kind == "not_summed":
        i = name[1:]
        fix = f"use dZ{i}.sum(axis=0)" if name.startswith("b") and i.isdigit() else "sum it over the samples"
        message = f"{name} has one row per sample, shape {shape}; the gradient sums over the samples: {fix}"
        return ParamVerdict(verdict="not_summed", message=message, **common)
    if kind == "transposed":
        i = name[1:]
        fix = f"use {_inputs(i)}.T @ dZ{i}" if name.startswith("W") and i.isdigit() else "transpose it"
        message = f"{name} is transposed, shape {shape}; the gradient has shape {expected}: {fix}"
        return ParamVerdict(verdict="transposed", message=message, **common)
    if name in best.explained:
        if best.mistake is None or _close(best.grads[name], reference[name], scale):
            if conv is None:
                return ParamVerdict(verdict="ok", message=f"{name} matches the gradient", **common)
            text = f"{name} is {factor_text(c0)} × the gradient: {_convention(c0, named)}"
            return ParamVerdict(verdict="scaled", factor=conv, message=text, **common)
        return _mistake(best.mistake, describe, conv, common)
    for mistake, grads in options:  # another mistake, under the same convention
        if (
            _close(a, c0 * grads[name], scale * c0)
            and not _close(grads[name], reference[name], scale)
            and not _close(grads[name], 0 * grads[name], scale)  # zeros (relu's slope, say) explain nothing
        ):
            return _mistake(mistake, describe, conv, common)
    c, ok = _fit(a, best.grads[name], scale)
    lone = np.count_nonzero(a) <= 1  # one number is some factor of any other: only a named one means something
    if ok and c is not None and c < 0 and (not lone or is_named(-c / c0, named) or same(-c / c0, 1.0)):
        message = f"{name} has the opposite sign: step down the gradient, parameter -= learning rate × gradient"
        return ParamVerdict(verdict="sign", factor=_snap(-c / c0, named) * -1, message=message, **common)
    if ok and c is not None and c > 0 and (not lone or is_named(c / c0, named)):
        f = _snap(c / c0, named)
        text = f"{name} is {factor_text(f)} × what the other arrays give ({_convention(f, named)}): remove that factor"
        return ParamVerdict(verdict="scaled", factor=f, message=text, **common)
    if a.ndim == 2 and a.shape[0] == a.shape[1] and _close(a.T, c0 * best.grads[name], scale * c0):
        message = f"{name} is transposed: use {_inputs(name[1:])}.T @ dZ{name[1:]}"
        return ParamVerdict(verdict="transposed", message=message, **common)
    gap = np.abs(a - c0 * best.grads[name])
    index = np.unravel_index(int(np.argmax(gap)), shape or a.shape)
    at = tuple(int(i) for i in index)
    flat = a.ravel()[int(np.argmax(gap))]
    want = (c0 * best.grads[name]).ravel()[int(np.argmax(gap))]
    message = (
        f"{name} differs most at {list(at)}: {flat:.6g} where the gradient is {want:.6g}; no known mistake explains it"
    )
    return ParamVerdict(verdict="wrong", index=at, message=message, **common)


def _inputs(i: str) -> str:
    """What layer i's weights multiply: X for the first layer, A_{i-1} after it."""
    return "X" if i == "1" else f"A{int(i) - 1}"


def _mistake(made: Mistakes, describe: Describe, conv: float | None, common: dict) -> ParamVerdict:
    """The verdict for an array the mistakes ``made`` explain: the one at its layer, or the nearest above."""
    name = common["name"]
    mistake = responsible(made, int(name[1:]))
    layer = mistake.layer
    message = f"{name}: {describe(mistake)}"
    return ParamVerdict(verdict=mistake.kind, factor=conv, layer=layer, message=message, **common)


def _term(statement: str) -> str:
    """The gradient term of an update ``p -= rate * term`` as written (the whole right side if not a product)."""
    try:
        node = ast.parse(statement).body[0]
    except (SyntaxError, IndexError):
        return "it"
    value = getattr(node, "value", None)
    if isinstance(value, ast.BinOp) and isinstance(value.op, ast.Mult):
        value = value.right
    return ast.unparse(value) if value is not None else "it"


def _failed(failed: tuple[str, str], raised: Raised, before: ParamVerdict, batch: int) -> ParamVerdict:
    """The verdict for the array whose update raised: ``not_summed`` when numpy could not fit one row per
    sample into it, else ``wrong``, naming the line either way."""
    name, statement = failed
    found = NOT_BROADCAST.search(raised.message)
    line = f"line {raised.line} ({statement})"
    if found and found.group(2).split(",")[0].strip() == str(batch) and batch > 1:
        rows, shape = (tuple(int(n) for n in found.group(g).split(",") if n.strip()) for g in (2, 1))
        message = (
            f"{line} fails on a batch: its update has one row per sample, shape {rows}, where {name} has shape "
            f"{shape}; the gradient sums over the samples: use {_term(statement)}.sum(axis=0, keepdims=True)"
        )
        return replace(before, verdict="not_summed", message=message, shape=rows)
    message = f"{line} raised {raised.type}: {raised.message}"
    return replace(before, verdict="wrong", message=message)
