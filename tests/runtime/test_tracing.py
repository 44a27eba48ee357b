"""Trace correlation: x-trace-id always, traceparent when OpenTelemetry has a span."""

from __future__ import annotations

import asyncio
import re

import pytest

from protoreq import GrpcClient, RequestContext
from protos import my_pb2
from tests.runtime.conftest import Send
from tests.runtime.requests import MyMethod, PlainGetUser
from tests.support.call_log import CallLog


def test_context_trace_id_arrives_at_server(target: str, send: Send) -> None:
    with GrpcClient(target) as client, RequestContext.scope(trace_id="trace-abc"):
        response = send(client, MyMethod())

    assert response.message().trace_id == "trace-abc"
    assert response.trace_id() == "trace-abc"


def test_fresh_trace_id_without_context(target: str, send: Send) -> None:
    with GrpcClient(target) as client:
        first = send(client, MyMethod())
        second = send(client, MyMethod())

    first_id = first.message().trace_id
    assert re.fullmatch(r"[0-9a-f]{32}", first_id)
    assert first.trace_id() == first_id
    assert second.message().trace_id != first_id


def test_plain_request_gets_trace_id_too(target: str, send: Send, call_log: CallLog) -> None:
    with GrpcClient(target) as client, RequestContext.scope(trace_id="plain-1"):
        send(client, PlainGetUser("1", {}))

    assert call_log.last().metadata["x-trace-id"] == "plain-1"


def test_request_metadata_trace_id_wins(target: str, send: Send, call_log: CallLog) -> None:
    with GrpcClient(target) as client, RequestContext.scope(trace_id="from-context"):
        response = send(client, PlainGetUser("1", {"x-trace-id": "explicit"}))

    assert call_log.last().metadata["x-trace-id"] == "explicit"
    assert response.trace_id() == "explicit"


def test_scope_values_and_nesting() -> None:
    assert RequestContext.get_trace_id() is None
    with RequestContext.scope(trace_id="outer", client_ip="10.0.0.1"):
        with RequestContext.scope(trace_id="inner"):
            assert RequestContext.get_trace_id() == "inner"
            assert RequestContext.get_client_ip() == "10.0.0.1"
        assert RequestContext.get_trace_id() == "outer"
    assert RequestContext.get_client_ip() is None


async def test_concurrent_tasks_keep_their_own_trace_ids(target: str) -> None:
    async with GrpcClient(target) as client:

        async def traced(trace_id: str) -> str:
            with RequestContext.scope(trace_id=trace_id):
                await asyncio.sleep(0.01)
                response = await client.call_async(MyMethod())
                return response.message().trace_id

        seen = await asyncio.gather(*(traced(f"task-{i}") for i in range(20)))

    assert seen == [f"task-{i}" for i in range(20)]


def test_traceparent_injected_when_a_span_is_active(target: str, call_log: CallLog) -> None:
    pytest.importorskip("opentelemetry.sdk")
    from opentelemetry import trace  # noqa: PLC0415
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415

    tracer = TracerProvider().get_tracer("protoreq-tests")
    with GrpcClient(target) as client:
        with tracer.start_as_current_span("outgoing") as span:
            response = client.call(MyMethod())
            trace_id = format(span.get_span_context().trace_id, "032x")
        assert isinstance(response.message(), my_pb2.MyResponse)
        traceparent = call_log.last().metadata["traceparent"]
        assert isinstance(traceparent, str)
        assert traceparent.split("-")[1] == trace_id
        assert trace.get_current_span().get_span_context().is_valid is False
        client.call(MyMethod())
        assert "traceparent" not in call_log.last().metadata
