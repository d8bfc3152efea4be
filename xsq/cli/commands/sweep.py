"""``xsq sweep``: run a grid of short trainings in parallel, keep every finished cell, and map the result.

Cells run through joblib (process-based loky by default, or a Dask cluster
through joblib's Dask backend) and come back as they finish. There are no
more loky workers than cells to run, and they start ignoring Ctrl-C: one at
the terminal reaches them too, but only xsq acts on it, and stops them. Each finished
cell is appended to ``sweep.csv`` at once (flushed and synced), so Ctrl-C or
a crash keeps every finished cell, and the same command run again resumes in
the same folder (``runs/sweep-<hash of the axes>`` unless ``--out``) and
skips them. When every cell is done, ``sweep.csv`` (sorted), ``sweep.json``
and ``sweep.png`` are each written atomically.
"""

from __future__ import annotations

import contextlib
import dataclasses
import math
import os
import sys
import time
import warnings
from concurrent.futures import BrokenExecutor

from joblib import Parallel, delayed, parallel_config

from ...errors import InputError, PlotError
from ...files import json_bytes, write_atomic
from ...lab.journal import KEY, Journal, cell_key, csv_bytes
from ...lab.outcomes import DIVERGED, LEARNED, STALLED, Evidence, settled
from ...lab.sweep import Cell, Grid, lam_max, run_cell
from .. import commands, interrupts
from ..progress import Progress
from . import MAX_CELLS, TIMEOUT, quoted, report_saved


def _connect(args):
    """A Dask client for ``--backend dask`` (checked before anything is written), else None."""
    if args.backend != "dask":
        if args.scheduler is not None or args.timeout is not None:
            raise InputError("--scheduler and --timeout apply to --backend dask")
        return None
    if not args.scheduler:
        raise InputError("--backend dask needs --scheduler ADDRESS (e.g. tcp://host:8786)")
    try:
        from dask.distributed import Client
    except ImportError:
        raise InputError("--backend dask needs dask.distributed: pip install 'xsq[dask]'") from None
    try:
        return Client(args.scheduler, timeout=TIMEOUT if args.timeout is None else args.timeout)
    except (OSError, TimeoutError, ValueError, TypeError) as exc:  # TypeError: a scheme it cannot set up here
        raise InputError(f"cannot reach the Dask scheduler {args.scheduler!r}: {exc}") from None


def _cells_in_parallel(cells, grid: Grid, jobs: int, client):
    """Each cell's row as it finishes, through joblib (loky processes, or the Dask cluster of ``client``)."""
    tasks = (delayed(run_cell)(cell, grid.learned_below) for cell in cells)
    with contextlib.ExitStack() as stack:
        if client is not None:
            stack.enter_context(parallel_config(backend="dask"))
            results = Parallel(return_as="generator_unordered")(tasks)
        else:
            with interrupts.held(), interrupts.unheeded_by_children():  # the workers start, ignoring Ctrl-C
                results = Parallel(n_jobs=jobs, backend="loky", return_as="generator_unordered")(tasks)
        stack.enter_context(warnings.catch_warnings())
        stack.enter_context(contextlib.closing(results))  # closed early: joblib stops the workers
        # joblib's note on the tasks closing cancels (on purpose), which may start with the ones done but not used
        warnings.filterwarnings(
            "ignore", "\\d+ tasks (which were still being processed|have been successfully)", UserWarning
        )
        interrupts.checkpoint()  # one that came while they started
        yield from results


def boundaries(rows: list[dict]) -> list[dict]:
    """Per row of the map (all settings but lr): the largest lr up to which every run settled, beside 2/lambda_max."""
    groups: dict[tuple, list] = {}
    for r in rows:
        groups.setdefault(
            tuple(r[c] for c in ("formulas", "scaling", "hidden", "batch", "optimizer", "seed")), []
        ).append(r)
    out = []
    for key, group in sorted(groups.items()):
        measured = None
        for r in sorted(group, key=lambda r: r["lr"]):
            if not settled(Evidence(**{f: r[f] for f in Evidence._fields if f in r})):
                break
            measured = r["lr"]
        predicted = group[0]["predicted_lr"]
        ratio = measured / predicted if measured and predicted and math.isfinite(predicted) else None
        out.append(
            dict(
                zip(("formulas", "scaling", "hidden", "batch", "optimizer", "seed"), key),
                measured_lr=measured,
                predicted_lr=predicted,
                ratio=ratio,
            )
        )
    return out


PREDICTED = {False: "none", True: "n/a"}  # no positive curvature; a Hessian that is not finite


def summary(rows: list[dict]) -> str:
    """The measured and predicted boundaries per row, and the question's configuration with its outcome."""
    lines = [
        f"{'formulas':<9} {'scaling':<7} {'hidden':>6} {'batch':>5} {'optimizer':<9} {'seed':>4} "
        f"{'largest stable lr':>17} {'2/lambda_max':>12} {'ratio':>6}"
    ]
    for b in boundaries(rows):
        m = "none" if b["measured_lr"] is None else f"{b['measured_lr']:.3g}"
        p = f"{b['predicted_lr']:.3g}" if math.isfinite(b["predicted_lr"]) else PREDICTED[math.isnan(b["predicted_lr"])]
        ratio = "" if b["ratio"] is None else f"{b['ratio']:.2g}"
        lines.append(
            f"{b['formulas']:<9} {b['scaling']:<7} {b['hidden']:>6} {b['batch']:>5} {b['optimizer']:<9} "
            f"{b['seed']:>4} {m:>17} {p:>12} {ratio:>6}"
        )
    for r in rows:
        if r["question"]:
            lines.append(
                f">>> the question's configuration ({r['formulas']} formulas, raw data, 1 hidden unit, "
                f"per-sample SGD, lr 1e-4, seed {r['seed']}): {r['outcome'].upper()}, {r['reason']}"
            )
    return "\n".join(lines)


