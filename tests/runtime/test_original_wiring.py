# mypy: allow-untyped-defs, allow-incomplete-defs, allow-untyped-calls
# mypy: disable-error-code="type-arg, no-any-return, attr-defined"
# ruff: noqa: B904
"""The original design's dependency-injection example, unchanged but for its imports.

``GrpcServicesModule`` and ``GetUserQueryHandler`` are copied from
``shared/original-design.md`` ("Dependency Injection"). The container they use
(``Module``/``Binder`` with ``bind(..., annotation=...).to_instance()``) is the
application's own DI library, not protoreq's, and the design does not name it;
the minimal stand-in below implements exactly the calls the example makes, so
the test proves protoreq's pieces compose as wired: the client built from an
environment variable, the service layer on top, the handler mapping statuses
to the application's errors — against a real server.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from protoreq import GrpcClient
from tests.support.servers import unused_port
from tests.testing.user_service import GrpcServiceError, UserGrpcService, UserNotFoundError

logger = logging.getLogger(__name__)


# --- the application's own infrastructure, as the design assumes it exists --------------------
class _Binding:
    def __init__(self, registry: dict[tuple[Any, Any], Callable[[], Any]], key: tuple[Any, Any]):
        self._registry = registry
        self._key = key

    def to_instance(self, instance: Any) -> None:
        self._registry[self._key] = lambda: instance

    def to_constructor(self, constructor: Callable[[], Any]) -> None:
        self._registry[self._key] = constructor


class Binder:
    def __init__(self) -> None:
        self.registry: dict[tuple[Any, Any], Callable[[], Any]] = {}

    def bind(self, interface: Any, annotation: Any = None) -> _Binding:
        return _Binding(self.registry, (interface, annotation))

    def get(self, interface: Any, annotation: Any = None) -> Any:
        return self.registry[(interface, annotation)]()


class Module:
    def configure(self, binder: Binder) -> None:
        raise NotImplementedError


class QueryHandler:
    pass


@dataclass
class GetUserQuery:
    user_id: str


@dataclass
class UserDTO:
    id: str
    name: str
    email: str
    created_at: str


class ServiceUnavailableError(Exception):
    pass


# --- verbatim from the original design ---------------------------------------------------------
# fmt: off
# En tu módulo de DI
class GrpcServicesModule(Module):
    def configure(self, binder: Binder) -> None:
        # Cliente gRPC para User Service
        user_client = GrpcClient(os.getenv("USER_SERVICE_URL", "user-service:50051"))
        binder.bind(GrpcClient, annotation="user_service").to_instance(user_client)

        # Service que usa el cliente
        binder.bind(UserGrpcService).to_constructor(
            lambda: UserGrpcService(user_client)
        )

# En tu handler
class GetUserQueryHandler(QueryHandler):
    def __init__(self, user_service: UserGrpcService):
        self._user_service = user_service

    def handle(self, query: GetUserQuery) -> UserDTO:
        try:
            user_data = self._user_service.get_user(query.user_id)
            return UserDTO(**user_data)
        except UserNotFoundError:
            raise UserNotFoundError(f"User {query.user_id} not found")
        except GrpcServiceError as e:
            logger.error(f"gRPC service failed: {e}")
            raise ServiceUnavailableError("User service is currently unavailable")
# fmt: on


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


def test_handler_returns_dto_through_wired_client(target: str, wired: Callable[[str], Binder]):
    binder = wired(target)
    handler = GetUserQueryHandler(binder.get(UserGrpcService))

    dto = handler.handle(GetUserQuery(user_id="123"))

    assert dto == UserDTO(
        id="123", name="John Doe", email="john@example.com", created_at="2026-01-01"
    )
    assert binder.get(GrpcClient, "user_service").target == target


def test_not_found_maps_to_application_error(target: str, wired: Callable[[str], Binder]):
    handler = GetUserQueryHandler(wired(target).get(UserGrpcService))

    with pytest.raises(UserNotFoundError, match="User missing not found"):
        handler.handle(GetUserQuery(user_id="missing"))


def test_dead_dependency_maps_to_service_unavailable(
    wired: Callable[[str], Binder], caplog: pytest.LogCaptureFixture
):
    handler = GetUserQueryHandler(wired(f"127.0.0.1:{unused_port()}").get(UserGrpcService))

    with pytest.raises(ServiceUnavailableError), caplog.at_level(logging.ERROR, logger=__name__):
        handler.handle(GetUserQuery(user_id="1"))
    assert "gRPC service failed" in caplog.text
