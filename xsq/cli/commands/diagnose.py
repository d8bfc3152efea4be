"""``xsq diagnose``: rerun the question's network and report, by measurement, why it fails."""

from __future__ import annotations

import contextlib

from ...files import json_bytes
from ...lab.diagnose import diagnose
from ...lab.diagnose_text import format_report
from .. import interrupts
from ..progress import Progress


def run(args) -> int:
    """Run ``xsq diagnose`` with parsed ``args``; return the exit status."""
    with Progress("diagnose", "part") if not args.quiet else contextlib.nullcontext() as progress:
        result = diagnose(steps=args.steps, seed=args.seed, progress=progress)
    interrupts.checkpoint()  # a signal that some step took for its own: never a report of a cut-short diagnosis
    print(json_bytes(result).decode() if args.json else format_report(result), end="" if args.json else "\n")
    return 0
