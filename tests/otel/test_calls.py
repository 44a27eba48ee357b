"""OpenTelemetryInterceptor on unary calls: spans, attempts, retries, metrics, trace ids."""

from __future__ import annotations

import asyncio
import logging
import subprocess
import sys
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import SpanKind, StatusCode

from protoreq import GrpcClient, RetryPolicy
from protoreq.otel import OpenTelemetryInterceptor, emitted_conventions, server_address
from protos.user_protoreq import CreateUserGrpcRequest, GetUserGrpcRequest
from tests.otel.conftest import FlakyUsers, Telemetry
from tests.streaming.conftest import Driver
from tests.support.call_log import CallLog

pytestmark = pytest.mark.timeout(60)

QUICK_RETRY = RetryPolicy(max_attempts=3, initial_backoff=0.02, max_backoff=0.05)


def _hex(number: int, digits: int) -> str:
    return format(number, f"0{digits}x")


def traceparent(span: Any) -> str:
    """The W3C header naming ``span`` as the parent (flags as the SDK set them)."""
    context = span.context
    flags = _hex(int(context.trace_flags), 2)
    return f"00-{_hex(context.trace_id, 32)}-{_hex(context.span_id, 16)}-{flags}"


@pytest.fixture
def client_for(drive: Driver) -> Iterator[Callable[..., GrpcClient]]:
    """``client_for(target, telemetry, **keywords)``: a client closed the way ``drive`` runs."""
    made: list[GrpcClient] = []

    def make(target: str, telemetry: Telemetry, **keywords: Any) -> GrpcClient:
        client = GrpcClient(target, interceptors=[telemetry.interceptor], **keywords)
        made.append(client)
        return client

    yield make
    for client in made:
        if drive.is_async:
            drive.run(client.aclose())
        else:
            client.close()


def test_a_call_is_one_client_span_with_the_current_conventions(
    drive: Driver, target: str, call_log: CallLog, telemetry: Telemetry, client_for: Any
) -> None:
    response = drive.call(client_for(target, telemetry), GetUserGrpcRequest(user_id="u-1"))

    assert response.is_success()
    span = telemetry.call_span()
    port = int(target.rsplit(":", 1)[1])
    assert span.name == "user.UserService/GetUser"
    assert span.kind is SpanKind.CLIENT
    assert dict(span.attributes or {}) == {
        "rpc.system.name": "grpc",
        "rpc.method": "user.UserService/GetUser",
        "server.address": "127.0.0.1",
        "server.port": port,
        "rpc.response.status_code": "OK",
    }
    assert span.status.status_code is StatusCode.UNSET  # semconv: unset when all went well
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "protoreq"
    assert span.instrumentation_scope.schema_url == "https://opentelemetry.io/schemas/1.44.0"
    (attempt,) = telemetry.attempt_spans(span)
    assert attempt.name == "Attempt.user.UserService/GetUser"
    assert attempt.kind is SpanKind.INTERNAL
    assert attempt.attributes is not None
    assert attempt.attributes["protoreq.attempt"] == 1
    assert "protoreq.retry.backoff" not in attempt.attributes
    assert attempt.attributes["rpc.response.status_code"] == "OK"


def test_the_call_carries_the_span_trace_id_everywhere(
    drive: Driver,
    target: str,
    call_log: CallLog,
    telemetry: Telemetry,
    client_for: Any,
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO, logger="protoreq"):
        response = drive.call(client_for(target, telemetry), GetUserGrpcRequest(user_id="u-1"))

    span = telemetry.call_span()
    (attempt,) = telemetry.attempt_spans(span)
    trace_id = _hex(span.context.trace_id, 32)
    seen = call_log.last().metadata
    assert response.trace_id() == trace_id
    assert seen["x-trace-id"] == trace_id
    assert response.trailing_metadata()["x-trace-id-seen"] == trace_id
    # The server's parent is the attempt: W3C traceparent from the attempt span's context.
    assert seen["traceparent"] == traceparent(attempt)
    (record,) = [r for r in caplog.records if r.name == "protoreq"]
    assert record.trace_id == trace_id  # type: ignore[attr-defined]


