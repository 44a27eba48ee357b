# mypy: allow-untyped-calls
"""The original design's examples and their "Uso" snippets, run against a real server.

The classes are the design's own, from :mod:`tests.original.design`; the tests
below are the design's usage snippets with the targets pointing at the test
server, and check what reached the server.
"""

from __future__ import annotations

import asyncio
import uuid

import grpc

from protoreq import GrpcClient, GrpcResponse, RequestContext
from tests.original.design import (
    ContextAwareGrpcRequest,
    CreateOrderGrpcRequest,
    CreateUserGrpcRequest,
    GetProductGrpcRequest,
    GetUserGrpcRequest,
    GetUserStatisticsGrpcRequest,
    MyGrpcRequest,
    PooledGrpcService,
    search_products,
)
from tests.support.call_log import CallLog
from tests.support.deadlines import server_time_remaining_bound


class ContextAwareMyRequest(ContextAwareGrpcRequest, MyGrpcRequest):
    """The design leaves ContextAwareGrpcRequest abstract; aim it at my.Service."""


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
