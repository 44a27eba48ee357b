"""Bidirectional streaming (``Converse``): both sides send while the other does, sync and async."""

from __future__ import annotations

import asyncio
import queue
import time
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest

from protoreq import GrpcClient, InvalidRequestError
from protos import chat_pb2
from protos.chat_protoreq import ConverseGrpcRequest
from tests.streaming.chat_service import ChatProgress
from tests.streaming.conftest import AnyStream, Driver

pytestmark = pytest.mark.timeout(30)


def chat(count: int) -> list[chat_pb2.ChatMessage]:
    return [chat_pb2.ChatMessage(seq=i, text=f"m{i}") for i in range(count)]


def test_normal_completion(drive: Driver, client: GrpcClient) -> None:
    done = drive.stream(client, ConverseGrpcRequest(messages=drive.messages(chat(5))))

    assert [(m.seq, m.text) for m in done.messages] == [(i + 1, f"re: m{i}") for i in range(5)]
    stream = done.stream
    assert stream.is_success()
    assert stream.initial_metadata()["x-room"] == "converse"
    assert stream.trailing_metadata()["x-sent"] == "5"
    assert (stream.sent_count(), stream.received_count()) == (5, 5)


def test_plain_list_works_in_both_modes(drive: Driver, client: GrpcClient) -> None:
    done = drive.stream(client, ConverseGrpcRequest(messages=chat(3)))

    assert [m.seq for m in done.messages] == [1, 2, 3]


def test_empty_stream(drive: Driver, client: GrpcClient) -> None:
    done = drive.stream(client, ConverseGrpcRequest(messages=drive.messages([])))

    assert done.messages == []
    assert done.stream.is_success()
    assert (done.stream.sent_count(), done.stream.received_count()) == (0, 0)


def test_client_cancel_mid_stream(
    drive: Driver, client: GrpcClient, progress: ChatProgress
) -> None:
    produced = [0]

    def cancel_at_three(stream: AnyStream, message: chat_pb2.ChatMessage) -> None:
        if message.seq == 3:
            stream.cancel()

    request = ConverseGrpcRequest(
        messages=drive.messages(chat(500), delay=0.005, produced=produced)
    )
    done = drive.stream(client, request, on_message=cancel_at_three)

    assert [m.seq for m in done.messages] == [1, 2, 3]
    assert done.stream.status_code() is grpc.StatusCode.CANCELLED
    at_cancel = produced[0]
    time.sleep(0.2)
    assert produced[0] <= at_cancel + 1  # sending stopped with the call
    assert progress.consumed < 100


def test_deadline_expires_mid_stream(drive: Driver, client: GrpcClient) -> None:
    request = ConverseGrpcRequest(messages=drive.messages(chat(1000), delay=0.01), timeout=0.4)
    started = time.monotonic()
    done = drive.stream(client, request)

    assert done.stream.status_code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert 0 < len(done.messages) < 1000
    assert time.monotonic() - started < 3


def test_server_fails_mid_stream(drive: Driver, client: GrpcClient) -> None:
    request = ConverseGrpcRequest(
        messages=drive.messages(chat(50), delay=0.002), metadata={"x-fail-after": "3"}
    )
    done = drive.stream(client, request)

    assert [m.seq for m in done.messages] == [1, 2, 3]  # kept by the consumer
    assert done.stream.status_code() is grpc.StatusCode.ABORTED
    assert done.stream.details() == "failed after 3 messages"


def test_exception_in_outgoing_messages_is_raised_from_iteration(
    drive: Driver, client: GrpcClient
) -> None:
    class BrokenIterableError(Exception):
        pass

    def explode(sent: int) -> None:
        if sent == 3:
            raise BrokenIterableError("the caller's iterable broke")

    request = ConverseGrpcRequest(messages=drive.messages(chat(100), after_each=explode))
    with pytest.raises(BrokenIterableError):
        drive.stream(client, request)


