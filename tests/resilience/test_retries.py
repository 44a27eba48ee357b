"""Retries against real fault-injecting servers, through call() and call_async() alike."""

from __future__ import annotations

import logging
import time

import grpc
import pytest

from protoreq import NO_RETRY, GrpcClient, RetryPolicy, RetryThrottle
from tests.resilience.faults import Fault, FaultyUserService, serve_on
from tests.resilience.requests import CreateUser, GetUser
from tests.runtime.conftest import Send
from tests.support.servers import unused_port

# Ceilings 0.1, 0.2, 0.4 s: long enough to measure, short enough for a fast suite.
MEASURED = RetryPolicy(max_attempts=4, initial_backoff=0.1, max_backoff=0.4, backoff_multiplier=2)
QUICK = RetryPolicy(max_attempts=5, initial_backoff=0.001, max_backoff=0.002)
SLACK = 0.15  # a round trip plus scheduling on a busy 2-core machine


def retry_decisions(caplog: pytest.LogCaptureFixture) -> list[tuple[str, float]]:
    """(reason, delay in ms) of each retry protoreq decided on, from its DEBUG records.

    A delay is asserted on as decided, exactly; the server-side gaps only show that the
    client waited at least that long (how much longer is the busy machine's scheduling).
    """
    return [
        (record.__dict__["rpc_retry_reason"], record.__dict__["rpc_retry_delay_ms"])
        for record in caplog.records
        if record.__dict__.get("rpc_retry_delay_ms") is not None
    ]


def test_unavailable_then_success_is_retried_with_bounded_backoff(
    send: Send, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="protoreq")
    service = FaultyUserService(faults=[Fault(), Fault(), Fault()])
    with (
        serve_on(service.handlers()) as port,
        GrpcClient(f"127.0.0.1:{port}", retry=MEASURED) as client,
    ):
        response = send(client, GetUser())

    assert response.is_success(), response
    assert response.attempts() == 4
    assert service.calls == 4
    assert response.message().id == "answer-4"
    decisions = retry_decisions(caplog)
    assert [reason for reason, _ in decisions] == ["backoff"] * 3
    for retry, ((_, delay_ms), gap) in enumerate(zip(decisions, service.gaps(), strict=True), 1):
        assert 0 <= delay_ms <= MEASURED.backoff_ceiling(retry) * 1000, (retry, decisions)
        assert gap >= delay_ms / 1000, (retry, service.gaps())


def test_attempts_run_out(send: Send) -> None:
    service = FaultyUserService(always=Fault(details="still down"))
    with (
        serve_on(service.handlers()) as port,
        GrpcClient(f"127.0.0.1:{port}", retry=QUICK) as client,
    ):
        response = send(client, GetUser())

    assert response.status_code() is grpc.StatusCode.UNAVAILABLE
    assert response.details() == "still down"
    assert response.attempts() == service.calls == QUICK.max_attempts


@pytest.mark.parametrize(
    "code", [grpc.StatusCode.NOT_FOUND, grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.INTERNAL]
)
def test_non_retryable_code_is_not_retried(send: Send, code: grpc.StatusCode) -> None:
    service = FaultyUserService(faults=[Fault(code=code)])
    with (
        serve_on(service.handlers()) as port,
        GrpcClient(f"127.0.0.1:{port}", retry=QUICK) as client,
    ):
        response = send(client, GetUser())

    assert response.status_code() is code
    assert response.attempts() == service.calls == 1


def test_policy_chooses_its_codes(send: Send) -> None:
    service = FaultyUserService(faults=[Fault(code=grpc.StatusCode.RESOURCE_EXHAUSTED)])
    policy = RetryPolicy(
        max_attempts=3,
        initial_backoff=0.001,
        retryable_status_codes={grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.RESOURCE_EXHAUSTED},
    )
    with serve_on(service.handlers()) as port, GrpcClient(f"127.0.0.1:{port}") as client:
        response = send(client, GetUser(retry=policy))

    assert response.is_success()
    assert response.attempts() == 2


def test_non_idempotent_rpc_is_not_retried_by_default(send: Send) -> None:
    service = FaultyUserService(faults=[Fault()])
    with (
        serve_on(service.handlers()) as port,
        GrpcClient(f"127.0.0.1:{port}", retry=QUICK) as client,
    ):
        response = send(client, CreateUser())

    assert response.status_code() is grpc.StatusCode.UNAVAILABLE
    assert response.attempts() == service.calls == 1


