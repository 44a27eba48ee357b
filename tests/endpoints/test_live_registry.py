"""A live registry feeds protoreq's balancing: calls follow the addresses as they change."""

from __future__ import annotations

import threading
import time
from typing import Any

import grpc
import pytest

from protoreq import (
    NO_RETRY,
    GrpcClient,
    GrpcResponse,
    LiveServiceRegistry,
    ServiceDiscoveryGrpcClient,
)
from protoreq.transport.calls import Transport
from protoreq.transport.endpoints import EndpointSet, EndpointTransport
from tests.endpoints.conftest import Backend, HandLiveRegistry
from tests.resilience.requests import CreateUser, GetProduct, GetUser
from tests.runtime.conftest import Send

pytestmark = pytest.mark.timeout(60)

USERS = "user.UserService"


def test_the_hand_registry_is_a_live_registry(registry: HandLiveRegistry) -> None:
    assert isinstance(registry, LiveServiceRegistry)


def test_round_robin_spreads_over_live_endpoints(
    send: Send, registry: HandLiveRegistry, backends: list[Backend]
) -> None:
    registry.set(USERS, *(backend.address for backend in backends))
    with ServiceDiscoveryGrpcClient(registry, timeout=10) as services:
        client = services.get_client(USERS)
        responses = [send(client, GetUser(f"u-{turn}")) for turn in range(30)]

    assert all(response.is_success() for response in responses)
    assert [backend.hits for backend in backends] == [10, 10, 10]


def test_an_added_endpoint_gets_calls_at_once(
    send: Send, registry: HandLiveRegistry, backends: list[Backend]
) -> None:
    first, added, _ = backends
    registry.set(USERS, first.address)
    with ServiceDiscoveryGrpcClient(registry, timeout=10) as services:
        client = services.get_client(USERS)
        assert send(client, GetUser()).is_success()
        registry.set(USERS, first.address, added.address)
        changed = time.monotonic()
        calls = 0
        while added.hits == 0 and calls < 10:
            assert send(client, GetUser()).is_success()
            calls += 1
        took = time.monotonic() - changed

    assert added.hits == 1
    assert calls <= 2  # round robin: the next call or the one after
    assert took < 5.0  # "within a second" on an idle machine; generous for a busy one


def test_a_removed_endpoint_gets_no_new_calls_and_its_call_in_flight_completes(
    send: Send, registry: HandLiveRegistry, backends: list[Backend]
) -> None:
    old, new, _ = backends
    registry.set(USERS, old.address)
    with ServiceDiscoveryGrpcClient(registry, timeout=10) as services:
        client = services.get_client(USERS)
        endpoints = _endpoint_set(client)
        slow: list[GrpcResponse[Any]] = []
        in_flight = threading.Thread(target=lambda: slow.append(send(client, GetUser("slow:1.0"))))
        in_flight.start()
        _wait_until(lambda: old.hits == 1)
        retired = endpoints._live[0]
        registry.set(USERS, new.address)
        quick = [send(client, GetUser(f"u-{turn}")) for turn in range(5)]
        channels_open_meanwhile = not retired.channels.closed
        in_flight.join(10)

        assert [response.is_success() for response in quick] == [True] * 5
        assert (old.hits, new.hits) == (1, 5)
        (finished,) = slow
        assert finished.is_success(), finished
        assert channels_open_meanwhile
        _wait_until(lambda: retired.channels.closed)  # its last call ended: closed


def test_no_endpoint_answers_unavailable_naming_the_service_then_recovers(
    send: Send, registry: HandLiveRegistry, backends: list[Backend]
) -> None:
    with ServiceDiscoveryGrpcClient(registry, timeout=10) as services:
        client = services.get_client(USERS)
        refused = send(client, CreateUser())  # not idempotent: one attempt
        assert refused.status_code() == grpc.StatusCode.UNAVAILABLE
        assert f"no live endpoint for {USERS}" in refused.details()

        later: list[GrpcResponse[Any]] = []
        waiting = threading.Thread(target=lambda: later.append(send(client, GetUser())))
        waiting.start()
        time.sleep(0.3)
        registry.set(USERS, backends[0].address)
        waiting.join(15)

    (recovered,) = later
    assert recovered.is_success(), recovered
    assert recovered.attempts() >= 2  # the default retry policy took it over the gap
    assert backends[0].hits == 1


