# mypy: allow-untyped-defs, allow-incomplete-defs, allow-untyped-calls
# mypy: disable-error-code="type-arg, var-annotated, no-any-return, dict-item"
"""The original design's hand-written examples, unchanged but for their imports.

The class bodies below are copied from ``shared/original-design.md``; the only
edits are import lines naming ``protoreq`` and the targets pointing at the test
server. They are user code, hence the relaxed mypy pragma above.
"""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import grpc

from protoreq import BaseGrpcRequest, GrpcClient, GrpcRequest, GrpcResponse, RequestContext
from tests.support.call_log import CallLog
from tests.support.deadlines import server_time_remaining_bound


class SearchError(Exception):
    pass


# --- 2. GrpcRequest (Abstract) ---------------------------------------------------------------
class GetUserGrpcRequest(GrpcRequest):
    def __init__(self, user_id: str):
        self._user_id = user_id

    def service_name(self) -> str:
        return "user.UserService"

    def method_name(self) -> str:
        return "GetUser"

    def message(self) -> Any:
        # Crear mensaje protobuf
        from protos.user_pb2 import GetUserRequest
        return GetUserRequest(user_id=self._user_id)

    def metadata(self) -> dict[str, str]:
        return {
            "authorization": "Bearer <token>",
            "x-client-version": "1.0"
        }

    def timeout(self) -> float:
        return 30.0  # 30 segundos


# --- 3. BaseGrpcRequest ----------------------------------------------------------------------
class CreateUserGrpcRequest(BaseGrpcRequest):
    def __init__(self, name: str, email: str, age: int):
        self._name = name
        self._email = email
        self._age = age

    def service_name(self) -> str:
        return "user.UserService"

    def method_name(self) -> str:
        return "CreateUser"

    def message(self) -> Any:
        from protos.user_pb2 import CreateUserRequest
        return CreateUserRequest(
            name=self._name,
            email=self._email,
            age=self._age
        )


# --- Ejemplo 1: Get Request Simple -----------------------------------------------------------
class GetProductGrpcRequest(BaseGrpcRequest):
    def __init__(self, product_id: str):
        self._product_id = product_id

    def service_name(self) -> str:
        return "catalog.ProductService"

    def method_name(self) -> str:
        return "GetProduct"

    def message(self) -> Any:
        from protos.catalog_pb2 import GetProductRequest
        return GetProductRequest(product_id=self._product_id)


# --- Ejemplo 2: Create Request con Autenticación ---------------------------------------------
class CreateOrderGrpcRequest(BaseGrpcRequest):
    def __init__(self, user_id: str, items: list, total: float, token: str):
        self._user_id = user_id
        self._items = items
        self._total = total
        self._token = token

    def service_name(self) -> str:
        return "order.OrderService"

    def method_name(self) -> str:
        return "CreateOrder"

    def message(self) -> Any:
        from protos.order_pb2 import CreateOrderRequest, OrderItem

        order_items = [
            OrderItem(product_id=item["product_id"],
                     quantity=item["quantity"],
                     price=item["price"])
            for item in self._items
        ]

        return CreateOrderRequest(
            user_id=self._user_id,
            items=order_items,
            total=self._total
        )

    def metadata(self) -> dict[str, str]:
        return {
            **super().metadata(),
            "authorization": f"Bearer {self._token}",
            "idempotency-key": str(uuid.uuid4())
        }

    def timeout(self) -> float:
        return 60.0  # Operaciones de orden pueden tardar más


# --- Ejemplo 3: Request Asíncrono ------------------------------------------------------------
class SearchProductsGrpcRequest(BaseGrpcRequest):
    def __init__(self, query: str, limit: int = 10):
        self._query = query
        self._limit = limit

    def service_name(self) -> str:
        return "search.SearchService"

    def method_name(self) -> str:
        return "SearchProducts"

    def message(self) -> Any:
        from protos.search_pb2 import SearchRequest
        return SearchRequest(query=self._query, limit=self._limit)


async def search_products(query: str, target: str):
    client = GrpcClient(target)
    try:
        request = SearchProductsGrpcRequest(query)
        response = await client.call_async(request)

        if response.is_success():
            search_results = response.message()
            return [
                {"id": result.id, "name": result.name, "price": result.price}
                for result in search_results.products
            ]
        else:
            raise SearchError(f"Search failed: {response.details()}")
    finally:
        client.close()


# --- Ejemplo 4: Request con Metadata Personalizado -------------------------------------------
class AdminRequest(BaseGrpcRequest):
    def __init__(self, admin_token: str):
        self._admin_token = admin_token

    def metadata(self) -> dict[str, str]:
        return {
            **super().metadata(),
            "authorization": f"Bearer {self._admin_token}",
            "x-admin-action": "true",
            "x-request-source": "admin-panel"
        }


class GetUserStatisticsGrpcRequest(AdminRequest):
    def __init__(self, admin_token: str, start_date: str, end_date: str):
        super().__init__(admin_token)
        self._start_date = start_date
        self._end_date = end_date

    def service_name(self) -> str:
        return "analytics.AnalyticsService"

    def method_name(self) -> str:
        return "GetUserStatistics"

    def message(self) -> Any:
        from protos.analytics_pb2 import StatisticsRequest
        return StatisticsRequest(
            start_date=self._start_date,
            end_date=self._end_date
        )

    def timeout(self) -> float:
        return 120.0  # Analytics pueden tardar más


