"""OpenTelemetryInterceptor on every kind of call: spans that last as long as the stream."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from opentelemetry.trace import SpanKind, StatusCode

from protoreq import GrpcClient, GrpcResponse
from protoreq.interceptors import ClientCall, Interceptor
from protos import chat_pb2
from protos.chat_protoreq import (
    ConverseGrpcRequest,
    SendGrpcRequest,
    SubscribeGrpcRequest,
    UploadGrpcRequest,
)
from tests.otel.conftest import Telemetry
from tests.otel.test_calls import traceparent
from tests.streaming.chat_service import ChatProgress
from tests.streaming.conftest import Driver

pytestmark = pytest.mark.timeout(60)


def chat(count: int) -> list[chat_pb2.ChatMessage]:
    return [chat_pb2.ChatMessage(seq=i, text=f"m{i}") for i in range(count)]


@pytest.fixture
def client(chat_target: str, drive: Driver, telemetry: Telemetry) -> Iterator[GrpcClient]:
    grpc_client = GrpcClient(chat_target, timeout=20, interceptors=[telemetry.interceptor])
    try:
        yield grpc_client
    finally:
        if drive.is_async:
            drive.run(grpc_client.aclose())
        else:
            grpc_client.close()


KINDS: dict[str, Callable[[Driver, GrpcClient], object]] = {
    "Send": lambda drive, client: drive.call(client, SendGrpcRequest(seq=1, text="hi")),
    "Upload": lambda drive, client: drive.call(
        client, UploadGrpcRequest(messages=drive.messages(chat(3)))
    ),
    "Subscribe": lambda drive, client: drive.stream(
        client, SubscribeGrpcRequest(room="lobby", count=3)
    ),
    "Converse": lambda drive, client: drive.stream(
        client, ConverseGrpcRequest(messages=drive.messages(chat(3)))
    ),
}


@pytest.mark.parametrize("method", list(KINDS))
def test_every_kind_is_one_client_span_and_one_attempt(
    method: str,
    drive: Driver,
    client: GrpcClient,
    chat_target: str,
    progress: ChatProgress,
    telemetry: Telemetry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="opentelemetry"):
        KINDS[method](drive, client)

    span = telemetry.call_span()
    assert span.name == f"chat.ChatService/{method}"
    assert dict(span.attributes or {}) == {
        "rpc.system.name": "grpc",
        "rpc.method": f"chat.ChatService/{method}",
        "server.address": "127.0.0.1",
        "server.port": int(chat_target.rsplit(":", 1)[1]),
        "rpc.response.status_code": "OK",
    }
    (attempt,) = telemetry.attempt_spans(span)
    assert attempt.attributes is not None
    assert attempt.attributes["rpc.response.status_code"] == "OK"
    (seen,) = progress.metadata
    assert seen["traceparent"] == traceparent(attempt)
    assert seen["x-trace-id"] == format(span.context.trace_id, "032x")
    (point,) = telemetry.points("rpc.client.call.duration")
    assert point.attributes["rpc.method"] == f"chat.ChatService/{method}"
    assert point.count == 1
    assert not [r for r in caplog.records if r.name.startswith("opentelemetry")]  # no detach errors


def test_a_stream_span_lasts_until_the_stream_ends(
    drive: Driver, client: GrpcClient, telemetry: Telemetry
) -> None:
    open_while_iterating: list[bool] = []

    def check(stream: Any, message: Any) -> None:
        open_while_iterating.append(not telemetry.spans())

    done = drive.stream(client, SubscribeGrpcRequest(room="lobby", count=3), on_message=check)

    assert open_while_iterating == [True, True, True]
    span = telemetry.call_span()
    assert span.end_time is not None
    assert span.start_time is not None
    assert done.stream.trace_id() == format(span.context.trace_id, "032x")
    (point,) = telemetry.points("rpc.client.call.duration")
    assert point.sum == pytest.approx((span.end_time - span.start_time) / 1e9, abs=0.05)


def test_a_failed_stream_records_its_status(
    drive: Driver, client: GrpcClient, telemetry: Telemetry
) -> None:
    request = SubscribeGrpcRequest(
        room="lobby", count=10, metadata={"x-fail-after": "2", "x-fail-code": "NOT_FOUND"}
    )
    done = drive.stream(client, request)

    assert done.stream.status_code() is grpc.StatusCode.NOT_FOUND
    span = telemetry.call_span()
    assert span.attributes is not None
    assert span.attributes["error.type"] == "NOT_FOUND"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "failed after 2 messages"


def _break_after_first(drive: Driver, client: GrpcClient, *, close: bool) -> list[Any]:
    """Stop iterating after one message: inside ``with`` (closed) or bare (dropped)."""
    kept: list[Any] = []
    request = SubscribeGrpcRequest(room="lobby", count=50, metadata={"x-delay": "0.01"})
    if not drive.is_async:
        if close:
            with client.stream(request) as stream:
                for message in stream:
                    kept.append(message)
                    break
        else:
            for message in client.stream(request):
                kept.append(message)
                break
        return kept

    async def consume() -> None:
        if close:
            async with client.stream_async(request) as stream:
                async for message in stream:
                    kept.append(message)
                    break
        else:
            async for message in client.stream_async(request):
                kept.append(message)
                break

    drive.run(consume())
    return kept


@pytest.mark.parametrize("close", [True, False], ids=["closed", "dropped"])
def test_breaking_out_of_a_stream_ends_its_span(
    close: bool,
    drive: Driver,
    client: GrpcClient,
    telemetry: Telemetry,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.DEBUG, logger="opentelemetry"):
        kept = _break_after_first(drive, client, close=close)

    assert len(kept) == 1
    span = telemetry.call_span()  # ended: with-exit cancels, a dropped stream ends when collected
    assert span.attributes is not None
    assert span.attributes["rpc.response.status_code"] == "CANCELLED"
    assert span.attributes["error.type"] == "CANCELLED"
    assert span.status.status_code is StatusCode.ERROR
    (attempt,) = telemetry.attempt_spans(span)
    assert attempt.end_time is not None
    assert not [r for r in caplog.records if "detach" in r.getMessage()]
    assert not [r for r in caplog.records if r.name.startswith("opentelemetry")]


class RecordsEnds(Interceptor):
    def __init__(self) -> None:
        self.ends: list[grpc.StatusCode] = []

    def on_end(self, call: ClientCall, outcome: GrpcResponse[Any]) -> None:
        self.ends.append(outcome.status_code())


def test_a_stream_dropped_before_its_end_runs_end_hooks(drive: Driver, chat_target: str) -> None:
    """Not OpenTelemetry's alone: every interceptor's on_end runs for a dropped stream."""
    recorder = RecordsEnds()
    client = GrpcClient(chat_target, timeout=20, interceptors=[recorder])
    try:
        kept = _break_after_first(drive, client, close=False)
        assert len(kept) == 1
        assert recorder.ends == [grpc.StatusCode.CANCELLED]
    finally:
        if drive.is_async:
            drive.run(client.aclose())
        else:
            client.close()


def test_outgoing_messages_that_raise_end_the_span_with_the_exception(
    drive: Driver, client: GrpcClient, telemetry: Telemetry
) -> None:
    def explode(sent: int) -> None:
        if sent == 2:
            raise ValueError("no more messages")

    request = UploadGrpcRequest(messages=drive.messages(chat(5), after_each=explode))
    with pytest.raises(ValueError, match="no more messages"):
        drive.call(client, request)

    span = telemetry.call_span()
    assert span.attributes is not None
    assert span.attributes["error.type"] == "builtins.ValueError"
    assert span.status.status_code is StatusCode.ERROR
    assert [event.name for event in span.events] == ["exception"]
    (point,) = telemetry.points("rpc.client.call.duration")
    assert point.attributes["error.type"] == "builtins.ValueError"
    assert span.kind is SpanKind.CLIENT
