"""pytest fixtures for code that talks gRPC through protoreq.

Registered through the ``pytest11`` entry point, so installing protoreq is
enough: no ``conftest.py`` import or ``pytest_plugins`` line. (Loading it
imports protoreq, hence grpcio; ``-p no:protoreq`` turns it off.)

* ``fake_grpc_client`` — a :class:`~protoreq.testing.FakeGrpcClient`, closed after the test;
* ``fake_grpc_server`` — a running :class:`~protoreq.testing.FakeGrpcServer`
  (``fake_grpc_server.target`` for a real ``GrpcClient``);
* ``grpc_server`` — ``grpc_server(*services) -> target``: real servicers on
  ``127.0.0.1`` (see :func:`~protoreq.testing.serve`), stopped after the test.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import ExitStack

import grpc
import pytest

from protoreq.testing.fake import FakeGrpcClient
from protoreq.testing.scripted import FakeGrpcServer
from protoreq.testing.server import ServerOption, Service, serve


class GrpcServerFactory:
    """The ``grpc_server`` fixture: start a test server per call; all stop after the test."""

    def __init__(self, stack: ExitStack) -> None:
        self._stack = stack

    def __call__(
        self,
        *services: Service,
        max_workers: int = 8,
        options: Sequence[ServerOption] = (),
        credentials: grpc.ServerCredentials | None = None,
    ) -> str:
        """Run ``services`` (see :func:`protoreq.testing.serve`); return ``127.0.0.1:<port>``."""
        return self._stack.enter_context(
            serve(*services, max_workers=max_workers, options=options, credentials=credentials)
        )


@pytest.fixture
def grpc_server() -> Iterator[GrpcServerFactory]:
    """``target = grpc_server(handler_or_(add_X_to_server, servicer), ...)``."""
    with ExitStack() as stack:
        yield GrpcServerFactory(stack)


@pytest.fixture
def fake_grpc_client() -> Iterator[FakeGrpcClient]:
    """A fresh :class:`~protoreq.testing.FakeGrpcClient` (not strict)."""
    fake = FakeGrpcClient()
    try:
        yield fake
    finally:
        fake.close()


@pytest.fixture
def fake_grpc_server() -> Iterator[FakeGrpcServer]:
    """A :class:`~protoreq.testing.FakeGrpcServer` running on ``fake_grpc_server.target``."""
    with FakeGrpcServer() as server:
        yield server
