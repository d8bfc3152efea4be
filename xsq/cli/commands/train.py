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

import numpy as np

from ...core.params import count
from ...data.dataset import read_csv
from ...data.expr import compile_expression
from ...data.metrics import evaluate, evaluate_data
from ...data.problem import DRAWN, Problem
from ...errors import InputError, PlotError
from ...files import json_bytes
from ...training import separable, settings, wider
from ...training.bayes import Z95
from ...training.loop import EpochInfo
from ...training.outputs import choose_output
from ...training.resources import check_memory, epoch_seconds
from ...training.settings import TrainSettings
from ...training.train import fit, split
from .. import commands, interrupts
from ..argparsing import flag
from ..progress import Progress
from ..report import data_summary, data_table, hidden_line, sample_table, summary
from ..runfolder import RunFolder
from . import TEST_FRACTION, animate, quoted, report_saved

LONG_RUN = 120  # seconds: a run estimated to take longer is told so before it starts


def _history_csv(history, evidence=None) -> bytes:
    """history.csv: epoch, losses and phase; for a regularised fit also beta, gamma and each group's alpha."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    head = ["epoch", "train_loss", "val_loss", "phase"]
    columns = [
        history.epoch.tolist(),
        map(repr, history.train_loss.tolist()),
        map(repr, history.val_loss.tolist()),
        history.phase.tolist(),
    ]
    if evidence is not None:
        head += ["beta", "gamma", *(f"alpha_{g + 1}" for g in range(evidence.history_alpha.shape[1]))]
        columns += [map(repr, evidence.history_beta.tolist()), map(repr, evidence.history_gamma.tolist())]
        columns += [map(repr, a.tolist()) for a in evidence.history_alpha.T]
    writer.writerow(head)
    writer.writerows(zip(*columns))
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
        self.problem, self.n = Problem(**given), args.n or DRAWN
        target, low, high = self.problem.target, self.problem.low, self.problem.high
        check_memory(self.n, (1, *s.hidden, 1), s.optimizer, s.batch_size, s.regularization)  # before drawing n inputs
        self.x, self.rng = self.problem.draw(self.n, args.seed)
        self.X, self.Y = self.x, self.problem.values(self.x)
        self.output = None  # auto decides from the training targets and the whole domain it is judged on
        if s.output == "auto":
            grid = self.problem.values(self.problem.grid())
            where = f"{target.text} on [{low:g}, {high:g}]"
            projectable = separable.would_train(s, 1, self.n)
            self.output = choose_output(
                self.Y, also=grid, where=where, X=self.X, projectable=projectable, regularization=s.regularization
            )

    def named(self, model):
        """The model as it is: a target function's input has no column name."""
        return model

    def metrics(self, model) -> dict:
        m = evaluate(model, self.problem, self.x)
        m.update(stage_metrics(model, self.problem))
        return dict(m, target=self.problem.name, low=self.problem.low, high=self.problem.high, n=self.n)

    def text(self, model, metrics: dict) -> str:
        return sample_table(model, self.problem) + "\n" + summary(metrics, self.problem)

    def figures(self, plots: ModuleType, model) -> dict:
        return plots.figures(model, self.problem, self.x)


def evidence_metrics(model, X_test, Y_test) -> dict:
    """For a regularised fit: gamma, the noise level, the log evidence, and the share of test targets inside the
    95 % band, over every output and per output."""
    evidence = model.record.evidence if model.record is not None else None
    if evidence is None or model.posterior is None:
        return {}
    inside, per_output = float("nan"), [float("nan")] * model.sizes[-1]
    if len(X_test):
        mean, std = model.predict(X_test, return_std=True)
        hit = np.abs(Y_test - mean) <= Z95 * std
        inside, per_output = float(np.mean(hit)), [float(v) for v in np.mean(hit, axis=0)]
    return {
        "gamma": evidence.gamma,
        "n_params": evidence.n_params,
        "noise_level": list(evidence.noise_level),
        "log_evidence": evidence.log_evidence,
        "test_inside_95": inside,
        "test_inside_95_per_output": per_output,
    }


