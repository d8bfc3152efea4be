"""Turn the formula of ``xsq train --target EXPR`` into a function of ``x``, without running it as Python.

:func:`ast.parse` only parses; the evaluator is built by walking the tree against a whitelist (``x``, numbers, ``pi``,
``e``, ``+ - * / **``, one-argument calls of a few numpy functions), in ``autograd.numpy`` so it can be differentiated.
"""

from __future__ import annotations

import ast
import math
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import autograd.numpy as anp
import numpy as np
from autograd.tracer import isbox

from ..errors import InputError
from ..validation import shorten

MAX_LENGTH = 1000  # characters: a formula, not a program
MAX_DEPTH = 100  # nested operations; also bounds the recursion of building and of evaluating
FUNCTION_NAMES = ("sin", "cos", "tan", "exp", "log", "log1p", "sqrt", "abs", "tanh", "arctan", "sinh", "cosh")
FUNCTIONS = {name: getattr(anp, name) for name in FUNCTION_NAMES}
CONSTANTS = {"pi": math.pi, "e": math.e}
BINARY = {ast.Add: anp.add, ast.Sub: anp.subtract, ast.Mult: anp.multiply, ast.Div: anp.true_divide, ast.Pow: anp.power}
UNARY = {ast.USub: anp.negative, ast.UAdd: lambda value: value}
SYMBOLS = dict(FloorDiv="//", Mod="%", MatMult="@", LShift="<<", RShift=">>", BitOr="|", BitXor="^", BitAnd="&")
SYMBOLS.update(Invert="~", Not="not")
KINDS = dict(Attribute="attribute", Subscript="subscript", Lambda="lambda", JoinedStr="f-string", Starred="starred")
KINDS.update(Compare="comparison", BoolOp="boolean operator", IfExp="conditional expression", NamedExpr="assignment")
KINDS.update(dict.fromkeys(("ListComp", "SetComp", "DictComp", "GeneratorExp"), "comprehension"))
HINT = f"use x, pi, e, numbers, + - * / ** and {', '.join(FUNCTION_NAMES)}"


def _error(message: str) -> InputError:
    """The one-line error for a bad ``--target``, with a reminder of what is allowed."""
    return InputError(f"--target: {message}; {HINT}")


def _piece(node: ast.AST, text: str) -> str:
    """The source of ``node``, quoted on one line and shortened, to name it in an error."""
    piece = ast.get_source_segment(text, node) or type(node).__name__
    return repr(shorten(piece, 40))


def _build(node: ast.AST, text: str, depth: int = 0) -> Callable[[Any], Any]:
    """The evaluator of a whitelisted ``node`` and its children; refuses everything else."""
    if depth > MAX_DEPTH:
        raise _error(f"the expression is nested more than {MAX_DEPTH} levels deep")
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        try:
            value = np.float64(node.value)  # type: ignore[arg-type]  # int or float, checked above  # float64, so 10**10**10 overflows to inf rather than hang
        except OverflowError:
            raise _error(f"the number {_piece(node, text)} is too large") from None
        return lambda x: value
    if isinstance(node, ast.Name) and node.id in ("x", *CONSTANTS):
        constant = CONSTANTS.get(node.id)
        return (lambda x: x) if node.id == "x" else (lambda x: constant)
    if isinstance(node, ast.Name) and node.id in FUNCTIONS:
        raise _error(f"{node.id!r} is a function: call it with one argument, as in {node.id}(x)")
    if isinstance(node, ast.BinOp) and type(node.op) in BINARY:
        binary = BINARY[type(node.op)]
        left, right = _build(node.left, text, depth + 1), _build(node.right, text, depth + 1)
        return lambda x: binary(left(x), right(x))
    if isinstance(node, ast.UnaryOp) and type(node.op) in UNARY:
        unary, operand = UNARY[type(node.op)], _build(node.operand, text, depth + 1)
        return lambda x: unary(operand(x))
    if isinstance(node, (ast.BinOp, ast.UnaryOp)):
        raise _error(f"the operator {SYMBOLS[type(node.op).__name__]!r} in {_piece(node, text)} is not allowed")
    if isinstance(node, ast.Call):
        return _build_call(node, text, depth)
    kind = "the complex number" if isinstance(getattr(node, "value", None), complex) else KINDS.get(type(node).__name__)
    raise _error(f"{kind + ' ' if kind else ''}{_piece(node, text)} is not allowed")


