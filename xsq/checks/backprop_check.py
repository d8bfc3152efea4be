"""``check_backprop``: run a learner's gradient code on one sample and on a batch, and name what is wrong.

The learner's code is a callable ``gradient(params, X, Y) -> {name: array}``; :mod:`xsq.checks.forms` makes
one from a function, or from an object that updates its weights in place. For an xsq-shaped network
(``sizes``, ``activation``, ``output``, ``loss``: xsq's definitions, the loss a mean over every element)
the reference is autograd's gradient of xsq's objective, and each known mistake of
:mod:`xsq.checks.mistakes` is tried too. For any other model, give ``objective(params, X, Y)`` and
``example() -> (params, X, Y)``: the reference is autograd's gradient of the objective, or central
differences when autograd cannot trace it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
from autograd import grad

from ..core import activations, losses, net
from ..core.params import Params, check_sizes, n_layers
from ..errors import InputError
from ..validation import Whole, shorten
from .classify import Check, Overall, classify
from .gradient_check import central_differences, random_problem
from .learner_file import LearnerRaised, Raised, raised_by, silenced
from .mistakes import describe, mistaken_grad, mistakes

Gradient = Callable[[Params, np.ndarray, np.ndarray], Mapping]
MAX_BATCH = 10_000  # samples in the second check (xsq check --batch has the same bound)


@dataclass(frozen=True)
class Report:
    """Both checks (one sample, then a batch) and the verdict over them: ``ok``, ``consistent`` or ``wrong``."""

    overall: Overall
    checks: tuple[Check, ...]

    def as_dict(self) -> dict:
        """Exactly the structure of ``xsq check --json``."""
        return dict(overall=self.overall, checks=[c.as_dict() for c in self.checks])


def run_learner(
    gradient: Gradient, params: Params, X: np.ndarray, Y: np.ndarray, source: str | None
) -> tuple[dict, Raised | None, tuple[str, str] | None]:
    """Call the learner's ``gradient`` on copies (silently): (its arrays by name, what it raised, the array whose
    update raised). Keys ``dW1``, ``db1`` (or ``w1``, ``dw1``) are read as ``W1``, ``b1``; a list or tuple as
    the arrays in params order."""
    copies = {k: np.array(v, dtype=float) for k, v in params.items()}
    try:
        with silenced():
            got = gradient(copies, np.array(X), np.array(Y))
    except LearnerRaised as exc:
        return exc.partial, exc.raised, exc.failed
    except Exception as exc:
        return {}, raised_by(exc, source), None
    try:  # what they returned is theirs too: a dict of their own whose lookups raise, say
        with silenced():
            if isinstance(got, (list, tuple)) and len(got) == len(params):  # in params order: W1, b1, W2, b2, ...
                got = dict(zip(params, got))
            if not isinstance(got, Mapping):
                return {}, None, None
            out = {}
            for k in params:
                found = [name for name in (k, f"d{k}", k.lower(), f"d{k.lower()}") if name in got]
                if found:
                    out[k] = got[found[0]]
    except Exception as exc:
        return {}, raised_by(exc, source), None
    return out, None, None


def _overall(checks: list[Check]) -> Overall:
    kinds = {c.overall for c in checks}
    return "wrong" if "wrong" in kinds else "consistent" if "consistent" in kinds else "ok"


def check_backprop(
    gradient: Gradient,
    *,
    sizes: tuple[int, ...] = (1, 16, 1),
    activation: str = "sigmoid",
    output: str = "softplus",
    loss: str = "mse",
    batch: int = 8,
    seed: int = 0,
    objective: Callable | None = None,
    example: Callable | None = None,
    source: str | None = None,
    absent: str = "is not returned",
) -> Report:
    """Check ``gradient(params, X, Y)`` with one sample and with ``batch`` samples; a :class:`Report`.

    X is (N, n0) and Y (N, nk); params are xsq's (``Wi`` (n_{i-1}, n_i), ``bi`` (n_i,)), drawn from ``seed``.
    With ``objective`` and ``example`` the model is the learner's own (see the module docstring).
    ``source`` is the learner's file, so that what their code raises carries their line;
    ``absent`` says how an array the code did not give is described.
    """
    batch, seed = Whole(2, MAX_BATCH).check(batch, "batch"), Whole(0).check(seed, "seed")
    for what, value in (("gradient", gradient), ("objective", objective), ("example", example)):
        if (value is not None or what == "gradient") and not callable(value):
            raise InputError(f"{what} must be a function, got {type(value).__name__}")
    if source is None:  # their lines are those of the file their gradient is written in
        source = getattr(getattr(gradient, "__code__", None), "co_filename", None)
    if objective is not None or example is not None:
        if objective is None or example is None:
            raise InputError("a model of your own needs both objective and example")
        return _check_model(gradient, objective, example, batch, source, absent)
    sizes = check_sizes(sizes)
    activations.get(activation)
    activations.get(output, "output")
    losses.get(loss)
    params, X, Y = random_problem(sizes, activation, batch, seed)
    settings = dict(activation=activation, output=output, loss=loss)
    checks = [check_at(gradient, params, X[:n], Y[:n], **settings, source=source, absent=absent) for n in (1, batch)]
    return Report(_overall(checks), tuple(checks))


def check_at(
    gradient: Gradient,
    params: Params,
    X: np.ndarray,
    Y: np.ndarray,
    *,
    activation: net.Act,
    output: net.Act,
    loss: str,
    source: str | None = None,
    absent: str = "is not returned",
) -> Check:
    """One check of ``gradient`` at these params (xsq's layout) and data, X (N, n0) and Y (N, nk), unchecked:
    ``activation`` and ``output`` may be names or :class:`~xsq.core.activations.Activation` objects (the question's
    formulas, say)."""
    reference = net.autograd_grad(params, X, Y, activation, output, loss, 0.0)
    passes = net.forward_pass(params, X, activation, output)
    dA = losses.LOSSES[loss].grad(passes.As[-1], Y)
    options = [
        (m, mistaken_grad(params, passes, dA, activation, output, m)) for m in mistakes(params, activation, output)
    ]
    given, raised, failed = run_learner(gradient, params, X, Y, source)
    k = n_layers(params)

    def told(m):
        return describe(m, activation, output, k)

    return classify(given, reference, options, told, len(X), np.shape(Y)[1], raised, failed, absent)


def _check_model(gradient: Gradient, objective: Callable, example: Callable, batch: int, source, absent) -> Report:
    """:func:`check_backprop` for the learner's own model: ``example()`` gives (params, X, Y)."""
    try:
        with silenced():
            params, X, Y = example()
    except Exception as exc:
        r = raised_by(exc, source)
        raise InputError(
            f"the example raised {r.type}: {r.message}" + (f" (line {r.line})" if r.line else "")
        ) from None
    if not isinstance(params, Mapping) or not params:
        raise InputError("the example must return (params, X, Y) with params a dict of arrays")
    try:
        params = {k: np.array(v, dtype=float) for k, v in params.items()}
        X, Y = np.asarray(X, dtype=float), np.asarray(Y, dtype=float)
    except Exception as exc:
        raise InputError(f"the example must return (params, X, Y) as arrays of numbers: {exc}") from None
    if X.ndim == 0 or Y.ndim == 0 or len(X) != len(Y) or len(X) < 1:
        raise InputError(f"the example's X and Y must have one row per sample, got shapes {X.shape} and {Y.shape}")
    for name, value in (*params.items(), ("X", X), ("Y", Y)):
        if not np.all(np.isfinite(value)):
            raise InputError(
                f"the example's {shorten(str(name))} holds NaN or inf: a gradient is checked at finite numbers"
            )
    checks = []
    for n in sorted({1, min(batch, len(X))}):
        reference = _reference(objective, params, X[:n], Y[:n], source)
        given, raised, failed = run_learner(gradient, params, X[:n], Y[:n], source)
        outputs = Y.shape[1] if Y.ndim == 2 else 1
        checks.append(classify(given, reference, [], str, n, outputs, raised, failed, absent))
    return Report(_overall(checks), tuple(checks))


def _reference(objective: Callable, params: Params, X, Y, source) -> Params:
    """autograd's gradient of the learner's objective, or central differences when autograd cannot trace it
    (or gives NaN, as it can through the untaken branch of a ``where``)."""
    try:
        with silenced():
            value = float(objective(params, X, Y))
    except Exception:
        value = 0.0  # raised: the gradient's own attempt below says so
    if not math.isfinite(value):
        raise InputError(f"the objective is {value} at the example: a gradient is checked where it is finite")
    try:
        with silenced():
            g = grad(objective)(params, X, Y)
        g = {k: np.asarray(g[k], dtype=float) for k in params}
        if all(np.all(np.isfinite(v)) for v in g.values()):
            return g
    except Exception:  # autograd cannot trace it: differences of the values instead
        pass
    try:
        with silenced():
            g = central_differences(lambda p: float(objective(p, X, Y)), params)
    except Exception as exc:
        r = raised_by(exc, source)
        raise InputError(
            f"the objective raised {r.type}: {r.message}" + (f" (line {r.line})" if r.line else "")
        ) from None
    if not all(np.all(np.isfinite(v)) for v in g.values()):  # nothing to hold their gradient against
        raise InputError(
            "the objective's gradient at the example is not finite (NaN or inf): give an objective and an "
            "example where the objective is finite and smooth"
        )
    return g
