"""``xsq diagnose``: rerun the question's network and report, by measurement, why it fails."""

from __future__ import annotations

import json

from ..diagnose import diagnose
from ..diagnose_text import format_report


def run(args) -> int:
    result = diagnose(steps=args.steps, seed=args.seed)
    print(json.dumps(result, indent=1) if args.json else format_report(result))
    return 0
