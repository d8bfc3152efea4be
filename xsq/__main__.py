"""``python -m xsq`` and the ``xsq`` command: the command line, with Ctrl-C handled from the very start.

The command-line module pulls in numpy and autograd. It is imported here,
inside :func:`main`, with signals held until the import is done: a Ctrl-C
landing inside numpy's own import code could otherwise be swallowed, or turn
into an ImportError. Either way, it ends with exit status 130 and one line.
"""

from __future__ import annotations

import sys

from .cli import interrupts  # the standard library only


def main(argv: list[str] | None = None) -> int:
    """Run the ``xsq`` command; return its exit status."""
    with interrupts.installed():
        try:
            with interrupts.held():
                from .cli.main import main as run
            interrupts.checkpoint()
        except KeyboardInterrupt:
            print("xsq: interrupted: nothing was saved", file=sys.stderr)
            return interrupts.exit_status()
        return run(argv)


if __name__ == "__main__":
    sys.exit(main())
