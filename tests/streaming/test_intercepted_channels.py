"""Intercepted channels: OpenTelemetry's grpc instrumentation and grpc.intercept_channel.

Both hand protoreq multicallables that are not grpcio's own (and OpenTelemetry
answers a server-streaming call with a bare generator). Every kind must work
on them, sync and async, with the same outcomes as on a plain channel, and
the instrumentation must record its spans. The instrumentors patch grpcio
globally, so the fixture instruments with a private tracer provider and
uninstruments before the next test.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from opentelemetry import trace
from opentelemetry.instrumentation.grpc import GrpcAioInstrumentorClient, GrpcInstrumentorClient
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from protoreq import GrpcClient
from protos import chat_pb2
from protos.chat_protoreq import (
    ConverseGrpcRequest,
    SendGrpcRequest,
    SubscribeGrpcRequest,
    UploadGrpcRequest,
)
from tests.streaming.chat_service import ChatProgress
from tests.streaming.conftest import Driver

_EXPORTER = InMemorySpanExporter()


def _record_globally() -> InMemorySpanExporter:
    """Spans of the global tracer provider, in memory.

    The sync instrumentor reads its tracer provider from the global one only
    (its ``instrument(tracer_provider=...)`` does not reach the channels), and
    OpenTelemetry sets the global provider once per process: one SDK provider
    for the session, one exporter, cleared by each test.
    """
    provider = trace.get_tracer_provider()
    if not isinstance(provider, TracerProvider):
        provider = TracerProvider()
        trace.set_tracer_provider(provider)
    if not getattr(provider, "_protoreq_test_exporter", False):
        provider.add_span_processor(SimpleSpanProcessor(_EXPORTER))
        provider._protoreq_test_exporter = True  # type: ignore[attr-defined]
    return _EXPORTER


@pytest.fixture
def spans() -> Iterator[InMemorySpanExporter]:
    """OpenTelemetry's client instrumentation (sync and aio) on, recording into memory."""
    exporter = _record_globally()
    exporter.clear()
    instrumentors: list[Any] = [
        GrpcInstrumentorClient(),  # type: ignore[no-untyped-call]
        GrpcAioInstrumentorClient(),  # type: ignore[no-untyped-call]
    ]
    for instrumentor in instrumentors:
        instrumentor.instrument()
    try:
        yield exporter
    finally:
        for instrumentor in instrumentors:
            instrumentor.uninstrument()
        exporter.clear()


@pytest.fixture
def traced_client(spans: InMemorySpanExporter, chat_target: str, drive: Driver) -> Iterator[Any]:
    """A client whose channels open while the instrumentation is on (closed before it is off)."""
    client = GrpcClient(chat_target, timeout=20)
    try:
        yield client
    finally:
        if drive.is_async:
            drive.run(client.aclose())
        else:
            client.close()


def _client_spans(exporter: InMemorySpanExporter) -> list[str]:
    return [span.name for span in exporter.get_finished_spans() if span.kind is SpanKind.CLIENT]


def _chat(count: int) -> list[chat_pb2.ChatMessage]:
    return [chat_pb2.ChatMessage(seq=seq, text=f"m{seq}") for seq in range(count)]


def test_unary_on_instrumented_channel(
    traced_client: GrpcClient, drive: Driver, spans: InMemorySpanExporter
) -> None:
    response = drive.call(traced_client, SendGrpcRequest(seq=1, text="hi"))
    failed = drive.call(
        traced_client,
        SendGrpcRequest(seq=1, metadata={"x-fail-after": "0", "x-fail-code": "NOT_FOUND"}),
    )

    assert response.is_success(), response.details()
    assert response.message().text == "re: hi"
    assert failed.status_code() is grpc.StatusCode.NOT_FOUND
    assert failed.details() == "failed after 0 messages"
    assert _client_spans(spans) == ["/chat.ChatService/Send"] * 2


def test_server_stream_on_instrumented_channel(
    traced_client: GrpcClient, drive: Driver, spans: InMemorySpanExporter
) -> None:
    finished = drive.stream(traced_client, SubscribeGrpcRequest(room="r", count=3))
    failed = drive.stream(
        traced_client, SubscribeGrpcRequest(room="r", count=3, metadata={"x-fail-after": "2"})
    )

    assert [message.seq for message in finished.messages] == [0, 1, 2]
    assert finished.stream.is_success(), finished.stream.details()
    assert finished.stream.initial_metadata()["x-room"] == "r"
    assert finished.stream.trailing_metadata()["x-sent"] == "3"
    assert len(failed.messages) == 2
    assert failed.stream.status_code() is grpc.StatusCode.ABORTED
    assert _client_spans(spans) == ["/chat.ChatService/Subscribe"] * 2


