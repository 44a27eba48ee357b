"""Timeouts: per request, client default, none at all, and the enclosing context's deadline."""

from __future__ import annotations

import asyncio
import time

import grpc

from protoreq import NO_RETRY, GrpcClient, RequestContext
from protos import user_pb2
from tests.runtime.conftest import Send
from tests.runtime.requests import GetUser
from tests.support.call_log import CallLog
from tests.support.deadlines import server_time_remaining_bound
from tests.support.servers import serve


def test_request_timeout_reaches_server(target: str, send: Send, call_log: CallLog) -> None:
    with GrpcClient(target, timeout=100) as client:
        assert send(client, GetUser("1", timeout=7)).is_success()

    remaining = call_log.last().time_remaining
    assert remaining is not None
    assert 5 < remaining <= server_time_remaining_bound(7)


def test_client_default_applies_when_request_says_nothing(
    target: str, send: Send, call_log: CallLog
) -> None:
    with GrpcClient(target, timeout=3) as client:
        assert send(client, GetUser("1")).is_success()

    remaining = call_log.last().time_remaining
    assert remaining is not None
    assert 1 < remaining <= server_time_remaining_bound(3)


def test_none_means_no_deadline(target: str, send: Send, call_log: CallLog) -> None:
    with GrpcClient(target, timeout=0.1, retry=NO_RETRY) as client:
        response = send(client, GetUser("slow:0.3", timeout=None))

    assert response.is_success()
    remaining = call_log.last().time_remaining
    assert remaining is None or remaining > 10**6  # grpcio reports "infinite" as huge


def test_context_deadline_caps_a_longer_timeout(target: str, send: Send) -> None:
    with GrpcClient(target, retry=NO_RETRY) as client, RequestContext.scope(timeout=0.3):
        started = time.monotonic()
        response = send(client, GetUser("slow:2", timeout=30))
        took = time.monotonic() - started

    assert response.status_code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert took < 1.5


def test_spent_context_deadline_answers_without_sending(
    target: str, send: Send, call_log: CallLog
) -> None:
    with GrpcClient(target) as client, RequestContext.scope(deadline=time.monotonic() - 1):
        response = send(client, GetUser("1"))

    assert response.status_code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert "RequestContext" in response.details()
    assert call_log.calls == []


def test_inner_scope_cannot_extend_outer_deadline() -> None:
    with RequestContext.scope(timeout=1):
        outer = RequestContext.get_deadline()
        with RequestContext.scope(timeout=60):
            assert RequestContext.get_deadline() == outer
        with RequestContext.scope(timeout=0.5):
            inner = RequestContext.get_deadline()
            assert inner is not None
            assert outer is not None
            assert inner < outer
    assert RequestContext.get_deadline() is None


async def test_context_deadline_follows_async_tasks(target: str, call_log: CallLog) -> None:
    async with GrpcClient(target, retry=NO_RETRY) as client:
        with RequestContext.scope(timeout=0.3):
            task = asyncio.create_task(client.call_async(GetUser("slow:2", timeout=30)))
        response = await task

    assert response.status_code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert response.elapsed() < 1.5


def test_handler_scope_forwards_caller_deadline_and_trace(target: str, call_log: CallLog) -> None:
    """A server handler that opens a scope from its ServicerContext passes both on."""
    downstream = GrpcClient(target)

    def relay(request: user_pb2.GetUserRequest, context: grpc.ServicerContext) -> user_pb2.User:
        with RequestContext.scope(**RequestContext.from_servicer_context(context)):
            assert RequestContext.get_client_ip() == "127.0.0.1"
            return downstream.call(GetUser(request.user_id, timeout=30)).message()

    relay_service = grpc.method_handlers_generic_handler(
        "user.UserService",
        {
            "GetUser": grpc.unary_unary_rpc_method_handler(
                relay,
                request_deserializer=user_pb2.GetUserRequest.FromString,
                response_serializer=user_pb2.User.SerializeToString,
            )
        },
    )
    with serve(relay_service) as relay_target, GrpcClient(relay_target) as client:
        response = client.call(GetUser("1", timeout=2, metadata={"x-trace-id": "abc123"}))
    downstream.close()

    assert response.message().id == "1"
    forwarded = call_log.last()
    assert forwarded.metadata["x-trace-id"] == "abc123"
    assert forwarded.time_remaining is not None
    assert forwarded.time_remaining <= server_time_remaining_bound(2)
