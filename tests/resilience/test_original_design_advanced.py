# mypy: allow-untyped-defs, allow-incomplete-defs, allow-untyped-calls
# mypy: disable-error-code="type-arg, var-annotated, no-any-return, assignment, misc"
# ruff: noqa: E402, F401, F811, I001, W291, W293
"""The original design's "Configuración Avanzada" examples, run unchanged against protoreq.

``PooledGrpcService``, ``RetryableGrpcRequest`` and ``ServiceDiscoveryGrpcClient``
are copied verbatim from ``shared/original-design.md`` (between the ``fmt``
markers); the only edits are the imports naming ``protoreq``. They are user code,
hence the relaxed mypy and ruff pragmas above. Each is then compared with the
protoreq feature that covers the same need.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from protoreq import (
    NO_RETRY,
    BaseGrpcRequest,
    ClientClosedError,
    EnvServiceRegistry,
    GrpcClient,
    GrpcRequest,
    GrpcResponse,
    ServiceRegistry,
    StaticServiceRegistry,
)
from protoreq import ServiceDiscoveryGrpcClient as ProtoreqServiceDiscoveryGrpcClient
from tests.resilience.faults import Fault, FaultyUserService, serve_on
from tests.support.call_log import CallLog
from tests.support.servers import example_services, serve

# fmt: off

# --- 1. Cliente con Pool de Conexiones ------------------------------------------------------
class PooledGrpcService:
    def __init__(self, service_url: str, max_connections: int = 10):
        self._service_url = service_url
        self._clients = []
        self._max_connections = max_connections
        self._current = 0
    
    def get_client(self) -> GrpcClient:
        if len(self._clients) < self._max_connections:
            client = GrpcClient(self._service_url)
            self._clients.append(client)
            return client
        
        # Round robin
        client = self._clients[self._current]
        self._current = (self._current + 1) % len(self._clients)
        return client
    
    def close_all(self):
        for client in self._clients:
            client.close()
        self._clients.clear()


# --- 2. Request con Retry Logic -------------------------------------------------------------
import time
from typing import Optional

class RetryableGrpcRequest(BaseGrpcRequest):
    def __init__(self, max_retries: int = 3, backoff_factor: float = 2.0):
        self._max_retries = max_retries
        self._backoff_factor = backoff_factor
    
    def execute_with_retry(self, client: GrpcClient) -> GrpcResponse:
        last_error = None
        
        for attempt in range(self._max_retries + 1):
            try:
                response = client.call(self)
                
                if response.is_success():
                    return response
                
                # No retry for client errors (4xx equivalent)
                if response.status_code() in [grpc.StatusCode.INVALID_ARGUMENT, 
                                            grpc.StatusCode.NOT_FOUND]:
                    return response
                
                last_error = response
                
            except Exception as e:
                last_error = e
            
            if attempt < self._max_retries:
                wait_time = self._backoff_factor ** attempt
                time.sleep(wait_time)
        
        if isinstance(last_error, GrpcResponse):
            return last_error
        else:
            raise last_error


# --- 3. Service Discovery Integration -------------------------------------------------------
class ServiceDiscoveryGrpcClient:
    def __init__(self, service_registry: ServiceRegistry):
        self._service_registry = service_registry
        self._clients: dict[str, GrpcClient] = {}
    
    def get_client(self, service_name: str) -> GrpcClient:
        if service_name not in self._clients:
            service_url = self._service_registry.discover(service_name)
            self._clients[service_name] = GrpcClient(service_url)
        
        return self._clients[service_name]
    
    def call_service(self, service_name: str, request: GrpcRequest) -> GrpcResponse:
        client = self.get_client(service_name)
        return client.call(request)

# fmt: on


class RetryableGetUserGrpcRequest(RetryableGrpcRequest):
    """The design leaves RetryableGrpcRequest abstract; aim it at user.UserService."""

    def __init__(self, user_id: str, max_retries: int = 3, backoff_factor: float = 2.0):
        super().__init__(max_retries, backoff_factor)
        self._user_id = user_id

    def service_name(self) -> str:
        return "user.UserService"

    def method_name(self) -> str:
        return "GetUser"

    def message(self) -> Any:
        from protos.user_pb2 import GetUserRequest  # noqa: PLC0415

        return GetUserRequest(user_id=self._user_id)


class GetProductGrpcRequest(BaseGrpcRequest):
    def __init__(self, product_id: str):
        self._product_id = product_id

    def service_name(self) -> str:
        return "catalog.ProductService"

    def method_name(self) -> str:
        return "GetProduct"

    def message(self) -> Any:
        from protos.catalog_pb2 import GetProductRequest  # noqa: PLC0415

        return GetProductRequest(product_id=self._product_id)


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
