"""Secrets never printed: ``debug_redact`` fields in payload logs and reprs, credential metadata.

Against a real server for the test-only ``vault`` schema (tests/runtime/vault.py),
whose messages hold a secret in every shape a field can take.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf import any_pb2, text_format

import protoreq
from protoreq import GrpcClient, InvalidMetadataError, InvalidRequestError, Metadata
from protoreq.redaction import (
    REDACTED,
    add_sensitive_metadata_keys,
    is_sensitive_metadata_key,
    message_text,
    redacted_metadata,
)
from protoreq.testing import FakeGrpcClient
from tests.runtime.conftest import Send
from tests.runtime.requests import GetUser
from tests.runtime.test_logging import Captured, outcome_records
from tests.runtime.vault import (
    PASSWORD,
    SECRETS,
    SESSION_TOKEN,
    VISIBLE,
    account,
    credentials,
    vault,
    vault_server,
)


@pytest.fixture
def captured() -> Iterator[Captured]:
    """Every record of ``protoreq`` and ``protoreq.payloads`` at DEBUG."""
    handler = Captured()
    logger = logging.getLogger("protoreq")
    previous = logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        logger.removeHandler(handler)
        logger.setLevel(previous)
        logging.getLogger("protoreq.payloads").setLevel(logging.NOTSET)


@pytest.fixture(scope="module")
def vault_target() -> Iterator[str]:
    with vault_server() as address:
        yield address


def everything(handler: Captured) -> str:
    """All a log reader could see: formatted lines and every attribute of every record."""
    return "\n".join(handler.lines) + repr([record.__dict__ for record in handler.records])


def payload_records(handler: Captured) -> list[logging.LogRecord]:
    return [record for record in handler.records if record.name == "protoreq.payloads"]


def assert_no_secret(text: str) -> None:
    leaked = [secret for secret in (*SECRETS, SESSION_TOKEN) if secret in text]
    assert leaked == [], text


# -- payload logs ------------------------------------------------------------------------------


def test_unary_payload_logs_hide_debug_redact_fields(
    vault_target: str, send: Send, captured: Captured
) -> None:
    sign_in = vault().requests.SignInGrpcRequest(account=account(), note="visible-note")
    with GrpcClient(vault_target) as client:
        response = send(client, sign_in)

    assert response.is_success(), response
    assert response.message().session_token == SESSION_TOKEN  # the wire carries everything
    sent, received = (record.getMessage() for record in payload_records(captured))
    assert_no_secret(everything(captured))
    for visible in (*VISIBLE, "visible-note"):
        assert visible in sent
    assert "password: [REDACTED]" in sent
    assert "otp: [REDACTED]" in sent  # oneof member
    assert "vault: [REDACTED]" in sent  # map
    assert "recovery_codes: [REDACTED]" in sent  # repeated
    assert "[type.googleapis.com/vault.Credentials]" in sent  # Any, unpacked and redacted
    assert received.endswith('session_token: [REDACTED] user: "visible-user"')


def test_stream_payload_logs_hide_debug_redact_fields(
    vault_target: str, captured: Captured
) -> None:
    watch = vault().requests.WatchGrpcRequest(account=account())

    async def consume_async() -> list[Any]:
        async with GrpcClient(vault_target) as client:
            return [reply async for reply in client.stream_async(watch)]

    with GrpcClient(vault_target) as client:
        sync_replies = list(client.stream(watch))
    async_replies = asyncio.run(consume_async())

    assert [reply.session_token for reply in sync_replies + async_replies] == [SESSION_TOKEN] * 4
    assert len(payload_records(captured)) == 6  # per stream: 1 sent, 2 received
    assert_no_secret(everything(captured))
    assert everything(captured).count("session_token: [REDACTED]") >= 4


def test_client_streaming_payload_logs_hide_debug_redact_fields(
    vault_target: str, send: Send, captured: Captured
) -> None:
    enroll = vault().requests.EnrollGrpcRequest(messages=[credentials(), credentials()])
    with GrpcClient(vault_target) as client:
        response = send(client, enroll)

    assert response.message().user == "visible-user,visible-user"
    sent = [r.getMessage() for r in payload_records(captured) if "sent" in r.getMessage()]
    assert len(sent) == 2
    assert all("visible-user" in line and "password: [REDACTED]" in line for line in sent)
    assert_no_secret(everything(captured))


def test_fake_client_logs_and_records_hide_debug_redact_fields(captured: Captured) -> None:
    pb2, requests = vault()
    fake = FakeGrpcClient()
    fake.respond(requests.SignInGrpcRequest, pb2.SignInReply(session_token=SESSION_TOKEN, user="x"))

    fake.call(requests.SignInGrpcRequest(account=account()))

    (call,) = fake.calls
    sent: Any = call.messages[0]
    assert sent.account.credentials.password == PASSWORD  # kept for assertions
    assert_no_secret(repr(call) + everything(captured))
    assert "visible-user" in repr(call)


def test_payload_logger_switches_off_alone(vault_target: str, captured: Captured) -> None:
    logging.getLogger("protoreq.payloads").setLevel(logging.INFO)
    with GrpcClient(vault_target) as client:
        client.call(vault().requests.SignInGrpcRequest(account=account()))

    assert payload_records(captured) == []
    assert len(outcome_records(captured)) == 1


def test_a_client_can_keep_its_payloads_out_of_the_log(
    vault_target: str, send: Send, captured: Captured
) -> None:
    requests = vault().requests
    with GrpcClient(vault_target, log_payloads=False) as quiet:
        send(quiet, requests.SignInGrpcRequest(account=account()))
        replies = list(quiet.stream(requests.WatchGrpcRequest(account=account())))
        send(quiet, requests.EnrollGrpcRequest(messages=[credentials()]))
    with GrpcClient(vault_target) as chatty:
        send(chatty, requests.SignInGrpcRequest(account=account()))

    assert len(replies) == 2
    assert len(outcome_records(captured)) == 4  # calls are still logged...
    assert len(payload_records(captured)) == 2  # ...payloads only for the other client


def test_a_bare_message_passed_as_request_is_named_not_printed() -> None:
    message = vault().pb2.SignInReply(session_token=SESSION_TOKEN)
    with GrpcClient("127.0.0.1:1") as client, pytest.raises(InvalidRequestError) as raised:
        client.call(message)

    assert "SignInReply" in str(raised.value)
    assert_no_secret(str(raised.value))


# -- the printer itself -----------------------------------------------------------------------


def test_messages_without_redacted_fields_print_as_text_format_does() -> None:
    pb2 = vault().pb2
    for message in (pb2.Plain(text='a "quoted" é'), pb2.Plain()):
        assert message_text(message) == text_format.MessageToString(message, as_one_line=True)


def test_redacted_fields_keep_text_format_order_and_syntax() -> None:
    shown = message_text(credentials())
    assert shown == (
        'username: "visible-user" password: [REDACTED] private_key: [REDACTED] '
        'email: [REDACTED] display_name: "visible-display"'
    )


def test_an_any_of_an_unknown_type_hides_its_bytes() -> None:
    pb2 = vault().pb2
    holder = pb2.Account(id="visible-id")
    holder.attachment.CopyFrom(
        any_pb2.Any(type_url="type.googleapis.com/elsewhere.Secret", value=PASSWORD.encode())
    )

    shown = message_text(holder)

    assert PASSWORD not in shown
    assert 'attachment { type_url: "type.googleapis.com/elsewhere.Secret" value: [REDACTED] }' in (
        shown
    )


def test_the_type_plans_are_bounded_caches() -> None:
    from protoreq import redaction  # noqa: PLC0415

    for cached in (
        redaction.is_sensitive_metadata_key,
        redaction._is_redacted,
        redaction._prints_itself,
        redaction._may_hold_redacted,
    ):
        assert cached.cache_info().maxsize is not None


# -- metadata ---------------------------------------------------------------------------------

CREDENTIAL_HEADERS = (
    "x-authorization",
    "authentication",
    "x-jwt",
    "x-access-key",
    "private-key",
    "x-session-id",
    "x-amz-security-token",
    "x-goog-iap-jwt-assertion",
    "x-hub-signature",
    "x-user-credential",
    "x-db-password",
    "set-cookie",
)


@pytest.mark.parametrize("key", CREDENTIAL_HEADERS)
def test_credential_headers_are_redacted_at_info(
    target: str, send: Send, captured: Captured, key: str
) -> None:
    logging.getLogger("protoreq").setLevel(logging.INFO)
    with GrpcClient(target) as client:
        send(client, GetUser("1", metadata={key: f"value-of-{key}-secret"}))

    (record,) = outcome_records(captured)
    assert record.__dict__["rpc_metadata"][key] == REDACTED
    assert f"value-of-{key}-secret" not in everything(captured)


def test_ordinary_headers_stay_visible() -> None:
    shown = redacted_metadata(
        [("x-trace-id", "t-1"), ("x-client-version", "1.0"), ("accept-language", "fr")]
    )
    assert shown == {"x-trace-id": "t-1", "x-client-version": "1.0", "accept-language": "fr"}


def test_added_keys_are_hidden_in_logs_reprs_and_records(target: str, captured: Captured) -> None:
    key = "x-customer-pin"
    assert not is_sensitive_metadata_key(key)  # a decision now cached...
    protoreq.add_sensitive_metadata_keys("X-Customer-PIN")
    assert is_sensitive_metadata_key(key)  # ...and dropped when the list grew

    with GrpcClient(target) as client:
        client.call(GetUser("1", metadata={key: "4711-secret"}))
    fake = FakeGrpcClient()
    fake.call(GetUser("1", metadata={key: "4711-secret"}))
    received = Metadata([(key, "4711-secret")])

    assert outcome_records(captured)[0].__dict__["rpc_metadata"][key] == REDACTED
    shown = everything(captured) + repr(received) + repr(fake.calls)
    assert "4711-secret" not in shown
    assert received[key] == "4711-secret"  # hidden when shown, not changed


@pytest.mark.parametrize("bad", ["", "  ", 42, b"x-bytes"])
def test_add_sensitive_metadata_keys_refuses_non_keys(bad: Any) -> None:
    with pytest.raises(InvalidMetadataError, match="add_sensitive_metadata_keys"):
        add_sensitive_metadata_keys(bad)


def test_key_decisions_stay_bounded_after_50000_distinct_keys() -> None:
    for number in range(50_000):
        is_sensitive_metadata_key(f"x-request-{number}")
    info = is_sensitive_metadata_key.cache_info()
    assert info.maxsize is not None
    assert info.currsize <= info.maxsize
