"""The application's HTTP handlers, reduced to plain objects so the example needs no web framework.

What matters is the first line of each handler: the incoming request's trace
id (and client ip) go into a :class:`~protoreq.RequestContext` scope, and
every gRPC call made while handling it, sync or async, in this task or in
tasks it starts, carries that trace id as ``x-trace-id``. A framework
middleware would open the same scope.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Final

from examples.users import (
    GrpcServiceError,
    InvalidUserError,
    UserDTO,
    UserGrpcService,
    UserNotFoundError,
)
from protoreq import RequestContext

JsonValue = str | int | list["JsonValue"] | dict[str, "JsonValue"]

USERS: Final = "/users"


@dataclass(frozen=True, slots=True)
class HttpRequest:
    method: str
    path: str
    headers: Mapping[str, str] = field(default_factory=dict)
    query: Mapping[str, str] = field(default_factory=dict)
    body: Mapping[str, str | int] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class HttpResponse:
    status: int
    body: JsonValue


class UserApi:
    """``POST /users``, ``GET /users/<id>`` (sync) and ``GET /users?ids=a,b`` (async)."""

    def __init__(self, users: UserGrpcService) -> None:
        self._users = users

    def handle(self, request: HttpRequest) -> HttpResponse:
        with _scope_of(request):
            try:
                if request.method == "POST" and request.path == USERS:
                    return HttpResponse(201, _json(self._create(request.body)))
                if request.method == "GET" and request.path.startswith(f"{USERS}/"):
                    user = self._users.get_user(request.path.removeprefix(f"{USERS}/"))
                    return HttpResponse(200, _json(user))
                return HttpResponse(404, {"error": "no such route"})
            except UserNotFoundError as error:
                return HttpResponse(404, {"error": str(error)})
            except InvalidUserError as error:
                return HttpResponse(400, {"error": str(error)})
            except GrpcServiceError as error:
                return HttpResponse(503, {"error": str(error)})

    async def handle_async(self, request: HttpRequest) -> HttpResponse:
        """An async handler fetching several users at once, one task per user."""
        with _scope_of(request):
            ids = [user_id for user_id in request.query.get("ids", "").split(",") if user_id]
            try:
                found = await asyncio.gather(*(self._users.get_user_async(i) for i in ids))
            except UserNotFoundError as error:
                return HttpResponse(404, {"error": str(error)})
            except GrpcServiceError as error:
                return HttpResponse(503, {"error": str(error)})
            return HttpResponse(200, [_json(user) for user in found])

    def _create(self, body: Mapping[str, str | int]) -> UserDTO:
        return self._users.create_user(
            name=str(body.get("name", "")),
            email=str(body.get("email", "")),
            age=int(body.get("age", 0)),
        )


def _scope_of(request: HttpRequest) -> AbstractContextManager[None]:
    return RequestContext.scope(
        trace_id=request.headers.get("x-trace-id"),
        client_ip=request.headers.get("x-forwarded-for"),
        timeout=5.0,  # the whole HTTP request, every gRPC call and retry included
    )


def _json(user: UserDTO) -> dict[str, JsonValue]:
    return {"id": user.id, "name": user.name, "email": user.email}
