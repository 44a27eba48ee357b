# mypy: allow-untyped-defs, allow-incomplete-defs, allow-untyped-calls
# mypy: disable-error-code="type-arg, var-annotated, no-any-return, dict-item, assignment, misc"
"""The original design's example code, once, as ``shared/original-design.md`` has it.

Every class and function below is copied from the design's code blocks, in the
document's order, unchanged but for:

* the imports, gathered here and naming ``protoreq`` (``app.Contexts...`` in the
  design; its unused ``Optional`` dropped) and ``tests.original.application``
  for the application's own pieces the design uses but never shows;
* ``search_products`` takes the target (the design hard-codes
  ``"search-service:50051"``), so it can reach the test server;
* trailing blanks removed.

The design's "Uso" snippets (module-level usage) and its tests live in the test
modules that import from here. This is user code: ruff format leaves this file
alone and the mypy and ruff rules are relaxed for it, so it stays as written.
"""

from __future__ import annotations

import os
import time
import uuid
from typing import Any

import grpc

from protoreq import (
    BaseGrpcRequest,
    GrpcClient,
    GrpcRequest,
    GrpcResponse,
    RequestContext,
    ServiceRegistry,
)
from tests.original.application import (
    Binder,
    GetUserQuery,
    GrpcServiceError,
    Module,
    QueryHandler,
    SearchError,
    ServiceUnavailableError,
    UserDTO,
    UserNotFoundError,
    logger,
)


# --- 2. GrpcRequest (Abstract) --------------------------------------------------------------------
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


# --- 3. BaseGrpcRequest ---------------------------------------------------------------------------
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


# --- Ejemplo 1: Get Request Simple ----------------------------------------------------------------
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


# --- Ejemplo 2: Create Request con Autenticación --------------------------------------------------
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


# --- Ejemplo 3: Request Asíncrono -----------------------------------------------------------------
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


# --- Ejemplo 4: Request con Metadata Personalizado ------------------------------------------------
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


# --- Configuración Avanzada 1: Cliente con Pool de Conexiones -------------------------------------
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


# --- Configuración Avanzada 2: Request con Retry Logic --------------------------------------------
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


# --- Configuración Avanzada 3: Service Discovery Integration --------------------------------------
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


# --- Integración con Request Context: Correlación Automática de Traces ----------------------------
class MyGrpcRequest(BaseGrpcRequest):
    def service_name(self) -> str:
        return "my.Service"

    def method_name(self) -> str:
        return "MyMethod"

    def message(self) -> Any:
        from protos.my_pb2 import MyRequest
        return MyRequest()


# --- Integración con Request Context: Metadata Personalizado con Context --------------------------
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


# --- Uso en Services: Service Layer Pattern -------------------------------------------------------
class UserGrpcService:
    def __init__(self, grpc_client: GrpcClient):
        self._client = grpc_client

    def get_user(self, user_id: str) -> dict:
        request = GetUserGrpcRequest(user_id)
        response = self._client.call(request)

        if response.is_success():
            user = response.message()
            return {
                "id": user.id,
                "name": user.name,
                "email": user.email,
                "created_at": user.created_at
            }
        elif response.status_code() == grpc.StatusCode.NOT_FOUND:
            raise UserNotFoundError(f"User {user_id} not found")
        else:
            raise GrpcServiceError(
                f"Failed to get user: {response.details()}"
            )

    def create_user(self, user_data: dict) -> str:
        request = CreateUserGrpcRequest(**user_data)
        response = self._client.call(request)

        if response.is_success():
            user = response.message()
            return user.id
        else:
            raise GrpcServiceError(
                f"Failed to create user: {response.details()}"
            )

    def close(self):
        self._client.close()


# --- Uso en Services: Dependency Injection --------------------------------------------------------
# En tu módulo de DI
class GrpcServicesModule(Module):
    def configure(self, binder: Binder) -> None:
        # Cliente gRPC para User Service
        user_client = GrpcClient(os.getenv("USER_SERVICE_URL", "user-service:50051"))
        binder.bind(GrpcClient, annotation="user_service").to_instance(user_client)

        # Service que usa el cliente
        binder.bind(UserGrpcService).to_constructor(
            lambda: UserGrpcService(user_client)
        )

# En tu handler
class GetUserQueryHandler(QueryHandler):
    def __init__(self, user_service: UserGrpcService):
        self._user_service = user_service

    def handle(self, query: GetUserQuery) -> UserDTO:
        try:
            user_data = self._user_service.get_user(query.user_id)
            return UserDTO(**user_data)
        except UserNotFoundError:
            raise UserNotFoundError(f"User {query.user_id} not found")
        except GrpcServiceError as e:
            logger.error(f"gRPC service failed: {e}")
            raise ServiceUnavailableError("User service is currently unavailable")
