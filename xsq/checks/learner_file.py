"""A learner's Python file, loaded the way ``xsq check`` needs it: definitions only, silently, theirs to blame.

The file is parsed with :mod:`ast`; only imports, function and class definitions and assignments (plain,
annotated and augmented) are kept, so a training loop or a ``print`` at the top level never runs, while
``softplus_grad = elementwise_grad(softplus)`` does. The kept statements are compiled with the file's own
name, so a traceback through their code carries their line numbers: :func:`raised_by` turns such an
exception into a :class:`Raised` (type, message, their line), which a check reports as theirs.
"""

from __future__ import annotations

import ast
import contextlib
import io
import os
import signal
import threading
import tokenize
import types
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from unittest import mock

import numpy as np

from ..errors import InputError

DEFINITIONS = (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)
KEPT: tuple[type, ...] = (*DEFINITIONS, ast.Assign, ast.AnnAssign, ast.AugAssign)


@dataclass(frozen=True)
class Raised:
    """An exception raised in the learner's code: its type's name, its message, and the line of their file
    it was raised from (None when no frame of their file was on the way)."""

    type: str
    message: str
    line: int | None


@dataclass(frozen=True)
class LearnerFile:
    """A loaded file: its path, its source lines (for messages quoting them) and its namespace."""

    path: str
    lines: tuple[str, ...]
    namespace: dict

    def function(self, name: str, what: str = "function") -> Callable:
        """The callable ``name`` the file defines, or an :class:`InputError` saying it has none."""
        value = self.namespace.get(name)
        if not callable(value):
            raise InputError(f"{self.path} defines no {what} {name!r}")
        return value

    def evaluate(self, expression: str) -> Any:
        """``expression`` evaluated in the file's namespace; what goes wrong is bad input, told in one line."""
        try:
            code = compile(expression, "<--object>", "eval")
        except SyntaxError as exc:
            raise InputError(f"--object {expression!r} is not a Python expression: {exc.msg}") from None
        try:
            with silenced():
                return eval(code, self.namespace)
        except Exception as exc:
            raised = raised_by(exc, self.path)
            where = f" (line {raised.line} of {self.path})" if raised.line else ""
            raise InputError(f"--object {expression!r} raised {raised.type}: {raised.message}{where}") from None

    def source(self, line: int | None) -> str:
        """The text of ``line`` (1-based), stripped; '' when there is no such line."""
        return self.lines[line - 1].strip() if line and 0 < line <= len(self.lines) else ""


class LearnerRaised(Exception):
    """The learner's code raised ``raised`` after giving the arrays ``partial`` (by name); ``failed`` is
    (the array, the statement as written) when it raised while updating that array."""

    def __init__(self, raised: Raised, partial: dict, failed: tuple[str, str] | None = None):
        super().__init__(raised.message)
        self.raised, self.partial, self.failed = raised, partial, failed


def kept(tree: ast.Module) -> ast.Module:
    """The module with only its imports, definitions and assignments (see the module docstring), also those
    inside a ``try`` (``try: import autograd.numpy as np`` / ``except ImportError: import numpy as np``)."""
    return ast.Module(body=_kept(tree.body), type_ignores=[])


def _kept(body: list) -> list:
    out = []
    for node in body:
        if isinstance(node, KEPT):
            out.append(node)
        elif isinstance(node, ast.Try) and any(_kept(b) for b in (node.body, *(h.body for h in node.handlers))):
            handlers = [ast.ExceptHandler(h.type, h.name, _kept(h.body) or [ast.Pass()]) for h in node.handlers]
            body, orelse, final = _kept(node.body) or [ast.Pass()], _kept(node.orelse), _kept(node.finalbody)
            out.append(ast.fix_missing_locations(ast.copy_location(ast.Try(body, handlers, orelse, final), node)))
    return out


def load(path: str) -> LearnerFile:
    """Load the learner's file at ``path`` (definitions only, silently). A file that cannot be read or
    parsed, or whose kept statements raise, is bad input: an :class:`InputError` naming their line."""
    if not os.path.isfile(path):
        raise InputError(f"not a file: {path!r}" if os.path.exists(path) else f"no such file: {path!r}")
    try:
        with tokenize.open(path) as f:  # as Python reads it: UTF-8, a byte-order mark, or a coding comment
            text = f.read()
    except (OSError, UnicodeDecodeError, SyntaxError) as exc:  # SyntaxError: an encoding it cannot name
        raise InputError(f"cannot read {path!r}: {exc}") from None
    try:
        tree = ast.parse(text, filename=path)
    except SyntaxError as exc:
        raise InputError(f"{path} line {exc.lineno}: {exc.msg}") from None
    module = types.ModuleType("__learner__")
    module.__file__ = path
    namespace = module.__dict__
    try:
        with silenced():
            exec(compile(kept(tree), path, "exec"), namespace)
    except Exception as exc:
        raised = raised_by(exc, path)
        raise InputError(f"{path} line {raised.line}: loading it raised {raised.type}: {raised.message}") from None
    return LearnerFile(path, tuple(text.splitlines()), namespace)


def raised_by(exc: BaseException, path: str | None) -> Raised:
    """What the learner's code raised: the last line of ``path`` on the traceback (the innermost frame of
    their file), or, without ``path``, the innermost frame's line."""
    line = None
    tb = exc.__traceback__
    while tb is not None:
        if path is None or os.path.abspath(tb.tb_frame.f_code.co_filename) == os.path.abspath(path):
            line = tb.tb_lineno
        tb = tb.tb_next
    exc = exc.stopped if isinstance(exc, Stopped) else exc
    try:
        message = str(exc)
    except Exception:  # their exception's own __str__ raised
        message = "(its message could not be read)"
    return Raised(type(exc).__name__, message, line)


class Stopped(Exception):
    """Their code stopped with a ``BaseException`` that is not an ``Exception`` (``sys.exit()``, ``GeneratorExit``):
    theirs to be told, like any other exception, rather than ending xsq or passing for its success."""

    def __init__(self, stopped: BaseException):
        super().__init__(str(stopped))
        self.stopped = stopped


def _exit_as_exception(status: int) -> None:
    raise SystemExit(status)


@contextlib.contextmanager
def silenced() -> Iterator[None]:
    """Run the learner's code without its prints (to stdout or stderr), warnings or floating-point complaints;
    a ``sys.exit()`` (or ``os._exit()``, which would end xsq with no word) in it becomes a :class:`Stopped`, an
    ``Exception`` like any other of theirs."""
    out, err = contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO())
    exit_raises = mock.patch.object(os, "_exit", _exit_as_exception)
    with out, err, exit_raises, warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        handlers = {s: signal.getsignal(s) for s in (signal.SIGINT, signal.SIGTERM)}
        try:
            yield
        except (Exception, KeyboardInterrupt):  # a Ctrl-C is the user's, and stops xsq as it always does
            raise
        except BaseException as exc:
            raise Stopped(exc).with_traceback(exc.__traceback__) from None
        finally:  # their code does not keep Ctrl-C (or SIGTERM) from stopping xsq afterwards
            if threading.current_thread() is threading.main_thread():
                for s, handler in handlers.items():
                    if signal.getsignal(s) is not handler and handler is not None:
                        signal.signal(s, handler)
