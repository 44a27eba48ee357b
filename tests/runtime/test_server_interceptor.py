"""The server half's parts: traceparent parsing, time_remaining as a timeout, the handler cache.

The two-hop behaviour is in :mod:`tests.runtime.test_two_hop`; here are the
pieces it rests on, and what a handler sees of its scope on a real server.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import threading
import time
from collections.abc import AsyncIterator, Iterator
from concurrent import futures
from typing import Any

import grpc
import grpc.aio
import pytest

from protoreq import RequestContext
from protoreq.context import timeout_of
from protoreq.server import AsyncContextServerInterceptor, ContextServerInterceptor
from protoreq.traceparent import trace_id_of_traceparent
from protos import chat_pb2
from tests.runtime.hops import chat_handler
from tests.support.servers import serve

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"


@pytest.mark.parametrize(
    ("header", "trace_id"),
    [
        (f"00-{TRACE_ID}-00f067aa0ba902b7-01", TRACE_ID),
        (f"00-{TRACE_ID}-00f067aa0ba902b7-00", TRACE_ID),  # not sampled: still the trace
        (f" 00-{TRACE_ID}-00f067aa0ba902b7-01 ", TRACE_ID),  # optional whitespace
        (f"cc-{TRACE_ID}-00f067aa0ba902b7-01-what-the-future-adds", TRACE_ID),
        (f"cc-{TRACE_ID}-00f067aa0ba902b7-01", TRACE_ID),
        (f"00-{TRACE_ID}-00f067aa0ba902b7-01-extra", None),  # version 00 has four fields
        (f"ff-{TRACE_ID}-00f067aa0ba902b7-01", None),  # version ff is invalid
        (f"00-{'0' * 32}-00f067aa0ba902b7-01", None),  # all-zero trace id
        (f"00-{TRACE_ID}-{'0' * 16}-01", None),  # all-zero parent id
        (f"00-{TRACE_ID.upper()}-00f067aa0ba902b7-01", None),  # lowercase hex only
        (f"00-{TRACE_ID[:-1]}-00f067aa0ba902b7-01", None),  # short trace id
        (f"00-{TRACE_ID}-00f067aa0ba902b-01", None),  # short parent id
        (f"00-{TRACE_ID}-00f067aa0ba902b7-1", None),  # one-digit flags
        (f"cc-{TRACE_ID}-00f067aa0ba902b7-01x", None),  # flags not followed by "-"
        (f"00_{TRACE_ID}_00f067aa0ba902b7_01", None),
        (f"0-{TRACE_ID}-00f067aa0ba902b7-01", None),
        (f"00-{TRACE_ID[:-1]}g-00f067aa0ba902b7-01", None),
        ("", None),
    ],
)
def test_traceparent_parsing_follows_w3c(header: str, trace_id: str | None) -> None:
    assert trace_id_of_traceparent(header) == trace_id


@pytest.mark.parametrize(
    ("remaining", "timeout"),
    [
        (None, None),  # grpc.aio without a deadline
        (9.223372035058656e18, None),  # sync grpcio without a deadline
        (math.inf, None),
        (math.nan, None),
        (2e9, None),  # beyond protoreq._timeouts.UNBOUNDED_SECONDS
        (2 * 365 * 24 * 3600.0, 2 * 365 * 24 * 3600.0),
        (4.5, 4.5),
        (-0.25, -0.25),  # already late: calls made now fail at once
    ],
)
def test_time_remaining_becomes_a_timeout_only_when_it_is_a_deadline(
    remaining: float | None, timeout: float | None
) -> None:
    assert timeout_of(remaining) == timeout


@pytest.fixture
def echo_seen() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A plain sync server (no interceptor) whose handler reports ``from_servicer_context``."""
    seen: list[dict[str, Any]] = []

    def send(request: chat_pb2.ChatMessage, context: grpc.ServicerContext) -> Any:
        seen.append(dict(RequestContext.from_servicer_context(context)))
        return request

    with serve(chat_handler(send, None, None, None)) as target:
        yield target, seen


