"""argparse, made to speak as xsq does: one line per error, numbers read as numbers, defaults stated in help.

* :class:`Parser` raises :class:`UsageError` (an :class:`~xsq.errors.InputError`)
  with the (sub)command's name instead of printing usage and exiting, and reads
  ``-1e3`` as a number where argparse would take it for an option.
* :func:`typed` turns a constraint of :mod:`xsq.validation` into an argparse type.
"""

from __future__ import annotations

import argparse
import re

from ..errors import InputError
from ..validation import Constraint

# argparse reads "-1e3" (or a row of inputs "-1,2.5", xsq predict's) as an option unless told that it is a number
_ONE = r"(?:(?:\d+\.?\d*|\.\d+)(?:[eE][-+]?\d+)?|inf|infinity|nan)"
_NUMBER = re.compile(rf"^-{_ONE}(?:,[-+]?{_ONE})*$", re.IGNORECASE)


class UsageError(InputError):
    """A command-line argument that argparse refused; ``prog`` is the (sub)command it belongs to."""

    def __init__(self, message: str, prog: str):
        super().__init__(message)
        self.prog = prog


class Parser(argparse.ArgumentParser):
    """An ArgumentParser whose errors are :class:`UsageError` (see the module docstring)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("formatter_class", _ShowDefaults)
        super().__init__(*args, **kwargs)
        self._negative_number_matcher = _NUMBER

    def error(self, message: str):  # one line, no usage block
        missing = re.fullmatch(r"argument (--[\w-]+): expected one argument", message)
        if missing:  # argparse takes a value such as -x**2 for an option
            message += f" (a value that starts with - is written {missing.group(1)}=VALUE)"
        raise UsageError(message, self.prog)


class _ShowDefaults(argparse.HelpFormatter):
    """Help that states each option's default, except where it is None or already said."""

    def _get_help_string(self, action):
        text = action.help or ""
        hidden = action.default in (None, False, argparse.SUPPRESS)
        if not hidden and "default" not in text:
            text += " (default: %(default)s)"
        return text


def flag(name: str) -> str:
    """A setting's command-line spelling: ``batch_size`` -> ``--batch-size``."""
    return "--" + name.replace("_", "-")


def typed(constraint: Constraint):
    """An argparse type that reads and checks text with ``constraint`` (one-line message otherwise)."""

    def parse(text: str):
        try:
            return constraint.parse(text)
        except InputError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None

    parse.__name__ = type(constraint).__name__.lower()
    return parse
