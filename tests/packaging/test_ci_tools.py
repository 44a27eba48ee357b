"""In CI, the tools some tests run are installed by the project's own scripts, so none skips.

scripts/system-packages installs Debian's protobuf-compiler (``protoc``, for
tests/generator/test_plugin.py::test_system_protoc and tests/docs/test_buf.py)
and scripts/test installs buf from npm (``PROTOREQ_BUF``). Outside CI a missing
tool only makes those tests skip, with a message saying how to get it.
"""

from __future__ import annotations

import os
import shutil

import pytest

IN_CI = os.environ.get("CI") == "true"


@pytest.mark.skipif(not IN_CI, reason="outside CI a missing protoc only skips its tests")
def test_ci_has_a_system_protoc() -> None:
    assert shutil.which("protoc"), "scripts/system-packages should have installed protoc"


@pytest.mark.skipif(not IN_CI, reason="outside CI a missing buf only skips its tests")
def test_ci_has_buf() -> None:
    assert os.environ.get("PROTOREQ_BUF") or shutil.which("buf"), "scripts/test installs buf"