def _send(target: str, metadata: list[tuple[str, str]], timeout: float | None = None) -> Any:
    with grpc.insecure_channel(target) as channel:
        send = channel.unary_unary(
            "/chat.ChatService/Send",
            request_serializer=chat_pb2.ChatMessage.SerializeToString,
            response_deserializer=chat_pb2.ChatMessage.FromString,
        )
        return send(chat_pb2.ChatMessage(seq=1), metadata=tuple(metadata), timeout=timeout)


def test_from_servicer_context_reads_traceparent_and_no_deadline(
    echo_seen: tuple[str, list[dict[str, Any]]],
) -> None:
    target, seen = echo_seen
    _send(target, [("traceparent", f"00-{TRACE_ID}-00f067aa0ba902b7-01")])
    _send(target, [("traceparent", "00-bogus"), ("x-trace-id", "mine")], timeout=5)
    _send(target, [("traceparent", "00-bogus")], timeout=5)

    assert [arguments["trace_id"] for arguments in seen] == [TRACE_ID, "mine", None]
    assert seen[0]["timeout"] is None  # not 9.2e18
    assert 0 < seen[1]["timeout"] <= 5.5
    assert seen[0]["client_ip"] == "127.0.0.1"


class _Details(grpc.HandlerCallDetails):
    def __init__(self, method: str) -> None:
        self.method = method
        self.invocation_metadata = ()


def _handler() -> grpc.RpcMethodHandler[Any, Any]:
    return grpc.unary_unary_rpc_method_handler(
        lambda request, context: request,
        request_deserializer=chat_pb2.ChatMessage.FromString,
        response_serializer=chat_pb2.ChatMessage.SerializeToString,
    )


def test_handlers_are_wrapped_once_per_method_keeping_serializers() -> None:
    interceptor = ContextServerInterceptor()
    handler, other = _handler(), _handler()

    first = interceptor.intercept_service(lambda details: handler, _Details("/chat.ChatService/A"))
    again = interceptor.intercept_service(lambda details: handler, _Details("/chat.ChatService/A"))
    replaced = interceptor.intercept_service(lambda details: other, _Details("/chat.ChatService/A"))
    unknown = interceptor.intercept_service(lambda details: None, _Details("/no.Such/Method"))

    assert first is again
    assert first is not None
    assert first is not handler
    assert first.unary_unary is not handler.unary_unary
    assert first.request_deserializer is handler.request_deserializer
    assert first.response_serializer is handler.response_serializer
    assert (first.request_streaming, first.response_streaming) == (False, False)
    assert replaced is not first
    assert unknown is None


async def test_async_interceptor_keeps_each_handler_kind() -> None:
    """grpc.aio dispatches on coroutine / async generator / sync: the wrapper must match."""

    async def coroutine(request: Any, context: Any) -> Any:
        return request

    async def generator(request: Any, context: Any) -> Any:
        yield request

    def sync(request: Any, context: Any) -> Any:
        return request

    interceptor = AsyncContextServerInterceptor()

    async def wrapped(handler: grpc.RpcMethodHandler[Any, Any], method: str) -> Any:
        async def continuation(details: grpc.HandlerCallDetails) -> Any:
            return handler

        return await interceptor.intercept_service(continuation, _Details(method))

    unary = await wrapped(grpc.unary_unary_rpc_method_handler(coroutine), "/s/Coroutine")
    stream = await wrapped(grpc.unary_stream_rpc_method_handler(generator), "/s/Generator")
    plain = await wrapped(grpc.unary_unary_rpc_method_handler(sync), "/s/Sync")
    written = await wrapped(grpc.stream_stream_rpc_method_handler(coroutine), "/s/Writer")

    assert inspect.iscoroutinefunction(unary.unary_unary)
    assert inspect.isasyncgenfunction(stream.unary_stream)
    assert not inspect.iscoroutinefunction(plain.unary_unary)
    assert inspect.iscoroutinefunction(written.stream_stream)


