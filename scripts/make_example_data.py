"""Write the example data set the README fits with ``xsq train --data``: a damped oscillation, measured with noise.

Run: python scripts/make_example_data.py [--seed 0]   (writes scripts/data/damped.csv)

400 times t drawn uniformly from [0, 6]; y = exp(-t / 2) cos(3 t) plus
normal noise of standard deviation 1e-3 (a careful measurement): the best
any fit can do on fresh rows is an RMSE of about 1e-3.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from xsq.files import write_atomic

OUT = Path(__file__).resolve().parent / "data" / "damped.csv"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    rng = np.random.default_rng(args.seed)
    t = np.sort(rng.uniform(0, 6, 400))
    y = np.exp(-t / 2) * np.cos(3 * t) + rng.normal(0, 1e-3, t.size)
    write_atomic(OUT, ("t,y\n" + "".join(f"{a:.6f},{b:.6f}\n" for a, b in zip(t, y))).encode())
    print(f"wrote {len(t)} rows to {OUT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
