"""The text a training run prints: a table of sample predictions and the summary of its metrics."""

from __future__ import annotations

import numpy as np

from ..core.params import count
from ..data.metrics import max_rel_error
from ..data.problem import GRID_POINTS, Problem
from ..training import wider
from ..validation import quoted_name


def sample_table(model, problem: Problem) -> str:
    """At a few telling inputs: the target, the prediction (17 significant digits), their relative error,
    and the true and learned slopes with theirs."""
    x = np.array(problem.sample_points())
    y, p = problem.values(x), model.predict(x)[:, 0]
    dy, dp = problem.slopes(x), model.derivative(x)[:, 0, 0]
    name = problem.label
    head = (
        f"{'x':>10} {name:>14} {'prediction':>24} {'rel. error':>10}  {'slope ' + name:>14} "
        f"{'learned slope':>24} {'rel. error':>10}"
    )
    lines = [head]
    for row in zip(x, y, p, dy, dp):
        xi, yi, pi, dyi, dpi = map(float, row)
        cells = (
            _cell(yi, ">14.8g"),
            _cell(pi, ">24.17g"),
            _cell(max_rel_error([pi], [yi]), ">10.2e"),
            _cell(dyi, ">14.8g"),
            _cell(dpi, ">24.17g"),
            _cell(max_rel_error([dpi], [dyi]), ">10.2e"),
        )
        lines.append(f"{xi:>10.4g} {cells[0]} {cells[1]} {cells[2]}  {cells[3]} {cells[4]} {cells[5]}")
    return "\n".join(lines)


def _cell(value: float, spec: str) -> str:
    """A number in a table column, "n/a" where it is not a finite number (a relative error at a zero target,
    a target undefined there)."""
    width = spec.lstrip("<>^").split(".")[0]
    return format(value, spec) if np.isfinite(value) else format("n/a", f">{width}")


def _shown(value, why: str) -> str:
    """A metric as text: NaN (or None, as read back from JSON) is "n/a" and why, never "nan"; a metric that
    overflowed float64 says so."""
    if value is not None and np.isinf(value):
        return "inf (beyond float64)"
    return f"{value:.3e}" if value is not None and np.isfinite(value) else f"n/a ({why})"


def _percent(share) -> str:
    return f"{100 * share:.1f} %" if share is not None and np.isfinite(share) else "n/a (no test rows)"


def summary(m: dict, problem: Problem) -> str:
    """The metrics of a run (see :func:`xsq.data.metrics.evaluate`) as aligned text lines."""
    lo, hi = problem.low, problem.high
    (b0, b1), (a0, a1) = m["extrapolation_below"], m["extrapolation_above"]
    nil = f"{problem.label} is 0 or not defined there"
    rows = [
        ("train RMSE", f"{m['train_rmse']:.3e}"),
        ("validation RMSE", _shown(m["val_rmse"], "no validation rows")),
        (f"test RMSE ({GRID_POINTS} points of [{lo:g}, {hi:g}])", f"{m['test_rmse']:.3e}"),
        ("test RMSE / target range", f"{m['test_rmse_over_range']:.3e}"),
        (f"max relative error on [{lo:g}, {hi:g}]", f"{m['test_max_rel_error']:.3e}"),
        (f"max relative error of the slope on [{lo:g}, {hi:g}]", f"{m['test_derivative_max_rel_error']:.3e}"),
        ("wall time", wall_time(m)),
        (
            f"EXTRAPOLATION max rel. error on [{b0:g}, {b1:g})",
            _shown(m["extrapolation_max_rel_error_below"], nil),
        ),
        (
            f"EXTRAPOLATION max rel. error on ({a0:g}, {a1:g}]",
            _shown(m["extrapolation_max_rel_error_above"], nil),
        ),
    ]
    k = 1
    while f"stage_{k}_test_rmse_over_range" in m:
        rows.append(
            (
                f"after stage {k}: RMSE / range, max rel. error",
                f"{m[f'stage_{k}_test_rmse_over_range']:.3e}, {m[f'stage_{k}_test_max_rel_error']:.3e}",
            )
        )
        k += 1
    for tried in m.get("stages_tried", []):
        if not tried["kept"]:
            rows.append((f"stage {tried['stage']} ({tried['kind']})", tried["note"]))
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)


def data_table(model, ds, rows, shown: int = 8) -> str:
    """A few held-out rows (spread over the first input's range): inputs, and per output target, prediction and
    relative error."""
    rows = np.asarray(rows)[np.argsort(ds.X[rows, 0])]
    rows = rows[np.unique(np.linspace(0, len(rows) - 1, min(shown, len(rows))).round().astype(int))]
    p = model.predict(ds.X[rows])
    head = " ".join(f"{n[:12]:>12}" for n in ds.inputs)
    head += "".join(f" {n[:14]:>14} {'prediction':>24} {'rel. error':>10}" for n in ds.outputs)
    lines = [head]
    for i, r in enumerate(rows):
        line = " ".join(f"{v:>12.6g}" for v in ds.X[r])
        for j in range(len(ds.outputs)):
            y = ds.Y[r, j]
            line += f" {y:>14.8g} {p[i, j]:>24.17g} {_cell(max_rel_error([p[i, j]], [y]), '>10.2e')}"
        lines.append(line)
    return "\n".join(lines)


