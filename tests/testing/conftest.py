"""grpc's own generated servicer code (``*_pb2_grpc``), for tests of the in-process server.

The suite-wide ``compiled_protos`` fixture builds only ``*_pb2`` modules; the
``add_XServicer_to_server`` functions users register come from grpcio-tools'
``--grpc_python_out``, built here once per session into the same folder.
The modules are untyped (grpcio-tools writes no stubs), hence ``Any``.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from grpc_tools import protoc

from tests.support.protos import PROTOS, REPO_ROOT


@dataclass(frozen=True)
class GrpcStubs:
    user: Any
    chat: Any


@pytest.fixture(scope="session")
def grpc_stubs(compiled_protos: Path) -> GrpcStubs:
    sources = [str((PROTOS / name).relative_to(REPO_ROOT)) for name in ("user.proto", "chat.proto")]
    code = protoc.main(
        ["protoc", f"-I{REPO_ROOT}", f"--grpc_python_out={compiled_protos}", *sources]
    )
    if code != 0:
        raise RuntimeError(f"protoc --grpc_python_out failed with exit code {code}")
    importlib.invalidate_caches()
    return GrpcStubs(
        user=importlib.import_module("protos.user_pb2_grpc"),
        chat=importlib.import_module("protos.chat_pb2_grpc"),
    )
