"""The one retry decision, without servers: jitter bounds, pushback, budget arithmetic."""

from __future__ import annotations

import statistics
from typing import Any

import grpc
import pytest
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2

from protoreq import GrpcResponse, RetryPolicy, RetryThrottle
from protoreq.metadata import Metadata
from protoreq.retry import RetryBudget, RetryDecision, decide_retry, server_pushback

POLICY = RetryPolicy(max_attempts=10, initial_backoff=0.1, max_backoff=1.0, backoff_multiplier=2)


def failed(
    code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE,
    trailing: tuple[tuple[str, str | bytes], ...] = (),
) -> GrpcResponse[Any]:
    return GrpcResponse(
        method_path="/user.UserService/GetUser", code=code, trailing_metadata=Metadata(trailing)
    )


def decide(
    response: GrpcResponse[Any],
    *,
    attempt: int = 1,
    since: int = 0,
    remaining: float | None = None,
    budget: RetryBudget | None = None,
    policy: RetryPolicy | None = POLICY,
) -> RetryDecision:
    return decide_retry(
        policy,
        response,
        attempt=attempt,
        retries_since_pushback=since,
        remaining=remaining,
        budget=budget,
    )


@pytest.mark.parametrize(("retry", "ceiling"), [(1, 0.1), (2, 0.2), (3, 0.4), (4, 0.8), (5, 1.0)])
def test_full_jitter_stays_within_the_exponential_ceiling(retry: int, ceiling: float) -> None:
    assert POLICY.backoff_ceiling(retry) == pytest.approx(ceiling)
    delays = []
    for _ in range(2000):
        decision = decide(failed(), attempt=retry, since=retry - 1)
        assert decision.delay is not None
        delays.append(decision.delay)
    assert 0 <= min(delays) < ceiling * 0.05  # full jitter reaches down to zero
    assert ceiling * 0.95 < max(delays) <= ceiling
    assert statistics.fmean(delays) == pytest.approx(ceiling / 2, rel=0.1)


def test_stops_when_the_next_sleep_would_pass_the_deadline() -> None:
    for _ in range(200):
        decision = decide(failed(), attempt=3, since=2, remaining=0.15)
        assert decision.delay is None or decision.delay < 0.15
    assert decide(failed(), remaining=0.0).delay is None
    assert "deadline" in decide(failed(), remaining=0.0).reason


def test_outcomes_that_end_the_call() -> None:
    assert decide(failed(grpc.StatusCode.OK)).reason == "succeeded"
    assert decide(failed(grpc.StatusCode.NOT_FOUND)).reason == "NOT_FOUND is not retryable"
    assert decide(failed(), policy=None).delay is None
    assert decide(failed(), attempt=10).reason == "all 10 attempts made"


def test_pushback_header_wins_and_resets_the_backoff() -> None:
    response = failed(trailing=(("grpc-retry-pushback-ms", "1500"),))
    assert server_pushback(response) == 1.5
    decision = decide(response, attempt=5, since=4)
    assert decision.delay == 1.5
    assert decision.pushed_back
    assert decision.reason == "server pushback"
    assert server_pushback(failed(trailing=(("grpc-retry-pushback-ms", "-5"),))) == -1.0
    assert decide(failed(trailing=(("grpc-retry-pushback-ms", "x"),))).delay is None


def test_retry_info_detail_is_read() -> None:
    delay = duration_pb2.Duration(seconds=2, nanos=500_000_000)
    detail = any_pb2.Any()
    detail.Pack(error_details_pb2.RetryInfo(retry_delay=delay))
    status = status_pb2.Status(code=14, message="busy", details=[detail])
    response = failed(trailing=(("grpc-status-details-bin", status.SerializeToString()),))
    assert server_pushback(response) == 2.5
    assert decide(response).delay == 2.5
    assert decide(response, remaining=2.0).delay is None


def test_budget_follows_grfc_a6() -> None:
    budget = RetryBudget(RetryThrottle(max_tokens=10, token_ratio=0.5))
    assert [budget.record_failure() for _ in range(6)] == [True] * 4 + [False] * 2
    assert budget.tokens == 4
    for _ in range(3):
        budget.record_success()
    assert budget.tokens == 5.5
    assert budget.allows_retries()
    for _ in range(20):
        budget.record_failure()
    assert budget.tokens == 0  # never below zero
    for _ in range(100):
        budget.record_success()
    assert budget.tokens == 10  # never above max_tokens
    assert "tokens=10" in repr(budget)


def test_non_retryable_failures_leave_the_budget_alone() -> None:
    budget = RetryBudget(RetryThrottle())
    decide(failed(grpc.StatusCode.INVALID_ARGUMENT), budget=budget)
    decide(failed(), budget=budget, policy=None)
    assert budget.tokens == 10
    decide(failed(), budget=budget)
    assert budget.tokens == 9


def test_config_objects_validate_and_print() -> None:
    with pytest.raises(ValueError, match="max_tokens"):
        RetryThrottle(max_tokens=0)
    with pytest.raises(ValueError, match="token_ratio"):
        RetryThrottle(token_ratio=0)
    with pytest.raises(ValueError, match="OK"):
        RetryPolicy(retryable_status_codes=[grpc.StatusCode.OK])
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    assert repr(RetryThrottle()) == "RetryThrottle(max_tokens=10.0, token_ratio=0.1)"
    assert "retryable_status_codes={UNAVAILABLE}" in repr(RetryPolicy())
    assert RetryPolicy(max_attempts=2) == RetryPolicy(max_attempts=2)