class DataJob:
    """Fit measured data (``--data FILE.csv``), holding out ``--test-fraction`` of the rows to report on."""

    def __init__(self, args: argparse.Namespace, s: TrainSettings):
        self.output = None
        for name in ("target", "low", "high", "n"):
            if getattr(args, name) is not None:
                raise InputError(f"--{name} describes a target function; it does not apply with --data")
        self.ds = read_csv(args.data, args.inputs, args.outputs)
        self.rng = np.random.default_rng(args.seed)
        n = len(self.ds.X)
        if n < 3:
            raise InputError(
                f"{args.data!r} has {n} data row{'s' if n != 1 else ''}; at least 3 are needed (training and test)"
            )
        fraction = TEST_FRACTION if args.test_fraction is None else args.test_fraction
        self.train, self.test = split(n, fraction, self.rng, "--test-fraction", min_held=1)
        self.X, self.Y = self.ds.X[self.train], self.ds.Y[self.train]

    def named(self, model):
        """The model with the data file's column names in its record (when its header named them): ``xsq predict
        --data`` then reads the same columns."""
        if not self.ds.named:
            return model
        record = dataclasses.replace(model.record, inputs=self.ds.inputs, outputs=self.ds.outputs)
        return dataclasses.replace(model, record=record)

    def metrics(self, model) -> dict:
        m = evaluate_data(model, self.ds.X, self.ds.Y, self.train, self.test)
        m.update(evidence_metrics(model, self.ds.X[self.test], self.ds.Y[self.test]))
        return dict(m, data=self.ds.path, inputs=list(self.ds.inputs), outputs=list(self.ds.outputs))

    def text(self, model, metrics: dict) -> str:
        return data_table(model, self.ds, self.test) + "\n" + data_summary(metrics)

    def figures(self, plots: ModuleType, model) -> dict:
        return plots.data_figures(model, self.ds, self.train, self.test)


RUN_FILES = frozenset({"model.npz", "metrics.json", "history.csv", "fit.png", "loss.png", "error.png", "training.gif"})
RUN_MARK = frozenset({"model.npz", "metrics.json"})  # what every run folder holds


def shown(path: str) -> str:
    """A path as the user would write it: relative to the current folder when it lies inside it, quoted when
    it is not plain text."""
    relative = os.path.relpath(path)
    return quoted(path if relative.startswith("..") else relative)


