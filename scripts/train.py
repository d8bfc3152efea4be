"""Same job as ``xsq train``: python scripts/train.py [options] (see --help)."""

import sys

from xsq.cli.main import main

sys.exit(main(["train", *sys.argv[1:]]))
