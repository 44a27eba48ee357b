"""Real grpcio servers on 127.0.0.1 with an ephemeral port, implementing ``protos/``.

The user service's ``GetUser`` takes test instructions in ``user_id`` so one
server covers every outcome: ``missing`` (NOT_FOUND), ``rich`` (NOT_FOUND with
``google.rpc`` details), ``slow:<seconds>``, ``metadata`` (initial and trailing
metadata), anything else succeeds. Every call is recorded for assertions.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import Message
from google.rpc import code_pb2, error_details_pb2, status_pb2
from grpc_status import rpc_status

from protos import analytics_pb2, catalog_pb2, my_pb2, order_pb2, search_pb2, user_pb2
from tests.support.call_log import CallLog

Handler = Callable[[Any, grpc.ServicerContext], Message]


def _service(
    name: str, methods: dict[str, tuple[Handler, type[Message], type[Message]]]
) -> grpc.GenericRpcHandler:
    return grpc.method_handlers_generic_handler(
        name,
        {
            method: grpc.unary_unary_rpc_method_handler(
                handler,
                request_deserializer=request_type.FromString,
                response_serializer=response_type.SerializeToString,
            )
            for method, (handler, request_type, response_type) in methods.items()
        },
    )


def _trace_id(context: grpc.ServicerContext) -> str:
    for key, value in context.invocation_metadata():
        if key == "x-trace-id" and isinstance(value, str):
            return value
    return ""


def example_services(log: CallLog) -> list[grpc.GenericRpcHandler]:
    """The services of the original design, backed by tiny in-memory logic."""

    def get_user(request: user_pb2.GetUserRequest, context: grpc.ServicerContext) -> user_pb2.User:
        log.record("GetUser", context)
        context.set_trailing_metadata((("x-trace-id-seen", _trace_id(context)),))
        user_id = request.user_id
        if user_id == "missing":
            context.abort(grpc.StatusCode.NOT_FOUND, f"user {user_id} not found")
        if user_id == "rich":
            detail = any_pb2.Any()
            detail.Pack(
                error_details_pb2.BadRequest(
                    field_violations=[
                        error_details_pb2.BadRequest.FieldViolation(
                            field="user_id", description="no such user"
                        )
                    ]
                )
            )
            status = status_pb2.Status(
                code=code_pb2.NOT_FOUND, message="user rich not found", details=[detail]
            )
            context.abort_with_status(rpc_status.to_status(status))
        if user_id.startswith("slow:"):
            time.sleep(float(user_id.removeprefix("slow:")))
        if user_id == "metadata":
            context.send_initial_metadata((("x-initial", "first"),))
            context.set_trailing_metadata(
                (("x-trailing", "last"), ("x-blob-bin", b"\x00\x01"), ("x-initial", "again"))
            )
        return user_pb2.User(
            id=user_id, name="John Doe", email="john@example.com", created_at="2026-01-01"
        )

    def create_user(
        request: user_pb2.CreateUserRequest, context: grpc.ServicerContext
    ) -> user_pb2.User:
        log.record("CreateUser", context)
        if not request.email:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "email is required")
        return user_pb2.User(
            id=f"user-{request.name.lower()}",
            name=request.name,
            email=request.email,
            age=request.age,
        )

    def get_product(
        request: catalog_pb2.GetProductRequest, context: grpc.ServicerContext
    ) -> catalog_pb2.Product:
        log.record("GetProduct", context)
        return catalog_pb2.Product(id=request.product_id, name="Laptop", price=999.5)

    def create_order(
        request: order_pb2.CreateOrderRequest, context: grpc.ServicerContext
    ) -> order_pb2.Order:
        log.record("CreateOrder", context)
        return order_pb2.Order(
            order_id=f"order-{len(request.items)}",
            user_id=request.user_id,
            items=request.items,
            total=request.total,
        )

    def search_products(
        request: search_pb2.SearchRequest, context: grpc.ServicerContext
    ) -> search_pb2.SearchResponse:
        log.record("SearchProducts", context)
        results = [
            search_pb2.SearchResult(id=f"p{i}", name=f"{request.query} {i}", price=10.0 * i)
            for i in range(1, request.limit + 1)
        ]
        return search_pb2.SearchResponse(products=results)

    def get_user_statistics(
        request: analytics_pb2.StatisticsRequest, context: grpc.ServicerContext
    ) -> analytics_pb2.StatisticsResponse:
        log.record("GetUserStatistics", context)
        return analytics_pb2.StatisticsResponse(total_users=42, new_users=7, active_users=30)

    def my_method(request: my_pb2.MyRequest, context: grpc.ServicerContext) -> my_pb2.MyResponse:
        log.record("MyMethod", context)
        return my_pb2.MyResponse(trace_id=_trace_id(context))

    return [
        _service(
            "user.UserService",
            {
                "GetUser": (get_user, user_pb2.GetUserRequest, user_pb2.User),
                "CreateUser": (create_user, user_pb2.CreateUserRequest, user_pb2.User),
            },
        ),
        _service(
            "catalog.ProductService",
            {"GetProduct": (get_product, catalog_pb2.GetProductRequest, catalog_pb2.Product)},
        ),
        _service(
            "order.OrderService",
            {"CreateOrder": (create_order, order_pb2.CreateOrderRequest, order_pb2.Order)},
        ),
        _service(
            "search.SearchService",
            {
                "SearchProducts": (
                    search_products,
                    search_pb2.SearchRequest,
                    search_pb2.SearchResponse,
                )
            },
        ),
        _service(
            "analytics.AnalyticsService",
            {
                "GetUserStatistics": (
                    get_user_statistics,
                    analytics_pb2.StatisticsRequest,
                    analytics_pb2.StatisticsResponse,
                )
            },
        ),
        _service("my.Service", {"MyMethod": (my_method, my_pb2.MyRequest, my_pb2.MyResponse)}),
    ]


@contextmanager
def serve(*handlers: grpc.GenericRpcHandler, port: int = 0) -> Iterator[str]:
    """Run a sync grpcio server on 127.0.0.1 and yield its ``host:port``."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    server.add_generic_rpc_handlers(handlers)
    bound = server.add_insecure_port(f"127.0.0.1:{port}")
    server.start()
    try:
        yield f"127.0.0.1:{bound}"
    finally:
        server.stop(grace=None).wait()


def unused_port() -> int:
    """A port nothing listens on (bound, then released), for "server is down" tests."""
    import socket  # noqa: PLC0415

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port
