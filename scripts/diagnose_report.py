"""Rerun ``xsq diagnose`` and write its report into README.md between the diagnose markers.

Run: python scripts/diagnose_report.py [--check]
With --check, exit 1 if the README's section differs from a fresh run in
anything but the measured seconds (timings vary from run to run).
"""

import re
import sys
from pathlib import Path

from xsq.diagnose import diagnose
from xsq.diagnose_text import format_report

README = Path(__file__).resolve().parent.parent / "README.md"
START, END = "<!-- diagnose:start -->", "<!-- diagnose:end -->"


def section() -> str:
    return f"{START}\n```text\n$ xsq diagnose\n{format_report(diagnose())}\n```\n{END}"


def without_seconds(text: str) -> str:
    return re.sub(r"in \d+\.\d+ s", "in ? s", text)


def main() -> int:
    text = README.read_text()
    old = text[text.index(START) : text.index(END) + len(END)]
    new = section()
    if "--check" in sys.argv:
        same = without_seconds(old) == without_seconds(new)
        print("README diagnose section matches a fresh run" if same else "README diagnose section is stale")
        return 0 if same else 1
    README.write_text(text.replace(old, new))
    print(f"updated {README.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
