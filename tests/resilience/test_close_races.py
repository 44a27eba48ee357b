"""``close()`` racing calls of every kind: a ClientClosedError or an ended call, nothing raw.

A call that starts after ``close()`` raises :class:`ClientClosedError`; an RPC
that ``close()`` cuts ends as a CANCELLED response or stream. grpcio's own
``ValueError: Cannot invoke RPC: Channel closed!`` or ``ExecuteBatchError``
must never reach the caller. Each race runs a bounded number of rounds, with
the close landing at a different moment of the calls each round.
"""

from __future__ import annotations

import asyncio
import os
import random
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest

from protoreq import ClientClosedError, GrpcClient
from protos import chat_pb2
from protos.chat_protoreq import (
    ConverseGrpcRequest,
    SendGrpcRequest,
    SubscribeGrpcRequest,
    UploadGrpcRequest,
)

pytestmark = pytest.mark.timeout(90)

ROUNDS = 25
CALLERS = 4  # at once, so that some are always between their checks and grpcio
ENDED = {grpc.StatusCode.OK, grpc.StatusCode.CANCELLED}
"""How a call that close() did not stop from starting may end."""


@pytest.fixture
def chat_target() -> Iterator[str]:
    from tests.streaming.chat_service import ChatService  # noqa: PLC0415  # needs protos
    from tests.support.servers import serve  # noqa: PLC0415

    with serve(ChatService().handler()) as address:
        yield address


def three() -> list[chat_pb2.ChatMessage]:
    return [chat_pb2.ChatMessage(seq=i, text=f"m{i}") for i in range(3)]


def sync_unary(client: GrpcClient) -> grpc.StatusCode:
    return client.call(SendGrpcRequest(text="hi")).status_code()


def sync_client_streaming(client: GrpcClient) -> grpc.StatusCode:
    return client.call(UploadGrpcRequest(messages=iter(three()))).status_code()


def sync_server_streaming(client: GrpcClient) -> grpc.StatusCode:
    stream = client.stream(SubscribeGrpcRequest(room="r", count=3))
    for _ in stream:
        pass
    return stream.status_code()


def sync_bidi(client: GrpcClient) -> grpc.StatusCode:
    stream = client.stream(ConverseGrpcRequest(messages=iter(three())))
    for _ in stream:
        pass
    return stream.status_code()


SyncCall = Callable[[GrpcClient], grpc.StatusCode]


@pytest.mark.parametrize(
    "start", [sync_unary, sync_client_streaming, sync_server_streaming, sync_bidi]
)
def test_close_racing_sync_calls(chat_target: str, start: SyncCall) -> None:
    chance = random.Random(11)
    escaped: list[str] = []
    seen: Counter[object] = Counter()

    def keep_calling(client: GrpcClient) -> None:
        until = time.monotonic() + 10
        while time.monotonic() < until:
            try:
                seen[start(client)] += 1
            except ClientClosedError:
                seen["ClientClosedError"] += 1
                return
            except Exception as error:  # what the test is looking for
                escaped.append(repr(error))
                return

    for _ in range(ROUNDS):
        client = GrpcClient(chat_target, timeout=10)
        callers = [threading.Thread(target=keep_calling, args=(client,)) for _ in range(CALLERS)]
        for caller in callers:
            caller.start()
        time.sleep(chance.uniform(0.0, 0.02))
        client.close()
        for caller in callers:
            caller.join(15)
            assert not caller.is_alive()

    assert sorted(set(escaped)) == []
    assert seen["ClientClosedError"] == ROUNDS * CALLERS
    assert set(seen) - {"ClientClosedError"} <= ENDED, seen


async def async_unary(client: GrpcClient) -> grpc.StatusCode:
    return (await client.call_async(SendGrpcRequest(text="hi"))).status_code()


async def async_client_streaming(client: GrpcClient) -> grpc.StatusCode:
    return (await client.call_async(UploadGrpcRequest(messages=three()))).status_code()


async def async_server_streaming(client: GrpcClient) -> grpc.StatusCode:
    stream = client.stream_async(SubscribeGrpcRequest(room="r", count=3))
    async for _ in stream:
        pass
    return stream.status_code()


async def async_bidi(client: GrpcClient) -> grpc.StatusCode:
    stream = client.stream_async(ConverseGrpcRequest(messages=three()))
    async for _ in stream:
        pass
    return stream.status_code()


