"""The README's ``buf.yaml`` and ``buf.gen.yaml`` work with ``buf generate``, when buf is installed.

buf is not a Python package, so this is skipped unless a ``buf`` binary is found
through ``PROTOREQ_BUF`` or ``PATH`` (``npm install --prefix DIR @bufbuild/buf``
puts one in ``DIR/node_modules/.bin/buf``), as in ``tests/generator/test_plugin.py``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.docs.conftest import environment
from tests.docs.markdown import REPO_ROOT, blocks


def _buf() -> str | None:
    return os.environ.get("PROTOREQ_BUF") or shutil.which("buf")


def _readme_yaml(key: str) -> str:
    (found,) = [
        block.text
        for block in blocks(REPO_ROOT / "README.md")
        if block.language == "yaml" and block.text.startswith("version: v2") and key in block.text
    ]
    return found


def test_readme_buf_configuration_generates(tmp_path: Path) -> None:
    buf = _buf()
    if buf is None:
        pytest.skip("buf not found: set PROTOREQ_BUF or put buf on PATH")
    if shutil.which("protoc") is None:
        pytest.skip("protoc_builtin: python needs a protoc on PATH")
    (tmp_path / "proto").mkdir()
    shutil.copy(REPO_ROOT / "protos" / "user.proto", tmp_path / "proto" / "user.proto")
    (tmp_path / "buf.yaml").write_text(_readme_yaml("modules:"))
    (tmp_path / "buf.gen.yaml").write_text(_readme_yaml("plugins:"))
    result = subprocess.run(
        [buf, "generate"],
        cwd=tmp_path,
        env=environment(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    written = sorted(path.name for path in (tmp_path / "gen").iterdir())
    assert written == ["user_pb2.py", "user_pb2.pyi", "user_protoreq.py"]