def test_server_stream_cancelled_on_instrumented_channel(
    traced_client: GrpcClient, drive: Driver, progress: ChatProgress
) -> None:
    def stop(stream: Any, message: Any) -> None:
        stream.cancel()

    request = SubscribeGrpcRequest(room="r", count=1000, metadata={"x-delay": "0.01"})
    finished = drive.stream(traced_client, request, on_message=stop)

    assert len(finished.messages) == 1
    assert finished.stream.status_code() is grpc.StatusCode.CANCELLED
    assert progress.produced < 1000


def test_client_stream_on_instrumented_channel(
    traced_client: GrpcClient, drive: Driver, spans: InMemorySpanExporter
) -> None:
    response = drive.call(traced_client, UploadGrpcRequest(messages=drive.messages(_chat(4))))

    assert response.is_success(), response.details()
    assert response.message().count == 4
    assert response.trailing_metadata()["x-received"] == "4"
    assert _client_spans(spans) == ["/chat.ChatService/Upload"]


def test_bidi_on_instrumented_channel(
    traced_client: GrpcClient, drive: Driver, spans: InMemorySpanExporter
) -> None:
    finished = drive.stream(traced_client, ConverseGrpcRequest(messages=drive.messages(_chat(3))))

    assert [message.seq for message in finished.messages] == [1, 2, 3]
    assert finished.stream.is_success(), finished.stream.details()
    assert finished.stream.trailing_metadata()["x-sent"] == "3"
    assert _client_spans(spans) == ["/chat.ChatService/Converse"]


class _AddHeader(
    grpc.UnaryUnaryClientInterceptor,
    grpc.UnaryStreamClientInterceptor,
    grpc.StreamUnaryClientInterceptor,
    grpc.StreamStreamClientInterceptor,
):
    """A plain ``grpc.intercept_channel`` interceptor adding ``x-intercepted: yes`` to calls."""

    def _with_header(self, details: Any) -> Any:
        metadata = (*(details.metadata or ()), ("x-intercepted", "yes"))
        return details._replace(metadata=metadata)

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._with_header(details), request)

    def intercept_unary_stream(self, continuation: Any, details: Any, request: Any) -> Any:
        return continuation(self._with_header(details), request)

    def intercept_stream_unary(self, continuation: Any, details: Any, requests: Any) -> Any:
        return continuation(self._with_header(details), requests)

    def intercept_stream_stream(self, continuation: Any, details: Any, requests: Any) -> Any:
        return continuation(self._with_header(details), requests)


@pytest.fixture
def intercepted_channels(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every sync channel grpcio opens comes wrapped by ``grpc.intercept_channel``."""
    plain: Callable[..., grpc.Channel] = grpc.insecure_channel

    def intercepted(*args: Any, **kwargs: Any) -> grpc.Channel:
        return grpc.intercept_channel(plain(*args, **kwargs), _AddHeader())

    monkeypatch.setattr(grpc, "insecure_channel", intercepted)


@pytest.mark.usefixtures("intercepted_channels")
def test_every_kind_on_an_intercepted_channel(chat_target: str, progress: ChatProgress) -> None:
    with GrpcClient(chat_target, timeout=20) as client:
        sent = client.call(SendGrpcRequest(seq=1, text="hi"))
        uploaded = client.call(UploadGrpcRequest(messages=iter(_chat(2))))
        with client.stream(SubscribeGrpcRequest(room="r", count=2)) as subscribed:
            received = [message.seq for message in subscribed]
        with client.stream(ConverseGrpcRequest(messages=iter(_chat(2)))) as conversed:
            answered = [message.seq for message in conversed]

    assert sent.message().text == "re: hi"
    assert uploaded.message().count == 2
    assert received == [0, 1]
    assert subscribed.trailing_metadata()["x-sent"] == "2"
    assert answered == [1, 2]
    assert conversed.is_success()
    assert [seen.get("x-intercepted") for seen in progress.metadata] == ["yes"] * 4
