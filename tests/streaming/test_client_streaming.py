"""Client streaming (``Upload``): many messages out, one answer, via ``call``/``call_async``."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator

import grpc
import pytest

from protoreq import GrpcClient, InvalidRequestError, RetryPolicy, UseClientDefault
from protos import chat_pb2
from protos.chat_protoreq import UploadGrpcRequest
from tests.streaming.chat_service import ChatProgress
from tests.streaming.conftest import Driver

pytestmark = pytest.mark.timeout(30)


def chat(count: int, start: int = 0) -> list[chat_pb2.ChatMessage]:
    return [chat_pb2.ChatMessage(seq=i, text=f"m{i}") for i in range(start, start + count)]


def test_normal_completion(drive: Driver, client: GrpcClient) -> None:
    response = drive.call(client, UploadGrpcRequest(messages=drive.messages(chat(5))))

    assert response.is_success()
    summary = response.message()
    assert isinstance(summary, chat_pb2.UploadSummary)
    assert (summary.count, summary.last_seq, summary.joined) == (5, 4, "m0,m1,m2,m3,m4")
    assert response.initial_metadata()["x-room"] == "upload"
    assert response.trailing_metadata()["x-received"] == "5"
    assert response.attempts() == 1
    assert response.trace_id()


def test_plain_list_works_in_both_modes(drive: Driver, client: GrpcClient) -> None:
    response = drive.call(client, UploadGrpcRequest(messages=chat(3)))

    assert response.message().count == 3


def test_empty_stream(drive: Driver, client: GrpcClient) -> None:
    response = drive.call(client, UploadGrpcRequest(messages=drive.messages([])))

    assert response.is_success()
    assert response.message().count == 0


def test_deadline_expires_mid_stream(drive: Driver, client: GrpcClient) -> None:
    produced = [0]
    request = UploadGrpcRequest(
        messages=drive.messages(chat(1000), delay=0.01, produced=produced), timeout=0.4
    )
    started = time.monotonic()
    response = drive.call(client, request)

    assert response.status_code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert 0 < produced[0] < 1000
    assert time.monotonic() - started < 3


def test_server_fails_mid_stream(drive: Driver, client: GrpcClient) -> None:
    request = UploadGrpcRequest(
        messages=drive.messages(chat(50), delay=0.001), metadata={"x-fail-after": "3"}
    )
    response = drive.call(client, request)

    assert response.status_code() is grpc.StatusCode.ABORTED
    assert response.details() == "failed after 3 messages"
    assert response.initial_metadata()["x-room"] == "upload"


def test_exception_in_outgoing_messages_cancels_the_call_and_is_raised(
    drive: Driver, client: GrpcClient, progress: ChatProgress
) -> None:
    class BrokenIterableError(Exception):
        pass

    def explode(sent: int) -> None:
        if sent == 3:
            raise BrokenIterableError("the caller's iterable broke")

    request = UploadGrpcRequest(messages=drive.messages(chat(100), after_each=explode))
    with pytest.raises(BrokenIterableError, match="iterable broke"):
        drive.call(client, request)
    time.sleep(0.1)
    assert progress.consumed <= 3  # the server saw a cancelled call, not a completed upload


def test_wrong_message_type_is_invalid_request(drive: Driver, client: GrpcClient) -> None:
    wrong = [chat_pb2.ChatMessage(seq=1), chat_pb2.SubscribeRequest(room="oops")]
    request = UploadGrpcRequest(messages=wrong)  # type: ignore[arg-type]
    with pytest.raises(
        InvalidRequestError, match=r"yielded chat\.SubscribeRequest.*chat\.ChatMessage"
    ):
        drive.call(client, request)


def test_sync_call_with_async_iterable_is_an_immediate_error(
    client: GrpcClient, progress: ChatProgress
) -> None:
    async def messages() -> AsyncIterator[chat_pb2.ChatMessage]:
        yield chat_pb2.ChatMessage(seq=1)

    with pytest.raises(InvalidRequestError, match=r"async iterable.*call_async\(\)"):
        client.call(UploadGrpcRequest(messages=messages()))
    assert progress.trace_ids == []  # nothing reached the server


def test_client_streaming_is_never_retried(drive: Driver, client: GrpcClient) -> None:
    class RetriedUpload(UploadGrpcRequest):
        def retry_policy(self) -> RetryPolicy | UseClientDefault | None:
            return RetryPolicy(max_attempts=3, retryable_status_codes=[grpc.StatusCode.ABORTED])

    request = RetriedUpload(messages=chat(5), metadata={"x-fail-after": "1"})
    response = drive.call(client, request)

    assert response.status_code() is grpc.StatusCode.ABORTED
    assert response.attempts() == 1


def test_sync_call_cancelled_by_closing_the_client(
    chat_target: str, progress: ChatProgress
) -> None:
    client = GrpcClient(chat_target)

    def slow() -> Iterator[chat_pb2.ChatMessage]:
        for message in chat(200):
            time.sleep(0.01)
            yield message

    closer = threading.Timer(0.2, client.close)
    closer.start()
    try:
        response = client.call(UploadGrpcRequest(messages=slow()))
    finally:
        closer.join()
    assert response.status_code() is grpc.StatusCode.CANCELLED
    assert progress.consumed < 200


async def test_cancelling_call_async_cancels_the_upload(
    chat_target: str, progress: ChatProgress
) -> None:
    pulled = 0

    async def slow() -> AsyncIterator[chat_pb2.ChatMessage]:
        nonlocal pulled
        for message in chat(200):
            await asyncio.sleep(0.01)
            pulled += 1
            yield message

    async with GrpcClient(chat_target) as client:
        task = asyncio.create_task(client.call_async(UploadGrpcRequest(messages=slow())))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        at_cancel = pulled
        await asyncio.sleep(0.1)
        assert pulled == at_cancel < 200  # the sending task stopped with the call


async def test_abort_racing_a_write_keeps_the_servers_status(chat_target: str) -> None:
    """grpc.aio would report INTERNAL for about one in five of these (grpc/grpc#36066)."""
    async with GrpcClient(chat_target) as client:
        for _ in range(50):
            request = UploadGrpcRequest(messages=chat(5), metadata={"x-fail-after": "1"})
            response = await client.call_async(request)
            assert response.status_code() is grpc.StatusCode.ABORTED, response
            assert response.details() == "failed after 1 messages"