# --- Integración con Request Context ---------------------------------------------------------
class MyGrpcRequest(BaseGrpcRequest):
    def service_name(self) -> str:
        return "my.Service"

    def method_name(self) -> str:
        return "MyMethod"

    def message(self) -> Any:
        from protos.my_pb2 import MyRequest
        return MyRequest()


class ContextAwareGrpcRequest(BaseGrpcRequest):
    def metadata(self) -> dict[str, str]:
        trace_id = RequestContext.get_trace_id()
        client_ip = RequestContext.get_client_ip()

        return {
            **super().metadata(),
            "x-trace-id": trace_id,
            "x-client-ip": client_ip,
            "x-request-source": "yurest-api"
        }


class ContextAwareMyRequest(ContextAwareGrpcRequest, MyGrpcRequest):
    """The design leaves ContextAwareGrpcRequest abstract; aim it at my.Service."""


# --- Configuración Avanzada: pool y retry, escritos por el usuario ---------------------------
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


# ==== the tests ==============================================================================


def test_get_user_hand_written(target: str, call_log: CallLog) -> None:
    client = GrpcClient(target)
    request = GetUserGrpcRequest(user_id="123")
    response = client.call(request)

    if response.is_success():
        user = response.message()
        print(f"User: {user.name}")
    client.close()

    assert response.is_success()
    assert response.message().name == "John Doe"
    assert response.status_code() == grpc.StatusCode.OK
    sent = call_log.last().metadata
    assert sent["authorization"] == "Bearer <token>"
    assert sent["x-client-version"] == "1.0"
    assert "x-trace-id" in sent  # the client correlates even plain GrpcRequests


async def test_get_user_hand_written_async(target: str) -> None:
    client = GrpcClient(target)
    request = GetUserGrpcRequest(user_id="123")
    response = await client.call_async(request)
    client.close()

    assert response.message().id == "123"


def test_create_user_with_base_request(target: str) -> None:
    client = GrpcClient(target)
    try:
        response = client.call(CreateUserGrpcRequest(name="Ana", email="ana@example.com", age=31))
    finally:
        client.close()
    assert response.message().id == "user-ana"
    assert response.message().age == 31


def test_get_product_not_found_branch_and_success(target: str) -> None:
    client = GrpcClient(target)
    try:
        request = GetProductGrpcRequest("prod_123")
        response = client.call(request)
        assert response.is_success()
        product = response.message()
        assert f"Product: {product.name} - ${product.price}" == "Product: Laptop - $999.5"
    finally:
        client.close()


def test_create_order_with_authentication(target: str, call_log: CallLog) -> None:
    client = GrpcClient(target)
    try:
        items = [
            {"product_id": "prod_123", "quantity": 2, "price": 29.99},
            {"product_id": "prod_456", "quantity": 1, "price": 49.99},
        ]
        request = CreateOrderGrpcRequest(
            user_id="user_789",
            items=items,
            total=109.97,
            token="eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9...",
        )
        response = client.call(request)
    finally:
        client.close()

    assert response.message().order_id == "order-2"
    sent = call_log.last()
    assert sent.metadata["authorization"] == "Bearer eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9..."
    assert uuid.UUID(str(sent.metadata["idempotency-key"]))
    assert "x-trace-id" in sent.metadata
    assert sent.time_remaining is not None
    assert 50 < sent.time_remaining <= server_time_remaining_bound(60)


def test_search_products_async_example(target: str) -> None:
    results = asyncio.run(search_products("laptop", target))
    assert len(results) == 10
    assert results[0] == {"id": "p1", "name": "laptop 1", "price": 10.0}


def test_admin_statistics_request(target: str, call_log: CallLog) -> None:
    with GrpcClient(target) as client:
        response = client.call(GetUserStatisticsGrpcRequest("adm", "2026-01-01", "2026-01-31"))
    assert response.message().total_users == 42
    sent = call_log.last()
    assert sent.metadata["x-admin-action"] == "true"
    assert sent.metadata["authorization"] == "Bearer adm"
    assert sent.time_remaining is not None
    assert sent.time_remaining > 100


def test_trace_id_propagates_automatically(target: str) -> None:
    client = GrpcClient(target)
    with RequestContext.scope(trace_id="req-42", client_ip="10.1.2.3"):
        response = client.call(MyGrpcRequest())
        aware = client.call(ContextAwareMyRequest())
    client.close()
    assert response.message().trace_id == "req-42"
    assert aware.message().trace_id == "req-42"


def test_context_aware_request_outside_any_scope(target: str, call_log: CallLog) -> None:
    with GrpcClient(target) as client:
        response = client.call(ContextAwareMyRequest())
    assert response.is_success()
    sent = call_log.last().metadata
    assert "x-client-ip" not in sent  # no client ip known: the key is left out, not sent empty
    assert sent["x-request-source"] == "yurest-api"


def test_user_written_pooled_service(target: str, call_log: CallLog) -> None:
    pool = PooledGrpcService(target, max_connections=3)
    used = [pool.get_client() for _ in range(9)]
    responses = [client.call(GetUserGrpcRequest(str(i))) for i, client in enumerate(used)]
    assert len({id(client) for client in used}) == 3
    pool.close_all()
    assert all(r.is_success() for r in responses)
    assert len(call_log.calls) == 9


def test_response_is_the_documented_type(target: str) -> None:
    with GrpcClient(target) as client:
        response = client.call(GetUserGrpcRequest("1"))
    assert isinstance(response, GrpcResponse)
    print(f"Success: {response.is_success()}")
    print(f"Status: {response.status_code()}")
    print(f"Details: {response.details()}")
    print(f"Metadata: {response.metadata()}")
    print(f"Message: {response.message()}")
