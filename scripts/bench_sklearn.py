"""What XsqRegressor adds over xsq.fit: the same default fit of x^2 both ways, interleaved.

Run: python scripts/bench_sklearn.py [--rounds 5] [--json out.json]

Both fit the default problem (1,000 inputs from [1, 100], seed 0) with the
default settings; the table gives the median seconds of each and the ratio.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time

import numpy as np
from benchlib import emit

import xsq
from xsq.data.problem import Problem
from xsq.sklearn import XsqRegressor


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", help="also write the rows to this file")
    args = parser.parse_args(argv)
    x, _ = Problem().draw(1000, 0)
    y = x**2
    times = {"xsq.fit": [], "XsqRegressor.fit": []}
    for _ in range(args.rounds):
        t = time.perf_counter()
        model = xsq.fit(x, y)
        times["xsq.fit"].append(time.perf_counter() - t)
        t = time.perf_counter()
        reg = XsqRegressor().fit(x[:, None], y)
        times["XsqRegressor.fit"].append(time.perf_counter() - t)
    assert np.array_equal(reg.predict(x[:10, None]), model.predict(x[:10])[:, 0]), "not the same fit"
    base = statistics.median(times["xsq.fit"])
    rows = [
        {"name": k, "seconds": statistics.median(v), "ratio": statistics.median(v) / base} for k, v in times.items()
    ]
    for r in rows:
        print(f"{r['name']:<18} {r['seconds']:6.3f} s  {r['ratio']:.3f}x")
    emit(rows, args.json)
    return 0


if __name__ == "__main__":
    sys.exit(main())
