"""Regenerate ``examples/generated`` from ``protos/`` with the ``protoreq`` CLI.

The same command a project runs in its build, and ``scripts/test`` checks with
``protoreq check``. It runs as ``python -m protoreq_generator`` so that it works
whether or not the virtual environment's ``bin/`` is on ``PATH``.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Final

REPO_ROOT: Final = Path(__file__).resolve().parents[1]

ARGUMENTS: Final = ("-I", ".", "protos", "-o", "examples/generated", "--package-init")
"""``protoreq generate`` / ``protoreq check`` arguments, relative to the repository root."""


def regenerate() -> None:
    """Run ``protoreq generate``; its summary line goes to stdout, protoc errors to stderr."""
    print(f"$ protoreq generate {' '.join(ARGUMENTS)}", flush=True)
    subprocess.run(
        [sys.executable, "-m", "protoreq_generator", "generate", *ARGUMENTS],
        cwd=REPO_ROOT,
        check=True,
        timeout=120,
    )
