"""``OpenTelemetryInterceptor(attempt_spans="retried")``: attempt spans only for calls that make
more than one attempt, attempt 1's written late with its own times; sync and async, real SDK."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from typing import Any

import grpc
import pytest
from opentelemetry.trace import StatusCode

from protoreq import GrpcClient, HedgingPolicy
from protoreq.otel import OpenTelemetryInterceptor
from protos.user_protoreq import GetUserGrpcRequest
from tests.hedging.slow_server import Answer, ScriptedUsers, serving
from tests.otel.conftest import FlakyUsers, Telemetry
from tests.otel.test_calls import QUICK_RETRY, traceparent
from tests.resilience.requests import GetUser
from tests.runtime.conftest import send
from tests.streaming.conftest import Driver

__all__ = ["send"]

pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def lazy(make_telemetry: Callable[..., Telemetry]) -> Telemetry:
    """Fresh providers and an interceptor that writes attempt spans only for retried calls."""
    made = make_telemetry()
    interceptor = OpenTelemetryInterceptor(
        made.tracer_provider, made.meter_provider, attempt_spans="retried"
    )
    return dataclasses.replace(made, interceptor=interceptor)


def _close(drive: Driver, client: GrpcClient) -> None:
    if drive.is_async:
        drive.run(client.aclose())
    else:
        client.close()


@pytest.mark.parametrize("flaky_users", [0], indirect=True)
def test_a_call_answered_at_once_is_one_span_and_the_servers_parent(
    drive: Driver, flaky_users: tuple[FlakyUsers, str], lazy: Telemetry
) -> None:
    service, address = flaky_users
    client = GrpcClient(address, interceptors=[lazy.interceptor])
    try:
        response = drive.call(client, GetUserGrpcRequest(user_id="u-1"))
    finally:
        _close(drive, client)
    assert response.is_success()
    span = lazy.call_span()
    assert lazy.spans() == [span]  # no attempt span
    assert lazy.attempt_spans(span) == []
    (sent,) = [dict(pairs) for pairs in service.metadata]
    assert sent["traceparent"] == traceparent(span)
    assert response.trace_id() == format(span.context.trace_id, "032x")
    (attempt_point,) = lazy.points("grpc.client.attempt.duration")  # the metric is still there
    assert attempt_point.count == 1
    assert attempt_point.attributes["grpc.status"] == "OK"
    assert "attempt_spans='retried'" in repr(lazy.interceptor)


def test_a_retried_call_shows_every_attempt_the_first_with_its_own_times(
    drive: Driver, flaky_users: tuple[FlakyUsers, str], lazy: Telemetry
) -> None:
    service, address = flaky_users  # fails twice, then answers
    client = GrpcClient(address, interceptors=[lazy.interceptor], retry=QUICK_RETRY)
    try:
        response = drive.call(client, GetUserGrpcRequest(user_id="u-1"))
    finally:
        _close(drive, client)
    assert response.is_success()
    assert response.attempts() == 3
    span = lazy.call_span()
    attempts = lazy.attempt_spans(span)
    attributes = [dict(a.attributes or {}) for a in attempts]
    assert [found["protoreq.attempt"] for found in attributes] == [1, 2, 3]
    assert [found["rpc.response.status_code"] for found in attributes] == [
        "UNAVAILABLE",
        "UNAVAILABLE",
        "OK",
    ]
    assert [a.status.status_code for a in attempts] == [
        StatusCode.ERROR,
        StatusCode.ERROR,
        StatusCode.UNSET,
    ]
    first, second, _ = attempts
    assert span.start_time is not None
    assert first.start_time is not None
    assert first.end_time is not None
    assert second.start_time is not None
    assert span.start_time <= first.start_time < first.end_time <= second.start_time
    # attempt 1 carried the call span's context; the later ones their own
    sent = [dict(pairs)["traceparent"] for pairs in service.metadata]
    assert sent == [traceparent(span), traceparent(attempts[1]), traceparent(attempts[2])]
    points = {
        p.attributes["grpc.status"]: p.count for p in lazy.points("grpc.client.attempt.duration")
    }
    assert points == {"UNAVAILABLE": 2, "OK": 1}


def test_a_hedge_opens_the_first_attempts_span_while_it_still_runs(
    lazy: Telemetry, send: Any
) -> None:
    users = ScriptedUsers(script=[Answer(sleep=3.0)])
    policy = HedgingPolicy(max_attempts=3, hedging_delay=0.1)
    with (
        serving(users) as target,
        GrpcClient(target, hedging=policy, interceptors=[lazy.interceptor]) as client,
    ):
        response = send(client, GetUser())
    assert response.is_success()
    assert response.attempts() == 2
    call = lazy.call_span()
    attempts = lazy.attempt_spans(call)
    codes = {
        dict(a.attributes or {})["protoreq.attempt"]: dict(a.attributes or {})[
            "rpc.response.status_code"
        ]
        for a in attempts
    }
    assert codes == {1: grpc.StatusCode.CANCELLED.name, 2: grpc.StatusCode.OK.name}
    first, second = attempts
    assert first.start_time is not None
    assert second.start_time is not None
    assert first.end_time is not None
    assert second.end_time is not None
    assert first.start_time < second.start_time  # written late, dated when it started
    assert first.end_time >= second.start_time  # it was still running when the hedge went


def test_attempt_spans_takes_always_or_retried() -> None:
    with pytest.raises(ValueError, match="attempt_spans must be 'always' or 'retried'"):
        OpenTelemetryInterceptor(attempt_spans="never")  # type: ignore[arg-type]
    assert "attempt_spans" not in repr(OpenTelemetryInterceptor())
