"""Scripted answers as streams: what ``FakeGrpcClient.stream()`` / ``stream_async()`` return.

The streams are the runtime's own ``GrpcStream.from_messages`` /
``AsyncGrpcStream.from_messages``, so code under test iterates exactly the
class it gets in production. A :class:`Failure` in the scripted answers is
raised into the stream as a ``grpc.RpcError``, which the stream turns into its
final status the way it does for a real call that fails mid-stream.

Outgoing messages of a bidi request go through the runtime's checks (the
async-iterable misuse check, the message type check) and are recorded as
they are read: lazily by a callable answer (its second argument), or all at
once, before answering, for a fixed answer.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator
from typing import Any

from google.protobuf.message import Message

from protoreq.preparation import PreparedCall
from protoreq.request import BidiStreamingGrpcRequest
from protoreq.response import GrpcResponse
from protoreq.streaming import AsyncGrpcStream, GrpcStream
from protoreq.testing.failure import Failure, ScriptedRpcError
from protoreq.testing.records import SentCall
from protoreq.testing.script import Script
from protoreq.transport.outgoing import OutgoingMessages, Source, async_source, sync_source


def outgoing_source(prepared: PreparedCall, *, asynchronous: bool) -> Source | None:
    """A bidi request's outgoing messages, checked as the real client checks them (an async
    iterable in a sync call is misuse); ``None`` when the request sends one message."""
    if not isinstance(prepared.request, BidiStreamingGrpcRequest):
        return None
    return async_source(prepared) if asynchronous else sync_source(prepared)


def scripted_stream(
    prepared: PreparedCall, script: Script, sent: SentCall, source: Source | None
) -> GrpcStream[Any]:
    if source is not None:
        assert isinstance(source, Iterable)  # outgoing_source(asynchronous=False) made sure
        answers = _bidi_answers(prepared, script, sent, source)
    else:
        answers = _raise_failure(script.stream(prepared.rpc, prepared.request))
    stream = GrpcStream.from_messages(
        answers,
        initial_metadata=script.initial_metadata,
        trailing_metadata=script.trailing_metadata,
        method_path=prepared.rpc.path,
        trace_id=prepared.trace_id,
    )
    stream._core.on_end = prepared.done  # the interceptors' end hooks see the scripted end
    return stream


def scripted_stream_async(
    prepared: PreparedCall, script: Script, sent: SentCall, source: Source | None
) -> AsyncGrpcStream[Any]:
    answers: Iterable[Message] | AsyncIterable[Message]
    if source is not None:
        if isinstance(source, AsyncIterable):
            answers = _bidi_answers_after_async_source(prepared, script, sent, source)
        else:
            answers = _bidi_answers(prepared, script, sent, source)
    else:
        answers = _raise_failure(script.stream(prepared.rpc, prepared.request))
    stream = AsyncGrpcStream.from_messages(
        answers,
        initial_metadata=script.initial_metadata,
        trailing_metadata=script.trailing_metadata,
        method_path=prepared.rpc.path,
        trace_id=prepared.trace_id,
    )
    stream._core.on_end = prepared.done  # the interceptors' end hooks see the scripted end
    return stream


def ended_stream(response: GrpcResponse[Any]) -> GrpcStream[Any]:
    """A stream that ends at once with ``response``'s status (unscripted, deadline spent)."""
    return GrpcStream.from_messages((), **_ended(response))


def ended_stream_async(response: GrpcResponse[Any]) -> AsyncGrpcStream[Any]:
    return AsyncGrpcStream.from_messages((), **_ended(response))


def _ended(response: GrpcResponse[Any]) -> dict[str, Any]:
    return {
        "code": response.status_code(),
        "details": response.details(),
        "initial_metadata": response.initial_metadata(),
        "trailing_metadata": response.trailing_metadata(),
        "method_path": response.method_path(),
        "trace_id": response.trace_id(),
    }


def _raise_failure(answers: Iterator[Message | Failure]) -> Iterator[Message]:
    for answer in answers:
        if isinstance(answer, Failure):
            raise ScriptedRpcError(answer)
        yield answer


def _recorded(
    source: Iterable[Any], outgoing: OutgoingMessages, sent: SentCall
) -> Iterator[Message]:
    for message in source:
        checked = outgoing.accept(message)
        sent.messages.append(checked)
        yield checked


def _bidi_answers(
    prepared: PreparedCall, script: Script, sent: SentCall, source: Iterable[Any]
) -> Iterator[Message]:
    reading = _recorded(source, OutgoingMessages(prepared), sent)
    if not callable(script.answer):
        for _ in reading:  # a fixed answer: read everything, then reply
            pass
    yield from _raise_failure(script.stream(prepared.rpc, prepared.request, reading))


async def _bidi_answers_after_async_source(
    prepared: PreparedCall, script: Script, sent: SentCall, source: AsyncIterable[Any]
) -> AsyncIterator[Message]:
    """A sync callable cannot pull from an async iterable, so it is read to its end first."""
    outgoing = OutgoingMessages(prepared)
    async for message in source:
        sent.messages.append(outgoing.accept(message))
    for answer in _raise_failure(
        script.stream(prepared.rpc, prepared.request, iter(sent.messages))
    ):
        yield answer
