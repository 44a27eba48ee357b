"""Generated output shared by the generator tests: compiled once per session."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from protoreq_generator.protoc import Invocation, compile_into
from tests.generator.support import CORPUS_DIR


@pytest.fixture(scope="session")
def corpus_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``tests/generator/protos`` through ``protoreq generate --package-init``, importable."""
    out = tmp_path_factory.mktemp("corpus")
    compile_into(Invocation(includes=(CORPUS_DIR,), sources=(CORPUS_DIR,), package_init=True), out)
    sys.path.insert(0, str(out))
    return out
