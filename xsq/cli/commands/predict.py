"""``xsq predict``: a saved model's predictions (slopes, error bars) for inputs from the command line, stdin or a CSV.

Each command-line argument is one row of inputs: a number for a one-input
model, comma-separated numbers for several (``0.5,1,2``). With no arguments
the rows come from stdin, one a line (numbers separated by commas or spaces);
``--data FILE.csv`` reads them from a CSV (``--inputs`` picks the columns;
else those of the names the model was trained on, when its training file
had a header; else the first ones). A one-input, one-output model given numbers prints
``x prediction [slope] [std]`` a line, as it always has; every other case
writes CSV with a header (``--json``: one JSON object either way), whose columns
take the names of the columns the model was trained on where its file had them.
"""

from __future__ import annotations

import csv
import io
import math
import os
import re
import sys

import numpy as np

from ...data.dataset import read_inputs
from ...errors import InputError
from ...files import json_bytes
from ...training.model import load_model
from ...validation import read_number, shorten
from . import MODEL

SEPARATORS = re.compile(r"[,\s]+")


def _row(text: str, where: str, n: int) -> list[float]:
    cells = [c for c in SEPARATORS.split(text.strip()) if c]
    values = []
    for cell in cells:
        value = read_number(cell)
        if value is None:
            raise InputError(f"{where}: {shorten(cell)!r} is not a number")
        if not math.isfinite(value):
            raise InputError(f"{where}: {shorten(cell)!r} is not a finite float64 number")
        values.append(value)
    if len(values) != n:
        raise InputError(f"{where}: {len(values)} numbers, but the model takes {n} input{'s' if n != 1 else ''}")
    return values


STDIN_MAX_CHARS = 64 * 2**20  # rows on stdin are parsed one by one in Python: larger inputs go through --data


def numbered_inputs(n: int) -> tuple[str, ...]:
    """The names of n inputs that have none of their own: ``x``, or ``x1``, ``x2``, ..."""
    return ("x",) if n == 1 else tuple(f"x{i + 1}" for i in range(n))


def read_rows(args, n: int, trained: tuple[str, ...] = ()) -> tuple[np.ndarray, tuple[str, ...]]:
    """The input rows (N, n) and their names, from the arguments, ``--data`` (the ``trained`` columns, the names
    of the model's input columns, unless ``--inputs`` chooses) or stdin; rows typed in are named as the
    ``trained`` columns where the model has them."""
    names = trained if len(trained) == n else numbered_inputs(n)
    if args.data is not None:
        if args.x:
            raise InputError("give inputs either as arguments or with --data, not both")
        return read_inputs(args.data, args.inputs, n, trained)
    if args.inputs is not None:
        raise InputError("--inputs applies to --data FILE.csv")
    if args.x:
        rows = [_row(text, f"input {i + 1}", n) for i, text in enumerate(args.x)]
    else:
        text = sys.stdin.read(STDIN_MAX_CHARS + 1)  # bounded: an endless stdin must not fill the memory
        if len(text) > STDIN_MAX_CHARS:
            raise InputError(
                f"stdin holds more than {STDIN_MAX_CHARS // 2**20} MiB; give larger inputs with --data FILE.csv"
            )
        text = text.removeprefix("\ufeff")  # a byte-order mark is not data, as in a --data file
        rows = [_row(line, f"stdin, line {k}", n) for k, line in enumerate(text.splitlines(), 1) if line.strip()]
        if not rows:
            raise InputError("no inputs: give them as arguments, one row per line on stdin, or with --data")
    return np.array(rows, dtype=float).reshape(-1, n), names


def header(names: tuple[str, ...], trained: tuple[str, ...], n_out: int, std: bool, slope: bool) -> list[str]:
    """The CSV header: the input ``names``, the predictions, their error bars and slopes. Several outputs are
    named after the ``trained`` output columns where there is one name each, else numbered."""
    named = n_out > 1 and len(trained) == n_out
    labels = trained if named else tuple(f"prediction{j + 1}" for j in range(n_out))
    outs = ["prediction"] if n_out == 1 else [f"prediction_{k}" if named else k for k in labels]
    head = [*names, *outs]
    if std:
        head += ["std"] if n_out == 1 else [f"std_{k}" for k in labels]
    if slope:
        head += [f"d{o}/d{x}" for o in outs for x in names]
    return head


