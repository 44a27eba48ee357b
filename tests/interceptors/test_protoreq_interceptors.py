"""protoreq's own interceptors: one object around every kind of call, sync and async.

They see the typed request, change outgoing metadata, and get the outcome as
the caller will (a response, or a stream's final status), once per call; the
attempt hooks run once per attempt, inside the retry layer.
"""

from __future__ import annotations

from typing import Any

import grpc
import pytest

from protoreq import (
    ClientCall,
    GrpcClient,
    GrpcResponse,
    Interceptor,
    RetryPolicy,
)
from protoreq.interceptors import UnaryNext
from tests.interceptors.conftest import KINDS, MODES, request_for, run
from tests.streaming.chat_service import ChatProgress


class Recorder(Interceptor):
    """Writes down every hook it sees; adds a header so the server proves the change."""

    def __init__(self, name: str, events: list[tuple[str, ...]]) -> None:
        self.name = name
        self.events = events

    def on_start(self, call: ClientCall) -> GrpcResponse[Any] | None:
        self.events.append((self.name, "start", type(call.request).__name__))
        call.add_metadata("x-seen-by", self.name)
        return None

    def on_end(self, call: ClientCall, outcome: GrpcResponse[Any]) -> None:
        self.events.append((self.name, "end", outcome.status_code().name))

    def on_attempt_start(self, call: ClientCall) -> None:
        self.events.append((self.name, "attempt", str(call.attempt)))

    def on_attempt_end(self, call: ClientCall, outcome: GrpcResponse[Any]) -> None:
        self.events.append((self.name, "attempt-end", outcome.status_code().name))


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
def test_hooks_run_in_order_around_every_kind(
    chat_target: str, progress: ChatProgress, kind: str, mode: str
) -> None:
    events: list[tuple[str, ...]] = []
    outer, inner = Recorder("outer", events), Recorder("inner", events)
    with GrpcClient(chat_target, interceptors=[outer, inner]) as client:
        outcome = run(client, kind, mode)
    assert outcome.code is grpc.StatusCode.OK
    request_class = type(request_for(kind)).__name__
    assert events == [
        ("outer", "start", request_class),
        ("inner", "start", request_class),
        ("outer", "attempt", "1"),
        ("inner", "attempt", "1"),
        ("inner", "attempt-end", "OK"),
        ("outer", "attempt-end", "OK"),
        ("inner", "end", "OK"),
        ("outer", "end", "OK"),
    ]
    (seen,) = progress.metadata
    assert seen["x-seen-by"] == "inner"  # both were sent; the server's dict keeps the last


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
def test_a_failure_reaches_the_hooks_as_a_value(chat_target: str, kind: str, mode: str) -> None:
    events: list[tuple[str, ...]] = []
    with GrpcClient(chat_target, interceptors=[Recorder("only", events)]) as client:
        outcome = run(
            client, kind, mode, metadata={"x-fail-after": "0", "x-fail-code": "NOT_FOUND"}
        )
    assert outcome.code is grpc.StatusCode.NOT_FOUND
    assert events[-1] == ("only", "end", "NOT_FOUND")
    assert ("only", "attempt-end", "NOT_FOUND") in events


class Refuse(Interceptor):
    def on_start(self, call: ClientCall) -> GrpcResponse[Any] | None:
        return call.reject(grpc.StatusCode.PERMISSION_DENIED, f"no {call.rpc.method} today")


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("kind", KINDS)
def test_on_start_can_answer_without_sending(
    chat_target: str, progress: ChatProgress, kind: str, mode: str
) -> None:
    events: list[tuple[str, ...]] = []
    with GrpcClient(chat_target, interceptors=[Recorder("outer", events), Refuse()]) as client:
        outcome = run(client, kind, mode)
    assert outcome.code is grpc.StatusCode.PERMISSION_DENIED
    assert outcome.details in (
        "no Send today",
        "no Subscribe today",
        "no Upload today",
        "no Converse today",
    )
    assert progress.metadata == []  # nothing reached the server
    assert [event[1] for event in events] == ["start", "end"]  # no attempt was made
    assert events[-1] == ("outer", "end", "PERMISSION_DENIED")


class Around(Interceptor):
    """Connect-style: code before and after call_next, here timing and a changed trace id."""

    def __init__(self) -> None:
        self.seen: list[tuple[str, str, float | None]] = []

    def intercept_unary(self, call_next: UnaryNext, call: ClientCall) -> GrpcResponse[Any]:
        call.set_trace_id("0af7651916cd43dd8448eb211c80319c")
        response = call_next(call)
        self.seen.append((call.rpc.path, response.status_code().name, call.deadline))
        return response


def test_around_call_interceptors_wrap_call_next_and_may_change_the_trace_id(
    chat_target: str, progress: ChatProgress
) -> None:
    around = Around()
    with GrpcClient(chat_target, interceptors=[around], timeout=5) as client:
        outcome = run(client, "unary", "sync")
    assert outcome.trace_id == "0af7651916cd43dd8448eb211c80319c"
    assert progress.trace_ids == ["0af7651916cd43dd8448eb211c80319c"]
    ((path, code, deadline),) = around.seen
    assert (path, code) == ("/chat.ChatService/Send", "OK")
    assert deadline is not None


@pytest.mark.parametrize("mode", MODES)
def test_attempt_hooks_run_per_retry_and_call_hooks_once(
    chat_target: str, progress: ChatProgress, mode: str
) -> None:
    from protos import chat_protoreq  # noqa: PLC0415

    class RetriedSend(chat_protoreq.SendGrpcRequest):
        def retry_policy(self) -> RetryPolicy:
            return RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.02)

    events: list[tuple[str, ...]] = []
    request = RetriedSend(text="x", metadata={"x-fail-after": "0", "x-fail-code": "UNAVAILABLE"})
    with GrpcClient(chat_target, interceptors=[Recorder("r", events)], retry_throttle=None) as c:
        if mode == "sync":
            response = c.call(request)
        else:
            import asyncio  # noqa: PLC0415

            response = asyncio.run(c.call_async(request))
    assert response.status_code() is grpc.StatusCode.UNAVAILABLE
    assert response.attempts() == 3
    assert len(progress.metadata) == 3
    assert events == [
        ("r", "start", "RetriedSend"),
        ("r", "attempt", "1"),
        ("r", "attempt-end", "UNAVAILABLE"),
        ("r", "attempt", "2"),
        ("r", "attempt-end", "UNAVAILABLE"),
        ("r", "attempt", "3"),
        ("r", "attempt-end", "UNAVAILABLE"),
        ("r", "end", "UNAVAILABLE"),
    ]


def test_bad_metadata_from_an_interceptor_is_misuse_raised_at_once(chat_target: str) -> None:
    from protoreq import InvalidMetadataError  # noqa: PLC0415

    class Bad(Interceptor):
        def on_start(self, call: ClientCall) -> None:
            call.set_metadata("Not-Lowercase", "x")

    with (
        GrpcClient(chat_target, interceptors=[Bad()]) as client,
        pytest.raises(InvalidMetadataError, match="lowercase"),
    ):
        run(client, "unary", "sync")
