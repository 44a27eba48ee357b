"""The original design's dependency-injection example, unchanged but for its imports.

``GrpcServicesModule`` and ``GetUserQueryHandler`` are the design's own
("Dependency Injection"), from :mod:`tests.original.design`; the DI container
they use is the stand-in in :mod:`tests.original.application`. The tests prove
protoreq's pieces compose as wired: the client built from an environment
variable, the service layer on top, the handler mapping statuses to the
application's errors — against a real server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator

import pytest

from protoreq import GrpcClient
from tests.original.application import (
    Binder,
    GetUserQuery,
    ServiceUnavailableError,
    UserDTO,
    UserNotFoundError,
    logger,
)
from tests.original.design import GetUserQueryHandler, GrpcServicesModule, UserGrpcService
from tests.support.servers import unused_port


@pytest.fixture
def wired(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[[str], Binder]]:
    binders: list[Binder] = []

    def wire(url: str) -> Binder:
        monkeypatch.setenv("USER_SERVICE_URL", url)
        binder = Binder()
        GrpcServicesModule().configure(binder)
        binders.append(binder)
        return binder

    yield wire
    for binder in binders:
        binder.get(GrpcClient, "user_service").close()


def test_handler_returns_dto_through_wired_client(
    target: str, wired: Callable[[str], Binder]
) -> None:
    binder = wired(target)
    handler = GetUserQueryHandler(binder.get(UserGrpcService))

    dto = handler.handle(GetUserQuery(user_id="123"))

    assert dto == UserDTO(
        id="123", name="John Doe", email="john@example.com", created_at="2026-01-01"
    )
    assert binder.get(GrpcClient, "user_service").target == target


def test_not_found_maps_to_application_error(target: str, wired: Callable[[str], Binder]) -> None:
    handler = GetUserQueryHandler(wired(target).get(UserGrpcService))

    with pytest.raises(UserNotFoundError, match="User missing not found"):
        handler.handle(GetUserQuery(user_id="missing"))


def test_dead_dependency_maps_to_service_unavailable(
    wired: Callable[[str], Binder], caplog: pytest.LogCaptureFixture
) -> None:
    handler = GetUserQueryHandler(wired(f"127.0.0.1:{unused_port()}").get(UserGrpcService))

    with pytest.raises(ServiceUnavailableError), caplog.at_level(logging.ERROR, logger=logger.name):
        handler.handle(GetUserQuery(user_id="1"))
    assert "gRPC service failed" in caplog.text
