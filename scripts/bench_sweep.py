"""Time the default ``xsq sweep`` with one worker and with two: speed-up, per-cell overhead, lambda_max's share.

Run: python scripts/bench_sweep.py [--json out.json]   (about two minutes on two cores)

* speed-up: wall time with ``--jobs 1`` over wall time with ``--jobs 2``;
* per-cell overhead (process start, pickling, waiting for the last cells):
  the two workers' time, ``2 x (wall - lambda_max time)``, less the cells'
  own seconds, per cell, as a share of the mean cell time;
* lambda_max's share: its seconds over the whole sweep's.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from benchlib import emit

from xsq.cli.main import main as xsq


def run(jobs: int, folder: Path) -> dict:
    t = time.perf_counter()
    assert xsq(["sweep", "--jobs", str(jobs), "--out", str(folder), "--quiet"]) == 0
    wall = time.perf_counter() - t
    report = json.loads((folder / "sweep.json").read_text())
    cells = sum(c["seconds"] for c in report["cells"])
    n = len(report["cells"])
    overhead = (jobs * (report["seconds"] - report["lam_seconds"]) - cells) / n
    return {
        "jobs": jobs,
        "cells": n,
        "wall_seconds": wall,
        "sweep_seconds": report["seconds"],
        "lam_seconds": report["lam_seconds"],
        "cell_seconds": cells,
        "overhead_share": overhead / (cells / n),
        "lam_share": report["lam_seconds"] / report["seconds"],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        rows = [run(jobs, Path(tmp) / f"jobs{jobs}") for jobs in (1, 2)]
    print(f"{'jobs':>4} {'cells':>6} {'seconds':>8} {'cells s':>8} {'overhead/cell':>14} {'lambda_max':>11}")
    for r in rows:
        print(
            f"{r['jobs']:>4} {r['cells']:>6} {r['sweep_seconds']:>8.1f} {r['cell_seconds']:>8.1f} "
            f"{r['overhead_share']:>13.1%} {r['lam_share']:>10.1%}"
        )
    print(f"speed-up with 2 jobs: {rows[0]['sweep_seconds'] / rows[1]['sweep_seconds']:.2f}x")
    emit(rows, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
