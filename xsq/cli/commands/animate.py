"""``--animate``: ``training.gif`` of ``xsq train`` and ``diagnose.gif`` of ``xsq diagnose``.

``xsq train`` keeps snapshots of the network while it trains and draws them after
(:mod:`xsq.cli.training_animation`); ``xsq diagnose`` reruns the question's run and two fixes, recorded
frame by frame (:mod:`xsq.cli.diagnose_animation`). This module checks, before anything runs, that the
animation can be made and where it goes, and hands the drawing its data.
"""

from __future__ import annotations

import os
import sys

from ...errors import InputError, PlotError
from ...lab.recorded import recorded_runs
from ...training.snapshots import Snapshots
from .. import commands
from ..runfolder import RunFolder

DIAGNOSE_FILES = frozenset({"diagnose.gif"})


def _need_matplotlib() -> None:
    if not commands.PLOTTING:
        raise InputError("--animate needs matplotlib: pip install 'xsq[plot]'")


def check(args, job) -> Snapshots | None:
    """For ``--animate``: a training callback that keeps snapshots of the network, once the animation is
    known to be drawable (matplotlib is there; measured data has one input and one output). None without it."""
    if not getattr(args, "animate", False):
        return None
    _need_matplotlib()
    ds = getattr(job, "ds", None)
    if ds is not None and (len(ds.inputs), len(ds.outputs)) != (1, 1):
        raise InputError("--animate draws one input against one output; pick them with --inputs and --outputs")
    return Snapshots()


def write(job, snapshots: Snapshots, model, seed: int, path: str) -> None:
    """Write ``training.gif`` of a finished run to ``path`` (a run folder's temporary file)."""
    animation = commands.drawing("training_animation")
    s = model.record.settings
    title = f"xsq train: sizes {'-'.join(map(str, model.sizes))}, {s.get('optimizer', '')}, seed {seed}"
    if getattr(job, "ds", None) is not None:
        scene = animation.data_scene(job.ds, job.train, f"{title}, {os.path.basename(job.ds.path)}")
    else:
        scene = animation.function_scene(job.problem, job.x, f"{title}, {job.problem.label}")
    animation.training_gif(snapshots.kept_by(model.record), model, scene, model.record.history, path)


def diagnose_folder(args) -> RunFolder | None:
    """For ``xsq diagnose --animate --out DIR``: the folder for ``diagnose.gif``, checked (not yet made)."""
    if getattr(args, "out", None) is not None and not args.animate:
        raise InputError("--out is where --animate writes diagnose.gif; add --animate")
    if not getattr(args, "animate", False):
        return None
    if args.out is None:
        raise InputError("--animate needs --out DIR: the folder to write diagnose.gif into")
    _need_matplotlib()
    return RunFolder(args.out, overwrite=args.overwrite, replaceable=DIAGNOSE_FILES, mark=DIAGNOSE_FILES)


def write_diagnose(args, out: RunFolder, ceiling: float) -> str:
    """Record the three runs, draw ``diagnose.gif`` into ``out`` and publish it; return the folder's path.
    ``ceiling``: the largest output the question's softplus gives (the report's ``output_range_softplus``)."""
    runs = recorded_runs(args.steps, args.seed)
    with out as folder:
        commands.drawing("diagnose_animation").diagnose_gif(runs, ceiling, folder.temp_path("diagnose.gif"))
        return folder.publish()


def report_diagnose(args, out: RunFolder, ceiling: float) -> int:
    """Write diagnose.gif (:func:`write_diagnose`) and say where (on stderr under --json); the exit status."""
    try:
        write_diagnose(args, out, ceiling)
    except PlotError as exc:
        print(f"xsq diagnose: error: diagnose.gif not written: {exc}", file=sys.stderr)
        return 1
    print(f"wrote diagnose.gif to {args.out}", file=sys.stderr if args.json else sys.stdout)
    return 0
