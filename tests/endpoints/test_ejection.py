"""Outlier ejection: an endpoint whose calls keep failing UNAVAILABLE is skipped for a while."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import grpc
import pytest

from protoreq import GrpcClient, GrpcResponse, OutlierEjection
from protoreq.outliers import EndpointHealth
from tests.endpoints.conftest import Backend
from tests.endpoints.processes import ServerProcess
from tests.resilience.requests import GetUser
from tests.runtime.conftest import Send
from tests.support.call_log import CallLog
from tests.support.servers import example_services, serve, unused_port

pytestmark = pytest.mark.timeout(90)

FAST_RECONNECT = [
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 200),
]


@pytest.fixture
def killed(compiled_protos: Path) -> ServerProcess:
    """A server that ran in its own process and was SIGKILLed: its port refuses connections."""
    process = ServerProcess(compiled_protos)
    process.kill()
    return process


def test_a_dead_endpoint_is_ejected_then_tried_again_after_its_interval(
    send: Send, backends: list[Backend], killed: ServerProcess
) -> None:
    first, second, _ = backends
    policy = OutlierEjection(consecutive_failures=2, base_ejection=1.5, max_ejection=6.0)
    target = f"ipv4:{first.address},{killed.address},{second.address}"
    with GrpcClient(
        target, outlier_ejection=policy, retry=None, timeout=5, options=FAST_RECONNECT
    ) as client:
        outcomes: list[tuple[float, GrpcResponse[Any]]] = []
        for turn in range(30):
            outcomes.append((time.monotonic(), send(client, GetUser(f"u-{turn}"))))
        failed = [(at, response) for at, response in outcomes if not response.is_success()]
        assert [response.status_code() for _, response in failed] == [
            grpc.StatusCode.UNAVAILABLE
        ] * 2  # round robin reached it twice; then it got no call
        assert first.hits + second.hits == 28
        ejected_at = failed[-1][0]  # the second failure started before its ejection

        revived = CallLog()
        with serve(*example_services(revived), port=killed.port):
            until = time.monotonic() + 20
            while not revived.calls and time.monotonic() < until:
                send(client, GetUser())
                time.sleep(0.02)
            first_call_again = revived.calls[0] if revived.calls else None
            came_back_at = time.monotonic()

    assert first_call_again is not None, "the ejected endpoint was never tried again"
    assert came_back_at - ejected_at >= policy.base_ejection - 0.1


def test_when_every_endpoint_fails_the_first_one_back_takes_the_calls_at_once(
    send: Send,
) -> None:
    """The last endpoint not ejected is never ejected: ejections are lifted instead, so an
    endpoint ejected for a minute serves as soon as it is back if no other can."""
    ports = [unused_port(), unused_port()]
    target = "ipv4:" + ",".join(f"127.0.0.1:{port}" for port in ports)
    policy = OutlierEjection(consecutive_failures=1, base_ejection=60.0, max_ejection=60.0)
    with GrpcClient(
        target, outlier_ejection=policy, retry=None, timeout=5, options=FAST_RECONNECT
    ) as client:
        down = [send(client, GetUser()) for _ in range(4)]  # the first is ejected for a minute
        assert {response.status_code() for response in down} == {grpc.StatusCode.UNAVAILABLE}
        revived = CallLog()
        with serve(*example_services(revived), port=ports[0]):
            successes, until = 0, time.monotonic() + 20
            while successes < 5 and time.monotonic() < until:
                successes += send(client, GetUser()).is_success()
                time.sleep(0.02)

    assert successes == 5
    assert len(revived.calls) == 5


def test_a_success_clears_the_record_and_probation_doubles_the_ejection() -> None:
    policy = OutlierEjection(consecutive_failures=2, base_ejection=1.0, max_ejection=3.0)
    health = EndpointHealth()
    health.record(grpc.StatusCode.UNAVAILABLE)
    health.record(grpc.StatusCode.NOT_FOUND)  # the server answered: it is up
    health.record(grpc.StatusCode.UNAVAILABLE)
    assert not health.due(policy)
    health.record(grpc.StatusCode.DEADLINE_EXCEEDED)  # says nothing about the endpoint
    health.record(grpc.StatusCode.UNAVAILABLE)
    assert health.due(policy)
    assert [health.eject(policy, 0.0) for _ in range(3)] == [1.0, 2.0, 3.0]  # capped
    assert health.due(policy)  # on probation: one more UNAVAILABLE ejects it again
    health.record(grpc.StatusCode.OK)
    assert health.clean()


@pytest.mark.parametrize(
    ("keywords", "message"),
    [
        ({"consecutive_failures": 0}, "consecutive_failures must be at least 1"),
        ({"base_ejection": 0.0}, "base_ejection must be positive"),
        ({"base_ejection": 10.0, "max_ejection": 5.0}, "must be at least base_ejection"),
    ],
)
def test_a_policy_that_cannot_work_is_refused(keywords: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        OutlierEjection(**keywords)
