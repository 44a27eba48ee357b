"""Every RPC failure is a response with the right status; nothing raises from call()."""

from __future__ import annotations

import asyncio
import threading
import time

import grpc
import pytest
from google.rpc import error_details_pb2

from protoreq import NO_RETRY, GrpcClient, GrpcResponse, GrpcStatusError
from protos import user_pb2
from tests.runtime.conftest import Send
from tests.runtime.requests import GetUser
from tests.support.servers import unused_port


def test_server_status_becomes_response(target: str, send: Send) -> None:
    with GrpcClient(target) as client:
        response = send(client, GetUser("missing"))

    assert not response.is_success()
    assert response.status_code() is grpc.StatusCode.NOT_FOUND
    assert response.details() == "user missing not found"
    assert response.rich_status() is None
    assert response.error_details() == []


def test_message_of_failed_response_raises_naming_status(target: str, send: Send) -> None:
    with GrpcClient(target) as client:
        response = send(client, GetUser("missing"))

    with pytest.raises(GrpcStatusError, match="NOT_FOUND: user missing not found") as raised:
        response.message()
    assert raised.value.code is grpc.StatusCode.NOT_FOUND
    assert raised.value.response is response
    assert "/user.UserService/GetUser" in str(raised.value)
    with pytest.raises(GrpcStatusError):
        response.raise_for_status()


def test_rich_error_details_are_decoded(target: str, send: Send) -> None:
    with GrpcClient(target) as client:
        response = send(client, GetUser("rich"))

    assert response.status_code() is grpc.StatusCode.NOT_FOUND
    status = response.rich_status()
    assert status is not None
    assert status.message == "user rich not found"
    (detail,) = response.error_details()
    assert isinstance(detail, error_details_pb2.BadRequest)
    assert detail.field_violations[0].field == "user_id"


def test_slow_server_gives_deadline_exceeded(target: str, send: Send) -> None:
    with GrpcClient(target, retry=NO_RETRY) as client:
        started = time.monotonic()
        response = send(client, GetUser("slow:2", timeout=0.2))
        took = time.monotonic() - started

    assert response.status_code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert took < 1.5
    assert response.elapsed() == pytest.approx(0.2, abs=0.5)


def test_server_that_is_down_gives_unavailable(send: Send) -> None:
    with GrpcClient(f"127.0.0.1:{unused_port()}", retry=NO_RETRY) as client:
        response = send(client, GetUser("123", timeout=5))

    assert response.status_code() is grpc.StatusCode.UNAVAILABLE
    assert response.details()
    with pytest.raises(GrpcStatusError, match="UNAVAILABLE"):
        response.message()


def test_closing_client_cancels_call_in_flight_sync(target: str) -> None:
    client = GrpcClient(target)
    outcome: list[GrpcResponse[user_pb2.User]] = []
    worker = threading.Thread(target=lambda: outcome.append(client.call(GetUser("slow:3"))))
    worker.start()
    time.sleep(0.3)
    client.close()
    worker.join(5)

    (response,) = outcome
    assert response.status_code() is grpc.StatusCode.CANCELLED


async def test_closing_client_cancels_call_in_flight_async(target: str) -> None:
    client = GrpcClient(target)
    pending = asyncio.create_task(client.call_async(GetUser("slow:3")))
    await asyncio.sleep(0.3)
    await client.aclose()
    response = await asyncio.wait_for(pending, 5)

    assert response.status_code() is grpc.StatusCode.CANCELLED


async def test_cancelling_the_task_cancels_the_rpc(target: str) -> None:
    async with GrpcClient(target) as client:
        pending = asyncio.create_task(client.call_async(GetUser("slow:3")))
        await asyncio.sleep(0.3)
        pending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await pending
        # The client stays usable after a cancelled task.
        assert (await client.call_async(GetUser("after"))).is_success()
