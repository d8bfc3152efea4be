"""What each ``xsq`` subcommand does once its arguments are parsed (:mod:`xsq.cli` parses them)."""
