"""Measured data from a CSV file (``xsq train --data``): read by numpy, or cell by cell to name a problem.

The columns are inputs then outputs: by default every column but the last is
an input and the last is the output; ``inputs`` and ``outputs`` choose them
by header name or by 0-based index (comma-separated). A first row with any
cell that is neither a number nor empty is the header, and names every column. Blank lines are skipped. Only
the chosen columns are read as numbers: another may hold text (notes, dates), given a header row (a first
row with numbers in the chosen columns and text where the next row has it may be either, and is refused). Every
problem is an :class:`InputError` naming the line and the column: a
non-numeric, missing, NaN or infinite value in a chosen column, or a row whose number of
columns differs from the first.
"""

from __future__ import annotations

import csv
import itertools
import math
import warnings
from array import array
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

from ..errors import InputError
from ..files import regular_file
from ..validation import names_problem, quoted_name, read_number, shorten

MAX_BYTES = 256 * 2**20


@dataclass(frozen=True)
class Dataset:
    """Inputs X (N, n_in) and outputs Y (N, n_out), with the columns' names (and the file they came from, and
    whether its header named them: else they are "column i")."""

    X: np.ndarray
    Y: np.ndarray
    inputs: tuple[str, ...]
    outputs: tuple[str, ...]
    path: str = ""
    named: bool = False


def _columns(spec: str | None, names: list[str], what: str) -> list[int] | None:
    """Column indices from a comma-separated list of names or 0-based indices (a name first: with a header of
    numbers, '1' is the column named 1); None when not given."""
    if spec is None:
        return None
    chosen: list[int] = []
    parts = [p.strip() for p in spec.split(",")]
    for part in parts:
        if part in names:
            chosen.append(names.index(part))
        elif part.isascii() and part.isdigit() and int(part) < len(names):
            chosen.append(int(part))
        else:
            listed = ", ".join(map(quoted_name, names))
            raise InputError(f"--{what}: no column {part!r}; the columns are {listed} (or 0-{len(names) - 1})")
    twice = next((c for c in chosen if chosen.count(c) > 1), None)
    if twice is not None:
        same = " and ".join(repr(p) for p, c in zip(parts, chosen) if c == twice)
        raise InputError(
            f"--{what} must name distinct columns, but {same} both choose column {twice} "
            f"({quoted_name(names[twice])}; a column's name comes before an index)"
        )
    if not chosen:
        raise InputError(f"--{what} must name distinct columns, got {spec!r}")
    return chosen


def _records(path: str) -> Iterator[tuple[int, list[str]]]:
    """(line number, stripped cells) of each non-blank row, read as it comes, after checking the file itself."""
    regular_file(path, "data file", MAX_BYTES)
    try:
        with open(path, newline="", encoding="utf-8-sig") as handle:  # -sig: a byte-order mark is not data
            reader = csv.reader(handle)
            for row in reader:
                if any(cell.strip() for cell in row):
                    yield reader.line_num, [cell.strip() for cell in row]
    except UnicodeDecodeError:
        raise InputError(f"data file {path!r} is not UTF-8 text") from None
    except csv.Error as exc:  # e.g. a cell longer than the csv module's field limit
        raise InputError(f"{path!r}, line {reader.line_num}: not valid CSV ({exc})") from None


def _value(cell: str, path: str, line: int, name: str) -> float:
    v = read_number(cell) if cell else None
    if v is not None and math.isfinite(v):
        return v
    where = f"{path!r}, line {line}, column {name!r}"
    if not cell:
        raise InputError(f"{where}: missing value")
    if v is None:
        raise InputError(f"{where}: {cell!r} is not a number")
    raise InputError(f"{where}: {cell} is not a finite number")


