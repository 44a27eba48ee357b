"""Fixtures: a real etcd per module (``etcd``), and one per test for restarts (``own_etcd``)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.discovery.etcd_server import EtcdServer, require_etcd


@pytest.fixture(scope="module")
def etcd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdServer]:
    server = EtcdServer(require_etcd(), tmp_path_factory.mktemp("etcd") / "data")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def own_etcd(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EtcdServer]:
    """An etcd of the test's own, which it may kill and start again."""
    server = EtcdServer(require_etcd(), tmp_path_factory.mktemp("etcd-own") / "data")
    server.start()
    yield server
    server.kill()


@pytest.fixture
def prefix(request: pytest.FixtureRequest) -> str:
    """A key prefix of the test's own, so tests sharing an etcd never see each other's keys."""
    return f"protoreq-tests/{request.node.name}/"
