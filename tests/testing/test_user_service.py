# mypy: allow-untyped-calls
# (UserGrpcService.close() is the original design's code, left without annotations.)
"""The original design's ``UserGrpcService`` tested with the fake client and with real servers.

The third way, ``mock.patch("protoreq.GrpcClient.call")`` as the original
design's own tests do, is in ``test_original_testing_patterns.py``.
"""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest

from protoreq import GrpcClient
from protoreq.testing import Failure, FakeGrpcClient, FakeGrpcServer, serve
from protos import user_pb2
from tests.original.application import GrpcServiceError, UserNotFoundError
from tests.original.design import CreateUserGrpcRequest, GetUserGrpcRequest, UserGrpcService
from tests.testing.conftest import GrpcStubs

JOHN = user_pb2.User(id="123", name="John Doe", email="john@example.com", created_at="2026-01-01")
JOHN_DICT = {
    "id": "123",
    "name": "John Doe",
    "email": "john@example.com",
    "created_at": "2026-01-01",
}


# -- 1. with the fake client: no network, answers scripted per request class -------------------


class TestUserServiceWithFakeClient:
    def test_get_user_success(self, fake_grpc_client: FakeGrpcClient) -> None:
        fake_grpc_client.respond(GetUserGrpcRequest, JOHN)
        service = UserGrpcService(fake_grpc_client)  # typed GrpcClient: the fake is one

        assert service.get_user("123") == JOHN_DICT

        [sent] = fake_grpc_client.calls
        assert sent.messages == [user_pb2.GetUserRequest(user_id="123")]
        assert sent.metadata["authorization"] == "Bearer <token>"
        assert sent.metadata["x-client-version"] == "1.0"
        assert "x-trace-id" in sent.metadata
        assert sent.timeout == pytest.approx(30.0)

    def test_get_user_not_found(self, fake_grpc_client: FakeGrpcClient) -> None:
        fake_grpc_client.fail(GetUserGrpcRequest, grpc.StatusCode.NOT_FOUND, "User not found")
        with pytest.raises(UserNotFoundError, match="User 999 not found"):
            UserGrpcService(fake_grpc_client).get_user("999")

    def test_get_user_other_failure(self, fake_grpc_client: FakeGrpcClient) -> None:
        fake_grpc_client.fail(GetUserGrpcRequest, grpc.StatusCode.UNAVAILABLE, "try later")
        with pytest.raises(GrpcServiceError, match="Failed to get user: try later"):
            UserGrpcService(fake_grpc_client).get_user("1")

    def test_create_user_sends_the_fields(self, fake_grpc_client: FakeGrpcClient) -> None:
        fake_grpc_client.respond(
            CreateUserGrpcRequest,
            lambda request: user_pb2.User(id=f"user-{request.message().name.lower()}"),
        )
        service = UserGrpcService(fake_grpc_client)

        new_id = service.create_user({"name": "Ana", "email": "ana@example.com", "age": 31})

        assert new_id == "user-ana"
        [sent] = fake_grpc_client.calls
        assert sent.messages == [
            user_pb2.CreateUserRequest(name="Ana", email="ana@example.com", age=31)
        ]

    def test_create_user_failure(self, fake_grpc_client: FakeGrpcClient) -> None:
        fake_grpc_client.fail(
            CreateUserGrpcRequest, grpc.StatusCode.INVALID_ARGUMENT, "email is required"
        )
        with pytest.raises(GrpcServiceError, match="Failed to create user: email is required"):
            UserGrpcService(fake_grpc_client).create_user({"name": "A", "email": "", "age": 1})

    def test_close_closes_the_client(self, fake_grpc_client: FakeGrpcClient) -> None:
        service = UserGrpcService(fake_grpc_client)
        service.close()
        assert fake_grpc_client.closed

    def test_unscripted_rpc_is_a_service_error(self) -> None:
        service = UserGrpcService(FakeGrpcClient())
        with pytest.raises(GrpcServiceError, match="no answer scripted for GetUserGrpcRequest"):
            service.get_user("1")


# -- 2. with a real in-process server ------------------------------------------------------------


class UserServicer:
    """A small real servicer, registered with grpc's generated ``add_..._to_server``."""

    def __init__(self) -> None:
        self.users = {"123": JOHN}

    def GetUser(
        self, request: user_pb2.GetUserRequest, context: grpc.ServicerContext
    ) -> user_pb2.User:
        user = self.users.get(request.user_id)
        if user is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"user {request.user_id} not found")
        return user

    def CreateUser(
        self, request: user_pb2.CreateUserRequest, context: grpc.ServicerContext
    ) -> user_pb2.User:
        if not request.email:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "email is required")
        user = user_pb2.User(id=f"user-{len(self.users)}", name=request.name, email=request.email)
        self.users[user.id] = user
        return user


@pytest.fixture
def user_service(grpc_stubs: GrpcStubs) -> Iterator[UserGrpcService]:
    registration = (grpc_stubs.user.add_UserServiceServicer_to_server, UserServicer())
    with serve(registration) as target:
        service = UserGrpcService(GrpcClient(target))
        yield service
        service.close()


class TestUserServiceWithInProcessServer:
    def test_get_user_success(self, user_service: UserGrpcService) -> None:
        assert user_service.get_user("123") == JOHN_DICT

    def test_get_user_not_found(self, user_service: UserGrpcService) -> None:
        with pytest.raises(UserNotFoundError):
            user_service.get_user("999")

    def test_create_then_get(self, user_service: UserGrpcService) -> None:
        new_id = user_service.create_user({"name": "Ana", "email": "ana@x.org", "age": 31})
        assert user_service.get_user(new_id)["name"] == "Ana"

    def test_create_user_invalid(self, user_service: UserGrpcService) -> None:
        with pytest.raises(GrpcServiceError, match="email is required"):
            user_service.create_user({"name": "Ana", "email": "", "age": 31})

    def test_server_down_is_a_service_error(self) -> None:
        with serve(FakeGrpcServer()) as target:
            pass  # the port is free again: nothing listens there now
        service = UserGrpcService(GrpcClient(target, timeout=2.0, retry=None))
        with pytest.raises(GrpcServiceError, match="Failed to get user"):
            service.get_user("123")
        service.close()


class TestUserServiceWithFakeServer:
    """The typed scripted server: a real client and wire, answers scripted per request class."""

    def test_get_user(self, fake_grpc_server: FakeGrpcServer) -> None:
        fake_grpc_server.respond(
            GetUserGrpcRequest,
            lambda message: (
                JOHN if message.user_id == "123" else Failure(grpc.StatusCode.NOT_FOUND, "nope")
            ),
        )
        service = UserGrpcService(GrpcClient(fake_grpc_server.target))
        try:
            assert service.get_user("123") == JOHN_DICT
            with pytest.raises(UserNotFoundError):
                service.get_user("999")
        finally:
            service.close()
        received = fake_grpc_server.calls[0]
        assert received.metadata["authorization"] == "Bearer <token>"
        assert fake_grpc_server.messages_of(GetUserGrpcRequest) == [
            user_pb2.GetUserRequest(user_id="123"),
            user_pb2.GetUserRequest(user_id="999"),
        ]
