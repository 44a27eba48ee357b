"""Clear answers to broken requests: a message() of None, a proto2 message missing a required field.

``google.protobuf.UninterpretedOption.NamePart`` (protobuf's own descriptor.proto)
is a proto2 message with two ``required`` fields: a real message grpcio
cannot serialize while one is unset.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any, ClassVar

import grpc
import pytest
from google.protobuf.descriptor_pb2 import UninterpretedOption

from protoreq import (
    Cardinality,
    GeneratedGrpcRequest,
    GeneratedServerStreamingGrpcRequest,
    GrpcClient,
    GrpcRequest,
    InvalidRequestError,
    RpcMethod,
    ServerStreamingGrpcRequest,
)
from protos import chat_pb2, user_pb2
from tests.runtime.conftest import Send
from tests.support.servers import serve

NamePart = UninterpretedOption.NamePart
SERVICE = "protoreq.test.Required"


class SendNamePart(GeneratedGrpcRequest[Any, chat_pb2.ChatMessage]):
    rpc: ClassVar[RpcMethod[Any, chat_pb2.ChatMessage]] = RpcMethod(
        service=SERVICE, method="Unary", request_type=NamePart, response_type=chat_pb2.ChatMessage
    )


class StreamNamePart(GeneratedServerStreamingGrpcRequest[Any, chat_pb2.ChatMessage]):
    rpc: ClassVar[RpcMethod[Any, chat_pb2.ChatMessage]] = RpcMethod(
        service=SERVICE,
        method="Stream",
        request_type=NamePart,
        response_type=chat_pb2.ChatMessage,
        cardinality=Cardinality.UNARY_STREAM,
    )


class NoMessage(GrpcRequest[user_pb2.GetUserRequest, user_pb2.User]):
    def service_name(self) -> str:
        return "user.UserService"

    def method_name(self) -> str:
        return "GetUser"

    def message(self) -> user_pb2.GetUserRequest:
        return None  # type: ignore[return-value]  # the bug under test


class NoStreamMessage(ServerStreamingGrpcRequest[chat_pb2.SubscribeRequest, chat_pb2.ChatMessage]):
    def service_name(self) -> str:
        return "chat.ChatService"

    def method_name(self) -> str:
        return "Subscribe"

    def message(self) -> chat_pb2.SubscribeRequest:
        return None  # type: ignore[return-value]


@pytest.fixture
def received() -> list[bytes]:
    return []


@pytest.fixture
def required_target(received: list[bytes]) -> Iterator[str]:
    """Answers anything; records the bytes each call brought (none should arrive)."""

    def unary(request: bytes, context: grpc.ServicerContext) -> chat_pb2.ChatMessage:
        received.append(request)
        return chat_pb2.ChatMessage()

    def stream(request: bytes, context: grpc.ServicerContext) -> Iterator[chat_pb2.ChatMessage]:
        received.append(request)
        yield chat_pb2.ChatMessage()

    serialize = chat_pb2.ChatMessage.SerializeToString
    handler = grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "Unary": grpc.unary_unary_rpc_method_handler(unary, response_serializer=serialize),
            "Stream": grpc.unary_stream_rpc_method_handler(stream, response_serializer=serialize),
        },
    )
    with serve(handler) as address:
        yield address


def _incomplete() -> Any:
    return NamePart(name_part="x")  # is_extension, required too, is missing


def _is_serialization_failure(code: grpc.StatusCode, details: str) -> bool:
    return (
        code is grpc.StatusCode.INTERNAL
        and "serializing request" in details
        and "is_extension" in details
    )


def test_message_none_names_class_and_method(target: str, send: Send) -> None:
    with GrpcClient(target) as client:
        with pytest.raises(InvalidRequestError, match=r"NoMessage\.message\(\) returned None"):
            send(client, NoMessage())
        with pytest.raises(
            InvalidRequestError, match=r"NoStreamMessage\.message\(\) returned None"
        ):
            client.stream(NoStreamMessage())


def test_unserializable_unary_request_is_a_failed_response(
    required_target: str, send: Send, received: list[bytes]
) -> None:
    with GrpcClient(required_target) as client:
        response = send(client, SendNamePart.from_message(_incomplete()))
        complete = send(
            client, SendNamePart.from_message(NamePart(name_part="x", is_extension=True))
        )

    assert _is_serialization_failure(response.status_code(), response.details())
    assert complete.is_success()
    assert len(received) == 1  # only the complete one went out


def test_unserializable_stream_request_is_a_failed_stream_sync(
    required_target: str, received: list[bytes]
) -> None:
    with GrpcClient(required_target) as client:
        stream = client.stream(StreamNamePart.from_message(_incomplete()))
        messages = list(stream)

    assert messages == []
    assert _is_serialization_failure(stream.status_code(), stream.details())
    assert received == []


def test_unserializable_stream_request_is_a_failed_stream_async(
    required_target: str, received: list[bytes]
) -> None:
    async def run() -> tuple[list[Any], grpc.StatusCode, str]:
        async with GrpcClient(required_target) as client:
            stream = client.stream_async(StreamNamePart.from_message(_incomplete()))
            messages = [message async for message in stream]
            return messages, stream.status_code(), stream.details()

    messages, code, details = asyncio.run(run())

    assert messages == []
    assert _is_serialization_failure(code, details)
    assert received == []  # grpc.aio would have sent it empty
