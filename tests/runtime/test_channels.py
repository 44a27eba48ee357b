"""Channels open lazily, are reused by every call, and close with the client."""

from __future__ import annotations

import asyncio

import grpc
import pytest

from protoreq import ClientClosedError, GrpcClient
from protoreq.transport.channels import ChannelPool
from tests.runtime.requests import GetUser
from tests.support.call_log import CallLog


def test_many_sync_calls_share_one_connection(target: str, call_log: CallLog) -> None:
    with GrpcClient(target) as client:
        for i in range(50):
            assert client.call(GetUser(str(i))).is_success()

    assert len(call_log.calls) == 50
    assert len(call_log.peers()) == 1


async def test_many_async_calls_share_one_connection(target: str, call_log: CallLog) -> None:
    async with GrpcClient(target) as client:
        responses = await asyncio.gather(*(client.call_async(GetUser(str(i))) for i in range(50)))

    assert all(response.is_success() for response in responses)
    assert len(call_log.peers()) == 1


def test_each_event_loop_gets_its_own_channel(target: str, call_log: CallLog) -> None:
    client = GrpcClient(target)

    async def one_call() -> bool:
        return (await client.call_async(GetUser("1"))).is_success()

    assert asyncio.run(one_call())
    assert asyncio.run(one_call())  # a new loop: the first loop's channel is unusable here
    client.close()
    assert len(call_log.calls) == 2


def test_channel_opens_lazily(call_log: CallLog) -> None:
    client = GrpcClient("127.0.0.1:1")
    assert isinstance(client._channels, ChannelPool)
    assert client._channels._sync_slots == []
    client.close()


def test_close_is_final_and_idempotent(target: str) -> None:
    client = GrpcClient(target)
    assert client.call(GetUser("1")).is_success()
    client.close()
    client.close()
    with pytest.raises(ClientClosedError):
        client.call(GetUser("1"))
    assert "closed" in repr(client)


def test_close_from_async_code_closes_async_channels(target: str) -> None:
    async def use_then_close() -> None:
        client = GrpcClient(target)
        assert (await client.call_async(GetUser("1"))).is_success()
        client.close()  # the original design closes in a `finally` inside async code
        await asyncio.sleep(0.05)
        with pytest.raises(ClientClosedError):
            await client.call_async(GetUser("1"))

    asyncio.run(use_then_close())


def test_message_size_limit_is_enforced(target: str) -> None:
    with GrpcClient(target, max_send_message_length=64) as client:
        response = client.call(GetUser("x" * 200))
        assert response.status_code() is grpc.StatusCode.RESOURCE_EXHAUSTED
        assert client.call(GetUser("short")).is_success()


def test_settings_repr_names_typed_options() -> None:
    client = GrpcClient("example:443", keepalive_time=30, max_receive_message_length=1024)
    text = repr(client._settings)
    assert "keepalive_time=30" in text
    assert "max_receive_message_length=1024" in text
    options = dict(client._settings.grpc_options())
    assert options["grpc.keepalive_time_ms"] == 30000
    assert options["grpc.max_receive_message_length"] == 1024
    client.close()
