# mypy: allow-untyped-defs, allow-incomplete-defs, allow-untyped-calls
# mypy: disable-error-code="type-arg, no-any-return"
# ruff: noqa: PLC0415
"""The original design's service layer and the requests it sends, as users write them.

Copied from ``shared/original-design.md`` ("Uso en Services" and the request
examples it uses); the only edits are the imports (``protoreq`` instead of
``app.Contexts...``), trailing blanks removed, and the two exception classes
the design names but never shows. It is user code, hence the relaxed mypy
pragma and ``fmt: off``.
"""

from __future__ import annotations

from typing import Any

import grpc

from protoreq import BaseGrpcRequest, GrpcClient, GrpcRequest


class UserNotFoundError(Exception):
    """Named by the original design; not shown there."""


class GrpcServiceError(Exception):
    """Named by the original design; not shown there."""


# fmt: off
class GetUserGrpcRequest(GrpcRequest):
    def __init__(self, user_id: str):
        self._user_id = user_id

    def service_name(self) -> str:
        return "user.UserService"

    def method_name(self) -> str:
        return "GetUser"

    def message(self) -> Any:
        # Crear mensaje protobuf
        from protos.user_pb2 import GetUserRequest
        return GetUserRequest(user_id=self._user_id)

    def metadata(self) -> dict[str, str]:
        return {
            "authorization": "Bearer <token>",
            "x-client-version": "1.0"
        }

    def timeout(self) -> float:
        return 30.0  # 30 segundos


class CreateUserGrpcRequest(BaseGrpcRequest):
    def __init__(self, name: str, email: str, age: int):
        self._name = name
        self._email = email
        self._age = age

    def service_name(self) -> str:
        return "user.UserService"

    def method_name(self) -> str:
        return "CreateUser"

    def message(self) -> Any:
        from protos.user_pb2 import CreateUserRequest
        return CreateUserRequest(
            name=self._name,
            email=self._email,
            age=self._age
        )


class UserGrpcService:
    def __init__(self, grpc_client: GrpcClient):
        self._client = grpc_client

    def get_user(self, user_id: str) -> dict:
        request = GetUserGrpcRequest(user_id)
        response = self._client.call(request)

        if response.is_success():
            user = response.message()
            return {
                "id": user.id,
                "name": user.name,
                "email": user.email,
                "created_at": user.created_at
            }
        elif response.status_code() == grpc.StatusCode.NOT_FOUND:
            raise UserNotFoundError(f"User {user_id} not found")
        else:
            raise GrpcServiceError(
                f"Failed to get user: {response.details()}"
            )

    def create_user(self, user_data: dict) -> str:
        request = CreateUserGrpcRequest(**user_data)
        response = self._client.call(request)

        if response.is_success():
            user = response.message()
            return user.id
        else:
            raise GrpcServiceError(
                f"Failed to create user: {response.details()}"
            )

    def close(self):
        self._client.close()
# fmt: on
