"""Sending a request with the wrong method fails at once, clearly, before anything is sent."""

from __future__ import annotations

import pytest

from protoreq import (
    BaseGrpcRequest,
    ClientClosedError,
    GrpcClient,
    InvalidRequestError,
)
from protos import chat_pb2
from protos.chat_protoreq import (
    ConverseGrpcRequest,
    SendGrpcRequest,
    SubscribeGrpcRequest,
    UploadGrpcRequest,
)
from tests.streaming.chat_service import ChatProgress

STREAM_INSTEAD = r"its answers are a stream, send it with client\.stream\(\) or stream_async\(\)"
CALL_INSTEAD = r"single answer: send it with client\.call\(\) or call_async\(\)"


class UnaryLookingSubscribe(BaseGrpcRequest[chat_pb2.SubscribeRequest, chat_pb2.ChatMessage]):
    """Hand-written on the wrong base: the descriptor pool knows Subscribe streams its answers."""

    def service_name(self) -> str:
        return "chat.ChatService"

    def method_name(self) -> str:
        return "Subscribe"

    def message(self) -> chat_pb2.SubscribeRequest:
        return chat_pb2.SubscribeRequest(room="r", count=1)


def test_sync_wrong_pairings_raise_at_once(chat_target: str, progress: ChatProgress) -> None:
    with GrpcClient(chat_target) as client:
        with pytest.raises(InvalidRequestError, match=STREAM_INSTEAD):
            client.call(SubscribeGrpcRequest(room="r"))  # type: ignore[arg-type]
        with pytest.raises(InvalidRequestError, match=STREAM_INSTEAD):
            client.call(ConverseGrpcRequest(messages=[]))  # type: ignore[arg-type]
        with pytest.raises(InvalidRequestError, match=STREAM_INSTEAD):
            client.call(UnaryLookingSubscribe())
        with pytest.raises(InvalidRequestError, match=CALL_INSTEAD):
            client.stream(SendGrpcRequest(text="hi"))  # type: ignore[arg-type]
        with pytest.raises(InvalidRequestError, match=CALL_INSTEAD):
            client.stream(UploadGrpcRequest(messages=[]))  # type: ignore[arg-type]
        with pytest.raises(InvalidRequestError, match="expected a protoreq request"):
            client.stream("Subscribe")  # type: ignore[arg-type]
    assert progress.metadata == []


async def test_async_wrong_pairings_raise_at_once(chat_target: str, progress: ChatProgress) -> None:
    async with GrpcClient(chat_target) as client:
        with pytest.raises(InvalidRequestError, match=STREAM_INSTEAD):
            await client.call_async(SubscribeGrpcRequest(room="r"))  # type: ignore[arg-type]
        with pytest.raises(InvalidRequestError, match=CALL_INSTEAD):
            client.stream_async(SendGrpcRequest(text="hi"))  # type: ignore[arg-type]
        with pytest.raises(InvalidRequestError, match=CALL_INSTEAD):
            client.stream_async(UploadGrpcRequest(messages=[]))  # type: ignore[arg-type]
    assert progress.metadata == []


async def test_closed_client_refuses_streams(chat_target: str) -> None:
    client = GrpcClient(chat_target)
    await client.aclose()
    with pytest.raises(ClientClosedError):
        client.stream(SubscribeGrpcRequest(room="r"))
    with pytest.raises(ClientClosedError):
        client.stream_async(SubscribeGrpcRequest(room="r"))
    with pytest.raises(ClientClosedError):
        await client.call_async(UploadGrpcRequest(messages=[]))


def test_stream_async_needs_a_running_event_loop(chat_target: str) -> None:
    with GrpcClient(chat_target) as client, pytest.raises(RuntimeError, match="event loop"):
        client.stream_async(SubscribeGrpcRequest(room="r"))


def test_messages_that_are_not_iterable_are_invalid(chat_target: str) -> None:
    with GrpcClient(chat_target) as client, pytest.raises(InvalidRequestError, match="iterable"):
        client.call(UploadGrpcRequest(messages=42))  # type: ignore[arg-type]
