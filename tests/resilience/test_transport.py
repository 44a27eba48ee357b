"""Transport options as typed arguments, observed at real servers: compression, sizes, balancing."""

from __future__ import annotations

import json
from collections.abc import Iterator

import grpc
import pytest

from protoreq import NO_RETRY, GrpcClient
from tests.resilience.faults import FaultyUserService, serve_on
from tests.resilience.requests import GetUser
from tests.runtime.conftest import Send

IDENTITY_ONLY = [("grpc.compression_enabled_algorithms_bitset", 1)]
"""A server that refuses compressed requests: proof that a call really was gzip-compressed."""


@pytest.fixture
def identity_only_target() -> Iterator[str]:
    with serve_on(FaultyUserService().handlers(), options=IDENTITY_ONLY) as port:
        yield f"127.0.0.1:{port}"


@pytest.fixture
def target() -> Iterator[str]:
    with serve_on(FaultyUserService().handlers()) as port:
        yield f"127.0.0.1:{port}"


def test_client_gzip_compresses_every_call(send: Send, identity_only_target: str) -> None:
    with GrpcClient(
        identity_only_target, compression=grpc.Compression.Gzip, retry=NO_RETRY
    ) as client:
        response = send(client, GetUser())

    assert response.status_code() is grpc.StatusCode.UNIMPLEMENTED
    assert "gzip" in response.details()


def test_gzip_calls_succeed_where_the_server_accepts_gzip(send: Send, target: str) -> None:
    with GrpcClient(target, compression=grpc.Compression.Gzip) as client:
        assert send(client, GetUser("x" * 10_000)).is_success()
        assert send(client, GetUser(compression=grpc.Compression.NoCompression)).is_success()


def test_request_can_turn_gzip_on(send: Send, identity_only_target: str) -> None:
    with GrpcClient(identity_only_target, retry=NO_RETRY) as client:
        assert send(client, GetUser()).is_success()
        response = send(client, GetUser(compression=grpc.Compression.Gzip))

    assert response.status_code() is grpc.StatusCode.UNIMPLEMENTED


def test_request_can_turn_the_clients_gzip_off(send: Send, identity_only_target: str) -> None:
    with GrpcClient(identity_only_target, compression=grpc.Compression.Gzip) as client:
        response = send(client, GetUser(compression=grpc.Compression.NoCompression))

    assert response.is_success(), response


def test_max_receive_message_length(send: Send, target: str) -> None:
    with GrpcClient(target, max_receive_message_length=8, retry=NO_RETRY) as client:
        response = send(client, GetUser())

    assert response.status_code() is grpc.StatusCode.RESOURCE_EXHAUSTED


def test_keepalive_options_reach_the_channel_and_calls_work(send: Send, target: str) -> None:
    with GrpcClient(
        target, keepalive_time=10, keepalive_timeout=2.5, keepalive_permit_without_calls=True
    ) as client:
        options = dict(client._settings.grpc_options())
        assert send(client, GetUser()).is_success()

    assert options["grpc.keepalive_time_ms"] == 10_000
    assert options["grpc.keepalive_timeout_ms"] == 2_500
    assert options["grpc.keepalive_permit_without_calls"] == 1
    assert options["grpc.use_local_subchannel_pool"] == 1


def test_round_robin_spreads_calls_over_an_address_list(send: Send) -> None:
    first, second = FaultyUserService(), FaultyUserService()
    with serve_on(first.handlers()) as port_a, serve_on(second.handlers()) as port_b:
        target = f"ipv4:127.0.0.1:{port_a},127.0.0.1:{port_b}"
        with GrpcClient(target, load_balancing="round_robin") as client:
            # round_robin uses the READY addresses: wait (bounded) until both took a call
            for _ in range(50):
                assert send(client, GetUser()).is_success()
                if first.calls and second.calls:
                    break
            before = (first.calls, second.calls)
            for _ in range(10):
                assert send(client, GetUser()).is_success()
            balanced = (first.calls - before[0], second.calls - before[1])
        with GrpcClient(target) as client:  # grpcio's default: pick_first
            for _ in range(10):
                assert send(client, GetUser()).is_success()
        picked = (first.calls - before[0] - 5, second.calls - before[1] - 5)

    assert balanced == (5, 5)
    assert sorted(picked) == [0, 10]


def test_dns_resolver_target(send: Send, target: str) -> None:
    with GrpcClient(f"dns:///{target}") as client:
        assert send(client, GetUser()).is_success()


def test_load_balancing_is_validated_and_becomes_a_service_config() -> None:
    with pytest.raises(ValueError, match="unknown load_balancing"):
        GrpcClient("127.0.0.1:1", load_balancing="fastest")
    with pytest.raises(ValueError, match="both set the policy"):
        GrpcClient(
            "127.0.0.1:1",
            load_balancing="round_robin",
            options=[("grpc.service_config", "{}")],
        )
    with pytest.raises(ValueError, match="use_local_subchannel_pool"):
        GrpcClient("127.0.0.1:1", options=[("grpc.use_local_subchannel_pool", 0)])
    client = GrpcClient("127.0.0.1:1", load_balancing="round_robin")
    config = dict(client._settings.grpc_options())["grpc.service_config"]
    assert json.loads(str(config)) == {"loadBalancingConfig": [{"round_robin": {}}]}
    assert "load_balancing='round_robin'" in repr(client._settings)
    client.close()


def test_typed_options_are_validated() -> None:
    with pytest.raises(ValueError, match="keepalive_time must be positive"):
        GrpcClient("127.0.0.1:1", keepalive_time=0)
    with pytest.raises(ValueError, match="max_receive_message_length"):
        GrpcClient("127.0.0.1:1", max_receive_message_length=-1)
