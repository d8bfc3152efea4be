"""``python -m xsq`` and the ``xsq`` command: the command line, with Ctrl-C handled from the very start.

The command-line module pulls in numpy and autograd; importing it here, inside
:func:`main`, is what lets a Ctrl-C during those imports end with exit status
130 and one line instead of a traceback.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run the ``xsq`` command; return its exit status."""
    try:
        from .cli import main as run
    except KeyboardInterrupt:
        print("xsq: interrupted: nothing was saved", file=sys.stderr)
        return 130
    return run(argv)


if __name__ == "__main__":
    sys.exit(main())
