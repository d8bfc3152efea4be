"""Rerun every command whose output README.md shows, and write the fresh output into README.md.

Run: python scripts/readme_outputs.py [--only TEXT] [--check]

README.md marks each block it shows with the command that produced it:

    <!-- output: xsq train --quiet -->
    ```text
    $ xsq train
    ...
    ```
    <!-- end output -->

Commands starting with ``xsq`` run in-process (in a temporary folder, so
their run folders go nowhere); commands starting with ``python`` run as a
subprocess from the repository (the benchmarks take minutes). ``--only``
reruns the blocks whose command contains TEXT. ``--check`` changes nothing
and exits 1 if a block differs from a fresh run in anything but timings.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import re
import shlex
import subprocess
import sys
import tempfile
from pathlib import Path

from xsq.cli.main import main as xsq
from xsq.files import write_atomic

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
BLOCK = re.compile(r"<!-- output: (?P<command>.+?) -->\n```text\n(?P<body>.*?)```\n<!-- end output -->", re.S)
FIGURE = re.compile(r"--figure (\S+)")


@contextlib.contextmanager
def inside(folder: str):
    here = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(here)


def run(command: str) -> str:
    """The command's standard output (what the README shows after ``$ ...``).

    ``--figure SRC:DST`` (not passed on) copies the file SRC the command wrote into the repository as DST.
    """
    figure = FIGURE.search(command)
    argv = shlex.split(FIGURE.sub("", command))
    argv = [str(ROOT / a) if "/" in a and (ROOT / a).exists() else a for a in argv]  # repository files, wherever run
    if argv[0] == "xsq":
        with tempfile.TemporaryDirectory() as tmp, inside(tmp):
            buffer = io.StringIO()
            with contextlib.redirect_stdout(buffer):
                code = xsq(argv[1:])
            if figure:
                src, dst = figure.group(1).split(":")
                (ROOT / dst).write_bytes(Path(tmp, src).read_bytes())
        text = buffer.getvalue()
    else:
        done = subprocess.run(argv, cwd=ROOT, capture_output=True, text=True)
        code, text = done.returncode, done.stdout
    if code != 0:
        sys.exit(f"{command!r} exited with {code}; README.md is unchanged")
    return "\n".join(line for line in text.splitlines() if not line.startswith("[{")) + "\n"


def shown(command: str) -> str:
    """How the README writes the command: without --quiet, --figure and --json plumbing."""
    return re.sub(r" --quiet| --figure \S+", "", command)


def without_timings(text: str) -> str:
    """``text`` without what changes from run to run: timings, and the UTC time in a run folder's name."""
    text = re.sub(r"\d{8}T\d{6}Z-seed", "<time>-seed", text)
    return re.sub(r"\d+\.\d+ s\b|\d+\.\d+s\b|\s+\d+\.\d+\s{2,}", " ? ", text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default="", help="rerun only the blocks whose command contains this")
    parser.add_argument("--check", action="store_true", help="compare with fresh runs instead of writing")
    args = parser.parse_args(argv)
    text = README.read_text()
    stale = []

    def replace(match: re.Match) -> str:
        command = match.group("command")
        if args.only not in command:
            return match.group(0)
        print(f"running {command} ...", file=sys.stderr, flush=True)
        body = f"$ {shown(command)}\n{run(command)}"
        if without_timings(body) != without_timings(match.group("body")):
            stale.append(command)
        return f"<!-- output: {command} -->\n```text\n{body}```\n<!-- end output -->"

    new = BLOCK.sub(replace, text)
    if args.check:
        print("\n".join(f"stale: {c}" for c in stale) or "every block matches a fresh run (up to timings)")
        return 1 if stale else 0
    write_atomic(README, new.encode())
    print(f"updated {len(stale)} block(s) of {README.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