def test_wrong_message_type_is_invalid_request(drive: Driver, client: GrpcClient) -> None:
    wrong = [chat_pb2.SubscribeRequest(room="oops")]
    with pytest.raises(InvalidRequestError, match=r"yielded chat\.SubscribeRequest"):
        drive.stream(client, ConverseGrpcRequest(messages=wrong))  # type: ignore[arg-type]


def test_sync_stream_with_async_iterable_is_an_immediate_error(
    client: GrpcClient, progress: ChatProgress
) -> None:
    async def messages() -> AsyncIterator[chat_pb2.ChatMessage]:
        yield chat_pb2.ChatMessage(seq=1)

    with pytest.raises(InvalidRequestError, match=r"stream_async\(\)"):
        client.stream(ConverseGrpcRequest(messages=messages()))
    assert progress.trace_ids == []


def test_ping_pong_sync(chat_target: str) -> None:
    """Each message sent depends on the previous answer; the sending thread waits on a queue."""
    outbox: queue.Queue[chat_pb2.ChatMessage | None] = queue.Queue()

    def messages() -> Iterator[chat_pb2.ChatMessage]:
        while (message := outbox.get(timeout=10)) is not None:
            yield message

    outbox.put(chat_pb2.ChatMessage(seq=0, text="ping"))
    answers = []
    with (
        GrpcClient(chat_target) as client,
        client.stream(ConverseGrpcRequest(messages=messages())) as stream,
    ):
        for reply in stream:
            answers.append(reply.seq)
            next_message = chat_pb2.ChatMessage(seq=reply.seq + 1, text="ping")
            outbox.put(None if reply.seq >= 20 else next_message)

    assert answers == list(range(1, 22, 2))
    assert stream.is_success()
    assert (stream.sent_count(), stream.received_count()) == (11, 11)


async def test_ping_pong_async(chat_target: str) -> None:
    """The same conversation with an async generator fed by the consumer."""
    outbox: asyncio.Queue[chat_pb2.ChatMessage | None] = asyncio.Queue()

    async def messages() -> AsyncIterator[chat_pb2.ChatMessage]:
        while (message := await asyncio.wait_for(outbox.get(), 10)) is not None:
            yield message

    await outbox.put(chat_pb2.ChatMessage(seq=0, text="ping"))
    answers = []
    async with (
        GrpcClient(chat_target) as client,
        client.stream_async(ConverseGrpcRequest(messages=messages())) as stream,
    ):
        async for reply in stream:
            answers.append(reply.seq)
            next_message = chat_pb2.ChatMessage(seq=reply.seq + 1, text="ping")
            await outbox.put(None if reply.seq >= 20 else next_message)

    assert answers == list(range(1, 22, 2))
    assert stream.is_success()
    assert (stream.sent_count(), stream.received_count()) == (11, 11)


async def test_async_stream_closes_a_waiting_sender(chat_target: str) -> None:
    """Leaving ``async with`` early stops the task that waits on the caller's async iterable."""
    closed = asyncio.Event()

    async def messages() -> AsyncIterator[chat_pb2.ChatMessage]:
        try:
            yield chat_pb2.ChatMessage(seq=0)
            await asyncio.sleep(30)  # never gets to send more
            yield chat_pb2.ChatMessage(seq=1)
        finally:
            closed.set()

    async with GrpcClient(chat_target) as client:
        async with client.stream_async(ConverseGrpcRequest(messages=messages())) as stream:
            first = await anext(stream)
        assert first.seq == 1
        assert closed.is_set()
        assert stream.status_code() is grpc.StatusCode.CANCELLED


async def test_abort_racing_a_write_keeps_the_servers_status(chat_target: str) -> None:
    """grpc.aio would sometimes report INTERNAL here (grpc/grpc#36066)."""
    async with GrpcClient(chat_target) as client:
        for _ in range(50):
            request = ConverseGrpcRequest(messages=chat(20), metadata={"x-fail-after": "0"})
            async with client.stream_async(request) as stream:
                assert [m async for m in stream] == []
            assert stream.status_code() is grpc.StatusCode.ABORTED, stream
            assert stream.details() == "failed after 0 messages"
