"""Shared fixtures; the repository's protos are compiled before any test module is imported."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.call_log import CallLog
from tests.support.protos import compile_protos

_compiled: Path | None = None


def pytest_configure(config: pytest.Config) -> None:
    """Generate ``protos.*`` before collection: test modules import them at the top.

    (Without this, grpcio-tools' import hook would compile ``.proto`` files on
    the fly; it works, but hides what the tests really import.)
    """
    global _compiled  # noqa: PLW0603  # one folder per pytest process
    if _compiled is None:
        _compiled = compile_protos(Path(tempfile.mkdtemp(prefix="protoreq-protos-")))


def pytest_unconfigure(config: pytest.Config) -> None:
    if _compiled is not None:
        shutil.rmtree(_compiled, ignore_errors=True)


@pytest.fixture(scope="session")
def compiled_protos() -> Path:
    """The folder holding ``protos/*_pb2.py``, ``*_pb2.pyi`` and ``*_protoreq.py``."""
    assert _compiled is not None
    return _compiled


@pytest.fixture
def call_log() -> CallLog:
    return CallLog()


@pytest.fixture
def target(call_log: CallLog, compiled_protos: Path) -> Iterator[str]:
    """A real server for the original design's services; yields ``127.0.0.1:port``."""
    from tests.support.servers import example_services, serve  # noqa: PLC0415  # needs protos

    with serve(*example_services(call_log)) as address:
        yield address
