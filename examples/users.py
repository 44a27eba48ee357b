"""The service layer: ``UserGrpcService``, in the original design's style, on generated requests.

Callers get plain values (:class:`UserDTO`) or domain exceptions; gRPC stays
behind this class. The requests are the generated ``GetUserGrpcRequest`` and
``CreateUserGrpcRequest``: keyword arguments checked by mypy against
``protos/user.proto``, and a ``GrpcResponse[user_pb2.User]`` back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TypeAlias

import grpc

from protoreq import GrpcClient, GrpcResponse, ServiceDiscoveryGrpcClient
from protos import user_pb2
from protos.user_protoreq import CreateUserGrpcRequest, GetUserGrpcRequest

Caller: TypeAlias = GrpcClient | ServiceDiscoveryGrpcClient
"""Anything with ``call()`` / ``call_async()``: one client, or one routing by service name."""


class GrpcServiceError(Exception):
    """The user service failed in a way callers cannot fix (unavailable, internal, ...)."""


class UserNotFoundError(Exception):
    """No user with that id."""


class InvalidUserError(GrpcServiceError):
    """The user service rejected the data (INVALID_ARGUMENT)."""


@dataclass(frozen=True, slots=True)
class UserDTO:
    """What the application knows of a user, free of protobuf types."""

    id: str
    name: str
    email: str
    created_at: str

    @classmethod
    def of(cls, user: user_pb2.User) -> UserDTO:
        return cls(id=user.id, name=user.name, email=user.email, created_at=user.created_at)


class UserGrpcService:
    """Users, as the rest of the application sees them.

    ``token`` is called for every request: the service sends it as
    ``authorization`` metadata (which protoreq's logs show as ``[REDACTED]``).
    Over TLS, ``GrpcClient(call_credentials=token_call_credentials(token))``
    does the same for every call of a client.
    """

    def __init__(self, client: Caller, *, token: Callable[[], str]) -> None:
        self._client = client
        self._token = token

    def get_user(self, user_id: str) -> UserDTO:
        request = GetUserGrpcRequest(user_id=user_id, metadata=self._auth())
        return _user_or_raise(self._client.call(request), f"user {user_id}")

    async def get_user_async(self, user_id: str) -> UserDTO:
        request = GetUserGrpcRequest(user_id=user_id, metadata=self._auth())
        return _user_or_raise(await self._client.call_async(request), f"user {user_id}")

    def create_user(self, *, name: str, email: str, age: int) -> UserDTO:
        # CreateUser is not marked idempotent in the proto: the client never retries it.
        request = CreateUserGrpcRequest(name=name, email=email, age=age, metadata=self._auth())
        return _user_or_raise(self._client.call(request), f"new user {name!r}")

    def _auth(self) -> dict[str, str]:
        return {"authorization": f"Bearer {self._token()}"}


def _user_or_raise(response: GrpcResponse[user_pb2.User], what: str) -> UserDTO:
    """Map the outcome to a value or a domain exception: the only place codes are read."""
    if response.is_success():
        return UserDTO.of(response.message())
    code = response.status_code()
    if code is grpc.StatusCode.NOT_FOUND:
        raise UserNotFoundError(f"{what} not found")
    if code is grpc.StatusCode.INVALID_ARGUMENT:
        raise InvalidUserError(f"{what} rejected: {response.details()}")
    raise GrpcServiceError(
        f"{what}: user service failed with {code.name} after {response.attempts()} "
        f"attempt(s): {response.details()}"
    )
