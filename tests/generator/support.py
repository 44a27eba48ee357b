"""Paths and helpers shared by the generator tests (and by bench/ through make_big_tree)."""

from __future__ import annotations

import subprocess
import sys
import sysconfig
from collections.abc import Sequence
from pathlib import Path

from protoreq_generator.plugin import generate
from protoreq_generator.protoc import Invocation, descriptor_request

REPO_ROOT = Path(__file__).resolve().parents[2]
PROTOS_DIR = REPO_ROOT / "protos"
GOLDEN_DIR = REPO_ROOT / "tests" / "golden"
CORPUS_DIR = Path(__file__).resolve().parent / "protos"
TYPING_DIR = REPO_ROOT / "tests" / "typing" / "generated"
PYPROJECT = REPO_ROOT / "pyproject.toml"


def golden_outputs() -> dict[str, str]:
    """The generated modules for the repository's ``protos/``, by output path.

    Compiled with the repository root as include path, as the tests import them
    (``from protos import user_pb2``).
    """
    request = descriptor_request(Invocation(includes=(REPO_ROOT,), sources=(PROTOS_DIR,)))
    response = generate(request)
    assert not response.error, response.error
    return {file.name: file.content for file in response.file}


def script(name: str) -> Path:
    """A console script of this environment (``protoc-gen-protoreq``, ``protoreq``)."""
    for folder in (Path(sysconfig.get_path("scripts")), Path(sys.executable).parent):
        if (folder / name).is_file():
            return folder / name
    raise FileNotFoundError(f"console script {name} is not installed; pip install -e .")


def run(
    command: Sequence[str | Path],
    *,
    cwd: Path | None = None,
    stdin: bytes | None = None,
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[bytes]:
    """Run a command, capturing its output (never raising on a non-zero exit)."""
    return subprocess.run(
        [str(part) for part in command],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        check=False,
        env=env,
        timeout=120,
    )
