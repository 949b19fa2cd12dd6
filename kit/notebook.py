"""Where the kit runs: inside a Jupyter kernel (answers stream, plots draw live) or not."""

from __future__ import annotations

import sys


def in_notebook() -> bool:
    """Return True inside a Jupyter kernel, where answers stream as they come."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return type(shell).__name__ == "ZMQInteractiveShell"