def _build_call(node: ast.Call, text: str, depth: int) -> Callable[[Any], Any]:
    """The evaluator of ``f(arg)`` for a whitelisted function ``f`` and exactly one positional argument."""
    if not isinstance(node.func, ast.Name):
        _build(node.func, text, depth + 1)  # a callee that is itself refused is named for what it is
        raise _error(f"calling {_piece(node.func, text)} is not allowed")
    name = node.func.id
    if name not in FUNCTIONS:
        raise _error(f"{name!r} is not a function" if name in ("x", *CONSTANTS) else f"{name!r} is not allowed")
    if node.keywords:
        raise _error(f"keyword argument {_piece(node.keywords[0], text)} is not allowed")
    args = [_build(arg, text, depth + 1) for arg in node.args]
    if len(args) != 1:
        raise _error(f"{name}() takes exactly one argument, not {len(args)}, in {_piece(node, text)}")
    function, arg = FUNCTIONS[name], args[0]
    return lambda x: function(arg(x))


def _uses_x(node: ast.AST) -> bool:
    """Whether a checked (so not too deep) tree mentions ``x``."""
    return (isinstance(node, ast.Name) and node.id == "x") or any(map(_uses_x, ast.iter_child_nodes(node)))


def _parse(text: str) -> ast.Expression:
    """``text`` parsed as one Python expression (parsing only), with every failure as a one-line InputError."""
    if not text:
        raise _error("the expression is empty")
    if len(text) > MAX_LENGTH:
        raise _error(f"the expression is {len(text)} characters long, more than {MAX_LENGTH}")
    if not text.isascii():  # Python would read look-alikes such as a full-width x as x itself
        i, c = next((i, c) for i, c in enumerate(text) if not c.isascii())
        raise _error(f"invalid character {c!r} (U+{ord(c):04X}) at column {i + 1}")
    try:
        with warnings.catch_warnings():  # e.g. "1if x else 2": refused, not a SyntaxWarning printed to the user
            warnings.simplefilter("error")
            return ast.parse(text, mode="eval")
    except SyntaxError as exc:
        where = f"line {exc.lineno}, column {exc.offset}" if (exc.lineno or 1) > 1 else f"column {exc.offset}"
        raise _error(f"{exc.msg} at {where}" if exc.offset else str(exc.msg)) from None
    except (RecursionError, MemoryError, ValueError):
        raise _error("the expression is nested too deeply or is not plain text") from None


@dataclass(frozen=True)
class Expression:
    """A checked formula in ``x``, called on arrays. Compared, hashed and pickled by its ``text`` alone."""

    text: str
    uses_x: bool = field(init=False, compare=False)
    _evaluate: Callable[[Any], Any] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.text, str):
            raise InputError(f"--target: expected the expression as text, not {type(self.text).__name__}")
        text = self.text.strip()
        tree = _parse(text)
        object.__setattr__(self, "_evaluate", _build(tree.body, text))
        object.__setattr__(self, "text", " ".join(text.split()))  # one line, even if a newline sat in brackets
        object.__setattr__(self, "uses_x", _uses_x(tree))

    def __call__(self, x: Any) -> Any:
        """The formula at each element of ``x``, shaped like ``x``, NaN or inf wherever numpy gives them.

        Uses ``autograd.numpy``: ``elementwise_grad(expression)`` is its derivative (zero, with a warning, if constant).
        """
        y = self._evaluate(x if isbox(x) else np.asarray(x, dtype=np.float64))
        return y if self.uses_x else np.full(np.shape(x), y, dtype=np.float64)

    def __reduce__(self) -> tuple[Any, ...]:
        """Pickle the text only (closures do not pickle); unpickling checks and builds it again."""
        return (Expression, (self.text,))


def compile_expression(text: str) -> Expression:
    """Check ``text`` against the whitelist and return its :class:`Expression`; raise InputError if it is bad."""
    return Expression(text)
