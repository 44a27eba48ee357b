"""The etcd API modules shipped in the runtime: current, importable alone, and loaded lazily."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from protoreq._etcd import rpc_pb2, rpc_protoreq
from protoreq.method import Idempotency
from protoreq_generator.protoc import Invocation, compile_into
from tests.support.protos import REPO_ROOT

SHIPPED = REPO_ROOT / "runtime/protoreq/_etcd"
ETCD_SOURCES = Path("/usr/share/gocode/src/go.etcd.io/etcd")  # golang-etcd-server-dev


def _without_version_lines(text: str) -> list[str]:
    """protoc's _pb2.py less what depends on the protoc version (comments, version check)."""
    lines = [line for line in text.splitlines() if not line.startswith("#")]
    kept, skipping = [], False
    for line in lines:
        if "runtime_version" in line and "import" in line:
            continue
        if line.startswith("_runtime_version.ValidateProtobufRuntimeVersion("):
            skipping = True
        if not skipping:
            kept.append(line)
        if skipping and line == ")":
            skipping = False
    return kept


def test_shipped_etcd_modules_are_current(tmp_path: Path) -> None:
    """scripts/regen-etcd wrote them from the .proto files beside them; nothing may differ."""
    invocation = Invocation(
        includes=(REPO_ROOT / "runtime",), sources=(SHIPPED / "rpc.proto", SHIPPED / "kv.proto")
    )
    compile_into(invocation, tmp_path)
    fresh = tmp_path / "protoreq/_etcd"
    for name in ("rpc_protoreq.py", "rpc_pb2.pyi", "kv_pb2.pyi"):
        assert (fresh / name).read_text() == (SHIPPED / name).read_text(), name
    for name in ("rpc_pb2.py", "kv_pb2.py"):
        shipped = (SHIPPED / name).read_text()
        assert "ValidateProtobufRuntimeVersion" not in shipped  # gencode of the 5.26 floor
        fresh_lines = _without_version_lines((fresh / name).read_text())
        assert fresh_lines == _without_version_lines(shipped), name


@pytest.mark.skipif(not ETCD_SOURCES.is_dir(), reason="golang-etcd-server-dev is not installed")
def test_shipped_protos_are_cut_from_etcds_own(tmp_path: Path) -> None:
    """Only where Debian's etcd protos are installed (regeneration needs them, tests do not)."""
    version_go = (ETCD_SOURCES / "version/version.go").read_text()
    version = version_go.split('Version           = "')[1].split('"')[0]
    subprocess.run(
        [sys.executable, "scripts/etcd_protos.py", str(ETCD_SOURCES), version, str(tmp_path)],
        cwd=REPO_ROOT,
        check=True,
        timeout=60,
    )
    for name in ("rpc.proto", "kv.proto"):
        assert (tmp_path / name).read_text() == (SHIPPED / name).read_text(), name


def test_wire_names_are_etcds() -> None:
    """Paths and idempotency as the registry relies on: etcd answers, retries where safe."""
    assert rpc_protoreq.RangeGrpcRequest.rpc.path == "/etcdserverpb.KV/Range"
    assert rpc_protoreq.WatchGrpcRequest.rpc.path == "/etcdserverpb.Watch/Watch"
    assert rpc_protoreq.LeaseKeepAliveGrpcRequest.rpc.path == "/etcdserverpb.Lease/LeaseKeepAlive"
    assert rpc_protoreq.RangeGrpcRequest.rpc.idempotency is Idempotency.NO_SIDE_EFFECTS
    assert rpc_protoreq.LeaseGrantGrpcRequest.rpc.idempotency is Idempotency.UNKNOWN
    assert rpc_pb2.DESCRIPTOR.package == "etcdserverpb"


def test_import_protoreq_discovery_does_not_import_etcd() -> None:
    code = (
        "import sys, protoreq, protoreq.discovery as d\n"
        "print('protoreq.etcd_registry' in sys.modules, 'protoreq._etcd.rpc_pb2' in sys.modules)\n"
        "print(d.EtcdServiceRegistry.__module__, 'protoreq._etcd.rpc_pb2' in sys.modules)\n"
        "try:\n    d.NoSuchThing\nexcept AttributeError as error:\n    print(error)\n"
    )
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    assert completed.stdout.splitlines() == [
        "False False",
        "protoreq.etcd_registry True",
        "module 'protoreq.discovery' has no attribute 'NoSuchThing'",
    ]
