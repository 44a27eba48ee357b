"""Misuse raises at once, with a specific message, before anything is sent."""

from __future__ import annotations

from typing import Any

import pytest

from protoreq import (
    ClientClosedError,
    GrpcClient,
    InvalidMetadataError,
    InvalidRequestError,
)
from protos import catalog_pb2, user_pb2
from tests.runtime.conftest import Send
from tests.runtime.requests import PlainGetUser
from tests.support.call_log import CallLog


@pytest.mark.parametrize(
    ("metadata", "fragment"),
    [
        ({"Authorization": "x"}, "keys must be lowercase"),
        ({"x trace": "x"}, "invalid metadata key 'x trace'"),
        ({"grpc-timeout": "1S"}, "reserved"),
        ({"": "x"}, "invalid metadata key ''"),
        ({"x-name": "José"}, "must be printable ASCII"),
        ({"x-name": "line\nbreak"}, "must be printable ASCII"),
        ({"x-blob-bin": "text"}, "ends in '-bin' so its value must be bytes"),
        ({"x-name": b"bytes"}, "must be a str (only '-bin' keys take bytes)"),
        ({"x-count": 3}, "must be a str"),
    ],
)
def test_invalid_metadata_is_rejected_before_sending(
    target: str, send: Send, call_log: CallLog, metadata: dict[str, Any], fragment: str
) -> None:
    with GrpcClient(target) as client, pytest.raises(InvalidMetadataError) as raised:
        send(client, PlainGetUser("1", metadata))
    assert fragment in str(raised.value)
    assert call_log.calls == []


def test_something_that_is_not_a_request(target: str, send: Send) -> None:
    with GrpcClient(target) as client, pytest.raises(InvalidRequestError, match="GetUserRequest"):
        send(client, user_pb2.GetUserRequest(user_id="1"))


def test_message_of_the_wrong_type(target: str, send: Send, call_log: CallLog) -> None:
    class WrongMessage(PlainGetUser):
        def message(self) -> Any:
            return catalog_pb2.GetProductRequest(product_id="1")

    with GrpcClient(target) as client, pytest.raises(InvalidRequestError) as raised:
        send(client, WrongMessage("1", {}))
    assert "returned catalog.GetProductRequest" in str(raised.value)
    assert "takes user.GetUserRequest" in str(raised.value)
    assert call_log.calls == []


def test_message_that_is_not_protobuf(target: str, send: Send) -> None:
    class NotProtobuf(PlainGetUser):
        def message(self) -> Any:
            return {"user_id": "1"}

    with GrpcClient(target) as client, pytest.raises(InvalidRequestError, match="returned dict"):
        send(client, NotProtobuf("1", {}))


def test_closed_client(target: str, send: Send) -> None:
    client = GrpcClient(target)
    client.close()
    with pytest.raises(ClientClosedError, match="is closed"):
        send(client, PlainGetUser("1", {}))


def test_negative_timeout(target: str, send: Send) -> None:
    class Negative(PlainGetUser):
        def timeout(self) -> float:
            return -1.0

    with GrpcClient(target) as client, pytest.raises(InvalidRequestError, match="negative"):
        send(client, Negative("1", {}))


@pytest.mark.parametrize(
    ("kwargs", "fragment"),
    [
        ({"target": ""}, "needs a target"),
        ({"target": "x:1", "pool_size": 0}, "pool_size"),
        ({"target": "x:1", "timeout": 0}, "timeout must be positive"),
    ],
)
def test_invalid_client_settings(kwargs: dict[str, Any], fragment: str) -> None:
    with pytest.raises(ValueError, match=fragment):
        GrpcClient(**kwargs)
