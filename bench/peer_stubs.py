"""Client stubs for the peers, generated at start-up by each peer's own protoc plugin.

``protos/user.proto`` and ``bench/protos/bench_stream.proto`` (the bench
server's streaming method) are compiled into the bench's protos folder:
betterproto2's compiler into the ``bp2`` package (sync stubs on grpcio, async
ones on grpclib), grpclib's plugin (``protos/user_grpc.py``,
``bench_stream_grpc.py``) and connect's (``protos/user_connect.py``,
``bench_stream_connect.py``, for google.protobuf messages). A peer whose
plugin is missing or fails gets its reason back; its rows are skipped.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Iterable
from pathlib import Path

from bench.environment import REPO_ROOT

_STREAM_PROTOS = REPO_ROOT / "bench" / "protos"
_SOURCES = ("protos/user.proto", "bench_stream.proto")


def _plugin(name: str) -> str | None:
    beside = Path(sys.executable).parent / name
    return str(beside) if beside.exists() else shutil.which(name)


def _protoc(plugin: str, outputs: list[str]) -> str | None:
    """Run protoc with ``plugin`` and ``outputs``; the reason it failed, or ``None``."""
    from grpc_tools import protoc  # noqa: PLC0415

    path = _plugin(f"protoc-gen-{plugin}")
    if path is None:
        return f"protoc-gen-{plugin} not installed (pip install -r bench/requirements-peers.txt)"
    code = protoc.main(
        [
            "protoc",
            f"-I{_STREAM_PROTOS}",
            f"-I{REPO_ROOT}",
            f"--plugin=protoc-gen-{plugin}={path}",
            *outputs,
            *_SOURCES,
        ]
    )
    return None if code == 0 else f"protoc-gen-{plugin} failed (exit {code})"


PEERS = ("betterproto2", "grpclib", "connect")


def generate(out: Path, peers: Iterable[str] = PEERS) -> dict[str, str]:
    """Generate these peers' stubs into ``out``; answer ``{peer: reason}`` for those that failed."""
    betterproto = out / "bp2"
    betterproto.mkdir(exist_ok=True)
    commands = {
        "betterproto2": (
            "python_betterproto2",
            [f"--python_betterproto2_out=client_generation=sync_async:{betterproto}"],
        ),
        "grpclib": ("grpclib_python", [f"--grpclib_python_out={out}", f"--python_out={out}"]),
        "connect": ("connectrpc", [f"--connectrpc_out=protobuf=google:{out}"]),
    }
    failures: dict[str, str] = {}
    for name in peers:
        plugin, outputs = commands[name]
        reason = _protoc(plugin, outputs)
        if reason is not None:
            failures[name] = reason
    return failures