@pytest.mark.parametrize("flaky_users", [0], indirect=True)
def test_an_application_span_becomes_the_parent_and_its_traceparent_is_replaced(
    flaky_users: tuple[FlakyUsers, str], telemetry: Telemetry
) -> None:
    """protoreq.tracing adds the active span's traceparent in prepare(); the attempt's wins."""
    service, address = flaky_users
    tracer = telemetry.tracer_provider.get_tracer("app")
    with (
        GrpcClient(address, interceptors=[telemetry.interceptor]) as client,
        tracer.start_as_current_span("handle request") as app_span,
    ):
        client.call(GetUserGrpcRequest(user_id="u-1"))

    span = telemetry.call_span()
    (attempt,) = telemetry.attempt_spans(span)
    assert span.parent is not None
    assert span.parent.span_id == app_span.get_span_context().span_id
    assert span.context.trace_id == app_span.get_span_context().trace_id
    (pairs,) = service.metadata
    assert [value for key, value in pairs if key == "traceparent"] == [traceparent(attempt)]
    assert [value for key, value in pairs if key == "x-trace-id"] == [
        _hex(span.context.trace_id, 32)
    ]


def test_a_failed_call_records_error_type_and_an_error_status(
    drive: Driver, target: str, telemetry: Telemetry, client_for: Any
) -> None:
    response = drive.call(client_for(target, telemetry), GetUserGrpcRequest(user_id="missing"))

    assert response.status_code() is grpc.StatusCode.NOT_FOUND
    span = telemetry.call_span()
    assert span.attributes is not None
    assert span.attributes["rpc.response.status_code"] == "NOT_FOUND"
    assert span.attributes["error.type"] == "NOT_FOUND"
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "user missing not found"
    (point,) = telemetry.points("rpc.client.call.duration")
    assert dict(point.attributes) == {
        "rpc.system.name": "grpc",
        "rpc.method": "user.UserService/GetUser",
        "server.address": "127.0.0.1",
        "server.port": int(target.rsplit(":", 1)[1]),
        "rpc.response.status_code": "NOT_FOUND",
        "error.type": "NOT_FOUND",
    }
    assert point.count == 1


def test_the_call_duration_histogram_has_the_span_attributes_and_seconds(
    drive: Driver, target: str, telemetry: Telemetry, client_for: Any
) -> None:
    client = client_for(target, telemetry)
    for _ in range(3):
        drive.call(client, GetUserGrpcRequest(user_id="u-1"))
    drive.call(client, CreateUserGrpcRequest(name="Ann", email="ann@example.com"))

    points = {p.attributes["rpc.method"]: p for p in telemetry.points("rpc.client.call.duration")}
    assert set(points) == {"user.UserService/GetUser", "user.UserService/CreateUser"}
    get_user = points["user.UserService/GetUser"]
    assert get_user.count == 3
    assert get_user.attributes["rpc.response.status_code"] == "OK"
    assert "error.type" not in get_user.attributes
    assert 0 < get_user.sum < 30
    assert list(get_user.explicit_bounds)[:3] == [0.005, 0.01, 0.025]  # semconv's advice
    assert telemetry.units()["rpc.client.call.duration"] == "s"
    spans = {s.name: s for s in telemetry.spans() if s.kind is SpanKind.CLIENT}
    assert set(spans) == {"user.UserService/GetUser", "user.UserService/CreateUser"}
    attempts = telemetry.points("grpc.client.attempt.duration")
    assert {(p.attributes["grpc.method"], p.count) for p in attempts} == {
        ("user.UserService/GetUser", 3),
        ("user.UserService/CreateUser", 1),
    }
    assert {p.attributes["grpc.target"] for p in attempts} == {f"dns:///{target}"}
    assert {p.attributes["grpc.status"] for p in attempts} == {"OK"}


