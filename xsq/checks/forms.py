"""The learner's code as a gradient function ``(params, X, Y) -> {name: array}``, whatever form it takes.

* :func:`function_form`: a function of theirs that already is one.
* :func:`object_form`: an object in the question's style, holding ``W1, b1, ...`` as attributes in its own
  shapes (a bias may be (1, n); weights may be (n_i, n_{i-1}) with samples in columns) and updating them in
  place. xsq writes its parameters into it, calls ``forward(X)`` then ``update(X, Y)``, reads the change,
  and takes ``(before - after) / learning rate`` as the gradient their code follows.
"""

from __future__ import annotations

import ast
import itertools
import numbers
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from ..core import net
from ..core.activations import ACTIVATIONS
from ..errors import InputError
from .gradient_check import random_problem
from .learner_file import LearnerFile, LearnerRaised, raised_by, silenced


def function_form(file: LearnerFile, name: str) -> Callable:
    """Their function ``name(params, X, Y)``, which returns the gradient arrays by name."""
    return file.function(name)


@dataclass(frozen=True)
class Layout:
    """How the object holds a network: its number of layers, whether weights are (n_i, n_{i-1}) with samples in
    columns, and each bias's shape as a function of its width ("flat" (n,), "row" (1, n), "column" (n, 1))."""

    layers: int
    columns: bool
    biases: tuple[str, ...]

    def sizes(self, instance) -> tuple[int, ...]:
        """The layer sizes the object's own weights give."""
        Ws = [np.shape(getattr(instance, f"W{i}")) for i in range(1, self.layers + 1)]
        if self.columns:
            return (Ws[0][1], *[W[0] for W in Ws])
        return (Ws[0][0], *[W[1] for W in Ws])

    def theirs(self, key: str, value: np.ndarray) -> np.ndarray:
        """xsq's array ``key`` in the object's shape."""
        if key.startswith("W"):
            return np.array(value.T if self.columns else value)
        kind = self.biases[int(key[1:]) - 1]
        return np.array(value).reshape({"flat": (-1,), "row": (1, -1), "column": (-1, 1)}[kind])

    def ours(self, key: str, value: np.ndarray) -> np.ndarray:
        """The object's change of ``key`` in xsq's orientation (a bias keeps its shape: length-one axes do not
        matter to the check)."""
        return value.T if self.columns and key.startswith("W") and value.ndim == 2 else value


MAX_LAYERS = 100  # an object answering every name (a __getattr__ of its own) has no last layer


def layout(instance, expression: str) -> Layout:
    """Read how ``instance`` holds its network; an :class:`InputError` when its arrays are not one."""
    Ws: list[tuple] = []
    bs: list[tuple] = []
    while len(Ws) < MAX_LAYERS and isinstance(getattr(instance, f"W{len(Ws) + 1}", None), np.ndarray):
        Ws.append(np.shape(getattr(instance, f"W{len(Ws) + 1}")))
        bias = getattr(instance, f"b{len(Ws)}", None)
        bs.append(np.shape(bias) if bias is not None else ())
    if len(Ws) == MAX_LAYERS:
        raise InputError(f"{expression} answers W1, W2, ... beyond W{MAX_LAYERS}: xsq cannot tell its last layer")
    if not Ws or any(len(W) != 2 for W in Ws):
        raise InputError(f"{expression} holds no 2-D weight arrays W1, W2, ... as attributes")
    sized = [int(np.prod(b)) if b else -1 for b in bs]  # the bias sizes tell 1-n-1 networks' layouts apart
    rows = all(a[1] == b[0] for a, b in zip(Ws, Ws[1:])) and all(W[1] == n for W, n in zip(Ws, sized))
    columns = not rows and all(a[0] == b[1] for a, b in zip(Ws, Ws[1:])) and all(W[0] == n for W, n in zip(Ws, sized))
    if not rows and not columns and any(n == -1 for n in sized):
        raise InputError(f"{expression} has weights W1, W2, ... but not a bias b1, b2, ... beside each")
    if not rows and not columns:
        raise InputError(
            f"the weights and biases of {expression} do not make a network: shapes "
            + ", ".join(f"W{i} {W}, b{i} {b}" for i, (W, b) in enumerate(zip(Ws, bs), start=1))
        )
    biases = []
    for i, (W, b) in enumerate(zip(Ws, bs), start=1):
        n = W[0] if columns else W[1]
        kind = "row" if b == (1, n) else "flat" if b == (n,) else "column" if b == (n, 1) else None
        if kind is None:
            raise InputError(f"{expression}.b{i} has shape {b}; a bias of {n} units is ({n},), (1, {n}) or ({n}, 1)")
        biases.append(kind)
    return Layout(len(Ws), columns, tuple(biases))


