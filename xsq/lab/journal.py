"""The sweep's folder: the grid it belongs to (``grid.json``), and ``sweep.csv``, a row appended (flushed and
synced) as each cell finishes, so that Ctrl-C or a crash keeps every finished cell. The same command run again
reads them back and skips them; a last line without its newline was torn by a crash mid-write, and is left
out. Every row read back is untrusted: it must be a cell of this grid, listed once, each value of its type,
and what running that cell writes. A folder holding another grid's sweep (or a damaged one) is refused unless
it may be overwritten; one holding anything but a sweep's files (or a sweep's names without ``grid.json``) is
refused outright. A lock lets one sweep at a time write there.
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

COLUMNS = {  # sweep.csv's columns, and how each one's text reads back (an empty cell is None; int is exact)
    "formulas": str,
    "scaling": str,
    "hidden": int,
    "batch": str,
    "optimizer": str,
    "seed": int,
    "lr": float,
    "steps": int,
    "outcome": str,
    "reason": str,
    "nonfinite_step": int,
    "nonfinite_op": str,
    "blowup_step": int,
    "blowup_factor": float,
    "start_loss": float,
    "best_loss": float,
    "final_loss": float,
    "test_rmse_over_range": float,
    "question": str,
    "seconds": float,
    "lam_max": float,
    "predicted_lr": float,
}
KEY = tuple(COLUMNS)[:8]  # the settings that identify a cell
OPTIONAL = {"nonfinite_step", "nonfinite_op", "blowup_step", "blowup_factor"}  # empty unless it diverged
MAX_JOURNAL_BYTES = 1 << 30
SWEEP_FILES = frozenset({"sweep.csv", "sweep.json", "sweep.png", "grid.json", ".lock"})  # all a sweep writes


def cell_key(row: dict) -> tuple:
    """The settings that identify a cell (as text, so rows read back from the CSV compare equal)."""
    return tuple(str(row[c]) for c in KEY)


def _as_run(row: dict, cell: Cell, learned_below: float) -> bool:
    """Whether a row read back is what running ``cell`` writes: every value there that always is, printable
    text, steps within the run, finite losses unless a value went non-finite, the outcome and reason its own
    evidence gives, and the cell's own question flag (lambda_max and 2 / lambda_max are computed afresh by
    every sweep, and replace what a row holds)."""
    steps = [s for s in (row["nonfinite_step"], row["blowup_step"]) if s is not None]
    losses = (row["start_loss"], row["best_loss"], row["final_loss"], row["test_rmse_over_range"])
    try:
        return (
            all(row[c] is not None for c in COLUMNS if c not in OPTIONAL)
            and all(v.isprintable() for v in row.values() if isinstance(v, str))
            and (row["nonfinite_step"] is None) == (row["nonfinite_op"] is None)
            and (row["blowup_step"] is None) == (row["blowup_factor"] is None)
            and all(0 <= s <= cell.steps for s in steps)
            and (row["nonfinite_step"] is not None or all(map(math.isfinite, losses)))
            and 0 <= row["seconds"] < math.inf
            and (row["outcome"], row["reason"])
            == classify(Evidence(**{f: row[f] for f in Evidence._fields}), learned_below)
            and row["question"] == str(cell.is_question)
        )
    except (TypeError, ValueError):  # a value of the wrong kind where the evidence is read
        return False


def _read_rows(path: str, grid: Grid) -> list[dict]:
    """The rows of a journal, each a cell of ``grid`` as running it writes it, and none twice; any damage but
    a torn last line is refused."""
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
    if lines and tuple(lines[0]) != tuple(COLUMNS):
        raise InputError(f"{path!r} is not a sweep journal of this version (its header differs); {again}")
    cells, rows = {cell_key(vars(c)): c for c in grid.cells()}, {}
    for number, fields in enumerate(lines[1:], start=2):
        try:
            if len(fields) != len(COLUMNS):
                raise ValueError
            row = {c: kind(text) if text else None for (c, kind), text in zip(COLUMNS.items(), fields)}
        except (ValueError, OverflowError):
            raise InputError(f"{path!r} is damaged at line {number}; {again}") from None
        key = cell_key(row)
        if key in rows or key not in cells or not _as_run(row, cells[key], grid.learned_below):
            what = "a cell listed twice" if key in rows else "a cell not in this grid, or not as it ran"
            raise InputError(f"{path!r} holds {what} at line {number}; {again}")
        rows[key] = dict(row, question=row["question"] == "True")
    return list(rows.values())


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
        self.folder, self.csv, self.lock_path = folder, os.path.join(folder, "sweep.csv"), os.path.join(folder, ".lock")
        try:
            os.makedirs(folder, exist_ok=True)
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
            for name in held:
                os.unlink(os.path.join(folder, name))
        try:
            self.rows = _read_rows(self.csv, grid)
        except InputError:
            if not overwrite:
                raise
            self.rows = []  # damaged, and --overwrite given: start again
        write_atomic(grid_file, json_bytes(grid.__dict__))
        write_atomic(self.csv, csv_bytes(self.rows))  # the header once, and only the complete rows
        self.handle = open(self.csv, "a", newline="", encoding="utf-8")
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
