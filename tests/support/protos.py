"""Compile the repository's ``protos/`` with the real protoc of grpcio-tools.

Modules are built with the repository root as include path, so they import as
``protos.user_pb2`` exactly as in the original design's examples.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

from grpc_tools import protoc

REPO_ROOT = Path(__file__).resolve().parents[2]
PROTOS = REPO_ROOT / "protos"


def compile_protos(out_dir: Path) -> Path:
    """Write ``protos/*_pb2.py`` (and ``.pyi``) under ``out_dir``; put it on ``sys.path``."""
    out_dir.mkdir(parents=True, exist_ok=True)
    include = Path(protoc.__file__).parent / "_proto"
    sources = sorted(str(path.relative_to(REPO_ROOT)) for path in PROTOS.glob("*.proto"))
    code = protoc.main(
        [
            "protoc",
            f"-I{REPO_ROOT}",
            f"-I{include}",
            f"--python_out={out_dir}",
            f"--plugin=protoc-gen-mypy={_mypy_plugin()}",
            f"--mypy_out={out_dir}",
            *sources,
        ]
    )
    if code != 0:
        raise RuntimeError(f"protoc failed with exit code {code} for {sources}")
    if str(out_dir) not in sys.path:
        sys.path.insert(0, str(out_dir))
    return out_dir


def _mypy_plugin() -> str:
    """mypy-protobuf's plugin, installed beside this interpreter."""
    found = shutil.which("protoc-gen-mypy", path=str(Path(sys.executable).parent))
    if found is None:
        raise RuntimeError("protoc-gen-mypy not found: install the dev extra (mypy-protobuf)")
    return found


if __name__ == "__main__":
    compile_protos(Path(sys.argv[1]))
