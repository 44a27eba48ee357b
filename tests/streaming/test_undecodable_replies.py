"""Replies that do not parse as the response type: INTERNAL for every kind, sync and async.

Sync grpcio answers such a reply with INTERNAL; grpc.aio hands out ``None``
as the message and reports OK. A real server whose serializer writes bytes
that are no ``ChatMessage`` / ``UploadSummary`` stands in for a peer built
from a different .proto.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import grpc
import pytest

from protoreq import GrpcClient
from protoreq.status import UNDECODABLE_REPLY
from protos import chat_pb2
from protos.chat_protoreq import (
    ConverseGrpcRequest,
    SendGrpcRequest,
    SubscribeGrpcRequest,
    UploadGrpcRequest,
)
from tests.streaming.chat_service import SERVICE
from tests.streaming.conftest import Driver
from tests.support.servers import serve

NOT_A_MESSAGE = b"\x0a\xff\xff"
"""Field 1, length-delimited, with a length running far past the end: no message parses it."""


def _garbage(_: object) -> bytes:
    return NOT_A_MESSAGE


def _two(request: Any, context: grpc.ServicerContext) -> Iterator[chat_pb2.ChatMessage]:
    yield chat_pb2.ChatMessage(seq=1)
    yield chat_pb2.ChatMessage(seq=2)


def _drain(requests: Iterable[Any], context: grpc.ServicerContext) -> chat_pb2.UploadSummary:
    return chat_pb2.UploadSummary(count=sum(1 for _ in requests))


def _echo_all(
    requests: Iterable[Any], context: grpc.ServicerContext
) -> Iterator[chat_pb2.ChatMessage]:
    yield from requests


@pytest.fixture
def garbage_target() -> Iterator[str]:
    parse = chat_pb2.ChatMessage.FromString
    handler = grpc.method_handlers_generic_handler(
        SERVICE,
        {
            "Send": grpc.unary_unary_rpc_method_handler(
                lambda request, context: request,
                request_deserializer=parse,
                response_serializer=_garbage,
            ),
            "Subscribe": grpc.unary_stream_rpc_method_handler(
                _two,
                request_deserializer=chat_pb2.SubscribeRequest.FromString,
                response_serializer=_garbage,
            ),
            "Upload": grpc.stream_unary_rpc_method_handler(
                _drain, request_deserializer=parse, response_serializer=_garbage
            ),
            "Converse": grpc.stream_stream_rpc_method_handler(
                _echo_all, request_deserializer=parse, response_serializer=_garbage
            ),
        },
    )
    with serve(handler) as address:
        yield address


@pytest.fixture
def garbage_client(garbage_target: str, drive: Driver) -> Iterator[GrpcClient]:
    client = GrpcClient(garbage_target, timeout=20)
    try:
        yield client
    finally:
        if drive.is_async:
            drive.run(client.aclose())
        else:
            client.close()


def test_unary_reply_that_does_not_parse(garbage_client: GrpcClient, drive: Driver) -> None:
    response = drive.call(garbage_client, SendGrpcRequest(seq=1))

    assert not response.is_success()
    assert response.status_code() is grpc.StatusCode.INTERNAL
    assert response.details() == UNDECODABLE_REPLY


def test_client_streaming_reply_that_does_not_parse(
    garbage_client: GrpcClient, drive: Driver
) -> None:
    messages = drive.messages([chat_pb2.ChatMessage(seq=1), chat_pb2.ChatMessage(seq=2)])
    response = drive.call(garbage_client, UploadGrpcRequest(messages=messages))

    assert response.status_code() is grpc.StatusCode.INTERNAL
    assert response.details() == UNDECODABLE_REPLY


def test_server_stream_message_that_does_not_parse(
    garbage_client: GrpcClient, drive: Driver
) -> None:
    finished = drive.stream(garbage_client, SubscribeGrpcRequest(room="r", count=2))

    assert finished.messages == []
    assert finished.stream.status_code() is grpc.StatusCode.INTERNAL
    assert finished.stream.details() == UNDECODABLE_REPLY
    assert finished.stream.received_count() == 0


def test_bidi_message_that_does_not_parse(garbage_client: GrpcClient, drive: Driver) -> None:
    messages = drive.messages([chat_pb2.ChatMessage(seq=1)])
    finished = drive.stream(garbage_client, ConverseGrpcRequest(messages=messages))

    assert finished.messages == []
    assert finished.stream.status_code() is grpc.StatusCode.INTERNAL
    assert finished.stream.details() == UNDECODABLE_REPLY
