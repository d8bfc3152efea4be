"""``xsq train``: draw the problem's inputs, fit, evaluate, and publish the run folder as a unit."""

from __future__ import annotations

import argparse
import contextlib
import csv
import dataclasses
import io
import os
import sys
from types import ModuleType

import numpy as onp

from .. import commands, interrupts, settings
from ..argparsing import flag
from ..dataset import read_csv
from ..errors import InputError, PlotError
from ..expr import compile_expression
from ..files import json_bytes
from ..metrics import evaluate, evaluate_data
from ..outputs import choose_output
from ..params import count
from ..problem import Problem
from ..progress import Progress
from ..report import data_summary, data_table, sample_table, summary
from ..resources import check_memory
from ..runfolder import RunFolder
from ..settings import TrainSettings
from ..train import fit, split
from . import report_saved

N, TEST_FRACTION = 1000, 0.2  # the defaults of --n (with a target) and --test-fraction (with --data)


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


class FunctionJob:
    """Fit a target expression on a domain (``--target``, ``--low``, ``--high``, ``--n``)."""

    def __init__(self, args: argparse.Namespace, s: TrainSettings):
        given = {k: getattr(args, k) for k in ("low", "high") if getattr(args, k) is not None}
        if args.target is not None:
            given["target"] = compile_expression(args.target)
        self.problem, self.n = Problem(**given), args.n or N
        target, low, high = self.problem.target, self.problem.low, self.problem.high
        check_memory(self.n, (1, *s.hidden, 1), s.optimizer, s.batch_size)  # before drawing n inputs
        self.x, self.rng = self.problem.draw(self.n, args.seed)
        self.X, self.Y = self.x, self.problem.values(self.x)
        self.output = None  # auto decides from the training targets and the whole domain it is judged on
        if s.output == "auto":
            grid = self.problem.values(self.problem.grid())
            where = f"{target.text} on [{low:g}, {high:g}]"
            self.output = choose_output(self.Y, also=grid, where=where, X=self.X)

    def metrics(self, model) -> dict:
        m = evaluate(model, self.problem, self.x)
        m.update(stage_metrics(model, self.problem))
        return dict(m, target=self.problem.name, low=self.problem.low, high=self.problem.high, n=self.n)

    def text(self, model, metrics: dict) -> str:
        return sample_table(model, self.problem) + "\n" + summary(metrics, self.problem)

    def figures(self, plots: ModuleType, model) -> dict:
        return plots.figures(model, self.problem, self.x)


class DataJob:
    """Fit measured data (``--data FILE.csv``), holding out ``--test-fraction`` of the rows to report on."""

    def __init__(self, args: argparse.Namespace, s: TrainSettings):
        self.output = None
        for name in ("target", "low", "high", "n"):
            if getattr(args, name) is not None:
                raise InputError(f"--{name} describes a target function; it does not apply with --data")
        self.ds = read_csv(args.data, args.inputs, args.outputs)
        self.rng = onp.random.default_rng(args.seed)
        n = len(self.ds.X)
        if n < 3:
            raise InputError(
                f"{args.data!r} has {n} data row{'s' if n != 1 else ''}; at least 3 are needed (training and test)"
            )
        fraction = TEST_FRACTION if args.test_fraction is None else args.test_fraction
        self.train, self.test = split(n, fraction, self.rng, "--test-fraction", min_held=1)
        self.X, self.Y = self.ds.X[self.train], self.ds.Y[self.train]

    def metrics(self, model) -> dict:
        m = evaluate_data(model, self.ds.X, self.ds.Y, self.train, self.test)
        return dict(m, data=self.ds.path, inputs=list(self.ds.inputs), outputs=list(self.ds.outputs))

    def text(self, model, metrics: dict) -> str:
        return data_table(model, self.ds, self.test) + "\n" + data_summary(metrics)

    def figures(self, plots: ModuleType, model) -> dict:
        return plots.data_figures(model, self.ds, self.train, self.test)


