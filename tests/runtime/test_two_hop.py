"""Two hops: caller -> server A (with the context interceptor) -> server B.

A's handlers (see :mod:`tests.runtime.hops`) call B through a protoreq client
with no trace id or timeout code; B must still see A's caller's trace id and a
deadline no later than the caller's. Server A runs in three flavours: a sync
``grpc.server``, a ``grpc.aio.server`` with coroutine / async-generator
handlers, and a ``grpc.aio.server`` running plain sync handlers in its pool.
"""

from __future__ import annotations

import re
import time
from collections.abc import AsyncIterator, Iterator
from concurrent import futures
from dataclasses import dataclass
from typing import Any

import grpc
import grpc.aio
import pytest

from protoreq import GrpcClient, RequestContext
from protoreq.context import new_trace_id
from protoreq.server import AsyncContextServerInterceptor, ContextServerInterceptor
from protos import chat_pb2
from protos.chat_protoreq import (
    ConverseGrpcRequest,
    SendGrpcRequest,
    SubscribeGrpcRequest,
    UploadGrpcRequest,
)
from tests.runtime.hops import AsyncRelayChat, Downstream, Relay, SyncRelayChat
from tests.support.servers import serve

pytestmark = pytest.mark.timeout(60)

CALLER_TIMEOUT = 5.0
DEADLINE_SLACK = 0.25
"""Seconds: grpc rounds a deadline *up* when it encodes ``grpc-timeout`` (each hop), so B's
can sit a few milliseconds past the caller's; protoreq's 30 s default is far beyond this."""
TRACEPARENT = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
KINDS = ["unary-unary", "unary-stream", "stream-unary", "stream-stream"]
FLAVOURS = ["sync", "aio", "aio-sync-handlers"]


@dataclass
class ServerA:
    target: str
    relay: Relay


@pytest.fixture
def downstream() -> Iterator[tuple[Downstream, str]]:
    """Server B (a plain sync grpcio server) and its address."""
    recorder = Downstream()
    with serve(recorder.handler()) as address:
        yield recorder, address


@pytest.fixture(params=FLAVOURS)
async def server_a(
    request: pytest.FixtureRequest, downstream: tuple[Downstream, str]
) -> AsyncIterator[ServerA]:
    """Server A in the flavour of the parameter, relaying to B; closed after the test."""
    client = GrpcClient(downstream[1])
    relay = Relay(client)
    flavour: str = request.param
    try:
        if flavour == "sync":
            server = grpc.server(
                futures.ThreadPoolExecutor(max_workers=4),
                interceptors=[ContextServerInterceptor()],
            )
            server.add_generic_rpc_handlers((SyncRelayChat(relay).handler(),))
            port = server.add_insecure_port("127.0.0.1:0")
            server.start()
            try:
                yield ServerA(f"127.0.0.1:{port}", relay)
            finally:
                server.stop(grace=None).wait(5)
            return
        handlers = AsyncRelayChat(relay) if flavour == "aio" else SyncRelayChat(relay)
        aio_server = grpc.aio.server(
            futures.ThreadPoolExecutor(max_workers=4),
            interceptors=[AsyncContextServerInterceptor()],
        )
        aio_server.add_generic_rpc_handlers((handlers.handler(),))
        port = aio_server.add_insecure_port("127.0.0.1:0")
        await aio_server.start()
        try:
            yield ServerA(f"127.0.0.1:{port}", relay)
        finally:
            await aio_server.stop(grace=None)
    finally:
        await client.aclose()
        client.close()


async def call_a(client: GrpcClient, kind: str, timeout: float | None) -> bool:
    """One call of ``kind`` to server A (two messages where it streams); True when it succeeded."""
    two = [chat_pb2.ChatMessage(seq=1), chat_pb2.ChatMessage(seq=2)]
    if kind == "unary-unary":
        return (await client.call_async(SendGrpcRequest(seq=1, timeout=timeout))).is_success()
    if kind == "stream-unary":
        upload = UploadGrpcRequest(messages=two, timeout=timeout)
        return (await client.call_async(upload)).is_success()
    stream = client.stream_async(
        SubscribeGrpcRequest(room="r", count=2, timeout=timeout)
        if kind == "unary-stream"
        else ConverseGrpcRequest(messages=two, timeout=timeout)
    )
    received = [message async for message in stream]
    return stream.is_success() and len(received) == 2


