"""ServiceDiscoveryGrpcClient on a real etcd: calls follow registrations as they come and go.

The servers are real grpcio servers on 127.0.0.1 that count the calls they
answer; they announce themselves with ``EtcdServiceRegistry.register`` as a
Python service would (the layout Go's ``naming/endpoints`` reads too). Every
behaviour runs through ``call()`` and ``call_async()``.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import grpc
import pytest

from protoreq import HedgingPolicy, ServiceDiscoveryGrpcClient
from protoreq.discovery import EtcdServiceRegistry
from tests.discovery.etcd_server import EtcdServer
from tests.endpoints.conftest import Backend, backends
from tests.hedging.slow_server import Answer, ScriptedUsers, serving
from tests.resilience.requests import GetUser
from tests.runtime.conftest import Send, send

__all__ = ["backends", "send"]

pytestmark = pytest.mark.timeout(60)

USERS = "user.UserService"


def _until(condition: Callable[[], bool], within: float = 5.0) -> float:
    """Seconds until ``condition`` held; fails after ``within``."""
    started = time.monotonic()
    while not condition():
        assert time.monotonic() - started < within, "condition not reached in time"
        time.sleep(0.01)
    return time.monotonic() - started


def test_calls_follow_registrations_and_removals(
    send: Send, etcd: EtcdServer, prefix: str, backends: list[Backend]
) -> None:
    first, second, third = backends
    with EtcdServiceRegistry(etcd.endpoint, prefix=prefix) as registry:
        registry.register(USERS, first.address, ttl=5)
        registry.register(USERS, second.address, ttl=5)
        with ServiceDiscoveryGrpcClient(registry, timeout=10) as services:
            client = services.get_client(USERS)
            assert all(send(client, GetUser()).is_success() for _ in range(10))
            assert (first.hits, second.hits) == (5, 5)  # round robin over the live two

            registry.register(USERS, third.address, ttl=5)
            took = _until(lambda: send(client, GetUser()).is_success() and third.hits > 0)
            assert took < 3.0  # "within a second" idle; generous on a busy machine

            registry.deregister(USERS, first.address)
            _until(lambda: first.address not in _live(services))
            before = first.hits
            assert all(send(client, GetUser()).is_success() for _ in range(10))
            assert first.hits == before  # no new calls once removed


def test_no_live_endpoint_answers_unavailable_then_recovers(
    send: Send, etcd: EtcdServer, prefix: str, backends: list[Backend]
) -> None:
    with (
        EtcdServiceRegistry(etcd.endpoint, prefix=prefix) as registry,
        ServiceDiscoveryGrpcClient(registry, timeout=10) as services,
    ):
        client = services.get_client(USERS)
        empty = send(client, GetUser(timeout=0.5))
        assert empty.status_code() is grpc.StatusCode.UNAVAILABLE
        assert USERS in empty.details()

        registry.register(USERS, backends[0].address, ttl=5)
        recovered = send(client, GetUser(timeout=5))  # the default retry waits for an endpoint
        assert recovered.is_success(), recovered
        assert backends[0].hits == 1


def test_hedges_go_to_another_registered_endpoint(
    send: Send, etcd: EtcdServer, prefix: str, backends: list[Backend]
) -> None:
    slow_users = ScriptedUsers(default=Answer(sleep=3.0))
    fast = backends[0]
    policy = HedgingPolicy(max_attempts=2, hedging_delay=0.05)
    with serving(slow_users) as slow, EtcdServiceRegistry(etcd.endpoint, prefix=prefix) as registry:
        registry.register(USERS, slow, ttl=5)
        registry.register(USERS, fast.address, ttl=5)
        with ServiceDiscoveryGrpcClient(registry, timeout=10, hedging=policy) as services:
            client = services.get_client(USERS)
            _until(lambda: len(_live(services)) == 2)
            for _ in range(4):  # round robin starts some calls on the slow endpoint
                started = time.monotonic()
                response = send(client, GetUser())
                assert response.is_success()
                assert time.monotonic() - started < 1.5  # never the slow answer
    assert slow_users.count() >= 1
    assert fast.hits == 4
    assert all(arrival.cancelled.wait(5) for arrival in slow_users.arrivals)


def _live(services: ServiceDiscoveryGrpcClient) -> set[str]:
    """The addresses the service's client balances over now."""
    endpoints = services.get_client(USERS)._channels
    return {endpoint.address for endpoint in endpoints._live}  # type: ignore[union-attr]
