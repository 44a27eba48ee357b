"""``protoreq generate --from-server`` writes what ``protoreq generate`` writes from the .protos."""

from __future__ import annotations

import filecmp
import re
import shutil
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from pathlib import Path

import grpc
from google.protobuf import descriptor_pool
from grpc_reflection.v1alpha import reflection

from protoreq_generator.protoc import Invocation, descriptor_request
from tests.cli.conftest import run_cli
from tests.cli.servers import PROTOS as CLI_PROTOS
from tests.cli.servers import cli_server
from tests.support.protos import REPO_ROOT

SOURCES = {
    "protos/chat.proto": REPO_ROOT / "protos/chat.proto",
    "protos/user.proto": REPO_ROOT / "protos/user.proto",
    "stamped/clock.proto": CLI_PROTOS / "stamped/clock.proto",
}


@contextmanager
def reflecting(root: Path, names: list[str]) -> Iterator[str]:
    """A server whose reflection serves ``names`` (compiled from ``root``) and nothing else."""
    request = descriptor_request(
        Invocation(includes=(root,), sources=tuple(root / name for name in names))
    )
    pool = descriptor_pool.DescriptorPool()
    services: list[str] = []
    for file in request.proto_file:
        pool.Add(file)
        services.extend(f"{file.package}.{service.name}" for service in file.service)
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    reflection.enable_server_reflection((*services, reflection.SERVICE_NAME), server, pool=pool)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(None)


def _protos(root: Path, *, comments: bool) -> Path:
    for name, source in SOURCES.items():
        target = root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        text = source.read_text()
        if not comments:
            text = re.sub(r"^\s*//.*\n", "", text, flags=re.MULTILINE)
        target.write_text(text)
    return root


def _files(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def _generate_both(
    tmp_path: Path, *, comments: bool, extra: tuple[str, ...] = ()
) -> tuple[Path, Path]:
    protos = _protos(tmp_path / "src", comments=comments)
    from_files, from_server = tmp_path / "from-files", tmp_path / "from-server"
    names = list(SOURCES)
    ran = run_cli(
        "generate",
        "-I",
        str(protos),
        *(str(protos / n) for n in names),
        "-o",
        str(from_files),
        *extra,
    )
    assert ran.exit_code == 0, ran.stderr
    with reflecting(protos, names) as target:
        ran = run_cli("generate", "--from-server", target, "-o", str(from_server), *extra)
    assert ran.exit_code == 0, ran.stderr
    return from_files, from_server


def test_from_server_is_byte_identical_to_generating_from_the_protos(tmp_path: Path) -> None:
    from_files, from_server = _generate_both(tmp_path, comments=False, extra=("--package-init",))
    files = _files(from_files)
    assert "stamped/clock_protoreq.py" in files
    assert not any(name.startswith("google/") for name in _files(from_server))  # protobuf's own
    assert _files(from_server) == files
    _, mismatch, errors = filecmp.cmpfiles(from_files, from_server, files, shallow=False)
    assert (mismatch, errors) == ([], [])


def test_with_comments_only_docstrings_differ(tmp_path: Path) -> None:
    """Reflection sends no comments: _pb2.py modules are identical, docstrings are missing."""
    from_files, from_server = _generate_both(tmp_path, comments=True)
    assert _files(from_server) == _files(from_files)
    for name in _files(from_files):
        if name.endswith("_pb2.py"):
            assert filecmp.cmp(from_files / name, from_server / name, shallow=False), name
    served = (from_server / "protos/chat_protoreq.py").read_text()
    assert "class SendGrpcRequest(" in served
    assert "One message in, one echo out" not in served
    compile(served, "chat_protoreq.py", "exec")


def test_service_filter(tmp_path: Path) -> None:
    protos = _protos(tmp_path / "src", comments=False)
    out = tmp_path / "out"
    with reflecting(protos, list(SOURCES)) as target:
        ran = run_cli(
            "generate", "--from-server", target, "--service", "chat.ChatService", "-o", str(out)
        )
    assert ran.exit_code == 0, ran.stderr
    assert _files(out) == ["protos/chat_pb2.py", "protos/chat_pb2.pyi", "protos/chat_protoreq.py"]


def test_from_server_misuse(tmp_path: Path) -> None:
    both = run_cli("generate", "--from-server", "127.0.0.1:1", "protos", "-o", str(tmp_path))
    neither = run_cli("generate", "-o", str(tmp_path))
    down = run_cli("generate", "--from-server", "127.0.0.1:1", "-o", str(tmp_path / "x"))
    assert both.exit_code == 2
    assert "--from-server takes no PATHS" in both.stderr
    assert neither.exit_code == 2
    assert "Missing argument 'PATHS...'" in neither.stderr
    assert down.exit_code == 1
    assert down.stderr.startswith("protoreq: server reflection failed (UNAVAILABLE")
    assert not (tmp_path / "x").exists()
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_from_a_grpcio_server_serving_its_pb2_modules(tmp_path: Path) -> None:
    """grpcio-reflection sends what the server's _pb2 modules hold: _pb2.py comes out the same."""
    from_files, from_server = tmp_path / "files", tmp_path / "server"
    ran = run_cli(
        "generate",
        "-I",
        str(REPO_ROOT),
        str(REPO_ROOT / "protos/chat.proto"),
        "-o",
        str(from_files),
    )
    assert ran.exit_code == 0, ran.stderr
    with cli_server() as running:
        ran = run_cli("generate", "--from-server", running.target, "-o", str(from_server))
    assert ran.exit_code == 0, ran.stderr
    assert _files(from_server) == [
        f"protos/{name}{suffix}"
        for name in ("chat", "user")
        for suffix in ("_pb2.py", "_pb2.pyi", "_protoreq.py")
    ]
    assert filecmp.cmp(from_files / "protos/chat_pb2.py", from_server / "protos/chat_pb2.py", False)