RUN_FILES = frozenset({"model.npz", "metrics.json", "history.csv", "fit.png", "loss.png", "error.png"})
RUN_MARK = frozenset({"model.npz", "metrics.json"})  # what every run folder holds


def shown(path: str) -> str:
    """A path as the user would write it: relative to the current folder when it lies inside it."""
    relative = os.path.relpath(path)
    return path if relative.startswith("..") else relative


def run(args) -> int:
    """Run ``xsq train`` with parsed ``args``; return the exit status."""
    if (args.inputs or args.outputs or args.test_fraction is not None) and args.data is None:
        raise InputError("--inputs, --outputs and --test-fraction apply to --data FILE.csv")
    given = {name: getattr(args, name) for name in settings.SETTINGS if getattr(args, name, None) is not None}
    s = settings.resolve(flag, **given)  # refuse bad settings before anything is drawn or written
    job = DataJob(args, s) if args.data is not None else FunctionJob(args, s)
    folder = None
    try:
        out = RunFolder(args.out, seed=args.seed, overwrite=args.overwrite, replaceable=RUN_FILES, mark=RUN_MARK)
        with out as folder, interrupts.at_checkpoints():  # a signal stops training at its next epoch
            with Progress() if not args.quiet else contextlib.nullcontext() as progress:

                def each_epoch(info: dict) -> None:
                    interrupts.checkpoint()  # a signal held since it came stops training here
                    if progress is not None:
                        progress(info)

                chosen = {"output": job.output[0]} if job.output else {}
                model = fit(job.X, job.Y, **dict(given, seed=job.rng, **chosen), callback=each_epoch)
            if model.record.interrupted:
                interrupts.handled()  # stopped with the best so far: a result to save, not a signal to act on
            with interrupts.deferred():  # trained: a signal from here on waits for the run to be saved
                metrics = job.metrics(model)
                r = model.record
                reason = job.output[1] if job.output else r.settings["output_reason"]
                metrics.update(
                    r.settings,
                    output_reason=reason,
                    max_epochs=r.settings["epochs"],
                    seed=args.seed,
                    train_seconds=r.seconds,
                    epochs=r.n_epochs,
                    best_epoch=r.best_epoch,
                    converged=r.converged,
                    interrupted=r.interrupted,
                    sizes=list(model.sizes),
                )
                model.save(folder.temp_path("model.npz"))
                folder.write("metrics.json", json_bytes(metrics, indent=2))
                folder.write("history.csv", _history_csv(r.history))
                plots, note = {}, None
                if commands.PLOTTING:
                    try:
                        plots = job.figures(commands.drawing("plots"), model)
                    except PlotError as exc:
                        note = f"plots skipped: {exc}"
                for name, png in plots.items():
                    folder.write(name, png)
                path = folder.publish()
            interrupts.checkpoint()  # one swallowed meanwhile: the run is saved, and the message says so
    except KeyboardInterrupt:
        if folder is not None and folder.published:
            interrupts.handled()
            print(f"xsq train: interrupted: the run was saved to {shown(folder.published)}", file=sys.stderr)
            return interrupts.exit_status()
        raise

    def report() -> None:
        if given.get("output", "auto") == "auto":
            print(f"output: {model.output} (chosen because {reason})")
        print(job.text(model, metrics))
        if len(job.X) < count(model.sizes):
            print(
                f"note: {len(job.X)} training inputs for {count(model.sizes)} parameters: many networks fit them "
                "exactly; the test errors above say how well this one generalises"
            )
        print(f"wrote model.npz, metrics.json, history.csv{''.join(', ' + n for n in plots)} to {shown(path)}")
        for line in folder.notes:
            print(line)
        if note:
            print(note)
        elif not plots:
            print("plots: pip install 'xsq[plot]' (matplotlib) to get fit.png, loss.png and error.png")

    status = report_saved("xsq train", f"the run was saved to {shown(path)}", report)
    if status is not None:
        return status
    if model.record.interrupted:
        print(f"xsq train: interrupted: saved the best model so far to {shown(path)}", file=sys.stderr)
        return interrupts.exit_status()
    return 0
