"""Shared fixtures: the repository's protos compiled once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.call_log import CallLog
from tests.support.protos import compile_protos


@pytest.fixture(scope="session", autouse=True)
def compiled_protos(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``protos.*_pb2`` importable for every test, as the original design imports them."""
    return compile_protos(tmp_path_factory.mktemp("compiled"))


@pytest.fixture
def call_log() -> CallLog:
    return CallLog()


@pytest.fixture
def target(call_log: CallLog, compiled_protos: Path) -> Iterator[str]:
    """A real server for the original design's services; yields ``127.0.0.1:port``."""
    from tests.support.servers import example_services, serve  # noqa: PLC0415  # needs protos

    with serve(*example_services(call_log)) as address:
        yield address
