"""What the benchmark scripts share: timing a call, and printing and saving their rows.

Imported by the scripts beside it (``python scripts/bench.py`` puts this folder on the path).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

from xsq.files import json_bytes, write_atomic


def best_time(fn: Callable[[], Any], calls: int) -> float:
    """The best wall time, in seconds, of ``calls`` calls of ``fn``."""
    best = float("inf")
    for _ in range(calls):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def emit(rows: list[dict], path: str | None) -> None:
    """Print the rows as one line of JSON (for machines) and, with a path, write them there too."""
    print(json.dumps(rows))
    if path:
        write_atomic(path, json_bytes(rows))
