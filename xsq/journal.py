"""The sweep's folder: the grid it belongs to, and an append-only CSV of the cells as they finish.

Each finished cell is appended to ``sweep.csv`` at once (flushed and synced),
so Ctrl-C or a crash keeps every finished cell; opening the same folder for
the same grid again reads them back (a line torn by a crash mid-write is left
out) and the sweep skips them. A folder holding another grid's sweep is
refused unless it may be overwritten, and a lock lets one sweep at a time
write there.
"""

from __future__ import annotations

import csv
import io
import json
import os

from .errors import InputError
from .files import write_atomic
from .runfolder import try_lock
from .sweep import Grid

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
TYPES = {
    "hidden": int,
    "seed": int,
    "steps": int,
    "lr": float,
    "nonfinite_step": int,
    "blowup_step": int,
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


def _read_rows(path: str) -> list[dict]:
    """The complete rows of a journal (a torn last line, from a crash mid-write, is left out)."""
    if not os.path.exists(path):
        return []
    with open(path, newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if None not in r.values() and len(r) == len(COLUMNS)]
    for r in rows:
        for name, kind in TYPES.items():
            r[name] = None if r[name] in ("", "None") else kind(float(r[name]))
        r["question"] = r["question"] == "True"
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
        self.folder, self.csv = folder, os.path.join(folder, "sweep.csv")
        try:
            os.makedirs(folder, exist_ok=True)
            self.lock = try_lock(os.path.join(folder, ".lock"))
        except OSError as exc:
            raise InputError(f"cannot write to output folder {folder!r}: {exc.strerror or exc}") from None
        if self.lock < 0:
            raise InputError(f"another xsq sweep is writing to {folder!r}")
        grid_file = os.path.join(folder, "grid.json")
        same = os.path.exists(grid_file) and json.loads(open(grid_file).read()) == json.loads(json.dumps(grid.__dict__))
        if os.listdir(folder) not in ([], [".lock"]) and not same:
            if not overwrite:
                raise InputError(f"{folder!r} holds another sweep; choose another --out, or add --overwrite")
            for name in ("sweep.csv", "sweep.json", "sweep.png", "grid.json"):
                if os.path.exists(os.path.join(folder, name)):
                    os.unlink(os.path.join(folder, name))
        write_atomic(grid_file, json.dumps(grid.__dict__, indent=1).encode())
        self.rows = _read_rows(self.csv)
        if self.rows:  # drop a torn last line, if any, before appending
            write_atomic(self.csv, csv_bytes(self.rows))
        self.handle = open(self.csv, "a", newline="")
        self.writer = csv.DictWriter(self.handle, COLUMNS, lineterminator="\n")
        if not self.rows:
            self.writer.writeheader()

    def add(self, row: dict) -> None:
        self.writer.writerow({c: row.get(c) for c in COLUMNS})
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.rows.append(row)

    def close(self) -> None:
        if not self.handle.closed:
            self.handle.close()
            os.close(self.lock)
