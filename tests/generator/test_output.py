"""Where ``protoreq generate`` writes: all files or none, one-line errors, and ``--prune``.

Real runs of the CLI (a process, the bundled protoc) on the repository's protos.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.generator.support import PROTOS_DIR, REPO_ROOT
from tests.generator.test_cli import generate_args, protoreq


def files_under(root: Path) -> list[str]:
    return sorted(p.relative_to(root).as_posix() for p in root.rglob("*") if p.is_file())


def assert_one_line_error(code: int, stdout: str, stderr: str, *parts: str) -> None:
    assert code == 1
    assert stdout == ""
    assert stderr.startswith("protoreq: cannot write")
    assert stderr.count("\n") == 1, stderr
    assert "Traceback" not in stderr
    for part in parts:
        assert part in stderr


def test_output_under_a_regular_file(tmp_path: Path) -> None:
    blocker = tmp_path / "file.txt"
    blocker.write_text("a file, not a folder")
    out = blocker / "gen"
    code, stdout, stderr = protoreq("generate", *generate_args(out))
    assert_one_line_error(code, stdout, stderr, f"{blocker} is a file, not a folder")
    assert files_under(tmp_path) == ["file.txt"]


def test_folder_in_the_way_writes_nothing(tmp_path: Path) -> None:
    """A folder where a file goes (found after compiling) stops the run before any file moves."""
    out = tmp_path / "gen"
    (out / "protos/order_protoreq.py").mkdir(parents=True)
    code, stdout, stderr = protoreq("generate", *generate_args(out))
    assert_one_line_error(code, stdout, stderr, "order_protoreq.py: a folder is in the way")
    assert files_under(tmp_path) == []
    assert sorted(p.name for p in out.iterdir()) == ["protos"]  # no staging folder left


def test_file_in_the_way_of_a_folder_writes_nothing(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    out.mkdir()
    (out / "protos").write_text("a file where the package folder goes")
    code, stdout, stderr = protoreq("generate", *generate_args(out))
    assert_one_line_error(code, stdout, stderr, "protos")
    assert files_under(tmp_path) == ["gen/protos"]


@pytest.fixture
def unwritable_folder(tmp_path: Path) -> Iterator[Path]:
    """A folder this process cannot write in: chmod 555, or (as root, who ignores modes) /sys."""
    if os.geteuid() != 0:
        folder = tmp_path / "locked"
        folder.mkdir()
        folder.chmod(0o555)
        yield folder
        folder.chmod(0o755)
        return
    folder = Path("/sys/kernel")
    try:
        (folder / "protoreq-probe").mkdir()
    except OSError:
        yield folder
        return
    pytest.skip("no folder here that root cannot write in")


def test_unwritable_output_folder(unwritable_folder: Path) -> None:
    for out in (unwritable_folder, unwritable_folder / "gen"):
        code, stdout, stderr = protoreq("generate", *generate_args(out))
        assert_one_line_error(code, stdout, stderr, str(unwritable_folder))
    assert not (unwritable_folder / "gen").exists()


def test_replaced_files_appear_whole_and_keep_check_passing(tmp_path: Path) -> None:
    out = tmp_path / "gen"
    assert protoreq("generate", *generate_args(out))[0] == 0
    (out / "protos/user_protoreq.py").write_text("stale")
    code, stdout, _ = protoreq("generate", *generate_args(out))
    assert code == 0
    assert stdout.startswith("protoreq: 1 written,")
    assert not [p for p in out.iterdir() if p.name.startswith(".protoreq")]
    assert protoreq("check", *generate_args(out))[0] == 0


@pytest.fixture
def two_protos(tmp_path: Path) -> tuple[Path, Path]:
    """A copy of the repository's protos, and their output."""
    root = tmp_path / "src"
    shutil.copytree(PROTOS_DIR, root / "protos")
    out = tmp_path / "gen"
    code, _, stderr = protoreq("generate", "-I", root, root / "protos", "-o", out, "--package-init")
    assert code == 0, stderr
    return root, out


def test_prune_removes_only_generated_files(
    two_protos: tuple[Path, Path],
) -> None:
    root, out = two_protos
    arguments: list[str | Path] = ["-I", root, root / "protos", "-o", out, "--package-init"]
    (root / "protos/user.proto").unlink()  # nothing imports it
    (out / "protos/own_pb2.py").write_text("# the user's own module, named like generated code\n")
    (out / "protos/notes.txt").write_text("the user's notes")
    before = set(files_under(out))

    code, stdout, stderr = protoreq("check", *arguments)
    assert code == 1
    extras = [line.removeprefix("extra: ") for line in stdout.splitlines() if line[:6] == "extra:"]
    assert f"{out}/protos/user_protoreq.py" in extras
    assert f"{out}/protos/user_pb2.py" in extras
    assert f"{out}/protos/user_pb2.pyi" in extras
    assert "run `protoreq generate --prune` with the same arguments" in stderr

    code, stdout, stderr = protoreq("generate", *arguments, "--prune")
    assert code == 0, stderr
    pruned = sorted(before - set(files_under(out)))
    assert [f"{out}/{name}" for name in pruned] == sorted(extras)
    assert stdout == f"protoreq: 0 written, {len(files_under(out)) - 2} unchanged, " + (
        f"{len(pruned)} pruned in {out}\n"
    )
    assert (out / "protos/own_pb2.py").is_file()
    assert (out / "protos/notes.txt").is_file()
    assert (out / "protos/__init__.py").is_file()

    code, stdout, stderr = protoreq("check", *arguments)
    assert code == 1  # only the user's own file is left to report
    assert stdout == f"extra, not generated (remove it yourself): {out}/protos/own_pb2.py\n"
    (out / "protos/own_pb2.py").unlink()
    assert protoreq("check", *arguments)[0] == 0


def test_without_prune_extra_files_stay(two_protos: tuple[Path, Path]) -> None:
    root, out = two_protos
    (root / "protos/analytics.proto").unlink()
    code, stdout, _ = protoreq("generate", "-I", root, root / "protos", "-o", out)
    assert code == 0
    assert "pruned" not in stdout
    assert (out / "protos/analytics_protoreq.py").is_file()


def test_generate_help_describes_prune_and_stubs() -> None:
    code, stdout, _ = protoreq("generate", "--help")
    assert code == 0
    for text in ("--prune", "--stubs [mypy|pyi|none]", "nothing is written", "--package-init"):
        assert text in " ".join(stdout.split()), text
    code, stdout, _ = protoreq("--help")
    assert code == 0
    assert "--stubs=pyi" in stdout
    assert "--prune" in stdout
    assert REPO_ROOT.is_dir()
