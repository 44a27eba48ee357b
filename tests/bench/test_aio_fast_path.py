"""grpc.aio unary calls run in the caller's task (fast_paths.AioUnaryUnary) or through grpc.aio's
own call object (the public road): both must end an RPC the same way, and the server must
learn of it, whether the caller's task is cancelled, the client closes or the deadline passes.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import grpc
import pytest

from protoreq import ClientClosedError, GrpcClient
from protoreq.transport import channels as channels_module
from protoreq.transport import fast_paths as internals
from protos.user_protoreq import GetUserGrpcRequest
from tests.hedging.slow_server import Answer, ScriptedUsers, serving

SLOW = Answer(sleep=3.0)


@pytest.fixture(params=["fast", "public"])
def road(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "public":
        monkeypatch.setattr(channels_module, "aio_unary_unary", internals.PublicAioUnaryUnary)
    return str(request.param)


@pytest.fixture
def users() -> ScriptedUsers:
    return ScriptedUsers(default=SLOW)


@pytest.fixture
def target(users: ScriptedUsers) -> Iterator[str]:
    with serving(users) as address:
        yield address


def _caller_kind(client: GrpcClient) -> type:
    channels = client._channels
    assert isinstance(channels, channels_module.ChannelPool)
    (caller,) = channels.async_slot().callables["unary_unary"].values()
    return type(caller)


async def _arrived(users: ScriptedUsers) -> None:
    for _ in range(400):
        if users.count():
            return
        await asyncio.sleep(0.005)
    raise AssertionError("the call never reached the server")


async def test_cancelling_the_task_cancels_the_rpc_at_the_server(
    road: str, users: ScriptedUsers, target: str
) -> None:
    async with GrpcClient(target) as client:
        pending = asyncio.create_task(client.call_async(GetUserGrpcRequest(user_id="1")))
        await _arrived(users)
        pending.cancel()
        with pytest.raises(asyncio.CancelledError):
            await pending
        assert users.arrivals[0].cancelled.wait(2), "the server never saw the cancellation"
        expected = internals.AioUnaryUnary if road == "fast" else internals.PublicAioUnaryUnary
        assert _caller_kind(client) is expected


async def test_closing_the_client_cancels_the_rpc_at_the_server(
    road: str, users: ScriptedUsers, target: str
) -> None:
    client = GrpcClient(target)
    pending = asyncio.create_task(client.call_async(GetUserGrpcRequest(user_id="1")))
    await _arrived(users)
    await client.aclose()
    response = await asyncio.wait_for(pending, 5)
    assert response.status_code() is grpc.StatusCode.CANCELLED
    assert users.arrivals[0].cancelled.wait(2), "the server never saw the cancellation"


async def test_the_deadline_ends_the_rpc(road: str, users: ScriptedUsers, target: str) -> None:
    async with GrpcClient(target) as client:
        response = await client.call_async(GetUserGrpcRequest(user_id="1", timeout=0.3))
    assert response.status_code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert users.arrivals[0].cancelled.wait(2)


async def test_a_call_on_a_closed_client_is_refused_on_both_roads(
    road: str, users: ScriptedUsers, target: str
) -> None:
    users.default = Answer()
    client = GrpcClient(target)
    assert (await client.call_async(GetUserGrpcRequest(user_id="1"))).is_success()
    await client.aclose()
    with pytest.raises(ClientClosedError):
        await client.call_async(GetUserGrpcRequest(user_id="2"))
