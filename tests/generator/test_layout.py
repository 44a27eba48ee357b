"""Protos under ``google/`` and ``grpc/``: output that hides no installed package, and imports
the installed ``_pb2`` where one defines the messages already.

Real protoc runs through the CLI, then the output imported in a fresh interpreter with OUT
first on ``sys.path`` (where an ``OUT/google/__init__.py`` would hide protobuf).
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import google.rpc
import pytest

from tests.generator.support import run
from tests.generator.test_cli import protoreq

HEALTH = """\
syntax = "proto3";
package grpc.health.v1;
message HealthCheckRequest { string service = 1; }
message HealthCheckResponse {
  enum ServingStatus { UNKNOWN = 0; SERVING = 1; NOT_SERVING = 2; SERVICE_UNKNOWN = 3; }
  ServingStatus status = 1;
}
service Health {
  rpc Check(HealthCheckRequest) returns (HealthCheckResponse);
  rpc Watch(HealthCheckRequest) returns (stream HealthCheckResponse);
}
"""

EXAMPLE = """\
syntax = "proto3";
package google.example.v1;
import "google/rpc/status.proto";
message Report { string name = 1; google.rpc.Status status = 2; }
service Reports { rpc Send(Report) returns (Report); }
"""

DATE = """\
syntax = "proto3";
package google.type;
message NotADate { int32 day = 1; }
"""

INSTALLED_GOOGLE_RPC = Path(google.rpc.__path__[0])


def python(code: str, *path: Path) -> tuple[int, str]:
    """Run ``code`` in a fresh interpreter with ``path`` first on sys.path."""
    code_, stdout, stderr = python_streams(code, *path)
    return code_, stdout + stderr


def python_streams(code: str, *path: Path) -> tuple[int, str, str]:
    """:func:`python`, its stdout and stderr apart (grpc core may log to stderr at exit)."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(map(str, path))}
    result = run([sys.executable, "-c", code], env=env)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def write(root: Path, name: str, text: str) -> None:
    (root / name).parent.mkdir(parents=True, exist_ok=True)
    (root / name).write_text(text)


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


@pytest.fixture
def google_tree(tmp_path: Path) -> Path:
    root = tmp_path / "protos"
    write(root, "google/example/v1/reports.proto", EXAMPLE)
    write(root, "google/rpc/status.proto", (INSTALLED_GOOGLE_RPC / "status.proto").read_text())
    return root