@pytest.mark.parametrize(
    "start", [async_unary, async_client_streaming, async_server_streaming, async_bidi]
)
@pytest.mark.parametrize("closer", ["aclose", "close-from-another-thread"])
def test_close_racing_async_calls(chat_target: str, start: Any, closer: str) -> None:
    chance = random.Random(12)
    escaped: list[str] = []
    seen: Counter[object] = Counter()

    async def keep_calling(client: GrpcClient) -> None:
        until = time.monotonic() + 10
        while time.monotonic() < until:
            try:
                seen[await start(client)] += 1
            except ClientClosedError:
                seen["ClientClosedError"] += 1
                return
            except Exception as error:  # what the test is looking for
                escaped.append(repr(error))
                return

    async def one_round() -> None:
        client = GrpcClient(chat_target, timeout=10)
        callers = [asyncio.create_task(keep_calling(client)) for _ in range(CALLERS)]
        await asyncio.sleep(chance.uniform(0.0, 0.02))
        if closer == "aclose":
            await client.aclose()
        else:
            await asyncio.to_thread(client.close)
        await asyncio.wait_for(asyncio.gather(*callers), 15)

    for _ in range(ROUNDS):
        asyncio.run(one_round())

    assert sorted(set(escaped)) == []
    assert seen["ClientClosedError"] == ROUNDS * CALLERS
    assert set(seen) - {"ClientClosedError"} <= ENDED, seen


class UploadClosingFirst(UploadGrpcRequest):
    """Closes its client while the call gets its messages: after the check, before grpcio."""

    client: GrpcClient

    def messages(self) -> Any:
        self.client.close()
        return super().messages()


class ConverseClosingFirst(ConverseGrpcRequest):
    client: GrpcClient

    def messages(self) -> Any:
        self.client.close()
        return super().messages()


def test_sync_client_streaming_call_whose_channel_closed_before_grpcio_raises_closed(
    chat_target: str,
) -> None:
    """Before: grpcio's ``ValueError: Cannot invoke RPC: Channel closed!`` escaped."""
    client = GrpcClient(chat_target)
    assert client.call(SendGrpcRequest(text="opens the channel")).is_success()
    request = UploadClosingFirst(messages=three())
    request.client = client
    with pytest.raises(ClientClosedError, match="closed before the call started"):
        client.call(request)


def test_sync_bidi_stream_whose_channel_closed_before_grpcio_raises_closed(
    chat_target: str,
) -> None:
    client = GrpcClient(chat_target)
    assert client.call(SendGrpcRequest(text="opens the channel")).is_success()
    request = ConverseClosingFirst(messages=three())
    request.client = client
    with pytest.raises(ClientClosedError, match="closed before the call started"):
        client.stream(request)


def open_fds() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_close_does_not_wait_for_a_loop_that_is_stopping(chat_target: str) -> None:
    """Before: close() waited 5 s for a close the stopped loop never ran, and leaked it."""
    fds_before = open_fds()
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, daemon=True)
    thread.start()
    client = GrpcClient(chat_target)
    try:
        sent = asyncio.run_coroutine_threadsafe(client.call_async(SendGrpcRequest(text="a")), loop)
        assert sent.result(10).is_success()
        loop.call_soon_threadsafe(time.sleep, 0.3)  # still running when close() looks...
        loop.call_soon_threadsafe(loop.stop)  # ...but stopping before it runs what close() asks
        started = time.monotonic()
        client.close()
        took = time.monotonic() - started
        thread.join(10)
    finally:
        thread.join(10)
        loop.run_until_complete(asyncio.sleep(0.05))  # what was left scheduled runs harmlessly
        loop.close()

    assert took < 2.5  # the poll interval (20 ms) plus a busy machine; before: 5 s
    until = time.monotonic() + 3
    while open_fds() > fds_before and time.monotonic() < until:  # the server sees it go
        time.sleep(0.05)
    assert open_fds() <= fds_before  # the channel was closed, its connection with it


@pytest.mark.parametrize("mode", ["sync", "async"])
def test_close_during_a_backoff_ends_the_call_with_its_last_outcome(mode: str) -> None:
    from protoreq import RetryPolicy  # noqa: PLC0415
    from tests.resilience.faults import Fault, FaultyUserService, serve_on  # noqa: PLC0415
    from tests.resilience.requests import GetUser  # noqa: PLC0415

    patient = RetryPolicy(max_attempts=5, initial_backoff=2.0, max_backoff=2.0)
    service = FaultyUserService(always=Fault())
    with serve_on(service.handlers()) as port:
        client = GrpcClient(f"127.0.0.1:{port}", retry=patient, retry_throttle=None)
        closer = threading.Timer(0.3, client.close)
        closer.start()
        started = time.monotonic()
        if mode == "sync":
            response = client.call(GetUser())
        else:
            response = asyncio.run(client.call_async(GetUser()))
        took = time.monotonic() - started
        closer.join()

    # An answer, not an error: the last attempt's UNAVAILABLE, or CANCELLED when the jittered
    # backoff was short enough that the close cut the next attempt itself.
    assert response.status_code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.CANCELLED)
    assert response.attempts() < patient.max_attempts
    cut = 1 if response.status_code() is grpc.StatusCode.CANCELLED else 0
    assert response.attempts() - cut <= service.calls <= response.attempts()
    assert took < 5