def test_a_retried_call_shows_each_attempt_and_its_backoff(
    drive: Driver,
    flaky_users: tuple[FlakyUsers, str],
    telemetry: Telemetry,
    client_for: Any,
) -> None:
    service, address = flaky_users
    client = client_for(address, telemetry, retry=QUICK_RETRY)

    response = drive.call(client, GetUserGrpcRequest(user_id="u-1"))

    assert response.is_success()
    assert response.attempts() == 3
    span = telemetry.call_span()
    assert span.attributes is not None
    assert span.attributes["rpc.response.status_code"] == "OK"
    assert span.status.status_code is StatusCode.UNSET  # retried errors are not the call's
    attempts = telemetry.attempt_spans(span)
    assert [a.attributes["protoreq.attempt"] for a in attempts if a.attributes] == [1, 2, 3]
    assert [a.attributes["rpc.response.status_code"] for a in attempts if a.attributes] == [
        "UNAVAILABLE",
        "UNAVAILABLE",
        "OK",
    ]
    assert [a.status.status_code for a in attempts] == [
        StatusCode.ERROR,
        StatusCode.ERROR,
        StatusCode.UNSET,
    ]
    backoffs = [a.attributes.get("protoreq.retry.backoff") for a in attempts if a.attributes]
    assert backoffs[0] is None
    assert all(isinstance(b, float) and 0 < b <= QUICK_RETRY.max_backoff for b in backoffs[1:])
    # Every attempt told the server its own span, in the one trace.
    trace_id = _hex(span.context.trace_id, 32)
    sent = [dict(pairs) for pairs in service.metadata]
    assert [m["traceparent"] for m in sent] == [traceparent(a) for a in attempts]
    assert {m["x-trace-id"] for m in sent} == {trace_id}
    assert response.trace_id() == trace_id
    # The call's duration covers every attempt and the waits between them.
    (call_point,) = telemetry.points("rpc.client.call.duration")
    assert call_point.count == 1
    assert call_point.sum >= sum(b for b in backoffs[1:] if isinstance(b, float))
    last_end = attempts[-1].end_time
    assert span.end_time is not None
    assert last_end is not None
    assert span.end_time >= last_end
    attempt_points = {
        p.attributes["grpc.status"]: p.count
        for p in telemetry.points("grpc.client.attempt.duration")
    }
    assert attempt_points == {"UNAVAILABLE": 2, "OK": 1}


@pytest.mark.parametrize("flaky_users", [5], indirect=True)
def test_a_call_that_runs_out_of_attempts_fails_with_its_last_status(
    drive: Driver, flaky_users: tuple[FlakyUsers, str], telemetry: Telemetry, client_for: Any
) -> None:
    _, address = flaky_users
    response = drive.call(client_for(address, telemetry, retry=QUICK_RETRY), GetUserGrpcRequest())

    assert response.status_code() is grpc.StatusCode.UNAVAILABLE
    span = telemetry.call_span()
    assert span.attributes is not None
    assert span.attributes["error.type"] == "UNAVAILABLE"
    assert span.status.status_code is StatusCode.ERROR
    assert len(telemetry.attempt_spans(span)) == 3


def test_older_conventions_are_added_with_rpc_dup(
    target: str, make_telemetry: Callable[..., Telemetry]
) -> None:
    telemetry = make_telemetry("http, rpc/dup")
    with GrpcClient(target, interceptors=[telemetry.interceptor]) as client:
        client.call(GetUserGrpcRequest(user_id="missing"))

    span = telemetry.call_span()
    port = int(target.rsplit(":", 1)[1])
    assert dict(span.attributes or {}) == {
        "rpc.system.name": "grpc",
        "rpc.system": "grpc",
        "rpc.service": "user.UserService",
        "rpc.method": "user.UserService/GetUser",  # one key, one value: the current form
        "server.address": "127.0.0.1",
        "server.port": port,
        "rpc.response.status_code": "NOT_FOUND",
        "rpc.grpc.status_code": 5,
        "error.type": "NOT_FOUND",
    }
    (current,) = telemetry.points("rpc.client.call.duration")
    (old,) = telemetry.points("rpc.client.duration")
    assert dict(old.attributes) == {
        "rpc.system": "grpc",
        "rpc.service": "user.UserService",
        "rpc.method": "GetUser",
        "server.address": "127.0.0.1",
        "server.port": port,
        "rpc.grpc.status_code": 5,
    }
    assert "rpc.grpc.status_code" not in current.attributes
    assert telemetry.units()["rpc.client.duration"] == "ms"
    assert old.sum == pytest.approx(current.sum * 1000, rel=0.01)


def test_only_the_older_conventions_with_rpc_old(
    target: str, make_telemetry: Callable[..., Telemetry]
) -> None:
    telemetry = make_telemetry("rpc/old")
    with GrpcClient(target, interceptors=[telemetry.interceptor]) as client:
        client.call(GetUserGrpcRequest(user_id="missing"))

    span = telemetry.call_span()
    assert span.name == "user.UserService/GetUser"
    assert dict(span.attributes or {}) == {
        "rpc.system": "grpc",
        "rpc.service": "user.UserService",
        "rpc.method": "GetUser",
        "server.address": "127.0.0.1",
        "server.port": int(target.rsplit(":", 1)[1]),
        "rpc.grpc.status_code": 5,
    }
    assert span.status.status_code is StatusCode.ERROR
    assert telemetry.points("rpc.client.call.duration") == []
    assert len(telemetry.points("rpc.client.duration")) == 1


