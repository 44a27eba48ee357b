"""FakeGrpcServer: scripted answers behind a real server, reached by a real client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import grpc
import pytest
from google.rpc import error_details_pb2

from protoreq import BaseGrpcRequest, GrpcClient
from protoreq.testing import Failure, FakeGrpcServer, ScriptError, serve
from protos import chat_pb2, my_pb2, user_pb2
from tests.support.deadlines import server_time_remaining_bound
from tests.testing.requests import Converse, CreateUser, GetUser, Subscribe, Upload

JOHN = user_pb2.User(id="1", name="John Doe", email="john@example.com")


def test_scripted_answer_reaches_a_real_client(fake_grpc_server: FakeGrpcServer) -> None:
    fake_grpc_server.respond(GetUser, JOHN, trailing_metadata={"x-served-by": "fake"})

    with GrpcClient(fake_grpc_server.target) as client:
        response = client.call(GetUser("1", metadata={"x-tenant": "acme"}))

    assert response.message() == JOHN
    assert response.trailing_metadata()["x-served-by"] == "fake"
    [received] = fake_grpc_server.calls
    assert received.method.path == "/user.UserService/GetUser"
    assert received.metadata["x-tenant"] == "acme"
    assert received.metadata["x-trace-id"] == response.trace_id()
    assert received.time_remaining is not None
    assert 0 < received.time_remaining <= server_time_remaining_bound(30)
    assert fake_grpc_server.messages_of(GetUser) == [user_pb2.GetUserRequest(user_id="1")]


def test_callable_answer_receives_the_request_message() -> None:
    with FakeGrpcServer() as server, GrpcClient(server.target) as client:
        server.respond(
            GetUser,
            lambda message: (
                user_pb2.User(id=message.user_id)
                if message.user_id != "0"
                else Failure(grpc.StatusCode.NOT_FOUND, "no user 0")
            ),
        )
        found = client.call(GetUser("5"))
        missing = client.call(GetUser("0"))
    assert found.message().id == "5"
    assert missing.status_code() is grpc.StatusCode.NOT_FOUND
    assert missing.details() == "no user 0"


def test_fail_with_rich_details_arrives_like_from_a_real_server() -> None:
    retry = error_details_pb2.RetryInfo()
    retry.retry_delay.FromMilliseconds(250)
    with FakeGrpcServer() as server, GrpcClient(server.target, retry=None) as client:
        server.fail(
            CreateUser,
            grpc.StatusCode.RESOURCE_EXHAUSTED,
            "slow down",
            error_details=[retry],
            initial_metadata={"x-first": "1"},
            trailing_metadata={"x-quota": "0"},
        )
        response = client.call(CreateUser("Ana", "ana@example.com"))

    assert response.status_code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert response.details() == "slow down"
    assert response.initial_metadata()["x-first"] == "1"
    assert response.trailing_metadata()["x-quota"] == "0"
    [detail] = response.error_details()
    assert isinstance(detail, error_details_pb2.RetryInfo)
    assert detail.retry_delay.ToMilliseconds() == 250


def test_scripts_added_while_running_apply_at_once(fake_grpc_server: FakeGrpcServer) -> None:
    with GrpcClient(fake_grpc_server.target) as client:
        before = client.call(GetUser("1"))
        fake_grpc_server.respond("/user.UserService/GetUser", JOHN)
        after = client.call(GetUser("1"))
    assert before.status_code() is grpc.StatusCode.UNIMPLEMENTED
    assert "FakeGrpcServer: no answer scripted for GetUser" in before.details()
    assert after.message() == JOHN


def test_any_known_rpc_is_recorded_and_unimplemented_until_scripted(
    fake_grpc_server: FakeGrpcServer,
) -> None:
    class Other(BaseGrpcRequest[my_pb2.MyRequest, my_pb2.MyResponse]):
        def service_name(self) -> str:
            return "my.Service"

        def method_name(self) -> str:
            return "MyMethod"

        def message(self) -> my_pb2.MyRequest:
            return my_pb2.MyRequest()

    with GrpcClient(fake_grpc_server.target) as client:
        response = client.call(Other())
    assert response.status_code() is grpc.StatusCode.UNIMPLEMENTED
    assert "no answer scripted for MyMethod (/my.Service/MyMethod)" in response.details()
    assert fake_grpc_server.calls[0].method.path == "/my.Service/MyMethod"


def test_services_unknown_to_the_descriptor_pool_are_left_to_grpc(
    fake_grpc_server: FakeGrpcServer,
) -> None:
    with grpc.insecure_channel(fake_grpc_server.target) as channel:
        nothing: Any = channel.unary_unary("/nowhere.Service/Nothing")
        with pytest.raises(grpc.RpcError) as failed:
            nothing(b"", timeout=5)
    assert failed.value.code() is grpc.StatusCode.UNIMPLEMENTED
    assert fake_grpc_server.calls == []


def test_a_wrong_answer_type_is_reported_when_scripted_or_ends_the_call_with_internal() -> None:
    with FakeGrpcServer() as server, GrpcClient(server.target) as client:
        with pytest.raises(ScriptError, match=r"is a my\.MyResponse, but"):
            server.respond(GetUser, cast(Any, my_pb2.MyResponse()))
        server.respond(GetUser, cast(Any, lambda message: my_pb2.MyResponse()))
        response = client.call(GetUser("1"))
    assert response.status_code() is grpc.StatusCode.INTERNAL
    assert "is a my.MyResponse, but /user.UserService/GetUser answers user.User" in (
        response.details()
    )


def test_a_request_class_that_needs_its_init_to_name_its_rpc() -> None:
    class Configured(BaseGrpcRequest[user_pb2.GetUserRequest, user_pb2.User]):
        def __init__(self, service: str) -> None:
            super().__init__()
            self._service = service

        def service_name(self) -> str:
            return self._service

        def method_name(self) -> str:
            return "GetUser"

        def message(self) -> user_pb2.GetUserRequest:
            return user_pb2.GetUserRequest()

    with pytest.raises(TypeError, match="script it by method path instead"):
        FakeGrpcServer().respond(Configured, JOHN)


def test_runs_after_real_handlers_and_needs_a_running_block_for_target() -> None:
    def create_user(
        request: user_pb2.CreateUserRequest, context: grpc.ServicerContext
    ) -> user_pb2.User:
        return user_pb2.User(id="real", name=request.name)

    real = grpc.method_handlers_generic_handler(
        "user.UserService",
        {
            "CreateUser": grpc.unary_unary_rpc_method_handler(
                create_user,
                request_deserializer=user_pb2.CreateUserRequest.FromString,
                response_serializer=user_pb2.User.SerializeToString,
            )
        },
    )
    fake = FakeGrpcServer()
    fake.respond(GetUser, JOHN)
    with pytest.raises(RuntimeError, match="not running"):
        _ = fake.target
    with serve(real, fake) as target, GrpcClient(target) as client:
        assert client.call(CreateUser("Ana", "a@x.org")).message().id == "real"
        assert client.call(GetUser("1")).message() == JOHN
    assert [call.method.method for call in fake.calls] == ["GetUser"]
    assert repr(fake) == "FakeGrpcServer(not running, 1 calls, scripted: /user.UserService/GetUser)"


# -- streams, through the real client ----------------------------------------------------------


def chat(*texts: str) -> list[chat_pb2.ChatMessage]:
    return [chat_pb2.ChatMessage(seq=i, text=text) for i, text in enumerate(texts, 1)]


def test_server_streaming_answers_a_list_then_ends_on_a_failure() -> None:
    with FakeGrpcServer() as server, GrpcClient(server.target) as client:
        server.respond(
            Subscribe,
            [*chat("a", "b"), Failure(grpc.StatusCode.UNAVAILABLE, "room closed")],
            initial_metadata={"x-room": "r"},
        )
        stream = client.stream(Subscribe("r"))
        received = list(stream)
    assert received == chat("a", "b")
    assert stream.status_code() is grpc.StatusCode.UNAVAILABLE
    assert stream.details() == "room closed"
    assert stream.initial_metadata()["x-room"] == "r"
    assert server.messages_of(Subscribe) == [chat_pb2.SubscribeRequest(room="r", count=3)]


async def test_server_streaming_to_an_async_client(fake_grpc_server: FakeGrpcServer) -> None:
    fake_grpc_server.respond(
        Subscribe, lambda message: [chat_pb2.ChatMessage(text=message.room)] * message.count
    )
    async with GrpcClient(fake_grpc_server.target) as client:
        stream = client.stream_async(Subscribe("hall", count=2))
        received = [message.text async for message in stream]
    assert received == ["hall", "hall"]
    assert stream.is_success()


def test_client_streaming_callable_receives_the_list_of_messages() -> None:
    with FakeGrpcServer() as server, GrpcClient(server.target) as client:
        server.respond(Upload, lambda messages: chat_pb2.UploadSummary(count=len(messages)))
        response = client.call(Upload(iter(chat("a", "b", "c"))))
    assert response.message().count == 3
    assert server.messages_of(Upload) == chat("a", "b", "c")


def test_bidi_callable_answers_as_messages_arrive() -> None:
    def echo(messages: Iterator[chat_pb2.ChatMessage]) -> Iterator[chat_pb2.ChatMessage]:
        for message in messages:
            yield chat_pb2.ChatMessage(seq=message.seq, text=message.text.upper())

    with FakeGrpcServer() as server, GrpcClient(server.target) as client:
        server.respond(Converse, echo)
        answers = list(client.stream(Converse(iter(chat("hi", "there")))))
    assert answers == [
        chat_pb2.ChatMessage(seq=1, text="HI"),
        chat_pb2.ChatMessage(seq=2, text="THERE"),
    ]
    assert server.messages_of(Converse) == chat("hi", "there")


def test_bidi_fixed_answer_reads_every_message_first() -> None:
    with FakeGrpcServer() as server, GrpcClient(server.target) as client:
        server.respond(Converse, chat("done"))
        answers = list(client.stream(Converse(chat("a", "b"))))
    assert answers == chat("done")
    assert server.messages_of(Converse) == chat("a", "b")
