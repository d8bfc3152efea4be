"""Which hidden width the evidence prefers: Bayesian-regularised fits of 2, 4, 8 and 16 units, scored on held-out rows.

Run: python scripts/evidence_widths.py [--sets diabetes,friedman1,noisy-1d] [--damped 12] [--null 2000]

For each data set of ``bench_measured.py``, 80 % of the rows (``train_test_split``, seed 0) are fitted
with ``xsq.fit(X, y, hidden=h, regularization="bayes", restarts=3)``; the table gives the number of
parameters P, the effective number gamma, the Laplace log evidence at the kept parameters (without the
symmetry factor, see the README) and the R^2 on the other 20 %.

``--damped K``: instead, K draws (seeds 0 .. K-1) of the README's measured damped oscillation (400 times
in [0, 6], ``exp(-t/2) cos(3t)`` plus noise of standard deviation 1e-3), each fitted with 8 units and with
the default (8 units, and a 12-unit network as well when the 8 leave correlated residuals:
``xsq.training.wider``). For each: the 8 units' neighbour z (``xsq.training.residuals``), the width kept, and
for both fits the RMSE against the noise-free curve (on 2,001 points of [0, 6]) and the noise level the
evidence estimates, both over the true noise level; and the 8 units' gamma of their parameters. Last, how
much MacKay's symmetry factor log(h! 2^h) would favour 12 units over 8.

``--null K``: the neighbour z of K draws of pure noise (400 inputs uniform in [0, 1]), of one spread and of
a spread growing tenfold across the inputs: its mean, spread and largest value.
"""

from __future__ import annotations

import argparse

import numpy as np
from bench_measured import SETS
from sklearn.metrics import r2_score
from sklearn.model_selection import train_test_split

import xsq
from xsq.training import bayes
from xsq.training.residuals import neighbour_z

NOISE = 1e-3  # the damped oscillation's measurement noise (as scripts/make_example_data.py draws it)


def damped(k: int) -> None:
    """The ``--damped K`` table (see the module doc)."""
    grid = np.linspace(0.0, 6.0, 2001)
    truth = np.exp(-grid / 2) * np.cos(3 * grid)
    head = f"{'seed':>4} {'z of 8':>7} {'gamma of 8':>11} {'kept':>5} {'RMSE/noise 8':>13} {'default':>8}"
    print(f"{head} {'noise est. 8':>13} {'default':>8}")
    for seed in range(k):
        rng = np.random.default_rng(seed)
        t = rng.uniform(0.0, 6.0, 400)
        y = np.exp(-t / 2) * np.cos(3 * t) + rng.normal(0.0, NOISE, t.size)
        fits = [xsq.fit(t, y, regularization="bayes", **given) for given in ({"hidden": 8}, {})]
        errors = [np.sqrt(np.mean((m.predict(grid)[:, 0] - truth) ** 2)) / NOISE for m in fits]
        noise = [m.record.evidence.noise_level[0] / NOISE for m in fits]
        z = neighbour_z(t[:, None], y[:, None] - fits[0].predict(t))  # the default's first network is this one
        gamma = f"{fits[0].record.evidence.gamma:.1f} of {fits[0].record.evidence.n_params}"
        row = f"{seed:>4} {z:>7.1f} {gamma:>11} {fits[1].sizes[1]:>5} {errors[0]:>13.2f} {errors[1]:>8.2f}"
        print(f"{row} {noise[0]:>13.2f} {noise[1]:>8.2f}")
    favour = bayes.symmetry((1, 12, 1)) - bayes.symmetry((1, 8, 1))
    print(f"the symmetry factor would favour 12 units over 8 by {favour:.1f} nats")


def null(k: int) -> None:
    """The ``--null K`` lines (see the module doc)."""
    rng = np.random.default_rng(0)
    for name, spread in (("alike", lambda x: 1.0), ("tenfold", lambda x: 0.2 + 2.0 * x)):
        zs = []
        for _ in range(k):
            x = rng.uniform(size=400)
            zs.append(neighbour_z(x[:, None], (spread(x) * rng.normal(size=400))[:, None]))
        shown = f"mean {np.mean(zs):+.2f}, spread {np.std(zs):.2f}, largest {max(zs):.2f}"
        print(f"noise of spread {name:<7}: neighbour z {shown}")


WIDTHS = (2, 4, 8, 16)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sets", default="diabetes,friedman1,noisy-1d", help="comma-separated data sets")
    parser.add_argument("--damped", type=int, metavar="K", help="K draws of the measured damped oscillation instead")
    parser.add_argument("--null", type=int, metavar="K", help="the neighbour z of K draws of pure noise instead")
    args = parser.parse_args(argv)
    if args.damped is not None:
        damped(args.damped)
        return 0
    if args.null is not None:
        null(args.null)
        return 0
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
