"""The ``protoreq`` CLI as users run it: a process, real protoc, real files.

Error paths must read like protoc's own messages (file:line:column) and never
show a Python traceback.
"""

from __future__ import annotations

import shutil
import sys
from pathlib import Path

import pytest

from protoreq_generator.plugin import version
from tests.generator.support import PROTOS_DIR, REPO_ROOT, golden_outputs, run

CLI = [sys.executable, "-m", "protoreq_generator"]


def protoreq(*arguments: str | Path, cwd: Path | None = None) -> tuple[int, str, str]:
    result = run([*CLI, *arguments], cwd=cwd)
    return result.returncode, result.stdout.decode(), result.stderr.decode()


def generate_args(out: Path) -> list[str | Path]:
    return ["-I", REPO_ROOT, PROTOS_DIR, "-o", out, "--package-init"]


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``protoreq generate`` over the repository's protos, once for this module."""
    out = tmp_path_factory.mktemp("generated")
    code, stdout, stderr = protoreq("generate", *generate_args(out))
    assert code == 0, stderr
    assert "written" in stdout
    return out


@pytest.fixture
def copy(generated: Path, tmp_path: Path) -> Path:
    out = tmp_path / "out"
    shutil.copytree(generated, out)
    return out


def test_generate_writes_everything_in_one_go(generated: Path) -> None:
    names = sorted(path.relative_to(generated).as_posix() for path in generated.rglob("*.py*"))
    stems = sorted(path.stem for path in PROTOS_DIR.glob("*.proto"))
    expected = ["protos/__init__.py"] + [
        f"protos/{stem}{suffix}"
        for stem in stems
        for suffix in ("_pb2.py", "_pb2.pyi", "_protoreq.py")
    ]
    assert names == sorted(expected)
    for name, content in golden_outputs().items():
        assert (generated / name).read_text() == content
    assert "mypy-protobuf" in (generated / "protos/user_pb2.pyi").read_text()


def test_check_passes_on_fresh_output(generated: Path) -> None:
    code, stdout, _ = protoreq("check", *generate_args(generated))
    assert code == 0
    assert "is up to date" in stdout


def test_check_lists_stale_missing_and_extra_files(copy: Path) -> None:
    with (copy / "protos/user_protoreq.py").open("a") as stale:
        stale.write("# edited by hand\n")
    (copy / "protos/order_pb2.pyi").unlink()
    (copy / "protos/__init__.py").unlink()
    shutil.copyfile(copy / "protos/order_protoreq.py", copy / "protos/old_protoreq.py")
    (copy / "protos/mine_pb2.py").write_text("# written by hand\n")
    (copy / "protos/notes.txt").write_text("not generated, not reported")
    code, stdout, stderr = protoreq("check", *generate_args(copy))
    assert code == 1
    assert stdout.splitlines() == [
        f"missing: {copy / 'protos/__init__.py'}",
        f"missing: {copy / 'protos/order_pb2.pyi'}",
        f"stale: {copy / 'protos/user_protoreq.py'}",
        f"extra, not generated (remove it yourself): {copy / 'protos/mine_pb2.py'}",
        f"extra: {copy / 'protos/old_protoreq.py'}",
    ]
    assert stderr == (
        f"protoreq check: 5 file(s) out of date in {copy}; run `protoreq generate --prune` "
        "with the same arguments (it leaves the 1 file(s) not generated)\n"
    )


def test_generate_rewrites_only_what_changed(copy: Path) -> None:
    untouched = copy / "protos/user_protoreq.py"
    init = copy / "protos/__init__.py"
    init.write_text("# the user's own package init\n")
    before = untouched.stat().st_mtime_ns
    (copy / "protos/order_protoreq.py").write_text("stale")
    code, stdout, _ = protoreq("generate", *generate_args(copy))
    assert code == 0
    assert stdout.startswith("protoreq: 1 written,")
    assert untouched.stat().st_mtime_ns == before
    assert init.read_text() == "# the user's own package init\n"
    assert protoreq("check", *generate_args(copy))[0] == 0


def test_protoc_syntax_error_is_reported_as_protoc_reports_it(tmp_path: Path) -> None:
    (tmp_path / "bad.proto").write_text('syntax = "proto3";\nmessage A { int32 x = 1 }\n')
    code, stdout, stderr = protoreq(
        "generate", "-I", tmp_path, tmp_path / "bad.proto", "-o", tmp_path / "out"
    )
    assert code == 1
    assert f'{tmp_path / "bad.proto"}:2:25: Expected ";".' in stderr
    assert "Traceback" not in stderr
    assert stdout == ""
    assert not (tmp_path / "out").exists()


def test_missing_import_is_reported_as_protoc_reports_it(tmp_path: Path) -> None:
    (tmp_path / "imp.proto").write_text('syntax = "proto3";\nimport "nope.proto";\nmessage B {}\n')
    code, _, stderr = protoreq(
        "check", "-I", tmp_path, tmp_path / "imp.proto", "-o", tmp_path / "out"
    )
    assert code == 1
    assert "nope.proto: File not found." in stderr
    assert 'Import "nope.proto" was not found or had errors.' in stderr
    assert "Traceback" not in stderr


def test_missing_input_file(tmp_path: Path) -> None:
    code, _, stderr = protoreq(
        "generate", "-I", tmp_path, tmp_path / "absent.proto", "-o", tmp_path
    )
    assert code == 1
    assert "absent.proto" in stderr
    assert "Traceback" not in stderr


def test_unknown_option_is_a_usage_error(tmp_path: Path) -> None:
    code, _, stderr = protoreq("generate", *generate_args(tmp_path), "--opt", "colour=blue")
    assert code == 2
    assert "unknown option 'colour'" in stderr
    assert "Traceback" not in stderr


def test_facade_option(tmp_path: Path) -> None:
    code, _, stderr = protoreq(
        "generate",
        "-I",
        REPO_ROOT,
        PROTOS_DIR / "user.proto",
        "-o",
        tmp_path,
        "--opt",
        "facade=false",
    )
    assert code == 0, stderr
    assert "UserServiceClient" not in (tmp_path / "protos/user_protoreq.py").read_text()


def test_version_and_help() -> None:
    code, stdout, _ = protoreq("--version")
    assert (code, stdout) == (0, f"protoreq {version()}\n")
    runtime_version: dict[str, str] = {}
    exec((REPO_ROOT / "runtime/protoreq/_version.py").read_text(), runtime_version)
    assert version() == runtime_version["__version__"]
    code, stdout, _ = protoreq("--help")
    assert code == 0
    assert "generate" in stdout
    assert "check" in stdout
    code, stdout, _ = protoreq("check", "--help")
    assert "stale" in stdout
    assert "--package-init" in stdout