async def raw_send(target: str, metadata: list[tuple[str, str]], timeout: float | None) -> Any:
    """A unary call to A from plain grpcio: no ``x-trace-id`` unless given, no deadline if None."""
    async with grpc.aio.insecure_channel(target) as channel:
        send = channel.unary_unary(
            "/chat.ChatService/Send",
            request_serializer=chat_pb2.ChatMessage.SerializeToString,
            response_deserializer=chat_pb2.ChatMessage.FromString,
        )
        return await send(chat_pb2.ChatMessage(seq=1), metadata=metadata, timeout=timeout)


@pytest.mark.parametrize("kind", KINDS)
async def test_b_gets_the_callers_trace_id_and_deadline(
    server_a: ServerA, downstream: tuple[Downstream, str], kind: str
) -> None:
    trace_id = new_trace_id()
    async with GrpcClient(server_a.target) as client:
        with RequestContext.scope(trace_id=trace_id):
            caller_deadline = time.monotonic() + CALLER_TIMEOUT
            assert await call_a(client, kind, CALLER_TIMEOUT)

    arrivals = downstream[0].arrivals
    assert len(arrivals) == 2  # both of A's calls, the later one from inside the iteration
    assert [arrival.trace_id for arrival in arrivals] == [trace_id, trace_id]
    for arrival in arrivals:
        assert arrival.deadline is not None
        assert arrival.deadline <= caller_deadline + DEADLINE_SLACK
    assert all(outcome.is_success() for outcome in server_a.relay.outcomes)


async def test_traceparent_is_the_fallback_trace_id(
    server_a: ServerA, downstream: tuple[Downstream, str]
) -> None:
    await raw_send(server_a.target, [("traceparent", TRACEPARENT)], CALLER_TIMEOUT)

    trace_id = TRACEPARENT.split("-")[1]
    assert [arrival.trace_id for arrival in downstream[0].arrivals] == [trace_id, trace_id]


async def test_x_trace_id_wins_over_traceparent(
    server_a: ServerA, downstream: tuple[Downstream, str]
) -> None:
    metadata = [("traceparent", TRACEPARENT), ("x-trace-id", "from-the-caller")]
    await raw_send(server_a.target, metadata, CALLER_TIMEOUT)

    assert [arrival.trace_id for arrival in downstream[0].arrivals] == ["from-the-caller"] * 2


@pytest.mark.parametrize(
    "traceparent",
    [
        "00-00000000000000000000000000000000-00f067aa0ba902b7-01",  # all-zero trace id
        "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",  # uppercase
        "garbage",
    ],
)
async def test_without_a_usable_trace_id_the_handler_gets_one_fresh_id(
    server_a: ServerA, downstream: tuple[Downstream, str], traceparent: str
) -> None:
    await raw_send(server_a.target, [("traceparent", traceparent)], CALLER_TIMEOUT)

    first, second = (arrival.trace_id for arrival in downstream[0].arrivals)
    assert first is not None
    assert re.fullmatch("[0-9a-f]{32}", first)
    assert first not in traceparent.lower()
    assert second == first  # one id for the whole handler, not one per call


async def test_a_caller_without_deadline_sets_none_downstream(
    server_a: ServerA, downstream: tuple[Downstream, str]
) -> None:
    """grpcio tells a sync handler ~9.2e18 s remain: that is "no deadline", not one to pass on.

    A's requests here have no timeout of their own, so only the scope decides.
    """
    server_a.relay.timeout = None
    await raw_send(server_a.target, [("x-trace-id", "no-deadline")], None)

    statuses = [outcome.status_code() for outcome in server_a.relay.outcomes]
    assert statuses == [grpc.StatusCode.OK] * 2
    assert [arrival.trace_id for arrival in downstream[0].arrivals] == ["no-deadline"] * 2
    assert [arrival.deadline for arrival in downstream[0].arrivals] == [None, None]


async def test_a_caller_without_deadline_leaves_b_the_client_default(
    server_a: ServerA, downstream: tuple[Downstream, str]
) -> None:
    before = time.monotonic()
    await raw_send(server_a.target, [], None)

    assert all(outcome.is_success() for outcome in server_a.relay.outcomes)
    for arrival in downstream[0].arrivals:
        assert arrival.deadline is not None  # protoreq's default timeout, 30 s
        assert before < arrival.deadline <= time.monotonic() + 30 + DEADLINE_SLACK
