"""Streams read grpcio's calls directly (fast_paths.next_message_step / next_message_step_async);
the public road (the call's own iterator) must answer exactly the same, sync and async,
for a stream that ends well, one the server fails midway and one the client cancels."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import grpc
import pytest

from protoreq import GrpcClient
from protoreq import streaming as streaming_module
from protoreq.transport import fast_paths
from protos import chat_pb2
from protos.chat_protoreq import SubscribeGrpcRequest
from tests.streaming.conftest import AnyStream, Driver

pytestmark = pytest.mark.timeout(30)


@pytest.fixture(params=["fast", "public"])
def road(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "public":
        monkeypatch.setattr(streaming_module, "next_message_step", lambda call: call.__next__)
        monkeypatch.setattr(
            streaming_module, "next_message_step_async", lambda call: call.__aiter__().__anext__
        )
    return str(request.param)


def _outcome(done: Any) -> tuple[object, ...]:
    stream = done.stream
    return (
        [(m.seq, m.text) for m in done.messages],
        stream.status_code(),
        stream.details(),
        stream.initial_metadata().get("x-room"),
        stream.received_count(),
    )


def test_both_roads_read_the_same_streams(road: str, drive: Driver, client: GrpcClient) -> None:
    ended = drive.stream(client, SubscribeGrpcRequest(room="lobby", count=5))
    failing = SubscribeGrpcRequest(
        room="r", count=10, metadata={"x-fail-after": "3", "x-fail-code": "RESOURCE_EXHAUSTED"}
    )
    failed = drive.stream(client, failing)

    def cancel_at_three(stream: AnyStream, message: chat_pb2.ChatMessage) -> None:
        if message.seq == 2:
            stream.cancel()

    slow = SubscribeGrpcRequest(room="c", count=1000, metadata={"x-delay": "0.005"})
    cancelled = drive.stream(client, slow, on_message=cancel_at_three)

    assert _outcome(ended) == (
        [(i, f"lobby {i}") for i in range(5)],
        grpc.StatusCode.OK,
        "",
        "lobby",
        5,
    )
    assert ended.stream.trailing_metadata()["x-sent"] == "5"
    assert _outcome(failed) == (
        [(i, f"r {i}") for i in range(3)],
        grpc.StatusCode.RESOURCE_EXHAUSTED,
        "failed after 3 messages",
        "r",
        3,
    )
    assert [m.seq for m in cancelled.messages] == [0, 1, 2]
    assert cancelled.stream.status_code() is grpc.StatusCode.CANCELLED


def test_the_fast_road_is_taken_on_grpcios_own_calls(
    road: str, drive: Driver, client: GrpcClient
) -> None:
    steps: list[object] = []
    name = "next_message_step_async" if drive.is_async else "next_message_step"
    wrapped: Callable[[Any], Any] = getattr(streaming_module, name)  # this road's

    def recording(call: Any) -> Any:
        step = wrapped(call)
        steps.append(step)
        return step

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(streaming_module, name, recording)
        done = drive.stream(client, SubscribeGrpcRequest(room="lobby", count=2))
    assert done.stream.is_success()
    (step,) = steps
    fast = isinstance(step, fast_paths.AioStreamReader) or getattr(step, "__name__", "") == "_next"
    assert fast is (road == "fast")
