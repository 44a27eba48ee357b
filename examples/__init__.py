"""A runnable protoreq example: a user service and the application that calls it.

``python -m examples`` regenerates ``examples/generated`` from ``protos/`` and
runs both sides together (see :mod:`examples.demo`).

protoc writes imports relative to the include path (``-I .`` makes
``protos/user.proto`` the module ``protos.user_pb2``, and the generated
``user_protoreq.py`` says ``from protos import user_pb2``), so the output folder
must be on the import path. A real project generates into its source root and
imports ``protos.user_pb2`` and ``protos.user_protoreq`` alike. This package
puts its output folder on ``sys.path`` instead, and imports the protoreq modules
by their place in this package (``examples.generated.protos.user_protoreq``),
because that is the name mypy gives them when it checks ``examples/``; the
``_pb2`` modules are imported only as ``protos.*``, so each file is loaded once.
"""

from __future__ import annotations

import sys
from pathlib import Path

GENERATED = Path(__file__).resolve().parent / "generated"
"""Where ``protoreq generate`` writes the example's code (committed, checked in CI)."""

if str(GENERATED) not in sys.path:
    sys.path.insert(0, str(GENERATED))