def test_package_init_under_google_hides_nothing(google_tree: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, _, stderr = protoreq(
        "generate", "-I", google_tree, google_tree, "-o", out, "--package-init"
    )
    assert code == 0, stderr
    assert stderr == ""
    # google/ and google/rpc/ are installed namespaces: no __init__.py; status.proto's messages
    # are googleapis-common-protos' google.rpc.status_pb2, so no second copy is written.
    assert files_under(out) == [
        "google/example/__init__.py",
        "google/example/v1/__init__.py",
        "google/example/v1/reports_pb2.py",
        "google/example/v1/reports_pb2.pyi",
        "google/example/v1/reports_protoreq.py",
    ]
    code, output = python(
        "import protoreq, google.protobuf, grpc\n"
        "from google.rpc import status_pb2\n"
        "from google.example.v1 import reports_protoreq as r\n"
        "request = r.SendGrpcRequest(name='n', status=status_pb2.Status(code=5))\n"
        "print(request.message().status.code, status_pb2.__file__)\n",
        out,
    )
    assert code == 0, output
    assert output.startswith("5 ")
    assert str(INSTALLED_GOOGLE_RPC) in output
    assert protoreq("check", "-I", google_tree, google_tree, "-o", out, "--package-init")[0] == 0


def test_output_that_shadows_an_installed_module_is_warned_about(
    google_tree: Path, tmp_path: Path
) -> None:
    write(google_tree, "google/type/date.proto", DATE)  # not the installed google.type.Date
    out = tmp_path / "out"
    code, _, stderr = protoreq("generate", "-I", google_tree, google_tree, "-o", out)
    assert code == 0, stderr
    assert stderr.startswith(
        f"protoreq: warning: {out}/google/type/date_pb2.py would shadow the installed module "
        "google.type.date_pb2 ("
    )
    assert stderr.count("\n") == 1


@pytest.fixture
def health_tree(tmp_path: Path) -> Path:
    root = tmp_path / "protos"
    write(root, "grpc/health/v1/health.proto", HEALTH)
    return root


CALL_HEALTH = """\
import sys
import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
import protoreq
from {package} import health_protoreq

server = grpc.server(__import__("concurrent.futures").futures.ThreadPoolExecutor(2))
servicer = health.HealthServicer()
servicer.set("svc", health_pb2.HealthCheckResponse.SERVING)
health_pb2_grpc.add_HealthServicer_to_server(servicer, server)
port = server.add_insecure_port("127.0.0.1:0")
server.start()
with protoreq.GrpcClient(f"127.0.0.1:{{port}}", timeout=10) as client:
    response = client.call(health_protoreq.CheckGrpcRequest(service="svc"))
    print(response.status_code().name, response.message().status)
server.stop(None)
print(type(response.message()).__module__)
"""


def test_grpc_health_in_its_own_folder_uses_installed_grpc_health(
    health_tree: Path, tmp_path: Path
) -> None:
    """The recommended layout: vendored under a folder of one's own (here `third_party/`)."""
    root = tmp_path / "src"
    shutil.copytree(health_tree, root / "third_party")
    out = tmp_path / "out"
    code, _, stderr = protoreq("generate", "-I", root, root, "-o", out, "--package-init")
    assert code == 0, stderr
    assert stderr == ""
    # grpcio-health-checking's grpc_health.v1.health_pb2 defines these messages: imported, not
    # compiled again (two modules defining grpc.health.v1 cannot both be imported).
    assert files_under(out) == [
        "third_party/__init__.py",
        "third_party/grpc/__init__.py",
        "third_party/grpc/health/__init__.py",
        "third_party/grpc/health/v1/__init__.py",
        "third_party/grpc/health/v1/health_protoreq.py",
    ]
    generated = (out / "third_party/grpc/health/v1/health_protoreq.py").read_text()
    assert "from grpc_health.v1 import health_pb2\n" in generated
    code, output, errors = python_streams(
        CALL_HEALTH.format(package="third_party.grpc.health.v1"), out
    )
    assert code == 0, output + errors
    assert output.splitlines() == ["OK 1", "grpc_health.v1.health_pb2"], errors


def test_grpc_health_without_grpcio_health_checking(health_tree: Path, tmp_path: Path) -> None:
    """Where grpc_health.v1 is not importable, the messages are compiled and imported from OUT."""
    hidden = tmp_path / "hide"  # an importable grpc_health without v1: as if not installed
    write(hidden, "grpc_health/__init__.py", "")
    root = tmp_path / "src"
    shutil.copytree(health_tree, root / "third_party")
    out = tmp_path / "out"
    result = run(
        [sys.executable, "-m", "protoreq_generator", "generate", "-I", root, root, "-o", out],
        env={**os.environ, "PYTHONPATH": str(hidden)},
    )
    assert result.returncode == 0, result.stderr.decode()
    assert files_under(out) == [
        "third_party/grpc/health/v1/health_pb2.py",
        "third_party/grpc/health/v1/health_pb2.pyi",
        "third_party/grpc/health/v1/health_protoreq.py",
    ]
    generated = (out / "third_party/grpc/health/v1/health_protoreq.py").read_text()
    assert "from third_party.grpc.health.v1 import health_pb2\n" in generated
    code, output = python(
        "from third_party.grpc.health.v1 import health_protoreq as h, health_pb2\n"
        "import protoreq\n"
        "assert type(h.CheckGrpcRequest(service='s').message()) is health_pb2.HealthCheckRequest\n"
        "print(h.HealthClient.__name__, health_pb2.__name__)\n",
        out,
    )
    assert code == 0, output
    assert output == "HealthClient third_party.grpc.health.v1.health_pb2\n"


def test_grpc_folder_at_the_top_writes_no_init_and_says_why(
    health_tree: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, _, stderr = protoreq(
        "generate", "-I", health_tree, health_tree, "-o", out, "--package-init"
    )
    assert code == 0, stderr
    assert not (out / "grpc/__init__.py").exists()
    assert stderr.count("\n") == 1
    assert stderr.startswith(
        f"protoreq: warning: 1 generated module(s) under {out}/grpc cannot be imported: "
        "the installed package grpc ("
    )
    assert "compile these .proto files from a folder of your own" in stderr
    code, output = python("import protoreq, grpc; print(grpc.__file__)", out)
    assert code == 0, output
    assert str(out) not in output


APP = """\
syntax = "proto3";
package app.v1;
import "third_party/grpc/health/v1/health.proto";
service Probe {
  rpc Ask(grpc.health.v1.HealthCheckRequest) returns (grpc.health.v1.HealthCheckResponse);
}
"""


def test_vendored_proto_imported_by_another_keeps_its_own_messages(
    health_tree: Path, tmp_path: Path
) -> None:
    """protoc's app_pb2 imports health by its .proto name: the installed copy (grpc_health/...)
    cannot stand in for it, so health's messages are compiled and both modules import."""
    root = tmp_path / "src"
    shutil.copytree(health_tree, root / "third_party")
    write(root, "app/v1/app.proto", APP)
    out = tmp_path / "out"
    code, _, stderr = protoreq("generate", "-I", root, root, "-o", out)
    assert code == 0, stderr
    assert (out / "third_party/grpc/health/v1/health_pb2.py").is_file()
    code, output = python(
        "from app.v1 import app_protoreq\n"
        "print(type(app_protoreq.AskGrpcRequest(service='s').message()).__module__)\n",
        out,
    )
    assert code == 0, output
    assert output == "third_party.grpc.health.v1.health_pb2\n"


def test_a_folder_of_protos_on_sys_path_is_no_namespace(tmp_path: Path) -> None:
    """`protos/` holding only .proto files, importable from PYTHONPATH, adds no module: the
    output's protos/ folder still gets its __init__.py."""
    root = tmp_path / "src"
    write(root, "protos/ping.proto", 'syntax = "proto3";\npackage ping;\nmessage P {}\n')
    out = tmp_path / "out"
    command: list[str | Path] = [
        sys.executable,
        "-m",
        "protoreq_generator",
        "generate",
        "-I",
        root,
        root,
        "-o",
        out,
    ]
    result = run([*command, "--package-init"], env={**os.environ, "PYTHONPATH": str(root)})
    assert result.returncode == 0, result.stderr.decode()
    assert (out / "protos/__init__.py").is_file()
