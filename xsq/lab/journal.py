"""The sweep's folder: the grid it belongs to, and an append-only CSV of the cells as they finish.

Each finished cell is appended to ``sweep.csv`` at once (flushed and synced),
so Ctrl-C or a crash keeps every finished cell; opening the same folder for
the same grid again reads them back (a line torn by a crash mid-write is left
out) and the sweep skips them. Every row read back is checked as untrusted:
a cell of this grid, listed once, each value of its type and consistent with
its own evidence. A folder holding another grid's sweep (or a damaged one) is
refused unless it may be overwritten; one holding anything but a sweep's
files (or a sweep's names without ``grid.json``) is refused outright. A lock
lets one sweep at a time write there.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os

from ..errors import InputError
from ..files import check_out_folder, held_names, json_bytes, not_files, regular_file, try_lock, unlock, write_atomic
from .outcomes import Evidence, classify
from .sweep import Cell, Grid

COLUMNS = (
    "formulas",
    "scaling",
    "hidden",
    "batch",
    "optimizer",
    "seed",
    "lr",
    "steps",
    "outcome",
    "reason",
    "nonfinite_step",
    "nonfinite_op",
    "blowup_step",
    "blowup_factor",
    "start_loss",
    "best_loss",
    "final_loss",
    "test_rmse_over_range",
    "question",
    "seconds",
    "lam_max",
    "predicted_lr",
)


def _whole(text: str) -> int:
    if text.strip().lstrip("+-").isdigit():
        return int(text)  # exact, however large (a seed, say)
    value = float(text)
    if not value.is_integer():
        raise ValueError(text)
    return int(value)


OPTIONAL = {"nonfinite_step", "nonfinite_op", "blowup_step", "blowup_factor"}  # empty unless it diverged
TYPES = {  # how a column's text reads back (the rest stay text; an empty cell is None)
    "hidden": _whole,
    "seed": _whole,
    "steps": _whole,
    "lr": float,
    "nonfinite_step": _whole,
    "nonfinite_op": str,
    "blowup_step": _whole,
    "blowup_factor": float,
    "start_loss": float,
    "best_loss": float,
    "final_loss": float,
    "seconds": float,
    "test_rmse_over_range": float,
    "lam_max": float,
    "predicted_lr": float,
}


def cell_key(row: dict) -> tuple:
    """The settings that identify a cell (as text, so rows read back from the CSV compare equal)."""
    return tuple(str(row[c]) for c in COLUMNS[:8])


MAX_JOURNAL_BYTES = 1 << 30
SWEEP_FILES = frozenset({"sweep.csv", "sweep.json", "sweep.png", "grid.json", ".lock"})  # all a sweep writes


def _as_run(row: dict, cell: Cell, learned_below: float) -> bool:
    """Whether a row read back is what running ``cell`` writes: every value there that always is, in its
    range, printable text, finite losses unless a value went non-finite, the outcome and reason its own
    evidence gives, and the cell's own question flag (lambda_max and 2 / lambda_max are computed afresh by
    every sweep, and replace what a row holds)."""
    try:
        if any(row[c] is None for c in TYPES if c not in OPTIONAL) or row["question"] not in ("True", "False"):
            return False
        text = [v for v in row.values() if isinstance(v, str)]
        nonfinite, blowup = row["nonfinite_step"], row["blowup_step"]
        steps = [s for s in (nonfinite, blowup) if s is not None]
        numbers = (row["start_loss"], row["best_loss"], row["final_loss"], row["test_rmse_over_range"])
        judged = classify(Evidence(**{f: row[f] for f in Evidence._fields}), learned_below)
        return (
            all(t.isprintable() for t in text)
            and (nonfinite is None) == (row["nonfinite_op"] is None)
            and (blowup is None) == (row["blowup_factor"] is None)
            and all(0 <= s <= cell.steps for s in steps)
            and (nonfinite is not None or all(map(math.isfinite, numbers)))
            and math.isfinite(row["seconds"])
            and row["seconds"] >= 0
            and (row["outcome"], row["reason"]) == judged
            and (row["question"] == "True") == cell.is_question
        )
    except (TypeError, ValueError):  # a value of the wrong kind where the evidence is read
        return False


def _read_rows(path: str, grid: Grid) -> list[dict]:
    """The rows of a journal, each a cell of ``grid`` as running it writes it, and none twice. Every row
    ends in a newline, so a last line without one was torn by a crash mid-write and is left out; any other
    damage is refused."""
    cells = {cell_key(c.__dict__): c for c in grid.cells()}
    if not os.path.lexists(path):
        return []
    regular_file(path, "sweep journal", MAX_JOURNAL_BYTES)
    again = "add --overwrite to start the sweep again"
    try:
        with open(path, newline="", encoding="utf-8") as handle:
            text = handle.read()
        lines = list(csv.reader(io.StringIO(text[: text.rfind("\n") + 1])))
    except (UnicodeDecodeError, csv.Error):
        raise InputError(f"{path!r} is not a readable sweep journal; {again}") from None
    if lines and tuple(lines[0]) != COLUMNS:
        raise InputError(f"{path!r} is not a sweep journal of this version (its header differs); {again}")
    rows, seen = [], set()
    for number, fields in enumerate(lines[1:], start=2):
        try:
            if len(fields) != len(COLUMNS):
                raise ValueError
            row = dict(zip(COLUMNS, fields))
            for name, kind in TYPES.items():
                row[name] = None if row[name] in ("", "None") else kind(row[name])
        except (ValueError, OverflowError):
            raise InputError(f"{path!r} is damaged at line {number}; {again}") from None
        key = cell_key(row)
        if key not in cells or key in seen or not _as_run(row, cells[key], grid.learned_below):
            what = "a cell listed twice" if key in seen else "a cell not in this grid, or not as it ran"
            raise InputError(f"{path!r} holds {what} at line {number}; {again}")
        seen.add(key)
        row["question"] = row["question"] == "True"
        rows.append(row)
    return rows


def csv_bytes(rows: list[dict]) -> bytes:
    """Rows as a whole CSV file."""
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return buffer.getvalue().encode()


class Journal:
    """The sweep's folder: the grid it belongs to, and the rows appended as cells finish."""

    def __init__(self, folder: str, grid: Grid, overwrite: bool):
        check_out_folder(folder, SWEEP_FILES)
        self.folder, self.csv = folder, os.path.join(folder, "sweep.csv")
        try:
            os.makedirs(folder, exist_ok=True)
            self.lock_path = os.path.join(folder, ".lock")
            self.lock = try_lock(self.lock_path)
        except OSError as exc:
            raise InputError(f"cannot write to output folder {folder!r}: {exc.strerror or exc}") from None
        if self.lock < 0:
            raise InputError(f"another xsq sweep is writing to {folder!r}")
        try:
            self._open(grid, overwrite)
        except BaseException:
            unlock(self.lock_path, self.lock)  # released, so that a corrected run can take the folder
            raise

    def _open(self, grid: Grid, overwrite: bool) -> None:
        """Check the folder belongs to this grid (or clear it), read the finished rows, and open for appending."""
        folder = self.folder
        grid_file = os.path.join(folder, "grid.json")
        try:
            regular_file(grid_file, "grid file", MAX_JOURNAL_BYTES)
            with open(grid_file, encoding="utf-8") as handle:
                same = json.load(handle) == json.loads(json_bytes(grid.__dict__))
        except (InputError, OSError, ValueError, RecursionError):
            same = False
        held = held_names(folder) - {".lock"}
        odd = not_files(folder, held)
        if odd or (held and "grid.json" not in held):
            what = f"{odd[0]}, which is not a file" if odd else "files named like a sweep's, but no grid.json"
            raise InputError(f"{folder!r} holds {what}: it is not a sweep's folder; choose another --out")
        if held and not same:
            if not overwrite:
                raise InputError(
                    f"{folder!r} holds another sweep (or a damaged one); choose another --out, or add --overwrite"
                )
            for name in SWEEP_FILES - {".lock"}:
                if os.path.exists(os.path.join(folder, name)):
                    os.unlink(os.path.join(folder, name))
        try:
            self.rows = _read_rows(self.csv, grid)
        except InputError:
            if not overwrite:
                raise
            self.rows = []  # damaged, and --overwrite given: start again
        write_atomic(grid_file, json_bytes(grid.__dict__))
        write_atomic(self.csv, csv_bytes(self.rows))  # the header once, and only the complete rows
        self.handle = open(self.csv, "a", newline="")
        self.writer = csv.DictWriter(self.handle, COLUMNS, lineterminator="\n")

    def add(self, row: dict) -> None:
        """Append one finished cell's row, on disk before this returns."""
        self.writer.writerow({c: row.get(c) for c in COLUMNS})
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.rows.append(row)

    def close(self) -> None:
        """Close the journal and release the folder's lock (twice is harmless)."""
        if not self.handle.closed:
            self.handle.close()
            unlock(self.lock_path, self.lock)
