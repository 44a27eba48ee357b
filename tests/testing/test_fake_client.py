"""FakeGrpcClient for unary and client-streaming calls, sync and async."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator, Sequence
from typing import Any, cast

import grpc
import pytest
from google.rpc import error_details_pb2

from protoreq import (
    ClientClosedError,
    GrpcClient,
    GrpcResponse,
    InvalidMetadataError,
    InvalidRequestError,
    RequestContext,
)
from protoreq.testing import Failure, FakeGrpcClient, ScriptError, UnscriptedCallError
from protos import chat_pb2, my_pb2, user_pb2
from tests.testing.requests import AuthenticatedGetUser, CreateUser, GetUser, Subscribe, Upload

JOHN = user_pb2.User(id="1", name="John Doe", email="john@example.com")


@pytest.fixture(params=["sync", "async"])
def send(request: pytest.FixtureRequest) -> Any:
    """``send(client, request)`` through ``call()`` or ``call_async()`` (on a fresh loop)."""
    if request.param == "sync":
        return lambda client, grpc_request: client.call(grpc_request)
    return lambda client, grpc_request: asyncio.run(client.call_async(grpc_request))


def test_scripted_message_answers_every_call(send: Any) -> None:
    fake = FakeGrpcClient()
    fake.respond(GetUser, JOHN)

    first: GrpcResponse[user_pb2.User] = send(fake, GetUser("1"))
    second: GrpcResponse[user_pb2.User] = send(fake, GetUser("2"))

    assert first.is_success()
    assert first.status_code() is grpc.StatusCode.OK
    assert first.message() == JOHN
    assert second.message() == JOHN
    assert [r.user_id for r in fake.requests_of(GetUser)] == ["1", "2"]
    assert first.method_path() == "/user.UserService/GetUser"
    assert first.attempts() == 1


def test_callable_answer_receives_the_request(send: Any) -> None:
    fake = FakeGrpcClient()
    users = {"1": JOHN}
    fake.respond(
        GetUser,
        lambda request: (
            users.get(request.user_id)
            or Failure(grpc.StatusCode.NOT_FOUND, f"user {request.user_id} not found")
        ),
    )

    found = send(fake, GetUser("1"))
    missing = send(fake, GetUser("9"))

    assert found.message().name == "John Doe"
    assert missing.status_code() is grpc.StatusCode.NOT_FOUND
    assert missing.details() == "user 9 not found"


def test_fail_with_rich_error_details(send: Any) -> None:
    fake = FakeGrpcClient()
    violation = error_details_pb2.BadRequest.FieldViolation(field="email", description="taken")
    fake.fail(
        CreateUser,
        grpc.StatusCode.INVALID_ARGUMENT,
        "email is taken",
        error_details=[error_details_pb2.BadRequest(field_violations=[violation])],
        trailing_metadata={"x-reason": "duplicate"},
    )

    response = send(fake, CreateUser("Ana", "ana@example.com"))

    assert not response.is_success()
    assert response.status_code() is grpc.StatusCode.INVALID_ARGUMENT
    assert response.details() == "email is taken"
    assert response.trailing_metadata()["x-reason"] == "duplicate"
    status = response.rich_status()
    assert status is not None
    assert status.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert status.message == "email is taken"
    [detail] = response.error_details()
    assert isinstance(detail, error_details_pb2.BadRequest)
    assert detail.field_violations[0].field == "email"
    with pytest.raises(Exception, match="INVALID_ARGUMENT: email is taken"):
        response.message()


def test_metadata_goes_with_a_scripted_answer(send: Any) -> None:
    fake = FakeGrpcClient()
    fake.respond(
        GetUser,
        JOHN,
        initial_metadata={"x-served-by": "fake"},
        trailing_metadata={"x-blob-bin": b"\x00\x01"},
    )
    response = send(fake, GetUser("1"))
    assert response.initial_metadata()["x-served-by"] == "fake"
    assert response.metadata()["x-blob-bin"] == b"\x00\x01"


def test_unscripted_call_answers_unimplemented_naming_the_request(send: Any) -> None:
    fake = FakeGrpcClient()
    fake.respond(CreateUser, JOHN)

    response = send(fake, GetUser("1"))

    assert response.status_code() is grpc.StatusCode.UNIMPLEMENTED
    assert "GetUser" in response.details()
    assert "/user.UserService/GetUser" in response.details()
    assert "scripted: CreateUser" in response.details()
    assert len(fake.calls) == 1  # it was sent, and nobody answered


def test_strict_fake_raises_on_an_unscripted_call(send: Any) -> None:
    fake = FakeGrpcClient(strict=True)
    with pytest.raises(UnscriptedCallError, match=r"GetUser \(/user.UserService/GetUser\)"):
        send(fake, GetUser("1"))


def test_a_subclass_uses_its_base_class_script_until_it_has_its_own() -> None:
    fake = FakeGrpcClient()
    fake.respond(GetUser, JOHN)
    assert fake.call(AuthenticatedGetUser("1")).message() == JOHN

    fake.respond(AuthenticatedGetUser, user_pb2.User(id="admin"))
    assert fake.call(AuthenticatedGetUser("1")).message().id == "admin"
    assert fake.call(GetUser("1")).message() == JOHN


def test_scripting_by_method_path() -> None:
    fake = FakeGrpcClient()
    fake.respond("/user.UserService/GetUser", JOHN)
    assert fake.call(GetUser("1")).message() == JOHN
    fake.respond(GetUser, user_pb2.User(id="by-class"))
    assert fake.call(GetUser("1")).message().id == "by-class"  # a class script comes first

    with pytest.raises(ValueError, match="/package\\.Service/Method"):
        fake.respond("user.UserService.GetUser", JOHN)


def test_the_latest_script_wins() -> None:
    fake = FakeGrpcClient()
    fake.respond(GetUser, JOHN)
    fake.fail(GetUser, grpc.StatusCode.UNAVAILABLE, "down")
    assert fake.call(GetUser("1")).status_code() is grpc.StatusCode.UNAVAILABLE


def test_a_wrong_answer_type_slipped_past_mypy_is_reported_when_scripted() -> None:
    fake = FakeGrpcClient()
    with pytest.raises(ScriptError, match=r"is a my\.MyResponse, but .*GetUser answers user\.User"):
        fake.respond(GetUser, cast(Any, my_pb2.MyResponse()))
    with pytest.raises(ScriptError, match=r"answers one user\.User"):
        fake.respond("/user.UserService/GetUser", [JOHN])


def test_a_callable_answering_the_wrong_type_is_reported_at_the_call() -> None:
    fake = FakeGrpcClient()
    fake.respond(GetUser, cast(Any, lambda request: my_pb2.MyResponse()))
    with pytest.raises(ScriptError, match=r"is a my\.MyResponse, but .*GetUser answers user\.User"):
        fake.call(GetUser("1"))


def test_exceptions_from_a_callable_answer_reach_the_test() -> None:
    fake = FakeGrpcClient()

    def broken(request: GetUser) -> user_pb2.User:
        raise KeyError(request.user_id)

    fake.respond(GetUser, broken)
    with pytest.raises(KeyError, match="7"):
        fake.call(GetUser("7"))


def test_records_what_a_real_client_would_send() -> None:
    fake = FakeGrpcClient(timeout=5.0)
    fake.respond(GetUser, JOHN)
    with RequestContext.scope(trace_id="trace-42"):
        fake.call(AuthenticatedGetUser("1", metadata={"x-tenant": "acme"}))

    [sent] = fake.calls
    assert isinstance(sent.request, AuthenticatedGetUser)
    assert sent.method.path == "/user.UserService/GetUser"
    assert sent.metadata["x-trace-id"] == "trace-42"
    assert sent.metadata["x-tenant"] == "acme"
    assert sent.metadata["authorization"] == "Bearer secret-token"
    assert sent.trace_id == "trace-42"
    assert sent.timeout == pytest.approx(5.0)
    assert sent.messages == [user_pb2.GetUserRequest(user_id="1")]
    assert fake.requests == [sent.request]


def test_misuse_fails_exactly_as_with_a_real_client() -> None:
    fake = FakeGrpcClient()
    fake.respond(GetUser, JOHN)
    with pytest.raises(InvalidMetadataError, match="lowercase"):
        fake.call(GetUser("1", metadata={"X-Tenant": "acme"}))
    with pytest.raises(InvalidRequestError, match=r"send it with client.stream\(\)"):
        fake.call(cast(Any, Subscribe("room")))
    with pytest.raises(InvalidRequestError, match="expected a protoreq request"):
        fake.call(cast(Any, "GetUser"))
    assert fake.calls == []  # nothing was sent


def test_an_expired_context_deadline_answers_without_sending() -> None:
    fake = FakeGrpcClient()
    fake.respond(GetUser, JOHN)
    with RequestContext.scope(deadline=0.0):
        response = fake.call(GetUser("1"))
    assert response.status_code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert fake.calls == []


async def test_a_closed_fake_refuses_calls_like_a_closed_client() -> None:
    fake = FakeGrpcClient()
    with fake as same:
        assert same is fake
    assert fake.closed
    with pytest.raises(ClientClosedError):
        fake.call(GetUser("1"))

    async with FakeGrpcClient() as other:
        pass
    assert other.closed
    with pytest.raises(ClientClosedError):
        await other.call_async(GetUser("1"))


async def test_call_async_yields_to_the_loop_so_calls_interleave() -> None:
    fake = FakeGrpcClient()
    fake.respond(GetUser, lambda request: user_pb2.User(id=request.user_id))
    responses = await asyncio.gather(*(fake.call_async(GetUser(str(i))) for i in range(5)))
    assert [r.message().id for r in responses] == ["0", "1", "2", "3", "4"]


# -- client streaming (many messages out, one answer) ---------------------------------------------


def summarize(request: Upload, messages: Sequence[chat_pb2.ChatMessage]) -> chat_pb2.UploadSummary:
    return chat_pb2.UploadSummary(
        count=len(messages),
        last_seq=messages[-1].seq if messages else 0,
        joined=" ".join(m.text for m in messages),
    )


def chat(*texts: str) -> list[chat_pb2.ChatMessage]:
    return [chat_pb2.ChatMessage(seq=i, text=text) for i, text in enumerate(texts, 1)]


def test_client_streaming_callable_receives_every_outgoing_message() -> None:
    fake = FakeGrpcClient()
    fake.respond(Upload, summarize)

    response = fake.call(Upload(iter(chat("a", "b", "c"))))

    assert response.message() == chat_pb2.UploadSummary(count=3, last_seq=3, joined="a b c")
    assert fake.calls[0].messages == chat("a", "b", "c")


async def test_client_streaming_async_reads_an_async_iterable() -> None:
    async def outgoing() -> AsyncIterator[chat_pb2.ChatMessage]:
        for message in chat("x", "y"):
            await asyncio.sleep(0)
            yield message

    fake = FakeGrpcClient()
    fake.respond(Upload, summarize)
    response = await fake.call_async(Upload(outgoing()))
    assert response.message().joined == "x y"
    assert fake.calls[0].messages == chat("x", "y")


def test_client_streaming_with_an_async_iterable_needs_call_async() -> None:
    async def outgoing() -> AsyncGenerator[chat_pb2.ChatMessage]:
        yield chat_pb2.ChatMessage()

    fake = FakeGrpcClient()
    fake.respond(Upload, chat_pb2.UploadSummary(count=1))
    source = outgoing()
    with pytest.raises(InvalidRequestError, match=r"call_async\(\)"):
        fake.call(Upload(source))
    asyncio.run(source.aclose())


def test_the_fake_is_a_grpc_client() -> None:
    fake = FakeGrpcClient()
    assert isinstance(fake, GrpcClient)
    assert repr(fake) == "FakeGrpcClient(strict=False, 0 calls, scripted: nothing, open)"


INHERITED_ON_PURPOSE = {
    "__enter__",
    "__exit__",
    "__aenter__",
    "__aexit__",
    "target",
    "retry_budget",
    "paginate",
    "paginate_async",
    "wait",
    "wait_async",
    # protoreq.health sends through self.call()/call_async(): the fake's own, scripted.
    "check_health",
    "check_health_async",
    "wait_until_serving",
    "wait_until_serving_async",
}
"""GrpcClient members the fake may inherit: they do no I/O (the context managers call the
fake's own close/aclose; pagers and waits send through the fake's own call/call_async). Anything
else public must be overridden, or the fake could reach a network through a method added to
GrpcClient later; this test then names it."""


def test_every_public_grpc_client_method_is_overridden_or_harmless() -> None:
    public = {
        name
        for name in dir(GrpcClient)
        if not name.startswith("_") or name in {"__enter__", "__exit__", "__aenter__", "__aexit__"}
    }
    inherited = {name for name in public if name not in vars(FakeGrpcClient)}
    assert inherited <= INHERITED_ON_PURPOSE, (
        f"GrpcClient gained {sorted(inherited - INHERITED_ON_PURPOSE)}: "
        "override it in FakeGrpcClient (or add it here if it does no I/O)"
    )
