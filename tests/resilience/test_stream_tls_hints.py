"""The TLS hint ("check TlsConfig.root_certificates") reaches streams as it reaches unary calls."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import grpc
import pytest

from protoreq import GrpcClient, TlsConfig
from protos import chat_pb2
from protos.chat_protoreq import ConverseGrpcRequest, SubscribeGrpcRequest, UploadGrpcRequest
from tests.resilience.certs import Pki
from tests.resilience.faults import FaultyUserService, serve_on

HINT = "check TlsConfig.root_certificates"


@pytest.fixture
def tls_target(pki: Pki) -> Iterator[str]:
    """A TLS server whose certificate the clients below do not trust: handshakes fail first."""
    credentials = grpc.ssl_server_credentials([(pki.server.private_key, pki.server.certificate)])
    with serve_on(FaultyUserService().handlers(), credentials=credentials) as port:
        yield f"127.0.0.1:{port}"


@pytest.fixture
def untrusting(pki: Pki) -> TlsConfig:
    return TlsConfig(root_certificates=pki.other_ca, server_name_override="localhost")


def _one() -> list[chat_pb2.ChatMessage]:
    return [chat_pb2.ChatMessage(seq=1)]


def test_sync_streams_get_the_tls_hint(tls_target: str, untrusting: TlsConfig) -> None:
    with GrpcClient(tls_target, tls=untrusting, timeout=10) as client:
        with client.stream(SubscribeGrpcRequest(room="r", count=1)) as subscribed:
            assert list(subscribed) == []
        with client.stream(ConverseGrpcRequest(messages=iter(_one()))) as conversed:
            assert list(conversed) == []
        uploaded = client.call(UploadGrpcRequest(messages=iter(_one())))

    for outcome in (subscribed, conversed, uploaded):
        assert outcome.status_code() is grpc.StatusCode.UNAVAILABLE
        assert HINT in outcome.details()


def test_async_streams_get_the_tls_hint(tls_target: str, untrusting: TlsConfig) -> None:
    async def run() -> list[tuple[grpc.StatusCode, str]]:
        async with GrpcClient(tls_target, tls=untrusting, timeout=10) as client:
            outcomes = []
            for request in (
                SubscribeGrpcRequest(room="r", count=1),
                ConverseGrpcRequest(messages=_one()),
            ):
                async with client.stream_async(request) as stream:
                    assert [message async for message in stream] == []
                outcomes.append((stream.status_code(), stream.details()))
            uploaded = await client.call_async(UploadGrpcRequest(messages=_one()))
            outcomes.append((uploaded.status_code(), uploaded.details()))
            return outcomes

    for code, details in asyncio.run(run()):
        assert code is grpc.StatusCode.UNAVAILABLE
        assert HINT in details
