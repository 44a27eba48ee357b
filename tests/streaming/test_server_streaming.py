"""Server streaming (``Subscribe``): one request, a stream of answers, sync and async."""

from __future__ import annotations

import asyncio
import threading
import time

import grpc
import pytest

from protoreq import GrpcClient, GrpcStatusError, StreamNotFinishedError
from protos import chat_pb2
from protos.chat_protoreq import SubscribeGrpcRequest
from tests.streaming.chat_service import ChatProgress
from tests.streaming.conftest import AnyStream, Driver

pytestmark = pytest.mark.timeout(30)


def test_normal_completion(drive: Driver, client: GrpcClient) -> None:
    done = drive.stream(client, SubscribeGrpcRequest(room="lobby", count=5))

    assert [(m.seq, m.text) for m in done.messages] == [(i, f"lobby {i}") for i in range(5)]
    assert all(isinstance(m, chat_pb2.ChatMessage) for m in done.messages)
    stream = done.stream
    assert stream.is_finished()
    assert stream.is_success()
    assert stream.status_code() is grpc.StatusCode.OK
    assert stream.details() == ""
    assert stream.initial_metadata()["x-room"] == "lobby"
    assert stream.trailing_metadata()["x-sent"] == "5"
    assert stream.metadata()["x-room"] == "lobby"
    assert stream.metadata()["x-sent"] == "5"
    assert (stream.received_count(), stream.sent_count()) == (5, 1)
    assert stream.raise_for_status() is stream
    assert stream.method_path() == "/chat.ChatService/Subscribe"
    assert 0 < stream.elapsed() < 5


def test_empty_stream(drive: Driver, client: GrpcClient) -> None:
    done = drive.stream(client, SubscribeGrpcRequest(room="quiet", count=0))

    assert done.messages == []
    assert done.stream.is_success()
    assert done.stream.received_count() == 0
    assert done.stream.trailing_metadata()["x-sent"] == "0"


def test_client_cancel_mid_stream(
    drive: Driver, client: GrpcClient, progress: ChatProgress
) -> None:
    def cancel_at_three(stream: AnyStream, message: chat_pb2.ChatMessage) -> None:
        if message.seq == 2:
            assert stream.cancel() is True
            assert stream.cancel() is False  # already ended

    request = SubscribeGrpcRequest(room="r", count=1000, metadata={"x-delay": "0.005"})
    done = drive.stream(client, request, on_message=cancel_at_three)

    assert [m.seq for m in done.messages] == [0, 1, 2]
    assert done.stream.status_code() is grpc.StatusCode.CANCELLED
    assert "cancelled" in done.stream.details()
    assert not done.stream.is_success()
    time.sleep(0.2)
    assert progress.produced < 100  # the server saw the cancellation and stopped


def test_deadline_expires_mid_stream(drive: Driver, client: GrpcClient) -> None:
    request = SubscribeGrpcRequest(
        room="slow", count=1000, metadata={"x-delay": "0.02"}, timeout=0.5
    )
    started = time.monotonic()
    done = drive.stream(client, request)

    assert done.stream.status_code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert 0 < len(done.messages) < 1000  # what arrived before the deadline is kept
    assert [m.seq for m in done.messages] == list(range(len(done.messages)))
    assert time.monotonic() - started < 3


def test_server_fails_mid_stream(drive: Driver, client: GrpcClient) -> None:
    request = SubscribeGrpcRequest(
        room="r", count=10, metadata={"x-fail-after": "3", "x-fail-code": "RESOURCE_EXHAUSTED"}
    )
    done = drive.stream(client, request)

    assert [m.seq for m in done.messages] == [0, 1, 2]  # kept by the consumer
    stream = done.stream
    assert stream.status_code() is grpc.StatusCode.RESOURCE_EXHAUSTED
    assert stream.details() == "failed after 3 messages"
    assert stream.initial_metadata()["x-room"] == "r"
    assert stream.received_count() == 3
    with pytest.raises(GrpcStatusError, match="RESOURCE_EXHAUSTED"):
        stream.raise_for_status()


def test_status_before_the_end_is_a_clear_error(chat_target: str) -> None:
    with GrpcClient(chat_target) as client:
        stream = client.stream(SubscribeGrpcRequest(room="r", count=3))
        first = next(stream)
        assert first.seq == 0
        assert not stream.is_finished()
        with pytest.raises(StreamNotFinishedError, match="has not ended yet"):
            stream.is_success()
        with pytest.raises(StreamNotFinishedError):
            stream.metadata()
        assert stream.trace_id()  # known from the start
        assert [m.seq for m in stream] == [1, 2]
        assert stream.is_success()
        assert list(stream) == []  # iterating an ended stream yields nothing more


def test_leaving_with_block_cancels_an_unfinished_stream(
    chat_target: str, progress: ChatProgress
) -> None:
    with GrpcClient(chat_target) as client:
        with client.stream(SubscribeGrpcRequest(room="r", count=1000)) as stream:
            next(stream)
        assert stream.status_code() is grpc.StatusCode.CANCELLED


async def test_leaving_async_with_block_cancels_an_unfinished_stream(chat_target: str) -> None:
    async with GrpcClient(chat_target) as client:
        async with client.stream_async(SubscribeGrpcRequest(room="r", count=1000)) as stream:
            await anext(stream)
        assert stream.status_code() is grpc.StatusCode.CANCELLED


async def test_cancelling_the_consuming_task_cancels_the_call(
    chat_target: str, progress: ChatProgress
) -> None:
    async with GrpcClient(chat_target) as client:
        stream = client.stream_async(
            SubscribeGrpcRequest(room="r", count=1000, metadata={"x-delay": "0.01"})
        )

        async def consume() -> None:
            async for _ in stream:
                pass

        task = asyncio.create_task(consume())
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        assert stream.status_code() is grpc.StatusCode.CANCELLED
        assert "task" in stream.details()
        assert 0 < stream.received_count() < 1000


def test_cancel_from_another_thread_wakes_the_waiting_consumer(chat_target: str) -> None:
    with GrpcClient(chat_target) as client:
        request = SubscribeGrpcRequest(room="r", count=3, metadata={"x-delay": "1"})
        stream = client.stream(request)
        canceller = threading.Timer(0.1, stream.cancel)
        canceller.start()
        started = time.monotonic()
        try:
            assert list(stream) == []  # blocked waiting for the first message until cancelled
        finally:
            canceller.join()
    assert stream.status_code() is grpc.StatusCode.CANCELLED
    assert time.monotonic() - started < 0.9


async def test_cancel_while_awaiting_the_next_message(chat_target: str) -> None:
    async with GrpcClient(chat_target) as client:
        request = SubscribeGrpcRequest(room="r", count=3, metadata={"x-delay": "1"})
        stream = client.stream_async(request)
        asyncio.get_running_loop().call_later(0.1, stream.cancel)
        started = time.monotonic()
        assert [m async for m in stream] == []
    assert stream.status_code() is grpc.StatusCode.CANCELLED
    assert time.monotonic() - started < 0.9