def _fast(path: str, skip: int, width: int) -> np.ndarray | None:
    """The values by numpy's reader (written in C): None unless every row reads as ``width`` finite numbers.
    Then the scan reads the file instead, and names the first bad cell if there is one."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # e.g. numpy's "input contained no data"
            values = np.loadtxt(
                path, delimiter=",", skiprows=skip, ndmin=2, encoding="utf-8-sig", comments=None, quotechar='"'
            )
    except (ValueError, UnicodeDecodeError):
        return None
    return values if values.shape[1:] == (width,) and np.all(np.isfinite(values)) else None


def _scan(records: Iterator[tuple[int, list[str]]], path: str, names: list[str], cols: list[int]) -> np.ndarray:
    """The values of columns ``cols``, cell by cell, with an :class:`InputError` for the first bad one."""
    flat = array("d")  # 8 bytes a value while reading, not a Python object per cell
    for line, cells in records:
        if len(cells) != len(names):
            raise InputError(f"{path!r}, line {line}: {len(cells)} columns, but the first row has {len(names)}")
        flat.extend(_value(cells[c], path, line, names[c]) for c in cols)
    return np.frombuffer(flat, dtype=np.float64).reshape(-1, len(cols)).copy()


Pick = Callable[[list[str], bool], list[int]]  # (the columns' names, whether a header named them) -> columns read


def _text_at(cells: list[str]) -> list[int]:
    """The positions of the cells that are neither numbers nor empty."""
    return [i for i, cell in enumerate(cells) if cell and read_number(cell) is None]


def _table(path: str, pick: Pick) -> tuple[np.ndarray, list[str], bool, list[int]]:
    """The values (rows, columns) of the columns ``pick`` chooses, the names of every column (from the header,
    or "column i"), whether the file has a header, and the columns chosen."""
    records = _records(path)
    first_line, first = next(records, (0, None))
    if first is None:
        raise InputError(f"data file {path!r} holds no rows")
    header = any(cell and read_number(cell) is None for cell in first)  # an empty cell is a missing value
    names = first if header else [f"column {i}" for i in range(len(first))]
    if header and not all(first):
        raise InputError(
            f"{path!r}, line {first_line}: the header has no name for column {first.index('')}, counting from 0"
        )
    if header and (problem := names_problem(first)):
        tabs = " (the file looks tab-separated: xsq reads comma-separated values)" if "\t" in "".join(first) else ""
        raise InputError(f"{path!r}, line {first_line}: the header's column names {problem}{tabs}")
    cols = pick(names, header)  # before any value is read: a bad --inputs is told as such
    if header and all(read_number(first[c]) is not None for c in cols):  # numbers where the columns are chosen
        second = next(records, None)
        if second is not None and _text_at(second[1]) == _text_at(first):  # text where the row below has it: data
            word = next(cell for cell in first if cell and read_number(cell) is None)
            raise InputError(
                f"{path!r}, line {first_line} may be data or the header: it holds text ({shorten(word, 40)!r}) where "
                f"line {second[0]} does and numbers in the columns chosen; add a header row, or give those columns "
                "names that are not numbers"
            )
        records = itertools.chain([second] if second is not None else [], records)
    values = _fast(path, first_line if header else first_line - 1, len(first))
    if values is None:  # a bad cell, or a column of text that is not chosen
        values = _scan(records if header else itertools.chain([(first_line, first)], records), path, names, cols)
    else:
        values = values[:, cols]
    if not len(values):
        raise InputError(f"data file {path!r} holds no data rows, only a header")
    return values, names, header, cols


def _inputs_and_outputs(
    names: list[str], path: str, inputs: str | None, outputs: str | None
) -> tuple[list[int], list[int]]:
    """The input and output columns ``inputs`` and ``outputs`` choose among ``names`` (see the module docstring)."""
    width = len(names)
    if width < 2 and (inputs is None or outputs is None):
        raise InputError(f"data file {path!r} has one column; it needs input columns and output columns")
    ins, outs = _columns(inputs, names, "inputs"), _columns(outputs, names, "outputs")
    outs = outs if outs is not None else [c for c in [width - 1] if c not in (ins or [])] or [width - 1]
    ins = ins if ins is not None else [c for c in range(width) if c not in outs]
    if not ins or set(ins) & set(outs):
        raise InputError("--inputs and --outputs must be different columns, and each at least one")
    return ins, outs


def read_csv(path: str, inputs: str | None = None, outputs: str | None = None) -> Dataset:
    """The data in ``path`` (see the module docstring)."""

    def pick(names: list[str], header: bool) -> list[int]:
        ins, outs = _inputs_and_outputs(names, path, inputs, outputs)
        return ins + outs

    values, names, header, _ = _table(path, pick)
    ins, outs = _inputs_and_outputs(names, path, inputs, outputs)
    X, Y = values[:, : len(ins)], values[:, len(ins) :]
    return Dataset(X, Y, tuple(names[c] for c in ins), tuple(names[c] for c in outs), path, header)


def read_inputs(
    path: str, inputs: str | None, n_inputs: int, trained: tuple[str, ...] = ()
) -> tuple[np.ndarray, tuple[str, ...]]:
    """Input rows for a model of ``n_inputs`` inputs: the columns ``inputs`` names, or else those the model was
    trained on (``trained``, the names of its input columns), or else (a model without names) the file's first
    ``n_inputs`` columns; (rows (N, n_inputs), the columns' names)."""

    def pick(names: list[str], header: bool) -> list[int]:
        chosen = _columns(inputs, names, "inputs")
        if chosen is None and trained:
            missing = [name for name in trained if name not in names] if header else list(trained)
            if missing:
                where = f"has no column {missing[0]!r}" if header else "has no header"
                columns = shorten(", ".join(map(quoted_name, trained)), 200)
                raise InputError(
                    f"data file {path!r} {where}; the model was trained on input columns {columns} (--inputs chooses)"
                )
            chosen = [names.index(name) for name in trained]
        if chosen is None:
            if len(names) < n_inputs:
                raise InputError(f"data file {path!r} has {len(names)} columns; the model takes {n_inputs} inputs")
            chosen = list(range(n_inputs))
        if len(chosen) != n_inputs:
            raise InputError(f"--inputs names {len(chosen)} columns; the model takes {n_inputs} inputs")
        return chosen

    values, names, _, chosen = _table(path, pick)
    return values, tuple(names[c] for c in chosen)
