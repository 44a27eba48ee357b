"""OpenTelemetry and hedging: one call span, one attempt span per hedge, the loser CANCELLED."""

from __future__ import annotations

from typing import Any

import grpc

from protoreq import GrpcClient, HedgingPolicy
from tests.hedging.slow_server import Answer, ScriptedUsers, serving
from tests.otel.conftest import Telemetry
from tests.resilience.requests import GetUser
from tests.runtime.conftest import send

__all__ = ["send"]


def test_each_hedge_is_an_attempt_span_under_the_call_span(telemetry: Telemetry, send: Any) -> None:
    users = ScriptedUsers(script=[Answer(sleep=3.0)])
    policy = HedgingPolicy(max_attempts=3, hedging_delay=0.1)
    with (
        serving(users) as target,
        GrpcClient(target, hedging=policy, interceptors=[telemetry.interceptor]) as client,
    ):
        response = send(client, GetUser())
    assert response.is_success()
    assert response.attempts() == 2
    call = telemetry.call_span()
    attempts = telemetry.attempt_spans(call)
    attributes = [dict(span.attributes or {}) for span in attempts]
    assert [found["protoreq.attempt"] for found in attributes] == [1, 2]
    codes = {found["protoreq.attempt"]: found["rpc.response.status_code"] for found in attributes}
    assert codes == {1: grpc.StatusCode.CANCELLED.name, 2: grpc.StatusCode.OK.name}
    assert all(span.end_time is not None for span in attempts)
    # each hedge carried its own attempt span's context to the server
    assert len({span.context.span_id for span in attempts}) == 2