def run(args) -> int:
    """Run ``xsq train`` with parsed ``args``; return the exit status."""
    if (args.inputs or args.outputs or args.test_fraction is not None) and args.data is None:
        raise InputError("--inputs, --outputs and --test-fraction apply to --data FILE.csv")
    given = {name: getattr(args, name) for name in settings.SETTINGS if getattr(args, name, None) is not None}
    if args.data is not None and "regularization" not in given:  # measured data have noise: regularise
        given["regularization"] = settings.measured_regularization(**given)
    s = settings.resolve(flag, **given)  # refuse bad settings before anything is drawn or written
    job = DataJob(args, s) if args.data is not None else FunctionJob(args, s)
    sizes = (job.X.shape[1] if job.X.ndim > 1 else 1, *s.hidden, job.Y.shape[1] if job.Y.ndim > 1 else 1)
    check_memory(len(job.X), sizes, s.optimizer, s.batch_size, s.regularization)  # refused runs are not warned about
    minutes = epoch_seconds(len(job.X), sizes, s.optimizer, s.batch_size) * s.epochs / 60
    unit = job.output[0] if job.output else s.output if s.output != "auto" else "identity"  # auto: at worst
    two = wider.could_widen("hidden" in given, dataclasses.replace(s, output=unit), sizes[0], sizes[-1], len(job.X))
    if two:  # a wider second network may follow (xsq.training.wider)
        minutes += epoch_seconds(len(job.X), wider.wider_sizes(sizes), s.optimizer, s.batch_size) * s.epochs / 60
    if minutes > LONG_RUN / 60:
        hours = minutes / 60
        length = f"about {minutes:.0f} minutes" if hours < 2 else f"about {hours:.0f} hours" if hours < 48 else "days"
        each = " for each of up to two networks" if two else ""
        print(
            f"xsq train: note: this run may take up to {length} (at most {s.epochs} epochs{each}; it stops sooner once "
            "it stops improving); fewer samples, hidden units or --epochs make it shorter, and Ctrl-C keeps the "
            "best so far",
            file=sys.stderr,
        )
    snapshots = animate.check(args, job)
    folder, r = None, None
    try:
        out = RunFolder(args.out, seed=args.seed, overwrite=args.overwrite, replaceable=RUN_FILES, mark=RUN_MARK)
        with out as folder, interrupts.held():  # a signal waits for the next epoch, or for the run to be saved
            with Progress() if not args.quiet else contextlib.nullcontext() as progress:

                def each_epoch(info: EpochInfo) -> None:
                    interrupts.checkpoint()  # a signal held since it came stops training here
                    if progress is not None:
                        progress(info)
                    if snapshots is not None:
                        snapshots(info)

                chosen = {"output": job.output[0]} if job.output else {}
                model = job.named(fit(job.X, job.Y, **dict(given, seed=job.rng, **chosen), callback=each_epoch))
            assert model.record is not None  # fit returns its models with their record
            reason = job.output[1] if job.output else model.record.settings["output_reason"]
            # the run's seed (fit was given the generator that drew the data) and why its output unit was chosen
            recorded = {**model.record.settings, "seed": args.seed, "output_reason": reason}
            model = dataclasses.replace(model, record=dataclasses.replace(model.record, settings=recorded))
            metrics = job.metrics(model)
            r = model.record
            metrics.update(
                r.settings,  # the run's seed and output reason among them
                max_epochs=r.settings["epochs"],
                train_seconds=r.seconds,
                epochs=r.n_epochs,
                best_epoch=r.best_epoch,
                converged=r.converged,
                interrupted=r.interrupted,
                sizes=list(model.sizes),
            )
            if r.widths:  # each network trained for the first stage, when a wider one was tried
                metrics["widths"] = [w.to_plain() for w in r.widths]
            text = job.text(model, metrics)  # everything the report evaluates, before anything is written
            model.save(folder.temp_path("model.npz"))
            folder.write("metrics.json", json_bytes(metrics, indent=2))
            folder.write("history.csv", _history_csv(r.history, r.evidence))
            plots, note = {}, None
            if commands.PLOTTING:
                try:
                    plots = job.figures(commands.drawing("plots"), model)
                except PlotError as exc:  # drawing never loses the run: the plots drawn are kept
                    plots, note = exc.drawn, f"{', '.join(exc.skipped) if exc.drawn else 'plots'} skipped: {exc}"
            for name, png in plots.items():
                folder.write(name, png)
            if snapshots is not None:
                try:
                    animate.write(job, snapshots, model, args.seed, folder.temp_path("training.gif"))
                    plots["training.gif"] = b""  # written by its own writer; listed with the plots
                except PlotError as exc:
                    note = "; ".join(filter(None, [note, f"animation skipped: {exc}"]))
            path = folder.publish()
    except KeyboardInterrupt:  # a second signal while the run was saved: it was, or nothing was
        if folder is None or not folder.published:
            raise
        path = folder.published
    assert r is not None  # published: trained, with its record
    saved = f"{'saved the best model so far' if r.interrupted else 'the run was saved'} to {shown(path)}"

    def report() -> None:
        if given.get("output", "auto") == "auto":
            print(f"output: {model.output} (chosen because {reason})")
        if r.widths:  # a wider second network was tried (xsq.training.wider)
            io = (model.sizes[0], model.sizes[-1]) if r.evidence is not None else None
            print(f"hidden: {model.sizes[1]} ({hidden_line(r.widths, io)})")
        print(text)
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

    status = report_saved("xsq train", saved, report)  # a signal held meanwhile is told here
    if status is None and r.interrupted:
        print(f"xsq train: interrupted: {saved}", file=sys.stderr)
        return interrupts.exit_status()
    return status or 0
