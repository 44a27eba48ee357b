"""serve() / serve_async(): real grpcio servers on 127.0.0.1 for the length of a block."""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from protoreq import GrpcClient
from protoreq.testing import FakeGrpcServer, serve, serve_async
from protoreq.testing.pytest_plugin import GrpcServerFactory
from protos import user_pb2
from tests.testing.conftest import GrpcStubs
from tests.testing.requests import GetUser


def get_user(request: user_pb2.GetUserRequest, context: grpc.ServicerContext) -> user_pb2.User:
    return user_pb2.User(id=request.user_id, name="generic")


def generic_handler() -> grpc.GenericRpcHandler:
    return grpc.method_handlers_generic_handler(
        "user.UserService",
        {
            "GetUser": grpc.unary_unary_rpc_method_handler(
                get_user,
                request_deserializer=user_pb2.GetUserRequest.FromString,
                response_serializer=user_pb2.User.SerializeToString,
            )
        },
    )


class UserServicer:
    """What ``add_UserServiceServicer_to_server`` needs: one method per RPC of the service."""

    def GetUser(
        self, request: user_pb2.GetUserRequest, context: grpc.ServicerContext
    ) -> user_pb2.User:
        return user_pb2.User(id=request.user_id, name="servicer")

    def CreateUser(
        self, request: user_pb2.CreateUserRequest, context: grpc.ServicerContext
    ) -> user_pb2.User:
        context.abort(grpc.StatusCode.UNIMPLEMENTED, "not in this test")


class AsyncUserServicer:
    async def GetUser(
        self, request: user_pb2.GetUserRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> user_pb2.User:
        return user_pb2.User(id=request.user_id, name="aio servicer")

    async def CreateUser(
        self, request: user_pb2.CreateUserRequest, context: grpc.aio.ServicerContext[Any, Any]
    ) -> user_pb2.User:
        await context.abort(grpc.StatusCode.UNIMPLEMENTED, "not in this test")


def test_serve_runs_a_generic_handler() -> None:
    with serve(generic_handler()) as target, GrpcClient(target) as client:
        assert target.startswith("127.0.0.1:")
        assert client.call(GetUser("7")).message() == user_pb2.User(id="7", name="generic")


def test_serve_takes_an_add_servicer_to_server_pair(grpc_stubs: GrpcStubs) -> None:
    registration = (grpc_stubs.user.add_UserServiceServicer_to_server, UserServicer())
    with serve(registration) as target, GrpcClient(target) as client:
        assert client.call(GetUser("1")).message().name == "servicer"


def test_serve_takes_a_callable_that_registers_on_the_server(grpc_stubs: GrpcStubs) -> None:
    servicer = UserServicer()
    with (
        serve(
            lambda server: grpc_stubs.user.add_UserServiceServicer_to_server(servicer, server)
        ) as target,
        GrpcClient(target) as client,
    ):
        assert client.call(GetUser("1")).message().name == "servicer"


async def test_serve_works_from_async_tests() -> None:
    with serve(generic_handler()) as target:
        async with GrpcClient(target) as client:
            response = await client.call_async(GetUser("2"))
    assert response.message().id == "2"


async def test_serve_async_runs_an_aio_servicer(grpc_stubs: GrpcStubs) -> None:
    registration = (grpc_stubs.user.add_UserServiceServicer_to_server, AsyncUserServicer())
    async with serve_async(registration) as target, GrpcClient(target) as client:
        response = await client.call_async(GetUser("3"))
    assert response.message() == user_pb2.User(id="3", name="aio servicer")


async def test_serve_async_sends_a_fake_server_to_serve() -> None:
    with pytest.raises(TypeError, match=r"needs a sync server: use `with serve\(...\)`"):
        async with serve_async(FakeGrpcServer()):
            pass


def test_the_server_is_gone_after_the_block() -> None:
    with serve(generic_handler()) as target:
        pass
    with GrpcClient(target, timeout=2.0) as client:
        response = client.call(GetUser("1"))
    assert response.status_code() is grpc.StatusCode.UNAVAILABLE


def test_serve_rejects_what_it_cannot_run() -> None:
    with pytest.raises(ValueError, match="at least one service"), serve():
        pass
    with pytest.raises(TypeError, match="generic RPC handlers"), serve("user.UserService"):  # type: ignore[arg-type]
        pass


def test_grpc_server_fixture_starts_servers_stopped_after_the_test(
    grpc_server: GrpcServerFactory, grpc_stubs: GrpcStubs
) -> None:
    first = grpc_server(generic_handler())
    second = grpc_server((grpc_stubs.user.add_UserServiceServicer_to_server, UserServicer()))
    assert first != second
    with GrpcClient(first) as a, GrpcClient(second) as b:
        assert a.call(GetUser("1")).message().name == "generic"
        assert b.call(GetUser("1")).message().name == "servicer"
