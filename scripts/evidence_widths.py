"""Which hidden width the evidence prefers: Bayesian-regularised fits of 2, 4, 8 and 16 units, scored on held-out rows.

Run: python scripts/evidence_widths.py [--sets diabetes,friedman1,noisy-1d]

For each data set of ``bench_measured.py``, 80 % of the rows (``train_test_split``, seed 0) are fitted
with ``xsq.fit(X, y, hidden=h, regularization="bayes", restarts=3)``; the table gives the number of
parameters P, the effective number gamma, the Laplace log evidence at the kept parameters (without the
symmetry factor, see the README) and the R^2 on the other 20 %.
"""

from __future__ import annotations

import argparse

from bench_measured import SETS
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split

import xsq

WIDTHS = (2, 4, 8, 16)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="diabetes,friedman1,noisy-1d", help="comma-separated data sets")
    args = parser.parse_args(argv)
    print(f"{'data set':<10} {'hidden':>6} {'P':>5} {'gamma':>7} {'log ev.':>9} {'R2 held out':>12}")
    for name in args.sets.split(","):
        X, y = SETS[name]()
        X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.2, random_state=0)
        for h in WIDTHS:
            model = xsq.fit(X_train, y_train, hidden=h, regularization="bayes", restarts=3)
            ev = model.record.evidence
            r2 = r2_score(y_test, model.predict(X_test)[:, 0])
            print(f"{name:<10} {h:>6} {ev.n_params:>5} {ev.gamma:>7.1f} {ev.log_evidence:>9.1f} {r2:>12.4f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
