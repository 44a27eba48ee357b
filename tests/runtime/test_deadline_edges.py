"""Timeouts that are not ordinary numbers of seconds: none sent by the caller, inf, huge, nan, 0."""

from __future__ import annotations

import math

import grpc
import pytest

from protoreq import NO_RETRY, GrpcClient, InvalidRequestError, RequestContext
from protos import user_pb2
from tests.runtime.conftest import Send
from tests.runtime.requests import GetUser
from tests.support.call_log import CallLog
from tests.support.servers import serve

NO_DEADLINE_SEEN = 10**6
"""What a grpcio server reports as ``time_remaining()`` for a call without a deadline is huge."""


def _no_deadline(remaining: float | None) -> bool:
    return remaining is None or remaining > NO_DEADLINE_SEEN


def test_sync_handler_without_caller_deadline_forwards_none(target: str, call_log: CallLog) -> None:
    """A sync handler's caller sent no deadline: the chained call is sent, without a deadline."""
    downstream = GrpcClient(target, retry=NO_RETRY)
    seen: dict[str, object] = {}

    def relay(request: user_pb2.GetUserRequest, context: grpc.ServicerContext) -> user_pb2.User:
        arguments = RequestContext.from_servicer_context(context)
        seen["timeout"] = arguments["timeout"]
        with RequestContext.scope(**arguments):
            seen["deadline"] = RequestContext.get_deadline()
            answer = downstream.call(GetUser(request.user_id, timeout=None))
        seen["code"] = answer.status_code()
        return answer.message() if answer.is_success() else user_pb2.User()

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
    with serve(relay_service) as relay_target, GrpcClient(relay_target, timeout=None) as client:
        response = client.call(GetUser("1"))
    downstream.close()

    assert seen["timeout"] is None
    assert seen["deadline"] is None
    assert seen["code"] is grpc.StatusCode.OK
    assert response.message().id == "1"
    assert [call.method for call in call_log.calls] == ["GetUser"]
    assert _no_deadline(call_log.last().time_remaining)


@pytest.mark.parametrize("timeout", [math.inf, 1e10, 9.3e18])
def test_unbounded_request_timeout_means_no_deadline(
    target: str, send: Send, call_log: CallLog, timeout: float
) -> None:
    with GrpcClient(target, retry=NO_RETRY) as client:
        response = send(client, GetUser("1", timeout=timeout))

    assert response.is_success(), response.details()
    assert _no_deadline(call_log.last().time_remaining)


@pytest.mark.parametrize("timeout", [math.inf, 1e10])
def test_unbounded_client_timeout_means_no_deadline(
    target: str, send: Send, call_log: CallLog, timeout: float
) -> None:
    with GrpcClient(target, timeout=timeout, retry=NO_RETRY) as client:
        assert "timeout=None" in repr(client)
        response = send(client, GetUser("1"))

    assert response.is_success(), response.details()
    assert _no_deadline(call_log.last().time_remaining)


@pytest.mark.parametrize("timeout", [math.inf, 1e10])
def test_unbounded_scope_timeout_means_no_deadline(
    target: str, send: Send, call_log: CallLog, timeout: float
) -> None:
    with GrpcClient(target, timeout=None) as client, RequestContext.scope(timeout=timeout):
        assert RequestContext.get_deadline() is None
        response = send(client, GetUser("1"))

    assert response.is_success(), response.details()
    assert _no_deadline(call_log.last().time_remaining)


def test_nan_request_timeout_is_refused(target: str, send: Send, call_log: CallLog) -> None:
    with GrpcClient(target) as client, pytest.raises(InvalidRequestError, match="not a number"):
        send(client, GetUser("1", timeout=math.nan))
    assert call_log.calls == []


def test_nan_client_timeout_is_refused() -> None:
    with pytest.raises(ValueError, match="timeout must be positive"):
        GrpcClient("127.0.0.1:1", timeout=math.nan)


def test_nan_scope_timeout_is_refused() -> None:
    with pytest.raises(ValueError, match="scope"), RequestContext.scope(timeout=math.nan):
        pass
    with pytest.raises(ValueError, match="scope"), RequestContext.scope(deadline=math.nan):
        pass


def test_zero_timeout_blames_the_timeout_not_a_context(
    target: str, send: Send, call_log: CallLog
) -> None:
    with GrpcClient(target) as client:
        response = send(client, GetUser("1", timeout=0))

    assert response.status_code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert "RequestContext" not in response.details()
    assert "timeout" in response.details()
    assert call_log.calls == []