def test_non_idempotent_rpc_is_retried_when_the_request_opts_in(send: Send) -> None:
    service = FaultyUserService(faults=[Fault(), Fault()])
    with serve_on(service.handlers()) as port, GrpcClient(f"127.0.0.1:{port}") as client:
        response = send(client, CreateUser(retry=QUICK))

    assert response.is_success()
    assert response.attempts() == service.calls == 3


def test_request_can_opt_out_and_client_can_disable(send: Send) -> None:
    service = FaultyUserService(always=Fault())
    with serve_on(service.handlers()) as port:
        target = f"127.0.0.1:{port}"
        with GrpcClient(target, retry=QUICK) as client:
            assert send(client, GetUser(retry=NO_RETRY)).attempts() == 1
            assert send(client, GetUser(retry=None)).attempts() == 1
        with GrpcClient(target, retry=None) as client:
            assert send(client, GetUser()).attempts() == 1
    assert service.calls == 3


def test_overall_deadline_caps_total_retry_time(send: Send) -> None:
    service = FaultyUserService(always=Fault(sleep=0.02))
    patient = RetryPolicy(max_attempts=1000, initial_backoff=0.05, max_backoff=0.1)
    with (
        serve_on(service.handlers()) as port,
        GrpcClient(f"127.0.0.1:{port}", retry=patient, retry_throttle=None) as client,
    ):
        started = time.monotonic()
        response = send(client, GetUser(timeout=0.6))
        took = time.monotonic() - started

    assert response.status_code() in {
        grpc.StatusCode.UNAVAILABLE,
        grpc.StatusCode.DEADLINE_EXCEEDED,
    }
    # The last attempt can start just before the deadline and expire on its way, before the
    # server's handler counts it: the client made it, the server never saw it.
    assert service.calls <= response.attempts() <= service.calls + 1
    assert response.attempts() >= 4
    assert 0.4 < took < 0.6 + SLACK  # the deadline, not max_attempts, ended the call
    # no attempt started after the deadline (allowing for its trip to the server)
    assert all(arrival.at < started + 0.6 + SLACK / 3 for arrival in service.arrivals)


def test_each_attempt_gets_only_the_remaining_time(send: Send) -> None:
    service = FaultyUserService(faults=[Fault(sleep=0.3)])
    with (
        serve_on(service.handlers()) as port,
        GrpcClient(f"127.0.0.1:{port}", retry=QUICK) as client,
    ):
        response = send(client, GetUser(timeout=2.0))

    assert response.is_success()
    first, second = service.arrivals
    # grpc-timeout travels in the metadata the server sees as the call's deadline
    assert second.at - first.at >= 0.3
    assert response.elapsed() < 2.0


def test_server_pushback_sets_the_delay(send: Send, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="protoreq")
    service = FaultyUserService(faults=[Fault(pushback_ms="300")])
    with (
        serve_on(service.handlers()) as port,
        GrpcClient(f"127.0.0.1:{port}", retry=QUICK) as client,
    ):
        response = send(client, GetUser())

    assert response.is_success()
    assert response.attempts() == 2
    assert retry_decisions(caplog) == [("server pushback", 300.0)]
    (gap,) = service.gaps()
    assert gap >= 0.3


@pytest.mark.parametrize("pushback", ["-1", "soon"])
def test_server_pushback_can_forbid_retrying(send: Send, pushback: str) -> None:
    service = FaultyUserService(faults=[Fault(pushback_ms=pushback)])
    with (
        serve_on(service.handlers()) as port,
        GrpcClient(f"127.0.0.1:{port}", retry=QUICK) as client,
    ):
        response = send(client, GetUser())
        budget = client.retry_budget

    assert response.status_code() is grpc.StatusCode.UNAVAILABLE
    assert response.attempts() == service.calls == 1
    assert budget is not None
    assert budget.tokens == pytest.approx(9.0)  # a pushback refusal counts as a failure


def test_retry_info_sets_the_delay(send: Send, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG, logger="protoreq")
    service = FaultyUserService(faults=[Fault(retry_info_delay=0.25)])
    with (
        serve_on(service.handlers()) as port,
        GrpcClient(f"127.0.0.1:{port}", retry=QUICK) as client,
    ):
        response = send(client, GetUser())

    assert response.is_success()
    assert retry_decisions(caplog) == [("server pushback", 250.0)]
    (gap,) = service.gaps()
    assert gap >= 0.25