@dataclass(frozen=True)
class ObjectForm:
    """An object updating its weights in place, as a gradient function (see the module docstring)."""

    file: LearnerFile
    instance: object
    forward: Callable
    update: Callable
    layout: Layout
    rate: float
    rate_attribute: str | None

    def _write(self, params: dict) -> dict:
        """Put ``params`` (xsq's layout) into their object, in its own shapes; returns what was put."""
        put = {key: self.layout.theirs(key, value) for key, value in params.items()}
        for key, value in put.items():
            setattr(self.instance, key, value.copy())
        return put

    def __call__(self, params: dict, X: np.ndarray, Y: np.ndarray) -> dict:
        before = self._write(params)
        if self.rate_attribute is not None:  # a rate of 1 keeps every digit of the change
            setattr(self.instance, self.rate_attribute, 1.0)
        rate = 1.0 if self.rate_attribute is not None else self.rate
        X, Y = (X.T, Y.T) if self.layout.columns else (X, Y)
        try:
            with silenced():
                self.forward(X)
                self.update(X, Y)
        except Exception as exc:
            raised = raised_by(exc, self.file.path)
            raise LearnerRaised(raised, self._changes(before, rate), self._updating(raised.line)) from None
        return self._changes(before, rate)

    def outputs(self, params: dict, X: np.ndarray) -> np.ndarray | None:
        """What their forward pass returns for ``params`` (xsq's layout) and X (N, n0), as (N, nk); None when it
        returns no array of that shape (it may keep its output in an attribute instead) or raises (their code's
        doing, which the check itself reports)."""
        n_out = np.shape(params[f"W{self.layout.layers}"])[1]
        try:
            with silenced():
                self._write(params)
                out = np.asarray(self.forward(X.T if self.layout.columns else X), dtype=float)
        except Exception:
            return None
        out = out.T if self.layout.columns and out.ndim == 2 else out
        out = out[:, None] if out.shape == (len(X),) and n_out == 1 else out  # one output, as a flat vector
        return out if out.shape == (len(X), n_out) else None

    def _changes(self, before: dict, rate: float) -> dict:
        """(before - after) / rate for every array the object changed."""
        out = {}
        for key, old in before.items():
            new = getattr(self.instance, key, None)
            try:
                new = np.asarray(new, dtype=float)
            except (TypeError, ValueError):
                out[key] = new
                continue
            if new.shape == old.shape and np.array_equal(new, old):
                continue
            out[key] = self.layout.ours(key, (old - new) / rate)
        return out

    def _updating(self, line: int | None) -> tuple[str, str] | None:
        """(the array, the statement) when their line ``line`` assigns to one of the object's arrays."""
        text = self.file.source(line)
        try:
            node = ast.parse(text).body[0]
        except (SyntaxError, IndexError):
            return None
        targets = node.targets if isinstance(node, ast.Assign) else [getattr(node, "target", None)]
        for target in targets:
            name = getattr(target, "attr", "")
            if name[:1] in ("W", "b") and name[1:].isdigit() and int(name[1:]) <= self.layout.layers:
                return name, text
        return None


def network_of(
    form: ObjectForm, sizes: tuple[int, ...], seed: int, batch: int, given: tuple[str, str]
) -> tuple[str, str] | None:
    """The (hidden activation, output) whose network gives what their forward pass returns, at the params and
    inputs the check uses (``random_problem``); ``given`` when it does, and None when their forward pass returns
    nothing to compare or several pairs or none give it (relu and identity agree where every input is > 0)."""
    params, X, _ = random_problem(sizes, given[0], batch, seed)
    got = form.outputs(params, X)
    if got is None:
        return None
    with np.errstate(all="ignore"):
        found = [
            (hidden, output)
            for hidden, output in itertools.product(ACTIVATIONS, repeat=2)
            if np.allclose(net.forward(params, X, hidden, output), got, rtol=1e-9, atol=1e-12)
        ]
    return given if given in found else found[0] if len(found) == 1 else None


def object_form(
    file: LearnerFile,
    expression: str,
    forward: str = "forward_prop",
    update: str = "back_prop",
    rate_attribute: str = "learning_rate",
    rate: float | None = None,
) -> tuple[ObjectForm, tuple[int, ...]]:
    """The object ``expression`` builds (in the file's namespace) as a gradient function, and its layer sizes.
    The learning rate is ``rate`` if given, else the object's attribute ``rate_attribute``."""
    instance = file.evaluate(expression)
    methods = []
    for what, name in (("--forward", forward), ("--update", update)):
        method = getattr(instance, name, None)
        if not callable(method):
            raise InputError(f"{expression} has no method {name!r} ({what})")
        methods.append(method)
    try:  # reading its attributes runs their code too (a property, a __getattr__)
        with silenced():
            shape = layout(instance, expression)
            sizes = shape.sizes(instance)
            attribute = None
            if rate is None:
                value = getattr(instance, rate_attribute, None)
                if isinstance(value, bool) or not isinstance(value, numbers.Real) or not float(value) > 0:
                    raise InputError(
                        f"{expression} has no positive number {rate_attribute!r}; give --lr or --lr-attribute"
                    )
                rate, attribute = float(value), rate_attribute
    except InputError:
        raise
    except Exception as exc:
        raised = raised_by(exc, file.path)
        where = f" (line {raised.line} of {file.path})" if raised.line else ""
        raise InputError(f"reading the arrays of {expression} raised {raised.type}: {raised.message}{where}") from None
    return ObjectForm(file, instance, methods[0], methods[1], shape, rate, attribute), sizes
