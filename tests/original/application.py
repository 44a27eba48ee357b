"""The application's own pieces that the original design's examples use but never show.

The examples in ``design.py`` raise these errors, log to ``logger`` and wire
themselves into a dependency-injection container (``Module``/``Binder`` with
``bind(..., annotation=...).to_instance()``/``to_constructor()``). The design
does not name that DI library, so the minimal stand-in here implements exactly
the calls the example makes; the tests prove protoreq's pieces compose as wired.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)


class SearchError(Exception):
    """Raised by the design's ``search_products`` when the search fails."""


class UserNotFoundError(Exception):
    """Raised by the design's ``UserGrpcService`` on NOT_FOUND."""


class GrpcServiceError(Exception):
    """Raised by the design's ``UserGrpcService`` on any other failure."""


class ServiceUnavailableError(Exception):
    """Raised by the design's ``GetUserQueryHandler`` when the service layer fails."""


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
