"""A runnable protoreq example: a user service and the application that calls it.

``python -m examples`` regenerates ``examples/generated`` from ``protos/`` and
runs both sides together (see :mod:`examples.demo`).

protoc writes imports relative to the include path (``-I .`` makes
``protos/user.proto`` the module ``protos.user_pb2``, and the generated
``user_protoreq.py`` says ``from protos import user_pb2``), so the output folder
must be on the import path. A real project generates into its source root;
this package puts its output folder on ``sys.path`` instead, and then imports
``protos.user_pb2`` and ``protos.user_protoreq`` exactly as that project would.
"""

from __future__ import annotations

import sys
from pathlib import Path

GENERATED = Path(__file__).resolve().parent / "generated"
"""Where ``protoreq generate`` writes the example's code (committed, checked in CI)."""

if str(GENERATED) not in sys.path:
    sys.path.insert(0, str(GENERATED))
