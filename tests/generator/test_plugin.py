"""``protoc-gen-protoreq`` as a process, driven by every protoc that users run.

* grpcio-tools' bundled protoc (``python -m grpc_tools.protoc``): always.
* A system ``protoc`` (Debian's ``protobuf-compiler``, 3.21: no editions): skipped
  when ``protoc`` is not on PATH.
* ``buf generate``: skipped unless a ``buf`` binary is found through the
  ``PROTOREQ_BUF`` environment variable or PATH (``npm install --prefix DIR
  @bufbuild/buf`` puts one in ``DIR/node_modules/.bin/buf``).

Each driver's output must equal the in-process generation byte for byte.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from google.protobuf import descriptor_pb2
from google.protobuf.compiler import plugin_pb2

from protoreq_generator.plugin import generate, version
from protoreq_generator.protoc import Invocation, descriptor_request, well_known_include
from tests.generator.support import CORPUS_DIR, PROTOS_DIR, REPO_ROOT, run, script

PLUGIN = script("protoc-gen-protoreq")
Response = plugin_pb2.CodeGeneratorResponse


def in_process(
    includes: tuple[Path, ...], sources: tuple[Path, ...], parameter: str = ""
) -> dict[str, str]:
    request = descriptor_request(
        Invocation(includes=includes, sources=sources, parameter=parameter)
    )
    return {file.name: file.content for file in generate(request).file}


def written(out: Path) -> dict[str, str]:
    return {
        path.relative_to(out).as_posix(): path.read_text(encoding="utf-8")
        for path in out.rglob("*_protoreq.py")
    }


def grpc_tools_protoc(*arguments: str | Path) -> list[str | Path]:
    return [
        sys.executable,
        "-m",
        "grpc_tools.protoc",
        f"--plugin=protoc-gen-protoreq={PLUGIN}",
        *arguments,
    ]


def test_version() -> None:
    result = run([PLUGIN, "--version"])
    assert (result.returncode, result.stdout.decode()) == (0, f"protoc-gen-protoreq {version()}\n")
    assert version().count(".") >= 2


def test_arguments_get_a_hint_instead_of_waiting_on_stdin() -> None:
    result = run([PLUGIN, "--help"])
    assert result.returncode == 2
    assert b"protoc plugin" in result.stderr


def test_malformed_stdin_is_one_line_without_traceback() -> None:
    result = run([PLUGIN], stdin=b"\xff\xff this is not a CodeGeneratorRequest")
    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert stderr.startswith("protoc-gen-protoreq: stdin is not a CodeGeneratorRequest")
    assert stderr.count("\n") == 1
    assert "Traceback" not in stderr
    assert result.stdout == b""


def test_empty_stdin_is_one_line_error() -> None:
    result = run([PLUGIN], stdin=b"")
    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert stderr == (
        "protoc-gen-protoreq: stdin is empty, expected a CodeGeneratorRequest; "
        "this program is meant to be run by protoc\n"
    )
    assert result.stdout == b""


def test_request_without_files_declares_features() -> None:
    request = plugin_pb2.CodeGeneratorRequest(
        compiler_version=plugin_pb2.Version(major=5, minor=29)  # what protoc always sends
    )
    result = run([PLUGIN], stdin=request.SerializeToString())
    assert result.returncode == 0
    response = Response.FromString(result.stdout)
    assert response.supported_features == (
        Response.FEATURE_PROTO3_OPTIONAL | Response.FEATURE_SUPPORTS_EDITIONS
    )
    assert (response.minimum_edition, response.maximum_edition) == (
        descriptor_pb2.EDITION_2023,
        descriptor_pb2.EDITION_2024,
    )
    assert not response.file


def test_grpc_tools_protoc_gives_the_in_process_output(tmp_path: Path) -> None:
    sources = sorted(CORPUS_DIR.rglob("*.proto"))
    result = run(grpc_tools_protoc(f"-I{CORPUS_DIR}", f"--protoreq_out={tmp_path}", *sources))
    assert result.returncode == 0, result.stderr.decode()
    assert written(tmp_path) == in_process((CORPUS_DIR,), (CORPUS_DIR,))


def test_options_reach_the_plugin(tmp_path: Path) -> None:
    result = run(
        grpc_tools_protoc(
            f"-I{REPO_ROOT}",
            "--protoreq_opt=facade=false",
            f"--protoreq_out={tmp_path}",
            PROTOS_DIR / "user.proto",
        )
    )
    assert result.returncode == 0, result.stderr.decode()
    content = (tmp_path / "protos/user_protoreq.py").read_text()
    assert "class GetUserGrpcRequest(" in content
    assert "UserServiceClient" not in content
    assert "GrpcClient" not in content


def test_unknown_option_fails_through_protoc(tmp_path: Path) -> None:
    result = run(
        grpc_tools_protoc(
            f"-I{REPO_ROOT}",
            "--protoreq_opt=facade=false,colour=blue",
            f"--protoreq_out={tmp_path}",
            PROTOS_DIR / "user.proto",
        )
    )
    assert result.returncode == 1
    stderr = result.stderr.decode()
    assert "--protoreq_out: unknown option 'colour'" in stderr
    assert "known options: facade=" in stderr
    assert "Traceback" not in stderr
    assert not list(tmp_path.iterdir())


def test_dumped_request_replays(tmp_path: Path) -> None:
    dumps = tmp_path / "dumps"  # created by the plugin: the value ends with a slash
    out = tmp_path / "out"
    out.mkdir()
    result = run(
        grpc_tools_protoc(f"-I{REPO_ROOT}", f"--protoreq_out={out}", PROTOS_DIR / "order.proto"),
        env={**os.environ, "PROTOREQ_DUMP_REQUEST": f"{dumps}/"},
    )
    assert result.returncode == 0, result.stderr.decode()
    (dump,) = dumps.iterdir()
    request = plugin_pb2.CodeGeneratorRequest.FromString(dump.read_bytes())
    assert list(request.file_to_generate) == ["protos/order.proto"]
    replay = run([PLUGIN], stdin=dump.read_bytes())
    response = Response.FromString(replay.stdout)
    assert {file.name: file.content for file in response.file} == written(out)


def test_system_protoc(tmp_path: Path) -> None:
    protoc = shutil.which("protoc")
    if protoc is None:
        pytest.skip("no system protoc on PATH (Debian: apt-get install protobuf-compiler)")
    # Old protoc releases know no editions: the repository's protos are all proto3.
    sources = sorted(PROTOS_DIR.glob("*.proto"))
    result = run(
        [
            protoc,
            f"-I{REPO_ROOT}",
            f"--plugin=protoc-gen-protoreq={PLUGIN}",
            f"--protoreq_out={tmp_path}",
            *sources,
        ]
    )
    assert result.returncode == 0, result.stderr.decode()
    assert written(tmp_path) == in_process((REPO_ROOT,), (PROTOS_DIR,))


def find_buf() -> str | None:
    configured = os.environ.get("PROTOREQ_BUF")
    if configured:
        return configured
    return shutil.which("buf")


# buf's compiler refuses names.proto's fields that share a JSON name, which protoc
# accepts with `deprecated_legacy_json_field_conflicts`; buf builds the rest.
BUF_YAML = """\
version: v2
modules:
  - path: protos
    excludes:
      - protos/corpus/names
"""
BUF_GEN = """\
version: v2
plugins:
  - local: {plugin}
    out: gen
    opt: facade=true
"""


def test_buf_generate(tmp_path: Path) -> None:
    buf = find_buf()
    if buf is None:
        pytest.skip(
            "buf not found: set PROTOREQ_BUF or put buf on PATH "
            "(npm install --prefix DIR @bufbuild/buf)"
        )
    shutil.copytree(CORPUS_DIR, tmp_path / "protos")
    (tmp_path / "buf.yaml").write_text(BUF_YAML)
    (tmp_path / "buf.gen.yaml").write_text(BUF_GEN.format(plugin=PLUGIN))
    result = run([buf, "generate"], cwd=tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    sources = tuple(
        path for path in sorted(CORPUS_DIR.rglob("*.proto")) if path.parent.name != "names"
    )
    assert written(tmp_path / "gen") == in_process((CORPUS_DIR,), sources)


def test_well_known_types_ship_with_grpc_tools() -> None:
    assert (well_known_include() / "google/protobuf/timestamp.proto").is_file()
