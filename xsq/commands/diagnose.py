"""``xsq diagnose``: rerun the question's network and report, by measurement, why it fails."""

from __future__ import annotations

import contextlib
import json

from ..diagnose import diagnose
from ..diagnose_text import format_report
from ..progress import Progress


def run(args) -> int:
    with Progress("diagnose", "part") if not args.quiet else contextlib.nullcontext() as progress:
        result = diagnose(steps=args.steps, seed=args.seed, progress=progress)
    print(json.dumps(result, indent=1) if args.json else format_report(result))
    return 0
