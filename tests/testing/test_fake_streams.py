"""FakeGrpcClient for server-streaming and bidi calls, sync and async."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from typing import Any, cast

import grpc
import pytest
from google.rpc import error_details_pb2

from protoreq import (
    AsyncGrpcStream,
    GrpcClient,
    GrpcStream,
    InvalidRequestError,
    RequestContext,
)
from protoreq.testing import Failure, FakeGrpcClient, ScriptError, UnscriptedCallError
from protos import chat_pb2, user_pb2
from tests.testing.requests import Converse, GetUser, Subscribe


def chat(*texts: str) -> list[chat_pb2.ChatMessage]:
    return [chat_pb2.ChatMessage(seq=i, text=text) for i, text in enumerate(texts, 1)]


def texts(messages: list[chat_pb2.ChatMessage]) -> list[str]:
    return [message.text for message in messages]


class RoomReader:
    """Service-layer code that consumes a stream, typed against the real client."""

    def __init__(self, client: GrpcClient) -> None:
        self._client = client

    def read(self, room: str) -> tuple[list[str], grpc.StatusCode]:
        stream = self._client.stream(Subscribe(room))
        received = [message.text for message in stream]
        return received, stream.status_code()

    async def read_async(self, room: str) -> tuple[list[str], grpc.StatusCode]:
        stream = self._client.stream_async(Subscribe(room))
        received = [message.text async for message in stream]
        return received, stream.status_code()


# -- server streaming ------------------------------------------------------------------------------


def test_server_stream_plays_the_scripted_messages() -> None:
    fake = FakeGrpcClient()
    fake.respond(Subscribe, chat("a", "b", "c"), trailing_metadata={"x-end": "yes"})

    stream = fake.stream(Subscribe("lobby"))

    assert isinstance(stream, GrpcStream)
    assert texts(list(stream)) == ["a", "b", "c"]
    assert stream.is_success()
    assert stream.trailing_metadata()["x-end"] == "yes"
    assert stream.received_count() == 3
    assert stream.method_path() == "/chat.ChatService/Subscribe"
    assert stream.trace_id() == fake.calls[0].trace_id
    assert fake.calls[0].messages == [chat_pb2.SubscribeRequest(room="lobby", count=3)]


def test_server_stream_ends_quietly_on_a_scripted_failure() -> None:
    fake = FakeGrpcClient()
    quota = error_details_pb2.QuotaFailure(
        violations=[error_details_pb2.QuotaFailure.Violation(subject="room")]
    )
    fake.respond(
        Subscribe,
        [
            *chat("a", "b"),
            Failure(grpc.StatusCode.RESOURCE_EXHAUSTED, "too many", error_details=[quota]),
        ],
    )

    received, code = RoomReader(fake).read("lobby")

    assert received == ["a", "b"]
    assert code is grpc.StatusCode.RESOURCE_EXHAUSTED
    stream = fake.stream(Subscribe("lobby"))
    list(stream)
    assert stream.details() == "too many"
    [detail] = stream.error_details()
    assert isinstance(detail, error_details_pb2.QuotaFailure)


def test_fail_ends_a_stream_at_once() -> None:
    fake = FakeGrpcClient()
    fake.fail(Subscribe, grpc.StatusCode.PERMISSION_DENIED, "members only")
    assert RoomReader(fake).read("vip") == ([], grpc.StatusCode.PERMISSION_DENIED)


def test_a_callable_answer_builds_the_stream_from_the_request() -> None:
    fake = FakeGrpcClient()
    fake.respond(
        Subscribe,
        lambda request: (
            chat_pb2.ChatMessage(seq=i, text=f"{request.room}-{i}") for i in range(request.count)
        ),
    )
    stream = fake.stream(Subscribe("r", count=2))
    assert texts(list(stream)) == ["r-0", "r-1"]


async def test_server_stream_async() -> None:
    fake = FakeGrpcClient()
    fake.respond(Subscribe, [*chat("x"), Failure(grpc.StatusCode.UNAVAILABLE, "gone")])

    stream = fake.stream_async(Subscribe("lobby"))

    assert isinstance(stream, AsyncGrpcStream)
    assert await RoomReader(fake).read_async("lobby") == (["x"], grpc.StatusCode.UNAVAILABLE)
    assert [m.text async for m in stream] == ["x"]
    assert stream.details() == "gone"


def test_cancel_ends_a_fake_stream_with_cancelled() -> None:
    fake = FakeGrpcClient()
    fake.respond(Subscribe, chat("a", "b", "c"))
    stream = fake.stream(Subscribe("lobby"))
    assert next(stream).text == "a"
    assert stream.cancel()
    assert list(stream) == []
    assert stream.status_code() is grpc.StatusCode.CANCELLED


# -- bidi ------------------------------------------------------------------------------------------


def test_bidi_callable_answers_each_message_as_it_is_sent() -> None:
    events: list[str] = []

    def outgoing() -> Iterator[chat_pb2.ChatMessage]:
        for message in chat("hi", "bye"):
            events.append(f"send {message.text}")
            yield message

    def echo(
        request: Converse, messages: Iterator[chat_pb2.ChatMessage]
    ) -> Iterator[chat_pb2.ChatMessage]:
        for message in messages:
            yield chat_pb2.ChatMessage(seq=message.seq, text=message.text.upper())

    fake = FakeGrpcClient()
    fake.respond(Converse, echo)
    for answer in fake.stream(Converse(outgoing())):
        events.append(f"got {answer.text}")

    assert events == ["send hi", "got HI", "send bye", "got BYE"]
    assert fake.calls[0].messages == chat("hi", "bye")


def test_bidi_fixed_answer_reads_every_message_first() -> None:
    fake = FakeGrpcClient()
    fake.respond(Converse, chat("ok"))
    stream = fake.stream(Converse(chat("a", "b")))
    assert texts(list(stream)) == ["ok"]
    assert fake.calls[0].messages == chat("a", "b")


def test_bidi_callable_can_end_the_conversation_with_a_failure() -> None:
    def strict_echo(
        request: Converse, messages: Iterator[chat_pb2.ChatMessage]
    ) -> Iterator[chat_pb2.ChatMessage | Failure]:
        for message in messages:
            if not message.text:
                yield Failure(grpc.StatusCode.INVALID_ARGUMENT, f"empty message {message.seq}")
                return
            yield message

    fake = FakeGrpcClient()
    fake.respond(Converse, strict_echo)
    stream = fake.stream(Converse(chat("a", "", "c")))
    assert texts(list(stream)) == ["a"]
    assert stream.status_code() is grpc.StatusCode.INVALID_ARGUMENT
    assert stream.details() == "empty message 2"
    assert fake.calls[0].messages == chat("a", "")  # the third was never read


async def test_bidi_async_with_an_async_iterable_of_messages() -> None:
    async def outgoing() -> AsyncIterator[chat_pb2.ChatMessage]:
        for message in chat("p", "q"):
            await asyncio.sleep(0)
            yield message

    fake = FakeGrpcClient()
    fake.respond(
        Converse,
        lambda request, messages: [chat_pb2.ChatMessage(text=m.text * 2) for m in messages],
    )
    stream = fake.stream_async(Converse(outgoing()))
    assert [m.text async for m in stream] == ["pp", "qq"]
    assert stream.is_success()
    assert fake.calls[0].messages == chat("p", "q")


async def test_bidi_async_with_a_plain_iterable_stays_lazy() -> None:
    fake = FakeGrpcClient()
    fake.respond(Converse, lambda request, messages: (m for m in messages))
    stream = fake.stream_async(Converse(iter(chat("1", "2"))))
    first = await anext(stream)
    assert first.text == "1"
    assert fake.calls[0].messages == chat("1")  # only what was needed so far
    assert [m.text async for m in stream] == ["2"]


def test_bidi_with_an_async_iterable_needs_stream_async() -> None:
    async def outgoing() -> AsyncIterator[chat_pb2.ChatMessage]:
        yield chat_pb2.ChatMessage()

    fake = FakeGrpcClient()
    fake.respond(Converse, chat("x"))
    source = outgoing()
    with pytest.raises(InvalidRequestError, match=r"stream_async\(\)"):
        fake.stream(Converse(source))
    assert fake.calls == []
    asyncio.run(cast(Any, source).aclose())


def test_an_outgoing_message_of_the_wrong_type_is_misuse() -> None:
    fake = FakeGrpcClient()
    fake.respond(Converse, lambda request, messages: list(messages))
    stream = fake.stream(Converse(cast(Any, [user_pb2.User()])))
    with pytest.raises(InvalidRequestError, match=r"yielded user\.User, but /chat\.ChatService"):
        list(stream)


# -- unscripted, misuse, deadlines ----------------------------------------------------------------


def test_an_unscripted_stream_ends_with_unimplemented() -> None:
    stream = FakeGrpcClient().stream(Subscribe("lobby"))
    assert list(stream) == []
    assert stream.status_code() is grpc.StatusCode.UNIMPLEMENTED
    assert "no answer scripted for Subscribe (/chat.ChatService/Subscribe)" in stream.details()

    with pytest.raises(UnscriptedCallError):
        FakeGrpcClient(strict=True).stream(Subscribe("lobby"))


async def test_an_unscripted_async_stream_ends_with_unimplemented() -> None:
    stream = FakeGrpcClient().stream_async(Subscribe("lobby"))
    assert [m async for m in stream] == []
    assert stream.status_code() is grpc.StatusCode.UNIMPLEMENTED


def test_stream_misuse_is_caught_as_by_a_real_client() -> None:
    fake = FakeGrpcClient()
    with pytest.raises(InvalidRequestError, match=r"send it with client.call\(\)"):
        fake.stream(cast(Any, GetUser("1")))


def test_a_wrong_stream_slipped_past_mypy_is_reported() -> None:
    fake = FakeGrpcClient()
    wrong_item = r"is a user\.User, but /chat\.ChatService/Subscribe answers"
    with pytest.raises(ScriptError, match=wrong_item):
        fake.respond(Subscribe, cast(Any, [user_pb2.User()]))
    with pytest.raises(ScriptError, match="answers a stream"):
        fake.respond(Subscribe, cast(Any, chat_pb2.ChatMessage()))

    fake.respond(Subscribe, cast(Any, lambda request: (user_pb2.User() for _ in range(2))))
    with pytest.raises(ScriptError, match=wrong_item):
        list(fake.stream(Subscribe("lobby")))


def test_a_spent_deadline_ends_the_stream_without_sending() -> None:
    fake = FakeGrpcClient()
    fake.respond(Subscribe, chat("a"))
    with RequestContext.scope(deadline=0.0):
        stream = fake.stream(Subscribe("lobby"))
    assert list(stream) == []
    assert stream.status_code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert fake.calls == []
