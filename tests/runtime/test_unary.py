"""Successful unary calls, sync and async, against a real server."""

from __future__ import annotations

import grpc
import pytest

from protoreq import GrpcClient, GrpcResponse, UnknownMethodError
from protos import user_pb2
from tests.runtime.conftest import Send
from tests.runtime.requests import GetUser, PlainGetUser
from tests.support.call_log import CallLog


def test_call_returns_typed_message_and_status(target: str, send: Send) -> None:
    with GrpcClient(target) as client:
        response = send(client, GetUser("123"))

    assert response.is_success()
    assert response.status_code() is grpc.StatusCode.OK
    assert response.details() == ""
    user = response.message()
    assert isinstance(user, user_pb2.User)
    assert (user.id, user.name, user.email) == ("123", "John Doe", "john@example.com")
    assert response.raise_for_status() is response
    assert response.attempts() == 1
    assert 0 < response.elapsed() < 5
    assert response.method_path() == "/user.UserService/GetUser"


def test_metadata_travels_both_ways(target: str, send: Send, call_log: CallLog) -> None:
    request = GetUser(
        "metadata", metadata={"x-client-version": "1.0", "x-payload-bin": b"\xff\x00"}
    )
    with GrpcClient(target) as client:
        response = send(client, request)

    sent = call_log.last().metadata
    assert sent["x-client-version"] == "1.0"
    assert sent["x-payload-bin"] == b"\xff\x00"
    assert response.initial_metadata()["x-initial"] == "first"
    assert response.trailing_metadata()["x-trailing"] == "last"
    assert response.trailing_metadata()["x-blob-bin"] == b"\x00\x01"
    merged = response.metadata()
    assert merged["x-trailing"] == "last"
    assert merged["x-initial"] == "again"  # trailing wins in the merged view...
    assert merged.get_all("x-initial") == ["first", "again"]  # ...but nothing is lost


def test_untyped_request_finds_response_type_in_descriptor_pool(target: str, send: Send) -> None:
    request = PlainGetUser("7", metadata={"x-only": "this"})
    with GrpcClient(target) as client:
        response: GrpcResponse[user_pb2.User] = send(client, request)

    assert response.message().id == "7"


def test_none_metadata_values_are_left_out(target: str, send: Send, call_log: CallLog) -> None:
    request = PlainGetUser("7", metadata={"x-present": "yes", "x-client-ip": None})
    with GrpcClient(target) as client:
        assert send(client, request).is_success()

    assert call_log.last().metadata["x-present"] == "yes"
    assert "x-client-ip" not in call_log.last().metadata


@pytest.mark.parametrize(
    ("service", "method", "fragment"),
    [
        ("user.NoSuchService", "GetUser", "unknown gRPC service 'user.NoSuchService'"),
        ("user.UserService", "GetNothing", "has no method 'GetNothing'"),
    ],
)
def test_unknown_service_or_method_names_both(
    target: str, send: Send, service: str, method: str, fragment: str
) -> None:
    class Misnamed(PlainGetUser):
        def service_name(self) -> str:
            return service

        def method_name(self) -> str:
            return method

    with GrpcClient(target) as client, pytest.raises(UnknownMethodError) as raised:
        send(client, Misnamed("1", {}))
    assert fragment in str(raised.value)
    assert method in str(raised.value)