def run(args) -> int:
    """Run ``xsq predict`` with parsed ``args``; return the exit status."""
    if args.model == MODEL and not os.path.exists(MODEL):  # a first predict, before any xsq train here
        raise InputError(f"no model at {MODEL!r}: train one first with xsq train, or give --model FILE")
    model = load_model(args.model)
    n_in, n_out = model.sizes[0], model.sizes[-1]
    X, names = read_rows(args, n_in, model.record.inputs if model.record is not None else ())
    if args.std and model.posterior is None:
        raise InputError(
            f"model {args.model!r} has no error bars: "
            + (
                "a staged model has none (train one stage with --regularization bayes)"
                if model.stages
                else "it was trained without a noise estimate (train it with --regularization bayes, "
                "the default with --data)"
            )
        )
    with np.errstate(all="ignore"):
        pred = model.predict(X)
        slope = model.derivative(X) if args.derivative else None  # (N, n_out, n_in)
        std = model.std(X) if args.std else None
    bad = ~np.all(np.isfinite(pred), axis=1)
    for extra in (slope, std):
        if extra is not None:
            bad |= ~np.all(np.isfinite(extra.reshape(len(X), -1)), axis=1)
    domain = np.array(model.record.domain) if model.record is not None and model.record.domain else None
    outside = np.any((X < domain[:, 0]) | (X > domain[:, 1]), axis=1) if domain is not None else np.zeros(len(X), bool)
    if np.any(bad):
        inside = bad & ~outside if domain is not None else np.zeros(len(X), bool)
        row = int(np.argmax(inside)) if np.any(inside) else int(np.argmax(bad))  # inside the domain first
        what = "slope or error bar" if np.all(np.isfinite(pred[row])) else "prediction"
        shown = ", ".join(f"{v:g}" for v in X[row])
        if inside[row]:  # xsq's own models are finite where they were trained
            raise InputError(
                f"model {args.model!r} gives no finite {what} at x = {shown}, inside the domain it was trained on: "
                "the file is damaged or was not written by xsq"
            )
        raise InputError(
            f"the model cannot evaluate x = {shown} in float64 (its {what} there is not a finite number); "
            "give inputs nearer the domain it was trained on"
        )
    if domain is not None and np.any(outside):
        rows = X[outside]
        shown = ", ".join(",".join(f"{v:g}" for v in r) for r in rows[:5]) + (", ..." if len(rows) > 5 else "")
        box = " x ".join(f"[{lo:g}, {hi:g}]" for lo, hi in domain)
        verb = "lies" if len(rows) == 1 else "lie"
        print(
            f"note: {len(rows)} of {len(X)} inputs ({shown}) {verb} outside {box}, "
            "the domain the model was trained on: those predictions are extrapolation",
            file=sys.stderr,
        )
    legacy = n_in == n_out == 1 and args.data is None
    if args.json:

        def column(A):  # a one-input, one-output model keeps flat lists
            return A.reshape(len(X)).tolist() if legacy else A.tolist()

        out = {
            "x": column(X),
            "prediction": column(pred),
            "extrapolation": outside.tolist(),
            "domain": (list(domain[0]) if legacy else domain.tolist()) if domain is not None else None,
        }
        if slope is not None:
            out["derivative"] = column(slope)
        if std is not None:
            out["std"] = column(std)
        print(json_bytes(out, indent=None).decode(), end="")
    elif legacy:
        for i in range(len(X)):
            more = (f" {slope[i, 0, 0]:.17g}" if slope is not None else "") + (
                f" {std[i, 0]:.17g}" if std is not None else ""
            )
            print(f"{X[i, 0]:.17g} {pred[i, 0]:.17g}{more}")
    else:
        trained = model.record.outputs if model.record is not None else ()
        head = header(names, trained, n_out, std is not None, slope is not None)
        if len(set(head)) < len(head):  # trained names that clash with the columns made: numbered ones instead
            head = header(numbered_inputs(n_in), (), n_out, std is not None, slope is not None)
        cols = [
            X,
            pred,
            *([std] if std is not None else []),
            *([slope.reshape(len(X), -1)] if slope is not None else []),
        ]
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerow(head)
        writer.writerows([repr(float(v)) for v in row] for row in np.hstack(cols))  # shortest exact text
        print(buffer.getvalue(), end="")
    return 0
