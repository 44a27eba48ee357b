"""``GrpcStream.from_messages`` / ``AsyncGrpcStream.from_messages``: streams for test fakes.

They run through the same iteration and end-of-stream code as real streams,
so code under test cannot tell them apart.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest

from protoreq import AsyncGrpcStream, GrpcStatusError, GrpcStream, Metadata, StreamNotFinishedError
from protos import chat_pb2


def chat(count: int) -> list[chat_pb2.ChatMessage]:
    return [chat_pb2.ChatMessage(seq=i) for i in range(count)]


def test_successful_script() -> None:
    stream = GrpcStream.from_messages(
        chat(3),
        initial_metadata={"x-room": "fake"},
        trailing_metadata=[("x-sent", "3")],
        method_path="/chat.ChatService/Subscribe",
        trace_id="fake-trace",
    )
    with pytest.raises(StreamNotFinishedError):
        stream.status_code()

    assert [m.seq for m in stream] == [0, 1, 2]
    assert stream.is_success()
    assert stream.metadata() == Metadata([("x-room", "fake"), ("x-sent", "3")])
    assert (stream.received_count(), stream.sent_count()) == (3, 0)
    assert stream.trace_id() == "fake-trace"
    assert stream.method_path() == "/chat.ChatService/Subscribe"


def test_failing_script_ends_iteration_quietly() -> None:
    stream = GrpcStream.from_messages(
        chat(2), code=grpc.StatusCode.UNAVAILABLE, details="server went away"
    )

    assert len(list(stream)) == 2
    assert stream.status_code() is grpc.StatusCode.UNAVAILABLE
    assert stream.details() == "server went away"
    with pytest.raises(GrpcStatusError, match="UNAVAILABLE: server went away"):
        stream.raise_for_status()


def test_script_is_consumed_lazily_and_can_be_cancelled() -> None:
    pulled = 0

    def endless() -> Iterator[chat_pb2.ChatMessage]:
        nonlocal pulled
        while pulled < 1000:
            pulled += 1
            yield chat_pb2.ChatMessage(seq=pulled)

    with GrpcStream.from_messages(endless()) as stream:
        assert next(stream).seq == 1
        assert next(stream).seq == 2
    assert pulled == 2
    assert stream.status_code() is grpc.StatusCode.CANCELLED
    assert list(stream) == []


def test_scripted_streams_are_not_logged(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="protoreq"):
        list(GrpcStream.from_messages(chat(2)))
    assert caplog.records == []


async def test_async_script_from_a_list() -> None:
    stream = AsyncGrpcStream.from_messages(chat(2), code=grpc.StatusCode.ABORTED, details="x")

    assert [m.seq async for m in stream] == [0, 1]
    assert stream.status_code() is grpc.StatusCode.ABORTED


async def test_async_script_from_an_async_generator() -> None:
    async def messages() -> AsyncIterator[chat_pb2.ChatMessage]:
        for message in chat(3):
            yield message

    async with AsyncGrpcStream.from_messages(messages()) as stream:
        assert [m.seq async for m in stream] == [0, 1, 2]
    assert stream.is_success()
    assert stream.received_count() == 3


async def test_async_script_cancelled() -> None:
    stream = AsyncGrpcStream.from_messages(chat(5))
    assert (await anext(stream)).seq == 0
    assert stream.cancel()
    assert [m async for m in stream] == []
    assert stream.status_code() is grpc.StatusCode.CANCELLED
