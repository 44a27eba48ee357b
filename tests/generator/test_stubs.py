"""``--stubs=mypy|pyi|none``: who writes the ``_pb2.pyi`` stubs, and a stub plugin that crashes.

mypy-protobuf claims ``FieldOptions`` extension 1151 for its own ``casttype``
option, so any .proto that defines another extension with that number (as
googleapis' compute protos do) makes it crash; protoreq must say which file,
and ``--stubs=pyi`` must get the user going.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from tests.generator.support import run
from tests.generator.test_cli import protoreq

EXTENSION_1151 = """\
syntax = "proto3";
package ext.v1;
import "google/protobuf/descriptor.proto";
extend google.protobuf.FieldOptions { string field_tag = 1151; }
message Req { string name = 1 [(field_tag) = "x"]; }
service Svc { rpc Get(Req) returns (Req); }
"""

PLAIN = """\
syntax = "proto3";
package ext.v1;
message Ping {{ string text = 1; }}
service {name} {{ rpc Echo(Ping) returns (Ping); }}
"""


@pytest.fixture
def protos(tmp_path: Path) -> Path:
    root = tmp_path / "protos"
    (root / "ext/v1").mkdir(parents=True)
    (root / "ext/v1/a_plain.proto").write_text(PLAIN.format(name="A"))
    (root / "ext/v1/b_compute.proto").write_text(EXTENSION_1151)
    (root / "ext/v1/c_plain.proto").write_text(PLAIN.format(name="C").replace("Ping", "Pong"))
    return root


def test_extension_1151_really_crashes_mypy_protobuf(protos: Path, tmp_path: Path) -> None:
    """The reproduction itself: protoc --mypy_out, without protoreq, fails on this file."""
    (tmp_path / "direct").mkdir()
    result = run(
        [
            sys.executable,
            "-m",
            "grpc_tools.protoc",
            f"-I{protos}",
            f"--mypy_out={tmp_path / 'direct'}",
            protos / "ext/v1/b_compute.proto",
        ]
    )
    assert result.returncode != 0
    assert b"casttype" in result.stderr


def test_stub_plugin_crash_names_the_file_in_one_line(protos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = protoreq("generate", "-I", protos, protos, "-o", out)
    assert code == 1
    assert stdout == ""
    assert stderr.count("\n") == 1
    assert stderr.startswith("protoreq: mypy-protobuf failed on ext/v1/b_compute.proto (")
    assert "casttype" in stderr
    assert stderr.endswith("; --stubs=pyi writes protoc's own stubs instead\n")
    assert "Traceback" not in stderr
    assert not out.exists()
    code, _, stderr = protoreq("check", "-I", protos, protos, "-o", out)
    assert code == 1
    assert "mypy-protobuf failed on ext/v1/b_compute.proto" in stderr


IMPORT_AND_USE = """\
from ext.v1 import b_compute_pb2, b_compute_protoreq
request = b_compute_protoreq.GetGrpcRequest(name="n")
assert request.message() == b_compute_pb2.Req(name="n")
print(b_compute_pb2.Req.DESCRIPTOR.fields[0].GetOptions())
"""


def test_pyi_stubs_generate_usable_output(protos: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, stdout, stderr = protoreq("generate", "-I", protos, protos, "-o", out, "--stubs=pyi")
    assert code == 0, stderr
    assert stdout == f"protoreq: 9 written, 0 unchanged in {out}\n"
    stub = (out / "ext/v1/b_compute_pb2.pyi").read_text()
    assert "class Req(_message.Message):" in stub  # protoc's own stub style
    assert "mypy-protobuf" not in stub
    result = run([sys.executable, "-c", IMPORT_AND_USE], cwd=out)
    assert result.returncode == 0, result.stderr.decode()
    assert result.stdout.decode().startswith('[ext.v1.field_tag]: "x"')
    code, stdout, _ = protoreq("check", "-I", protos, protos, "-o", out, "--stubs=pyi")
    assert (code, stdout) == (0, f"protoreq check: {out} is up to date\n")


def test_no_stubs(protos: Path, tmp_path: Path) -> None:
    (protos / "ext/v1/b_compute.proto").unlink()
    out = tmp_path / "out"
    code, _, stderr = protoreq("generate", "-I", protos, protos, "-o", out, "--stubs=none")
    assert code == 0, stderr
    assert sorted(p.name for p in (out / "ext/v1").iterdir()) == [
        "a_plain_pb2.py",
        "a_plain_protoreq.py",
        "c_plain_pb2.py",
        "c_plain_protoreq.py",
    ]
    # Switching back to mypy-protobuf's stubs: check says they are missing, generate adds them.
    code, stdout, _ = protoreq("check", "-I", protos, protos, "-o", out)
    assert code == 1
    assert f"missing: {out / 'ext/v1/a_plain_pb2.pyi'}" in stdout.splitlines()


def test_stubs_choice_is_validated(protos: Path, tmp_path: Path) -> None:
    code, _, stderr = protoreq("generate", "-I", protos, protos, "-o", tmp_path, "--stubs=mypy3")
    assert code == 2
    assert "'mypy3' is not one of 'mypy', 'pyi', 'none'" in stderr


ENUMS = """\
syntax = "proto3";
package ext.v1;
enum Color { RED = 0; BLUE = 1; }
message Paint { Color color = 1; repeated Color colors = 2; map<string, Color> by_name = 3; }
service Painter { rpc Mix(Paint) returns (Paint); }
"""

USE_ENUMS = """\
from ext.v1 import paint_pb2
from ext.v1.paint_protoreq import MixGrpcRequest

blue, red = paint_pb2.BLUE, paint_pb2.RED
request = MixGrpcRequest(color=blue, colors=[red], by_name={"a": blue})
message: paint_pb2.Paint = request.message()
"""


@pytest.mark.parametrize("stubs", ["mypy", "pyi"])
def test_output_type_checks_against_either_stubs(stubs: str, tmp_path: Path) -> None:
    """protoc's stubs have no ``Color.ValueType``: annotations follow the stubs chosen."""
    protos = tmp_path / "protos"
    (protos / "ext/v1").mkdir(parents=True)
    (protos / "ext/v1/paint.proto").write_text(ENUMS)
    out = tmp_path / "out"
    code, _, stderr = protoreq(
        "generate", "-I", protos, protos, "-o", out, f"--stubs={stubs}", "--package-init"
    )
    assert code == 0, stderr
    (out / "use.py").write_text(USE_ENUMS)
    result = run(
        [sys.executable, "-m", "mypy", "--strict", "--no-incremental", "use.py", "ext"], cwd=out
    )
    assert result.returncode == 0, result.stdout.decode()
