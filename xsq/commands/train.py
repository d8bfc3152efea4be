"""``xsq train``: draw the problem's inputs, fit, evaluate, and publish the run folder as a unit."""

from __future__ import annotations

import contextlib
import csv
import dataclasses
import io
import json
import math
import sys

from .. import settings
from ..metrics import evaluate
from ..problem import Problem
from ..progress import Progress
from ..report import sample_table, summary
from ..runfolder import RunFolder
from ..train import fit

try:
    from ..plots import figures
except ImportError:  # matplotlib is an extra: without it, no plots
    figures = None


def _json(metrics: dict) -> bytes:
    """Strict JSON (no NaN or inf): a metric that does not apply, or is not finite, is null."""
    clean = {k: None if isinstance(v, float) and not math.isfinite(v) else v for k, v in metrics.items()}
    return (json.dumps(clean, indent=2, allow_nan=False) + "\n").encode()


def _history_csv(history) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["epoch", "train_loss", "val_loss", "phase"])
    writer.writerows(
        zip(
            history.epoch.tolist(),
            map(repr, history.train_loss.tolist()),
            map(repr, history.val_loss.tolist()),
            history.phase.tolist(),
        )
    )
    return buffer.getvalue().encode()


def stage_metrics(model, problem: Problem) -> dict:
    """For a staged model: the errors after each kept stage, and what each stage tried did."""
    if model.record is None or not model.record.stages:
        return {}
    out = {}
    for k in range(1, len(model.stages) + 2):
        m = evaluate(model.upto(k), problem)
        for key in ("test_rmse_over_range", "test_max_rel_error", "test_derivative_max_rel_error"):
            out[f"stage_{k}_{key}"] = m[key]
    out["stages_tried"] = [dataclasses.asdict(r) for r in model.record.stages]
    return out


def flag(name: str) -> str:
    """A setting's command-line spelling: ``batch_size`` -> ``--batch-size``."""
    return "--" + name.replace("_", "-")


def run(args) -> int:
    problem = Problem(low=args.low, high=args.high)
    given = {name: getattr(args, name) for name in settings.SETTINGS if getattr(args, name, None) is not None}
    settings.resolve(flag, **given)  # refuse bad settings before anything is drawn or written
    x, rng = problem.draw(args.n, args.seed)
    y = problem.values(x)
    folder = None
    try:
        with RunFolder(args.out, seed=args.seed, overwrite=args.overwrite) as folder:
            with Progress() if not args.quiet else contextlib.nullcontext() as progress:
                model = fit(x, y, **dict(given, seed=rng), callback=progress)
            metrics = evaluate(model, problem, x)
            metrics.update(stage_metrics(model, problem))
            r = model.record
            facts = dict(r.settings, max_epochs=r.settings["epochs"], seed=args.seed)
            facts.update(
                train_seconds=r.seconds,
                epochs=r.n_epochs,
                best_epoch=r.best_epoch,
                converged=r.converged,
                interrupted=r.interrupted,
                target=problem.name,
                low=problem.low,
                high=problem.high,
                n=args.n,
                sizes=list(model.sizes),
            )
            metrics.update(facts)
            model.save(folder.staged("model.npz"))
            folder.write("metrics.json", _json(metrics))
            folder.write("history.csv", _history_csv(r.history))
            plots = figures(model, problem, x) if figures is not None else {}
            for name, png in plots.items():
                folder.write(name, png)
            path = folder.publish()
    except KeyboardInterrupt:
        if folder is not None and folder.published:
            print(f"xsq train: interrupted: the run was saved to {folder.published}", file=sys.stderr)
            return 130
        raise
    print(sample_table(model, problem))
    print(summary(metrics, problem))
    print(f"wrote model.npz, metrics.json, history.csv{''.join(', ' + n for n in plots)} to {path}")
    for note in folder.notes:
        print(note)
    if not plots:
        print("plots: pip install 'xsq[plot]' (matplotlib) to get fit.png, loss.png and error.png")
    if model.record.interrupted:
        print(f"xsq train: interrupted: saved the best model so far to {path}", file=sys.stderr)
        return 130
    return 0
