"""A slow consumer (or a slow server) holds the other side back: nothing piles up unbounded.

The stream never buffers messages itself and reads one at a time from
grpcio, so what can be in flight is bounded by HTTP/2 flow control windows
(a few MB), not by the length of the stream. With 10 KB messages, a 10,000
message stream is 100 MB; the producer may get a few hundred messages ahead,
never all of them.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from protoreq import GrpcClient
from protos import chat_pb2
from protos.chat_protoreq import ConverseGrpcRequest, SubscribeGrpcRequest
from tests.streaming.chat_service import ChatProgress
from tests.streaming.conftest import Driver

pytestmark = pytest.mark.timeout(30)

COUNT = 10_000
PAD = 10_000  # bytes of text per message
AHEAD_AT_MOST = 2_000  # 20 MB: far above HTTP/2 windows, far below the stream's 100 MB
READ = 20


def settle() -> None:
    """Give the producer time to run as far ahead as flow control lets it."""
    time.sleep(0.5)


def test_slow_consumer_holds_the_server_back(
    drive: Driver, client: GrpcClient, progress: ChatProgress
) -> None:
    request = SubscribeGrpcRequest(room="r", count=COUNT, metadata={"x-pad": str(PAD)})

    if drive.is_async:

        async def consume_slowly() -> int:
            stream = client.stream_async(request)
            for _ in range(READ):
                await anext(stream)
                await asyncio.sleep(0.005)
            await asyncio.sleep(0.5)
            received = stream.received_count()
            await stream.aclose()
            return received

        received = drive.run(consume_slowly())
    else:
        with client.stream(request) as stream:
            for _ in range(READ):
                next(stream)
                time.sleep(0.005)
            settle()
            received = stream.received_count()

    assert received == READ
    assert progress.produced - received < AHEAD_AT_MOST
    assert progress.produced < COUNT


def test_slow_server_holds_the_outgoing_messages_back(
    drive: Driver, client: GrpcClient, progress: ChatProgress
) -> None:
    pulled = 0
    text = "x" * PAD

    def count_pulled() -> chat_pb2.ChatMessage:
        nonlocal pulled
        pulled += 1
        return chat_pb2.ChatMessage(seq=pulled, text=text)

    def messages() -> Iterator[chat_pb2.ChatMessage]:
        for _ in range(COUNT):
            yield count_pulled()

    async def async_messages() -> AsyncIterator[chat_pb2.ChatMessage]:
        for _ in range(COUNT):
            yield count_pulled()

    metadata = {"x-delay": "0.01"}  # the server reads 100 messages a second at most
    if drive.is_async:

        async def converse() -> None:
            request = ConverseGrpcRequest(messages=async_messages(), metadata=metadata)
            async with client.stream_async(request) as stream:
                await anext(stream)
                await asyncio.sleep(0.5)

        drive.run(converse())
    else:
        with client.stream(ConverseGrpcRequest(messages=messages(), metadata=metadata)) as stream:
            next(stream)
            settle()

    assert 0 < progress.consumed < 200
    assert pulled - progress.consumed < AHEAD_AT_MOST
    assert pulled < COUNT
