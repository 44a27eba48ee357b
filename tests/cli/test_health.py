"""Health checks: the runtime's check_health and wait_until_serving, and `protoreq health`."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from grpc_health.v1 import health_pb2 as upstream_health_pb2

from protoreq import GrpcClient
from protoreq._health import health_pb2
from protoreq._health.health_protoreq import CheckGrpcRequest
from protoreq.testing import FakeGrpcClient
from protoreq_generator.protoc import Invocation, compile_into
from tests.cli.conftest import run_cli, run_protoreq
from tests.cli.servers import RunningServer, cli_server
from tests.support.protos import REPO_ROOT
from tests.support.servers import unused_port

HEALTH_PROTO = REPO_ROOT / "runtime/protoreq/_health/health.proto"
SHIPPED = REPO_ROOT / "runtime/protoreq/_health"
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def test_check_health(target: str) -> None:
    with GrpcClient(target) as client:
        server = client.check_health()
        chat = client.check_health("chat.ChatService")
        user = client.check_health("user.UserService")
        unknown = client.check_health("nope.Service")
    assert server.message().status == SERVING
    assert chat.message().status == SERVING
    assert user.message().status == NOT_SERVING
    assert not unknown.is_success()
    assert unknown.status_code().name == "NOT_FOUND"


async def test_check_health_async(target: str) -> None:
    async with GrpcClient(target) as client:
        chat = await client.check_health_async("chat.ChatService")
        user = await client.check_health_async("user.UserService")
    assert chat.message().status == SERVING
    assert user.message().status == NOT_SERVING


def test_wait_until_serving_sees_a_service_come_up(server: RunningServer) -> None:
    server.health.set("late.Service", NOT_SERVING)
    timer = threading.Timer(0.3, server.health.set, ("late.Service", SERVING))
    timer.start()
    try:
        with GrpcClient(server.target) as client:
            assert client.wait_until_serving("late.Service", timeout=20)
    finally:
        timer.cancel()


def test_wait_until_serving_gives_up_after_the_timeout(target: str) -> None:
    with GrpcClient(target) as client:
        started = time.monotonic()
        assert not client.wait_until_serving("user.UserService", timeout=0.5)
        waited = time.monotonic() - started
    assert 0.5 <= waited < 10  # a busy box may overrun; it never returns early


def test_wait_until_serving_a_server_not_up_yet() -> None:
    with GrpcClient(f"127.0.0.1:{unused_port()}") as client:
        assert not client.wait_until_serving(timeout=0.3)


async def test_wait_until_serving_async(server: RunningServer) -> None:
    server.health.set("late.Async", NOT_SERVING)
    timer = threading.Timer(0.3, server.health.set, ("late.Async", SERVING))
    timer.start()
    try:
        async with GrpcClient(server.target) as client:
            assert await client.wait_until_serving_async("late.Async", timeout=20)
            assert not await client.wait_until_serving_async("user.UserService", timeout=0.3)
    finally:
        timer.cancel()


@pytest.mark.parametrize(
    ("service", "printed", "exit_code"),
    [
        ("", "SERVING", 0),
        ("chat.ChatService", "SERVING", 0),
        ("user.UserService", "NOT_SERVING", 10),
    ],
)
def test_health_command(target: str, service: str, printed: str, exit_code: int) -> None:
    ran = run_cli("health", target, *([service] if service else []))
    assert (ran.exit_code, ran.stdout) == (exit_code, f"{printed}\n")


def test_health_command_unknown_service_and_no_server() -> None:
    with cli_server(reflect=False) as running:
        unknown = run_protoreq("health", running.target, "nope.Service")
    down = run_cli("health", f"127.0.0.1:{unused_port()}", "--timeout", "2")
    assert unknown.exit_code == 4  # NOT_FOUND
    assert '"code": "NOT_FOUND"' in unknown.stderr
    assert down.exit_code == 6  # UNAVAILABLE


def _python(code: str) -> str:
    completed = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60, check=True
    )
    return completed.stdout.strip()


def test_one_copy_of_the_health_types_with_grpcio_health_checking_either_order() -> None:
    """With grpcio-health-checking installed, its module is ours: no duplicate symbols."""
    assert health_pb2 is upstream_health_pb2
    ours_first = _python(
        "import protoreq.health, protoreq._health.health_pb2 as ours\n"
        "from grpc_health.v1 import health_pb2\n"
        "print(ours is health_pb2)"
    )
    theirs_first = _python(
        "from grpc_health.v1 import health_pb2\n"
        "import protoreq.health, protoreq._health.health_pb2 as ours\n"
        "print(ours is health_pb2)"
    )
    assert (ours_first, theirs_first) == ("True", "True")


def test_shipped_health_module_without_grpcio_health_checking() -> None:
    """No extra package needed: protoreq's own generated module registers grpc.health.v1."""
    printed = _python(
        "import sys; sys.modules['grpc_health'] = None  # as if not installed\n"
        "import protoreq.health as h, protoreq._health.health_pb2 as ours\n"
        "print(ours.__file__.endswith('protoreq/_health/health_pb2.py'),"
        " ours.DESCRIPTOR.name, h.HealthCheckResponse.DESCRIPTOR.full_name)"
    )
    assert printed == "True protoreq/_health/health.proto grpc.health.v1.HealthCheckResponse"


def test_import_protoreq_does_not_import_health() -> None:
    printed = _python("import sys, protoreq; print('protoreq.health' in sys.modules)")
    assert printed == "False"


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


HEALTH_FILE = "protoreq/_health/health.proto"


def test_shipped_health_modules_are_current(tmp_path: Path) -> None:
    """scripts/regen-health wrote them; regenerating here must change nothing that matters."""
    invocation = Invocation(
        includes=(REPO_ROOT / "runtime",),
        sources=(HEALTH_PROTO,),
        parameter=f"pb2_module={HEALTH_FILE}:protoreq._health.health_pb2",
    )
    compile_into(invocation, tmp_path)
    fresh = tmp_path / "protoreq/_health"
    for name in ("health_protoreq.py", "health_pb2.pyi"):
        assert (fresh / name).read_text() == (SHIPPED / name).read_text(), name
    shipped_pb2 = (SHIPPED / "health_pb2.py").read_text()
    assert "ValidateProtobufRuntimeVersion" not in shipped_pb2  # gencode of the 5.26 floor
    assert _without_version_lines((fresh / "health_pb2.py").read_text()) == _without_version_lines(
        shipped_pb2
    )


def test_health_helpers_answer_from_a_fake_client_script() -> None:
    """They send through call()/call_async(), so FakeGrpcClient scripts them like any RPC."""
    fake = FakeGrpcClient()
    fake.respond(CheckGrpcRequest, health_pb2.HealthCheckResponse(status=SERVING))
    assert fake.check_health("x").message().status == SERVING
    assert fake.wait_until_serving(timeout=1)
    assert [r.message().service for r in fake.requests_of(CheckGrpcRequest)] == ["x", ""]
