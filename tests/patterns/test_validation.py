"""ValidatingInterceptor: buf.validate rules checked before sending, answered locally."""

from __future__ import annotations

from collections.abc import Iterator

import grpc
import pytest
from google.rpc import error_details_pb2

from protoreq import GrpcClient
from tests.patterns.validation import AddBookRequest, checker_server, shelfcheck
from tests.support.call_log import CallLog

pytest.importorskip("protovalidate")

from protoreq.validate import ValidatingInterceptor


@pytest.fixture
def server() -> Iterator[tuple[str, CallLog]]:
    with checker_server() as found:
        yield found


def test_a_valid_message_is_sent(server: tuple[str, CallLog]) -> None:
    address, log = server
    book = shelfcheck().NewBook(title="Dune", pages=412)
    with GrpcClient(address, interceptors=[ValidatingInterceptor()]) as client:
        response = client.call(AddBookRequest(book))
    assert response.message().id == "receipt-Dune"
    assert len(log.calls) == 1


def test_violations_answer_invalid_argument_with_a_bad_request_and_send_nothing(
    server: tuple[str, CallLog],
) -> None:
    address, log = server
    classes = shelfcheck()
    book = classes.NewBook(
        title="", pages=0, chapters=[classes.Chapter(name="one"), classes.Chapter(name="")]
    )
    with GrpcClient(address, interceptors=[ValidatingInterceptor()]) as client:
        response = client.call(AddBookRequest(book))
    assert log.calls == []
    assert response.status_code() is grpc.StatusCode.INVALID_ARGUMENT
    assert response.details().startswith(
        "shelfcheck.NewBook breaks its validation rules: title: must be at least 1 characters"
    )
    assert response.details().endswith("(and 2 more)")
    [bad_request] = response.error_details()
    assert isinstance(bad_request, error_details_pb2.BadRequest)
    assert [(v.field, v.description) for v in bad_request.field_violations] == [
        ("title", "must be at least 1 characters"),
        ("pages", "must be greater than 0"),
        ("chapters[1].name", "must be at least 1 characters"),
    ]


def test_fail_fast_reports_one_violation(server: tuple[str, CallLog]) -> None:
    address, _ = server
    with GrpcClient(address, interceptors=[ValidatingInterceptor(fail_fast=True)]) as client:
        response = client.call(AddBookRequest(shelfcheck().NewBook(title="", pages=0)))
    [bad_request] = response.error_details()
    assert isinstance(bad_request, error_details_pb2.BadRequest)
    assert len(bad_request.field_violations) == 1


async def test_async_calls_are_validated_too(server: tuple[str, CallLog]) -> None:
    address, log = server
    async with GrpcClient(address, interceptors=[ValidatingInterceptor()]) as client:
        bad = await client.call_async(AddBookRequest(shelfcheck().NewBook(pages=3)))
        good = await client.call_async(AddBookRequest(shelfcheck().NewBook(title="x", pages=3)))
    assert bad.status_code() is grpc.StatusCode.INVALID_ARGUMENT
    assert good.is_success()
    assert len(log.calls) == 1


def test_messages_without_rules_pass() -> None:
    from protoreq.testing import FakeGrpcClient  # noqa: PLC0415
    from protos.user_pb2 import User  # noqa: PLC0415
    from protos.user_protoreq import GetUserGrpcRequest  # noqa: PLC0415

    fake = FakeGrpcClient(interceptors=[ValidatingInterceptor()])
    fake.respond(GetUserGrpcRequest, User(name="ada"))
    assert fake.call(GetUserGrpcRequest(user_id="")).message().name == "ada"