@pytest.mark.parametrize(
    ("opt_in", "expected"),
    [
        (None, (True, False)),
        ("", (True, False)),
        ("rpc", (True, False)),
        ("http/dup,database", (True, False)),
        ("rpc/dup", (True, True)),
        (" rpc , rpc/dup ", (True, True)),
        ("rpc/old", (False, True)),
        ("rpc/old,rpc/dup", (True, True)),  # semconv: the duplicate form takes precedence
    ],
)
def test_stability_opt_in_values(opt_in: str | None, expected: tuple[bool, bool]) -> None:
    assert emitted_conventions(opt_in) == expected


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("localhost:50051", ("localhost", 50051)),
        ("grpc.io", ("grpc.io", None)),
        ("[::1]:50051", ("::1", 50051)),
        ("dns:///grpc.io:50051", ("grpc.io", 50051)),
        ("dns://1.2.3.4/grpc.io:50051", ("grpc.io", 50051)),
        ("dns:grpc.io:443", ("grpc.io", 443)),
        ("unix:///run/containerd/containerd.sock", ("/run/containerd/containerd.sock", None)),
        ("unix:relative.sock", ("relative.sock", None)),
        ("unix-abstract:my-socket", ("my-socket", None)),
        ("ipv4:10.0.0.1:50051,10.0.0.2:50051", ("ipv4:10.0.0.1:50051,10.0.0.2:50051", None)),
        ("xds:///users", ("xds:///users", None)),
        ("zk://zookeeper:2181/my-server", ("zk://zookeeper:2181/my-server", None)),
    ],
)
def test_server_address_from_the_target(target: str, expected: tuple[str, int | None]) -> None:
    assert server_address(target) == expected


def test_without_an_sdk_calls_keep_protoreqs_own_trace_id(target: str, call_log: CallLog) -> None:
    interceptor = OpenTelemetryInterceptor(trace.NoOpTracerProvider(), metrics.NoOpMeterProvider())
    with GrpcClient(target, interceptors=[interceptor]) as client:
        response = client.call(GetUserGrpcRequest(user_id="u-1"))

    assert response.is_success()
    trace_id = response.trace_id()
    assert trace_id is not None
    assert len(trace_id) == 32
    assert call_log.last().metadata["x-trace-id"] == trace_id
    assert "traceparent" not in call_log.last().metadata


def test_a_sampled_out_call_still_joins_its_trace(target: str, call_log: CallLog) -> None:
    """Not recorded, but the trace id (and an unsampled traceparent) still go out: downstream
    services and the logs agree on it."""
    interceptor = OpenTelemetryInterceptor(
        TracerProvider(sampler=ALWAYS_OFF), metrics.NoOpMeterProvider()
    )
    with GrpcClient(target, interceptors=[interceptor]) as client:
        response = client.call(GetUserGrpcRequest(user_id="u-1"))

    seen = call_log.last().metadata
    version, trace_id, _, flags = str(seen["traceparent"]).split("-")
    assert version == "00"
    assert int(flags, 16) & 1 == 0  # not sampled (bit 1 may say the trace id is random)
    assert seen["x-trace-id"] == trace_id == response.trace_id()


def test_importing_protoreq_never_imports_opentelemetry() -> None:
    code = (
        "import sys, protoreq, protoreq.interceptors\n"
        "print([m for m in sys.modules if m.startswith('opentelemetry')])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "[]"


def test_protoreq_otel_without_opentelemetry_names_the_extra() -> None:
    code = (
        "import sys\n"
        "sys.modules['opentelemetry'] = None  # as if opentelemetry-api were not installed\n"
        "try:\n"
        "    import protoreq.otel\n"
        "except ImportError as error:\n"
        "    print(error)\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert "pip install 'protoreq[otel]'" in result.stdout


async def test_a_cancelled_async_call_ends_its_spans(target: str, telemetry: Telemetry) -> None:
    """The awaiting task is cancelled mid-call: no answer, but the spans end, with the reason."""
    async with GrpcClient(target, interceptors=[telemetry.interceptor]) as client:
        with pytest.raises(TimeoutError):
            await asyncio.wait_for(client.call_async(GetUserGrpcRequest(user_id="slow:5")), 0.3)

    span = telemetry.call_span()
    assert span.attributes is not None
    assert span.attributes["error.type"] == "asyncio.exceptions.CancelledError"
    assert span.status.status_code is StatusCode.ERROR
    (attempt,) = telemetry.attempt_spans(span)
    assert attempt.end_time is not None
    (point,) = telemetry.points("rpc.client.call.duration")
    assert point.attributes["error.type"] == "asyncio.exceptions.CancelledError"
