"""Connections as the server sees them: pools spread calls, sharing is explicit and counted."""

from __future__ import annotations

import asyncio
from collections import Counter
from collections.abc import Iterator

import pytest

from protoreq import ClientClosedError, GrpcClient
from protoreq.transport.channels import _SHARED_CHANNELS
from tests.resilience.faults import FaultyUserService, serve_on
from tests.resilience.requests import GetUser
from tests.runtime.conftest import Send


@pytest.fixture
def service() -> FaultyUserService:
    return FaultyUserService()


@pytest.fixture
def target(service: FaultyUserService) -> Iterator[str]:
    with serve_on(service.handlers()) as port:
        yield f"127.0.0.1:{port}"


def test_pool_of_four_is_four_connections_used_round_robin(
    send: Send, target: str, service: FaultyUserService
) -> None:
    with GrpcClient(target, pool_size=4) as client:
        for _ in range(16):
            assert send(client, GetUser()).is_success()

    per_peer = Counter(arrival.peer for arrival in service.arrivals)
    assert len(per_peer) == 4
    assert set(per_peer.values()) == {4}


async def test_pool_serves_concurrent_async_calls(target: str, service: FaultyUserService) -> None:
    async with GrpcClient(target, pool_size=4) as client:
        responses = await asyncio.gather(*(client.call_async(GetUser()) for _ in range(40)))

    assert all(response.is_success() for response in responses)
    assert len(service.peers()) == 4


def test_each_client_owns_its_connection(target: str, service: FaultyUserService) -> None:
    with GrpcClient(target) as first, GrpcClient(target) as second:
        assert first.call(GetUser()).is_success()
        assert second.call(GetUser()).is_success()
        assert first.call(GetUser()).is_success()

    assert len(service.peers()) == 2


def test_shared_channels_are_one_connection_closed_by_the_last_client(
    send: Send, target: str, service: FaultyUserService
) -> None:
    first = GrpcClient(target, share_channels=True, timeout=5)
    second = GrpcClient(target, share_channels=True, timeout=9)  # per-call settings may differ
    sets_before = len(_SHARED_CHANNELS)
    assert send(first, GetUser()).is_success()
    assert send(second, GetUser()).is_success()
    assert len(service.peers()) == 1

    first.close()
    with pytest.raises(ClientClosedError):
        send(first, GetUser())
    assert send(second, GetUser()).is_success()  # first's close() left the channel open
    assert len(service.peers()) == 1
    second.close()
    assert len(_SHARED_CHANNELS) == sets_before  # the last holder closed it


def test_sharing_needs_equal_settings(target: str, service: FaultyUserService) -> None:
    with (
        GrpcClient(target, share_channels=True) as plain,
        GrpcClient(target, share_channels=True, max_receive_message_length=1 << 20) as other,
        GrpcClient(target, share_channels=True, pool_size=2) as pooled,
        GrpcClient(target) as unshared,
    ):
        for client in (plain, other, pooled, pooled, unshared):
            assert client.call(GetUser()).is_success()

    assert len(service.peers()) == 5


def test_shared_pool_is_shared_whole(target: str, service: FaultyUserService) -> None:
    with (
        GrpcClient(target, share_channels=True, pool_size=3) as first,
        GrpcClient(target, share_channels=True, pool_size=3) as second,
    ):
        for _ in range(6):
            assert first.call(GetUser()).is_success()
            assert second.call(GetUser()).is_success()

    assert len(service.peers()) == 3


async def test_async_clients_share_per_event_loop(target: str, service: FaultyUserService) -> None:
    first = GrpcClient(target, share_channels=True)
    second = GrpcClient(target, share_channels=True)
    assert (await first.call_async(GetUser())).is_success()
    assert (await second.call_async(GetUser())).is_success()
    await first.aclose()
    assert (await second.call_async(GetUser())).is_success()
    await second.aclose()

    assert len(service.peers()) == 1


def test_client_repr_says_how_it_connects(target: str) -> None:
    client = GrpcClient(target, pool_size=2, share_channels=True)
    text = repr(client)
    client.close()
    assert "pool_size=2, shared channels" in text
    assert "secure=False" in text