def test_pushback_past_the_deadline_answers_at_once(send: Send) -> None:
    service = FaultyUserService(faults=[Fault(pushback_ms="5000")])
    with (
        serve_on(service.handlers()) as port,
        GrpcClient(f"127.0.0.1:{port}", retry=QUICK) as client,
    ):
        started = time.monotonic()
        response = send(client, GetUser(timeout=1.0))
        took = time.monotonic() - started

    assert response.status_code() is grpc.StatusCode.UNAVAILABLE
    assert response.attempts() == 1
    assert took < 0.5


def test_budget_stops_a_retry_storm_against_a_failing_server(send: Send) -> None:
    """20 calls x 5 attempts would be 100; the A6 bucket allows 5 + 19 = 24."""
    service = FaultyUserService(always=Fault())
    with (
        serve_on(service.handlers()) as port,
        GrpcClient(
            f"127.0.0.1:{port}", retry=QUICK, retry_throttle=RetryThrottle(10, 0.1)
        ) as client,
    ):
        responses = [send(client, GetUser()) for _ in range(20)]
        budget = client.retry_budget

    attempts = [response.attempts() for response in responses]
    assert attempts == [5] + [1] * 19
    assert service.calls == 24
    assert budget is not None
    assert budget.tokens == 0
    assert not budget.allows_retries()


def test_without_budget_every_call_makes_every_attempt(send: Send) -> None:
    service = FaultyUserService(always=Fault())
    with (
        serve_on(service.handlers()) as port,
        GrpcClient(f"127.0.0.1:{port}", retry=QUICK, retry_throttle=None) as client,
    ):
        responses = [send(client, GetUser()) for _ in range(10)]

    assert sum(response.attempts() for response in responses) == service.calls == 50


def test_budget_bounds_attempts_against_a_dead_server(send: Send) -> None:
    with GrpcClient(
        f"127.0.0.1:{unused_port()}", retry=QUICK, retry_throttle=RetryThrottle(10, 0.1)
    ) as client:
        responses = [send(client, GetUser(timeout=0.5)) for _ in range(20)]

    # For the first RECONNECT_WINDOW (5 s) of the disconnection a failure costs no token
    # and its retry waits for a connection (until the 0.5 s deadline): never sent. Past
    # the window failures take tokens, the bucket is at half after 5, and calls fail at
    # once. Each call made one attempt, to the dead address.
    assert {response.status_code() for response in responses} == {grpc.StatusCode.UNAVAILABLE}
    assert sum(response.attempts() for response in responses) == 20
    assert all(response.elapsed() < 0.3 for response in responses[-3:])  # fail fast now


def test_budget_is_shared_by_sync_and_async_calls() -> None:
    import asyncio  # noqa: PLC0415

    service = FaultyUserService(always=Fault())
    with (
        serve_on(service.handlers()) as port,
        GrpcClient(
            f"127.0.0.1:{port}", retry=QUICK, retry_throttle=RetryThrottle(4, 0.1)
        ) as client,
    ):
        assert client.call(GetUser()).attempts() == 2  # 4 -> 3 -> 2: throttled at 2
        assert asyncio.run(client.call_async(GetUser())).attempts() == 1
        budget = client.retry_budget
    assert budget is not None
    assert budget.tokens == 1


def test_every_attempt_is_logged_with_its_number(
    send: Send, caplog: pytest.LogCaptureFixture
) -> None:
    service = FaultyUserService(faults=[Fault(), Fault()])
    caplog.set_level(logging.DEBUG, logger="protoreq")
    with (
        serve_on(service.handlers()) as port,
        GrpcClient(f"127.0.0.1:{port}", retry=QUICK) as client,
    ):
        response = send(client, GetUser())

    outcomes = [record for record in caplog.records if hasattr(record, "rpc_status")]
    assert [(r.__dict__["rpc_attempt"], r.__dict__["rpc_status"]) for r in outcomes] == [
        (1, "UNAVAILABLE"),
        (2, "UNAVAILABLE"),
        (3, "OK"),
    ]
    decisions = [record for record in caplog.records if hasattr(record, "rpc_retry_reason")]
    assert [r.__dict__["rpc_retry_reason"] for r in decisions] == ["backoff", "backoff"]
    assert response.attempts() == 3
