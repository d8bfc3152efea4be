"""``xsq train --animate``: keep snapshots of the network while it trains, and draw ``training.gif`` after.

The drawing is :mod:`xsq.cli.training_animation`'s; this module checks, before anything is drawn or
written, that the animation can be made, and hands it the run.
"""

from __future__ import annotations

import os

from ...errors import InputError
from ...training.snapshots import Snapshots
from .. import commands


def check(args, job) -> Snapshots | None:
    """For ``--animate``: a training callback that keeps snapshots of the network, once the animation is
    known to be drawable (matplotlib is there; measured data has one input and one output). None without it."""
    if not getattr(args, "animate", False):
        return None
    if not commands.PLOTTING:
        raise InputError("--animate needs matplotlib: pip install 'xsq[plot]'")
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
    animation.training_gif(snapshots.all, model, scene, model.record.history, path)
