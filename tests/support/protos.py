"""The repository's ``protos/`` compiled the way users compile theirs: ``protoreq generate``.

One run of our own pipeline writes ``protos/*_pb2.py``, mypy-protobuf stubs and
``protos/*_protoreq.py``. The repository root is the include path, so modules
import as ``protos.user_pb2`` exactly as in the original design's examples, and
the descriptor pool knows each file once, as ``protos/user.proto``.
"""

from __future__ import annotations

import sys
from pathlib import Path

from protoreq_generator.protoc import Invocation, compile_into

REPO_ROOT = Path(__file__).resolve().parents[2]
PROTOS = REPO_ROOT / "protos"


def compile_protos(out_dir: Path) -> Path:
    """Generate everything for ``protos/`` under ``out_dir`` and put it first on ``sys.path``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    compile_into(Invocation(includes=(REPO_ROOT,), sources=(PROTOS,)), out_dir)
    if str(out_dir) not in sys.path:
        sys.path.insert(0, str(out_dir))
    return out_dir


if __name__ == "__main__":
    compile_protos(Path(sys.argv[1]))