def run(args) -> int:
    """Run ``xsq sweep`` with parsed ``args``; return the exit status (128 + the signal's number when
    interrupted, keeping the finished cells)."""
    grid = Grid(
        args.lr,
        args.scaling,
        args.hidden,
        args.batch,
        args.optimizer,
        args.seeds,
        args.formulas,
        args.steps,
        args.learned_below,
    )
    if grid.size() > MAX_CELLS and not args.yes:
        raise InputError(f"the grid has {grid.size()} cells, more than {MAX_CELLS}; add --yes to run them all")
    cells = grid.cells()
    client = _connect(args)
    folder = args.out if args.out is not None else os.path.join("runs", f"sweep-{grid.key()}")
    journal = Journal(folder, grid, args.overwrite)
    try:
        done = {cell_key(r) for r in journal.rows}
        todo = [c for c in cells if cell_key(c.__dict__) not in done]
        if len(todo) < len(cells):
            print(f"resuming: {len(cells) - len(todo)} of {len(cells)} cells already done", file=sys.stderr)
        start = time.perf_counter()
        lams = {row: lam_max(row) for row in sorted({c.row for c in cells})}
        lam_seconds = time.perf_counter() - start

        def with_lam(row: dict) -> dict:  # computed afresh, so a resumed row never keeps a stale or crafted one
            lam = lams[Cell(**{f.name: row[f.name] for f in dataclasses.fields(Cell)}).row]
            return dict(row, lam_max=lam["lam_max"], predicted_lr=lam["predicted_lr"])

        jobs, cpus = max(1, min(args.jobs, len(todo))), os.cpu_count() or 1
        if args.jobs > cpus and client is None and todo:
            capped = f"; capped at the {jobs} cell{'s' * (jobs > 1)} to run" if jobs < args.jobs else ""
            print(f"note: --jobs {args.jobs} is more than the {cpus} CPUs{capped}", file=sys.stderr)
        with Progress("sweep", "cell") if not args.quiet else contextlib.nullcontext() as progress:
            for i, row in enumerate(_cells_in_parallel(todo, grid, jobs, client), start=1):
                interrupts.checkpoint()  # a Ctrl-C swallowed while the cell ran: the cell may be cut short
                journal.add(with_lam(row))
                if progress is not None:
                    progress(
                        dict(
                            epoch=i,
                            total=len(todo),
                            phase=row["outcome"],
                            train_loss=row["final_loss"],
                            val_loss=row["test_rmse_over_range"],
                            elapsed=time.perf_counter() - start,
                        )
                    )
        seconds = time.perf_counter() - start
        rows = sorted(map(with_lam, journal.rows), key=lambda r: tuple(r[c] for c in KEY[:7]))
        write_atomic(journal.csv, csv_bytes(rows))
        summary_json = {
            "grid": grid.__dict__,
            "cells": rows,
            "boundaries": boundaries(rows),
            "seconds": seconds,
            "lam_seconds": lam_seconds,
        }
        write_atomic(os.path.join(journal.folder, "sweep.json"), json_bytes(summary_json))
        drawn, note = False, None
        if commands.PLOTTING:
            try:
                png = commands.drawing("sweep_plot").heatmap(rows, grid.learned_below)
            except PlotError as exc:
                note = f"map skipped: {exc}"
            else:
                write_atomic(os.path.join(journal.folder, "sweep.png"), png)
                drawn = True
    except KeyboardInterrupt:
        kept, rest = len(journal.rows), "finish the rest" if len(journal.rows) < len(cells) else "write its summary"
        print(
            f"xsq sweep: interrupted: kept the {kept} finished cells in {quoted(journal.folder)}; run the same "
            f"command again to {rest}",
            file=sys.stderr,
        )
        return interrupts.exit_status()
    except (BrokenExecutor, MemoryError) as exc:  # resources ran out: the finished cells are kept all the same
        what = (
            "a worker process was killed (out of memory, or stopped from outside)"
            if isinstance(exc, BrokenExecutor)
            else "out of memory"
        )
        print(
            f"xsq sweep: error: {what}: kept the {len(journal.rows)} finished cells in {quoted(journal.folder)}; "
            "run the same command again to finish the rest (with fewer --jobs if memory is short)",
            file=sys.stderr,
        )
        return 1
    finally:
        journal.close()
        if client is not None:
            client.close()

    def report() -> None:
        print(summary(rows))
        counts = ", ".join(f"{sum(r['outcome'] == o for r in rows)} {o}" for o in (LEARNED, STALLED, DIVERGED))
        print(
            f"{len(rows)} cells ({counts}) in {seconds:.1f} s; lambda_max took {lam_seconds:.2f} s; "
            f"wrote sweep.csv, sweep.json{', sweep.png' if drawn else ''} to {quoted(journal.folder)}"
        )
        if note:
            print(note)

    return report_saved("xsq sweep", f"all {len(rows)} cells were saved in {quoted(journal.folder)}", report) or 0
