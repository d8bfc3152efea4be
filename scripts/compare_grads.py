"""Same job as ``xsq gradcheck``: python scripts/compare_grads.py [--all] [--json] (see --help)."""

import sys

from xsq.cli.main import main

sys.exit(main(["gradcheck", *sys.argv[1:]]))