def test_pick_first_sends_everything_to_the_first_and_moves_on_when_it_goes(
    send: Send, registry: HandLiveRegistry, backends: list[Backend]
) -> None:
    first, second, _ = backends
    registry.set(USERS, first.address, second.address)
    with ServiceDiscoveryGrpcClient(registry, load_balancing="pick_first") as services:
        client = services.get_client(USERS)
        assert all(send(client, GetUser()).is_success() for _ in range(6))
        registry.set(USERS, second.address)
        assert all(send(client, GetUser()).is_success() for _ in range(4))

    assert (first.hits, second.hits) == (6, 4)


def test_pick_first_moves_on_after_unavailable(
    send: Send, registry: HandLiveRegistry, backends: list[Backend]
) -> None:
    from tests.support.servers import unused_port  # noqa: PLC0415

    dead = f"127.0.0.1:{unused_port()}"
    registry.set(USERS, dead, backends[0].address)
    with ServiceDiscoveryGrpcClient(registry, load_balancing="pick_first") as services:
        client = services.get_client(USERS)
        failed = send(client, GetUser(retry=NO_RETRY))
        after = [send(client, GetUser(retry=NO_RETRY)) for _ in range(3)]

    assert failed.status_code() == grpc.StatusCode.UNAVAILABLE
    assert all(response.is_success() for response in after)
    assert backends[0].hits == 3


def test_clients_are_kept_per_service_and_close_ends_subscriptions(
    registry: HandLiveRegistry, backends: list[Backend]
) -> None:
    registry.set(USERS, backends[0].address)
    registry.set("catalog.ProductService", backends[1].address)
    services = ServiceDiscoveryGrpcClient(registry, timeout=10)
    assert services.call(GetUser()).is_success()
    assert services.call(GetProduct()).is_success()
    users = services.get_client(USERS)
    assert users is not services.get_client("catalog.ProductService")
    assert users.target == USERS
    assert (backends[0].hits, backends[1].hits) == (1, 1)
    services.close()

    assert sorted(registry.closed_subscriptions) == ["catalog.ProductService", USERS]


def test_a_plain_target_goes_to_grpcio_unchanged(target: str) -> None:
    with GrpcClient(target) as plain, GrpcClient(target, load_balancing="round_robin") as lb:
        assert type(plain._transport) is Transport
        assert type(lb._transport) is Transport
    with GrpcClient(f"ipv4:{target}", outlier_ejection=_ejection()) as balanced:
        assert type(balanced._transport) is EndpointTransport


def test_settings_protoreq_cannot_honour_raise_at_once() -> None:
    with pytest.raises(ValueError, match="resolve_every"):
        GrpcClient("unix:/run/users.sock", resolve_every=5.0)
    with pytest.raises(ValueError, match="fixed address list"):
        GrpcClient("ipv4:127.0.0.1:1,127.0.0.1:2", resolve_every=5.0)
    with pytest.raises(ValueError, match="resolve_every must be positive"):
        GrpcClient("dns:///localhost:1", resolve_every=0)
    with pytest.raises(ValueError, match="no DNS server authority"):
        GrpcClient("dns://8.8.8.8/localhost:1", resolve_every=1.0)


def test_resolve_every_with_a_live_registry_is_refused_at_once(registry: HandLiveRegistry) -> None:
    with pytest.raises(ValueError, match="a live registry pushes changes"):
        ServiceDiscoveryGrpcClient(registry, resolve_every=5.0)


def _ejection() -> Any:
    from protoreq import OutlierEjection  # noqa: PLC0415

    return OutlierEjection()


def _endpoint_set(client: GrpcClient) -> EndpointSet:
    endpoints = client._channels
    assert isinstance(endpoints, EndpointSet)
    return endpoints


def _wait_until(condition: Any, seconds: float = 10.0) -> None:
    until = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < until, "condition not met in time"
        time.sleep(0.01)
