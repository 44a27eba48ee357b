"""What every section needs before timing: compiled protos and a server in its own process.

The repository's ``protos/`` are compiled the way users compile theirs
(``protoreq generate``'s pipeline, in process), plus grpcio's ``_pb2_grpc``
twin of ``user.proto`` for the import-time row, into one temporary folder put
first on ``sys.path`` (modules import as ``protos.user_pb2``).
"""

from __future__ import annotations

import importlib
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[1]

_SERVER_START_SECONDS = 30.0

REGISTERED: dict[str, Any] = {"_registered_method": True}
"""What grpc's generated stubs pass when making multicallables (typeshed does not know it)."""


def grpc_stubs() -> Any:
    """``protos.user_pb2_grpc``, grpcio's generated stubs for user.proto (untyped: no .pyi)."""
    return importlib.import_module("protos.user_pb2_grpc")


def compile_protos() -> Path:
    """``protos.*_pb2``, ``protos.*_protoreq`` and ``protos.user_pb2_grpc`` in a fresh folder."""
    from grpc_tools import protoc  # noqa: PLC0415  # the runtime sections need none of this

    from protoreq_generator.protoc import Invocation, compile_into  # noqa: PLC0415

    out = Path(tempfile.mkdtemp(prefix="protoreq-bench-"))
    compile_into(Invocation(includes=(REPO_ROOT,), sources=(REPO_ROOT / "protos",)), out)
    code = protoc.main(
        ["protoc", f"-I{REPO_ROOT}", f"--grpc_python_out={out}", "protos/user.proto"]
    )
    if code != 0:
        raise RuntimeError("protoc --grpc_python_out failed")
    sys.path.insert(0, str(out))
    return out


@contextmanager
def bench_server(protos_dir: Path) -> Iterator[str]:
    """Start :mod:`bench.server` in a child process; yield its ``127.0.0.1:port``.

    The child exits when its stdin closes, so it cannot outlive the benchmark
    even if this process is killed.
    """
    child = subprocess.Popen(
        [sys.executable, "-m", "bench.server", str(protos_dir)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        cwd=REPO_ROOT,
        text=True,
    )
    try:
        assert child.stdout is not None
        line = child.stdout.readline()  # the server prints its port once it serves
        if not line.strip().isdigit():
            raise RuntimeError(f"the benchmark server did not start (printed {line!r})")
        yield f"127.0.0.1:{int(line)}"
    finally:
        assert child.stdin is not None
        child.stdin.close()
        try:
            child.wait(_SERVER_START_SECONDS)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
