"""Run ``xsq check`` on the question's file and on three planted mistakes; write the README section from it.

Run: python scripts/check_examples.py [OUT.md]   (default: print the section)

The question's code is read from tests/check_corpus/question.py (the file as posted). Each planted mistake
is one line of it changed; every command runs in-process in a temporary folder that holds the file as
question.py, so the output shown is exactly what a learner running it there would see.
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shlex
import sys
import tempfile
from pathlib import Path

from xsq.cli.main import main as xsq

ROOT = Path(__file__).resolve().parent.parent
QUESTION = ROOT / "tests" / "check_corpus" / "question.py"

# (what was planted, the line as posted, the line as changed)
PLANTED = [
    (
        "The output's slope left out",
        "self.dA2 = (self.A2 - Y)*self.activation2_grad(self.Z2)",
        "self.dA2 = (self.A2 - Y)",
    ),
    (
        "The hidden slope taken at the sigmoid's output",
        "self.dA1 = (np.dot(self.dA2,self.W2.T))*self.activation1_grad(self.Z1)",
        "self.dA1 = (np.dot(self.dA2,self.W2.T))*self.activation1_grad(self.A1)",
    ),
    (
        "A step up the gradient",
        "self.W2 -= self.learning_rate*np.dot(self.A1.T, self.dA2)",
        "self.W2 += self.learning_rate*np.dot(self.A1.T, self.dA2)",
    ),
]
COMMAND = "xsq check question.py --object 'Neural_Net(1, 16, 1)'"


def run(source: str, command: str) -> str:
    """The output of ``command`` (an xsq command line) run on ``source`` saved as question.py."""
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "question.py").write_text(source)
        out, here = io.StringIO(), os.getcwd()
        os.chdir(folder)
        try:
            with contextlib.redirect_stdout(out):
                status = xsq(shlex.split(command)[1:])
        finally:
            os.chdir(here)
    return f"$ {command}\n{out.getvalue()}(exit status {status})\n"


def section() -> str:
    """The README section, with every command's fresh output."""
    posted = QUESTION.read_text()
    parts = [
        "## Check your own backprop\n",
        "`xsq check` runs the backprop you wrote on one sample and on a batch of 8, holds every array it gives "
        "against autograd's gradient, and names the mistake. Only your file's imports, definitions and "
        "assignments run (its training loop and prints do not). Here is the question's file as posted "
        "(`tests/check_corpus/question.py`):\n",
        "```text\n" + run(posted, COMMAND) + "```\n",
        "(This section is the output of `python scripts/check_examples.py`.) "
        "For one sample its update is exactly the gradient of ½·squared error (xsq's loss is the mean, with no "
        "½: a convention, not a bug). For a batch its in-place bias update fails, and xsq says which line and "
        "why. Three planted mistakes, one line each:\n",
    ]
    for title, before, after in PLANTED:
        assert before in posted, before
        source = posted.replace(before, after, 1)
        parts.append(f"**{title}**: `{after.strip()}`\n")
        parts.append("```text\n" + run(source, COMMAND) + "```\n")
    parts.append(
        "Other forms: `--function NAME` for a function `NAME(params, X, Y)` returning your gradients by name "
        "(xsq's layout), and `--function NAME --objective LOSS --example EX` for any model of your own. "
        "`--json` gives the same verdicts for a program; the exit status is 0 for ok or consistent, 1 for wrong, "
        "2 for bad input.\n"
    )
    return "\n".join(parts)


def main(argv: list[str] | None = None) -> int:
    """Print the section, or write it to OUT.md."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", nargs="?", metavar="OUT.md", help="write the section here instead of printing it")
    args = parser.parse_args(argv)
    text = section()
    if args.out is None:
        print(text, end="")
    else:
        Path(args.out).write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
