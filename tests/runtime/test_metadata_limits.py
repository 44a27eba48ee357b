"""Metadata the call path must survive: endless distinct keys, keys grpcio drops, bad trace ids."""

from __future__ import annotations

import asyncio
import re

import pytest

from protoreq import GrpcClient, InvalidMetadataError, RequestContext
from protoreq import metadata as metadata_module
from protoreq.context import MAX_TRACE_ID_LENGTH, usable_trace_id
from protoreq.metadata import outgoing_metadata
from tests.runtime.conftest import Send
from tests.runtime.requests import GetUser, MyMethod, PlainGetUser
from tests.support.call_log import CallLog

FRESH_ID = re.compile(r"[0-9a-f]{32}")


def test_valid_key_cache_stays_bounded_after_50000_distinct_keys() -> None:
    for number in range(50_000):
        outgoing_metadata({f"x-tenant-{number}": "1"})

    assert len(metadata_module._valid_keys) <= metadata_module._VALID_KEYS_LIMIT
    assert outgoing_metadata({"x-tenant-7": "again"}) == (("x-tenant-7", "again"),)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("content-type", "sets it itself"),
        ("te", "sets it itself"),
        ("content-length", "HTTP/2"),
        ("user-agent", "grpc.primary_user_agent"),
        ("lb-cost-bin", "load balancer"),
        ("endpoint-load-metrics-bin", "load balancer"),
    ],
)
def test_keys_grpcio_drops_silently_are_refused(target: str, key: str, reason: str) -> None:
    value: str | bytes = b"v" if key.endswith("-bin") else "v"
    with GrpcClient(target) as client, pytest.raises(InvalidMetadataError) as raised:
        client.call(GetUser("1", metadata={key: value}))

    assert repr(key) in str(raised.value)
    assert "drop it silently" in str(raised.value)
    assert reason in str(raised.value)


UNUSABLE_TRACE_IDS = [
    "José-trace",
    "trace\x00id",
    "line\nbreak",
    "tab\there",
    " padded ",
    "x" * (MAX_TRACE_ID_LENGTH + 1),
    "🙂",
]


@pytest.mark.parametrize("untrusted", UNUSABLE_TRACE_IDS)
def test_an_unusable_scope_trace_id_is_replaced_and_calls_go_out(
    target: str, send: Send, call_log: CallLog, untrusted: str
) -> None:
    with GrpcClient(target) as client, RequestContext.scope(trace_id=untrusted):
        replacement = RequestContext.get_trace_id()
        first = send(client, MyMethod())  # the fast road (default settings)
        second = send(client, PlainGetUser("1", {}))  # the general road (own metadata())
        third = send(client, GetUser("1", metadata={"x-extra": "1"}))

    assert replacement is not None
    assert FRESH_ID.fullmatch(replacement)
    assert first.is_success(), first
    assert first.message().trace_id == replacement  # what the server saw
    assert [second.is_success(), third.is_success()] == [True, True]
    assert [call.metadata["x-trace-id"] for call in call_log.calls[-2:]] == [replacement] * 2
    assert {first.trace_id(), second.trace_id(), third.trace_id()} == {replacement}


def test_an_unusable_trace_id_in_a_coroutine_scope(target: str) -> None:
    async def main() -> tuple[str | None, str]:
        async with GrpcClient(target) as client:
            with RequestContext.scope(trace_id="naïve"):
                response = await client.call_async(MyMethod())
                return RequestContext.get_trace_id(), response.message().trace_id

    expected, seen = asyncio.run(main())
    assert expected == seen
    assert FRESH_ID.fullmatch(seen)


@pytest.mark.parametrize(
    "usable",
    ["4bf92f3577b34da6a3ce929d0e0e4736", "req-42", "Root=1-5759e988-bd862e3fe1be46a994272793;S=1"],
)
def test_usable_trace_ids_are_kept(target: str, usable: str) -> None:
    with GrpcClient(target) as client, RequestContext.scope(trace_id=usable):
        response = client.call(MyMethod())

    assert response.message().trace_id == usable


def test_a_non_str_trace_id_is_replaced_too() -> None:
    assert FRESH_ID.fullmatch(usable_trace_id(b"from-an-asgi-header"))
    assert usable_trace_id("x" * MAX_TRACE_ID_LENGTH) == "x" * MAX_TRACE_ID_LENGTH
