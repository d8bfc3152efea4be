"""``xsq diagnose``: rerun the question's network and report, by measurement, why it fails."""

from __future__ import annotations

import contextlib

from ...files import json_bytes
from ...lab.diagnose import diagnose
from ...lab.diagnose_text import format_report
from .. import interrupts
from ..progress import Progress
from . import animate


def run(args) -> int:
    """Run ``xsq diagnose`` with parsed ``args``; return the exit status."""
    out = animate.diagnose_folder(args)  # --animate: a folder that cannot take diagnose.gif is refused first
    with Progress("diagnose", "part") if not args.quiet else contextlib.nullcontext() as progress:
        result = diagnose(steps=args.steps, seed=args.seed, progress=progress)
    interrupts.checkpoint()  # a signal that some step took for its own: never a report of a cut-short diagnosis
    print(json_bytes(result).decode() if args.json else format_report(result), end="" if args.json else "\n")
    if out is not None:
        return animate.report_diagnose(args, out, result["output_range_softplus"])
    return 0
