"""The ``mipnet`` script's entry point: Ctrl-C is handled from the first instant.

Importing the command line takes about a second (Pyomo, pandas, scikit-learn); a Ctrl-C in that second
would otherwise print Python's traceback. Until :func:`mipnet.cli.main` installs its own handler
(:mod:`mipnet.interrupt`), an interrupt prints one line and exits 130: nothing has been written yet.
"""

from __future__ import annotations

import os
import signal
import sys
from typing import Any


def _early_interrupt(signum: int, frame: Any) -> None:
    try:
        sys.stderr.write("interrupted\n")
        sys.stderr.flush()
    finally:
        os._exit(130)


def main() -> None:
    """Install the early Ctrl-C handler, import the command line, run it."""
    signal.signal(signal.SIGINT, _early_interrupt)
    from .cli import main as cli_main

    cli_main()