@pytest.mark.parametrize("flavour", ["sync", "aio"])
async def test_aborts_and_errors_pass_through_the_scope(flavour: str) -> None:
    """A handler's abort still reaches the caller, with the trace id visible inside."""
    seen: list[str | None] = []

    def sync_send(request: Any, context: grpc.ServicerContext) -> Any:
        seen.append(RequestContext.get_trace_id())
        context.abort(grpc.StatusCode.NOT_FOUND, "no such message")

    async def async_send(request: Any, context: grpc.aio.ServicerContext[Any, Any]) -> Any:
        seen.append(RequestContext.get_trace_id())
        await context.abort(grpc.StatusCode.NOT_FOUND, "no such message")

    send = sync_send if flavour == "sync" else async_send
    server = _server(flavour, chat_handler(send, None, None, None))
    port = server.add_insecure_port("127.0.0.1:0")
    try:
        await _start(server)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_unary(
                "/chat.ChatService/Send",
                request_serializer=chat_pb2.ChatMessage.SerializeToString,
                response_deserializer=chat_pb2.ChatMessage.FromString,
            )
            with pytest.raises(grpc.aio.AioRpcError) as failed:
                await call(chat_pb2.ChatMessage(), metadata=[("x-trace-id", "t-1")], timeout=5)
    finally:
        await _stop(server)

    assert failed.value.code() is grpc.StatusCode.NOT_FOUND
    assert seen == ["t-1"]


@pytest.mark.parametrize("flavour", ["sync", "aio"])
async def test_a_stream_cancelled_midway_finishes_its_handler_in_scope(flavour: str) -> None:
    """The handler's ``finally`` (closing the generator) still sees the caller's trace id."""
    finished: list[str | None] = []
    done = asyncio.Event()
    loop = asyncio.get_running_loop()

    def sync_subscribe(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        try:
            for seq in range(100):
                yield chat_pb2.ChatMessage(seq=seq)
                time.sleep(0.02)
        finally:
            finished.append(RequestContext.get_trace_id())
            loop.call_soon_threadsafe(done.set)

    async def async_subscribe(request: Any, context: Any) -> AsyncIterator[Any]:
        try:
            for seq in range(100):
                yield chat_pb2.ChatMessage(seq=seq)
                await asyncio.sleep(0.02)
        finally:
            finished.append(RequestContext.get_trace_id())
            done.set()

    subscribe = sync_subscribe if flavour == "sync" else async_subscribe
    server = _server(flavour, chat_handler(None, subscribe, None, None))
    port = server.add_insecure_port("127.0.0.1:0")
    try:
        await _start(server)
        async with grpc.aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            call = channel.unary_stream(
                "/chat.ChatService/Subscribe",
                request_serializer=chat_pb2.SubscribeRequest.SerializeToString,
                response_deserializer=chat_pb2.ChatMessage.FromString,
            )
            stream = call(chat_pb2.SubscribeRequest(), metadata=[("x-trace-id", "t-2")], timeout=10)
            await stream.read()
            stream.cancel()
            await asyncio.wait_for(done.wait(), timeout=10)
    finally:
        await _stop(server)

    assert finished == ["t-2"]


def _server(flavour: str, handler: grpc.GenericRpcHandler) -> Any:
    server: Any
    if flavour == "sync":
        server = grpc.server(
            futures.ThreadPoolExecutor(max_workers=2), interceptors=[ContextServerInterceptor()]
        )
    else:
        server = grpc.aio.server(interceptors=[AsyncContextServerInterceptor()])
    server.add_generic_rpc_handlers((handler,))
    return server


async def _start(server: Any) -> None:
    started = server.start()
    if started is not None:
        await started


async def _stop(server: Any) -> None:
    stopped = server.stop(None)
    if isinstance(stopped, threading.Event):
        stopped.wait(5)
    else:
        await stopped
