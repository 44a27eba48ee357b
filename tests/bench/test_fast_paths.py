"""The call path reads grpcio's internals for speed (protoreq.transport.fast_paths); the public
fallbacks must answer exactly the same, so both run here against a real server.

If grpcio changes, feature detection switches to the fallback; these tests make sure that
road is as good as the fast one, for successes, failures, metadata and rich details.
"""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from protoreq import GrpcClient, GrpcResponse
from protoreq.transport import calls as client_module
from protoreq.transport import channels as channels_module
from protoreq.transport import fast_paths as internals
from protos.user_protoreq import GetUserGrpcRequest

USER_IDS = ("1", "metadata", "missing", "rich")


def _summary(response: GrpcResponse[Any]) -> tuple[object, ...]:
    message = response.message() if response.is_success() else None
    trailing = {k: v for k, v in response.trailing_metadata().items() if k != "x-trace-id-seen"}
    return (
        response.status_code(),
        response.details(),
        message,
        dict(response.initial_metadata()),
        trailing,
        [type(detail).__name__ for detail in response.error_details()],
    )


@pytest.fixture
def public_sync_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(client_module, "unary_call", internals.unary_call_public)


def _sync_calls(target: str) -> list[tuple[object, ...]]:
    with GrpcClient(target) as client:
        return [_summary(client.call(GetUserGrpcRequest(user_id=u))) for u in USER_IDS]


async def _async_calls(target: str) -> list[tuple[object, ...]]:
    async with GrpcClient(target) as client:
        return [_summary(await client.call_async(GetUserGrpcRequest(user_id=u))) for u in USER_IDS]


def test_the_sync_fast_path_is_in_use() -> None:
    assert internals.UNARY_FAST_PATH, "grpcio changed: the sync call path uses with_call()"


@pytest.fixture
def fast_sync(target: str) -> list[tuple[object, ...]]:
    return _sync_calls(target)


def test_sync_public_path_answers_the_same(
    target: str, fast_sync: list[tuple[object, ...]], public_sync_path: None
) -> None:
    public = _sync_calls(target)
    assert public == fast_sync
    assert [row[0] for row in public] == [
        grpc.StatusCode.OK,
        grpc.StatusCode.OK,
        grpc.StatusCode.NOT_FOUND,
        grpc.StatusCode.NOT_FOUND,
    ]
    assert public[1][3] == {"x-initial": "first"}  # initial metadata arrived
    assert public[3][5] == ["BadRequest"]  # rich details decoded


def test_the_async_fast_path_is_in_use() -> None:
    assert internals.aio_fast_path_holds(), "grpcio changed: async calls run in grpc.aio's task"


async def test_async_calls_run_on_the_fast_path(target: str) -> None:
    async with GrpcClient(target) as client:
        assert (await client.call_async(GetUserGrpcRequest(user_id="1"))).is_success()
        channels = client._channels
        assert isinstance(channels, channels_module.ChannelPool)
        slot = channels.async_slot()
        callers = list(slot.callables["unary_unary"].values())
    assert callers
    assert all(isinstance(caller, internals.AioUnaryUnary) for caller in callers)


async def test_async_public_path_answers_the_same(target: str) -> None:
    fast = await _async_calls(target)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(channels_module, "aio_unary_unary", internals.PublicAioUnaryUnary)
        public = await _async_calls(target)
        patch.setattr(internals, "finished_metadata", lambda call: None)
        public_metadata = await _async_calls(target)
    assert public == fast
    assert public_metadata == fast
    assert fast == _sync_calls(target)  # and sync and async agree
