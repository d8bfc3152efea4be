"""Measured data from a CSV file (``xsq train --data``): read with the csv module, checked cell by cell.

The columns are inputs then outputs: by default every column but the last is
an input and the last is the output; ``inputs`` and ``outputs`` choose them
by header name or by 0-based index (comma-separated). A first row with any
cell that is not a number is the header. Blank lines are skipped. Every
problem is an :class:`InputError` naming the line and the column: a
non-numeric, missing, NaN or infinite value, or a row whose number of
columns differs from the first.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass

import numpy as onp

from .errors import InputError
from .files import regular_file
from .validation import read_number

MAX_BYTES = 256 * 2**20

Array = onp.ndarray


@dataclass(frozen=True)
class Dataset:
    """Inputs X (N, n_in) and outputs Y (N, n_out), with the columns' names (and the file they came from)."""

    X: Array
    Y: Array
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    path: str = ""


def _columns(spec: str | None, names: list[str], what: str) -> list[int] | None:
    """Column indices from a comma-separated list of names or 0-based indices; None when not given."""
    if spec is None:
        return None
    chosen = []
    for part in (p.strip() for p in spec.split(",")):
        if part in names:
            chosen.append(names.index(part))
        elif part.isdigit() and int(part) < len(names):
            chosen.append(int(part))
        else:
            raise InputError(
                f"--{what}: no column {part!r}; the columns are {', '.join(names)} (or 0-{len(names) - 1})"
            )
    if not chosen or len(set(chosen)) != len(chosen):
        raise InputError(f"--{what} must name distinct columns, got {spec!r}")
    return chosen


def _rows(path: str) -> list[tuple[int, list[str]]]:
    """(line number, cells) of every non-blank row, after checking the file itself."""
    regular_file(path, "data file", MAX_BYTES)
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            return [(reader.line_num, row) for row in reader if any(cell.strip() for cell in row)]
    except UnicodeDecodeError:
        raise InputError(f"data file {path!r} is not UTF-8 text") from None
    except csv.Error as exc:
        raise InputError(f"data file {path!r} is not valid CSV: {exc}") from None


def read_csv(path: str, inputs: str | None = None, outputs: str | None = None) -> Dataset:
    """The data in ``path`` (see the module docstring)."""
    rows = _rows(path)
    if not rows:
        raise InputError(f"data file {path!r} holds no rows")
    first = [cell.strip() for cell in rows[0][1]]
    header = any(read_number(cell) is None for cell in first)
    names = first if header else [f"column {i}" for i in range(len(first))]
    body = rows[1:] if header else rows
    width = len(first)
    values = onp.empty((len(body), width))
    for r, (line, cells) in enumerate(body):
        if len(cells) != width:
            raise InputError(f"{path}, line {line}: {len(cells)} columns, but the first row has {width}")
        for c, cell in enumerate(cells):
            where = f"{path}, line {line}, column {names[c]!r}"
            v = read_number(cell.strip()) if cell.strip() else None
            if not cell.strip():
                raise InputError(f"{where}: missing value")
            if v is None:
                raise InputError(f"{where}: {cell.strip()!r} is not a number")
            if not math.isfinite(v):
                raise InputError(f"{where}: {cell.strip()} is not a finite number")
            values[r, c] = v
    if len(body) < 2:
        raise InputError(f"data file {path!r} has {len(body)} data row(s); at least 2 are needed")
    if width < 2 and (inputs is None or outputs is None):
        raise InputError(f"data file {path!r} has one column; it needs input columns and output columns")
    ins, outs = _columns(inputs, names, "inputs"), _columns(outputs, names, "outputs")
    outs = outs if outs is not None else [c for c in [width - 1] if c not in (ins or [])] or [width - 1]
    ins = ins if ins is not None else [c for c in range(width) if c not in outs]
    if not ins or set(ins) & set(outs):
        raise InputError("--inputs and --outputs must be different columns, and each at least one")
    return Dataset(values[:, ins], values[:, outs], tuple(names[c] for c in ins), tuple(names[c] for c in outs), path)
