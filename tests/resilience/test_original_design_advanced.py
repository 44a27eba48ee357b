# mypy: allow-untyped-calls
"""The original design's "Configuración Avanzada" examples, run unchanged against protoreq.

``PooledGrpcService``, ``RetryableGrpcRequest`` and ``ServiceDiscoveryGrpcClient``
are the design's own, from :mod:`tests.original.design`. Each is compared here
with the protoreq feature that covers the same need.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from protoreq import (
    NO_RETRY,
    ClientClosedError,
    EnvServiceRegistry,
    GrpcClient,
    StaticServiceRegistry,
)
from protoreq import ServiceDiscoveryGrpcClient as ProtoreqServiceDiscoveryGrpcClient
from tests.original.design import (
    GetProductGrpcRequest,
    GetUserGrpcRequest,
    PooledGrpcService,
    RetryableGrpcRequest,
    ServiceDiscoveryGrpcClient,
)
from tests.resilience.faults import Fault, FaultyUserService, serve_on
from tests.support.call_log import CallLog
from tests.support.servers import example_services, serve


class RetryableGetUserGrpcRequest(GetUserGrpcRequest, RetryableGrpcRequest):
    """The design's GetUser request, retried by its loop (RetryableGrpcRequest names no RPC)."""

    def __init__(self, user_id: str, max_retries: int = 3, backoff_factor: float = 2.0):
        GetUserGrpcRequest.__init__(self, user_id)
        RetryableGrpcRequest.__init__(self, max_retries, backoff_factor)


@pytest.fixture
def users() -> FaultyUserService:
    return FaultyUserService()


@pytest.fixture
def user_target(users: FaultyUserService) -> Iterator[str]:
    with serve_on(users.handlers()) as port:
        yield f"127.0.0.1:{port}"


@pytest.fixture
def catalog_target() -> Iterator[str]:
    with serve(*example_services(CallLog())) as address:
        yield address


# ==== PooledGrpcService ======================================================================


def test_pooled_service_spreads_over_really_separate_connections(
    user_target: str, users: FaultyUserService
) -> None:
    pool = PooledGrpcService(user_target, max_connections=3)
    used = [pool.get_client() for _ in range(9)]
    responses = [client.call(RetryableGetUserGrpcRequest(str(i))) for i, client in enumerate(used)]
    pool.close_all()

    assert all(response.is_success() for response in responses)
    assert len({id(client) for client in used}) == 3
    assert len(users.peers()) == 3  # each GrpcClient owns its connection
    with pytest.raises(ClientClosedError):
        used[0].call(RetryableGetUserGrpcRequest("1"))


def test_pool_size_does_the_same_in_one_client(user_target: str, users: FaultyUserService) -> None:
    with GrpcClient(user_target, pool_size=3) as client:
        for i in range(9):
            assert client.call(RetryableGetUserGrpcRequest(str(i))).is_success()
    assert len(users.peers()) == 3


# ==== RetryableGrpcRequest ===================================================================


def test_retryable_request_with_the_clients_own_retries(
    user_target: str, users: FaultyUserService
) -> None:
    """GetUser is NO_SIDE_EFFECTS: the client retries inside the first call()."""
    users.faults = [Fault(), Fault()]
    client = GrpcClient(user_target)
    started = time.monotonic()
    response = RetryableGetUserGrpcRequest("123").execute_with_retry(client)
    took = time.monotonic() - started
    client.close()

    assert response.is_success()
    assert response.attempts() == 3
    assert took < 1.0  # the loop's own sleep (backoff_factor ** 0 = 1 s) never ran


def test_retryable_request_loop_alone(user_target: str, users: FaultyUserService) -> None:
    users.faults = [Fault(), Fault()]
    client = GrpcClient(user_target, retry=NO_RETRY)
    started = time.monotonic()
    response = RetryableGetUserGrpcRequest("123", backoff_factor=0.1).execute_with_retry(client)
    took = time.monotonic() - started
    client.close()

    assert response.is_success()
    assert response.attempts() == 1  # each of the loop's calls is one attempt
    assert users.calls == 3
    assert 1.1 <= took < 2.0  # sleeps 0.1 ** 0 = 1 s, then 0.1 ** 1


def test_retryable_request_returns_client_errors_at_once(
    user_target: str, users: FaultyUserService
) -> None:
    users.faults = [Fault(code=grpc.StatusCode.NOT_FOUND)]
    with GrpcClient(user_target) as client:
        response = RetryableGetUserGrpcRequest("missing").execute_with_retry(client)

    assert response.status_code() == grpc.StatusCode.NOT_FOUND
    assert users.calls == 1


# ==== ServiceDiscoveryGrpcClient =============================================================


@pytest.mark.parametrize(
    "discovery_class", [ServiceDiscoveryGrpcClient, ProtoreqServiceDiscoveryGrpcClient]
)
def test_service_discovery_with_a_static_registry(
    discovery_class: Any, user_target: str, catalog_target: str
) -> None:
    registry = StaticServiceRegistry(
        {"user.UserService": user_target, "catalog.ProductService": catalog_target}
    )
    discovery = discovery_class(registry)

    user = discovery.call_service("user.UserService", RetryableGetUserGrpcRequest("7"))
    product = discovery.call_service("catalog.ProductService", GetProductGrpcRequest("prod_1"))
    assert discovery.get_client("user.UserService") is discovery.get_client("user.UserService")
    assert discovery.get_client("user.UserService").target == user_target

    assert user.message().name == "John Doe"
    assert product.message().name == "Laptop"
    for name in ("user.UserService", "catalog.ProductService"):
        discovery.get_client(name).close()


@pytest.mark.parametrize(
    "discovery_class", [ServiceDiscoveryGrpcClient, ProtoreqServiceDiscoveryGrpcClient]
)
def test_service_discovery_from_environment_variables(
    discovery_class: Any, user_target: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("USER_SERVICE_URL", user_target)  # the original design's variable
    discovery = discovery_class(EnvServiceRegistry())

    response = discovery.call_service("user.UserService", RetryableGetUserGrpcRequest("7"))

    assert response.is_success()
    discovery.get_client("user.UserService").close()