def hidden_line(widths, io: tuple[int, int] | None = None) -> str:
    """The ``hidden:`` line's text for a fit that tried a wider second network (:mod:`xsq.training.wider`): what
    each network reached (``record.widths``: its validation RMSE/range, or on a Bayesian fit, whose inputs and
    outputs ``io`` give, its log evidence, gamma of its parameters and its residuals' neighbour z), which was
    kept and why, and (Bayesian) which signs in the first had the second tried."""
    parts = []
    for w in widths:
        if io is not None:
            reached = f": log evidence {w.log_evidence:.1f}" if np.isfinite(w.log_evidence) else " reached nothing"
            reached += f", gamma {w.gamma:.1f} of {count((io[0], w.hidden, io[1]))}" if np.isfinite(w.gamma) else ""
            reached += f", neighbour z {w.neighbour_z:.1f}" if np.isfinite(w.neighbour_z) else ""
        else:
            error = w.val_rmse_over_range
            reached = f" reached {error:.2g}" if np.isfinite(error) else " reached nothing"
        parts.append(f"{w.hidden} units{reached}" + (f" ({w.note})" if w.note else ""))
    kept = next(w.hidden for w in widths if w.kept)
    if io is not None:
        how = _kept_how(widths[1].note)
        first, P = widths[0], count((io[0], widths[0].hidden, io[1]))
        said = {
            "z": f"neighbour z above {wider.MISFIT_Z:g}",
            "gamma": f"gamma above {wider.FULL * P:.1f} ({wider.FULL:g} of {P})",
        }
        why = " and ".join(said[sign] for sign in wider.signs(first.neighbour_z, first.gamma, P)) or "signs"
        tried = f"{widths[1].hidden} were tried for the first's {why}"
        return f"{'; '.join(parts)}; the {kept} units were kept {how}; {tried}"
    return (
        f"validation RMSE/range: {'; '.join(parts)}; the {kept} were kept "
        f"(a wider network is tried when the first ends between {wider.AIM:g} and {wider.CEILING:g})"
    )


def _kept_how(note: str) -> str:
    """Why a Bayesian fit kept the network it did, from the second network's note."""
    if not note:
        return "by log evidence"
    if note.startswith("failed"):
        return "as the second failed"
    return "as the second did not learn" if note == "did not learn" else "as the second was cut short"


def wall_time(m: dict) -> str:
    """The training time and epochs; where a wider second network was tried (``widths``), the time is both
    networks' and the epochs the kept one's."""
    epochs = f"{m['epochs']} epochs{' of the kept one' if m.get('widths') else ''}, best at {m['best_epoch']}"
    return f"{m['train_seconds']:.2f} s{', two networks' if m.get('widths') else ''} ({epochs})"


def data_summary(m: dict) -> str:
    """The metrics of a run on measured data (see :func:`xsq.data.metrics.evaluate_data`) as aligned lines; with
    several outputs, each output's test RMSE, noise level and share inside the 95 % band too, by name."""
    names = [quoted_name(n) for n in m.get("outputs") or []]

    def each(values, formatted) -> str:
        """One value per output, named (``u 1.2e-3, v 4.5e-2``) when there are several."""
        texts = [formatted(v) for v in values]
        return ", ".join(f"{n} {t}" for n, t in zip(names, texts)) if len(names) == len(texts) > 1 else ", ".join(texts)

    rows = [
        ("train RMSE", f"{m['train_rmse']:.3e}"),
        ("validation RMSE", _shown(m["val_rmse"], "no validation rows")),
        (f"test RMSE ({m['test_rows']} held-out row{'s' if m['test_rows'] != 1 else ''})", f"{m['test_rmse']:.3e}"),
    ]
    if len(m.get("test_rmse_per_output", [])) > 1 and m["test_rows"]:
        rows.append(("test RMSE, each output", each(m["test_rmse_per_output"], lambda v: f"{v:.3e}")))
    rows.append(("test RMSE / target range", _shown(m["test_rmse_over_range"], "every target is the same")))
    if "gamma" in m:  # a regularised fit (see xsq.training.bayes)
        inside = _percent(m["test_inside_95"])
        known = m["test_inside_95"] is not None and np.isfinite(m["test_inside_95"])
        if len(m["test_inside_95_per_output"]) > 1 and known:  # and each output's
            inside += " (" + each(m["test_inside_95_per_output"], _percent) + ")"
        rows += [
            ("effective parameters (gamma)", f"{m['gamma']:.1f} of {m['n_params']}"),
            ("noise level (std, from beta)", each(m["noise_level"], lambda v: f"{v:.3e}")),
            ("log evidence", f"{m['log_evidence']:.6g}"),
            ("test targets inside the 95 % band", inside),
        ]
    rows += [
        ("max relative error on the test rows", _shown(m["test_max_rel_error"], "every test target is 0")),
        ("wall time", wall_time(m)),
    ]
    width = max(len(k) for k, _ in rows)
    return "\n".join(f"{k:<{width}}  {v}" for k, v in rows)
