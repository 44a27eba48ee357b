"""TLS, mutual TLS and per-call tokens against real TLS servers with certificates made here."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from protoreq import NO_RETRY, GrpcClient, TlsConfig, token_call_credentials
from tests.resilience.certs import Pki
from tests.resilience.faults import FaultyUserService, serve_on
from tests.resilience.requests import GetUser
from tests.runtime.conftest import Send


@pytest.fixture
def service() -> FaultyUserService:
    return FaultyUserService()


def _server_credentials(pki: Pki, *, mutual: bool) -> grpc.ServerCredentials:
    return grpc.ssl_server_credentials(
        [(pki.server.private_key, pki.server.certificate)],
        root_certificates=pki.ca if mutual else None,
        require_client_auth=mutual,
    )


@pytest.fixture
def tls_target(pki: Pki, service: FaultyUserService) -> Iterator[str]:
    with serve_on(service.handlers(), credentials=_server_credentials(pki, mutual=False)) as port:
        yield f"127.0.0.1:{port}"


@pytest.fixture
def mtls_target(pki: Pki, service: FaultyUserService) -> Iterator[str]:
    with serve_on(service.handlers(), credentials=_server_credentials(pki, mutual=True)) as port:
        yield f"127.0.0.1:{port}"


def test_tls_call_succeeds(send: Send, pki: Pki, tls_target: str) -> None:
    tls = TlsConfig(root_certificates=pki.ca, server_name_override="localhost")
    with GrpcClient(tls_target, tls=tls) as client:
        response = send(client, GetUser())

    assert response.is_success(), response
    assert "secure=True" in repr(client)


def test_mutual_tls_call_succeeds(send: Send, pki: Pki, mtls_target: str) -> None:
    tls = TlsConfig(
        root_certificates=pki.ca,
        certificate_chain=pki.client.certificate,
        private_key=pki.client.private_key,
        server_name_override="localhost",
    )
    with GrpcClient(mtls_target, tls=tls) as client:
        response = send(client, GetUser())

    assert response.is_success(), response


def test_untrusted_server_certificate_is_a_status_with_a_hint(
    send: Send, pki: Pki, tls_target: str, service: FaultyUserService
) -> None:
    tls = TlsConfig(root_certificates=pki.other_ca, server_name_override="localhost")
    with GrpcClient(tls_target, tls=tls, retry=NO_RETRY) as client:
        response = send(client, GetUser(timeout=5))

    assert response.status_code() is grpc.StatusCode.UNAVAILABLE
    assert "CERTIFICATE_VERIFY_FAILED" in response.details()
    assert "check TlsConfig.root_certificates" in response.details()
    assert service.calls == 0


def test_missing_client_certificate_is_a_status_with_a_hint(
    send: Send, pki: Pki, mtls_target: str, service: FaultyUserService
) -> None:
    tls = TlsConfig(root_certificates=pki.ca, server_name_override="localhost")
    with GrpcClient(mtls_target, tls=tls, retry=NO_RETRY) as client:
        response = send(client, GetUser(timeout=5))

    assert response.status_code() is grpc.StatusCode.UNAVAILABLE
    assert "client certificate (mutual TLS)" in response.details()
    assert service.calls == 0


def test_wrong_server_name_is_a_status(send: Send, pki: Pki, tls_target: str) -> None:
    tls = TlsConfig(root_certificates=pki.ca, server_name_override="somebody-else.example")
    with GrpcClient(tls_target, tls=tls, retry=NO_RETRY) as client:
        response = send(client, GetUser(timeout=5))

    assert response.status_code() is grpc.StatusCode.UNAVAILABLE
    assert "Hostname Verification Check failed" in response.details()
    assert "check the target or TlsConfig.server_name_override" in response.details()


def test_plaintext_client_to_tls_server_is_a_status(send: Send, tls_target: str) -> None:
    with GrpcClient(tls_target, retry=NO_RETRY) as client:
        response = send(client, GetUser(timeout=5))

    assert response.status_code() is grpc.StatusCode.UNAVAILABLE


def test_raw_grpc_credentials_are_accepted(send: Send, pki: Pki, tls_target: str) -> None:
    credentials = grpc.ssl_channel_credentials(root_certificates=pki.ca)
    with GrpcClient(
        tls_target, credentials=credentials, ssl_target_name_override="localhost"
    ) as client:
        assert send(client, GetUser()).is_success()


def test_token_provider_is_called_for_every_call(
    send: Send, pki: Pki, tls_target: str, service: FaultyUserService
) -> None:
    counter = itertools.count(1)
    tls = TlsConfig(root_certificates=pki.ca, server_name_override="localhost")
    with GrpcClient(
        tls_target,
        tls=tls,
        call_credentials=token_call_credentials(lambda: f"token-{next(counter)}"),
    ) as client:
        for _ in range(3):
            assert send(client, GetUser()).is_success()

    seen = [arrival.metadata["authorization"] for arrival in service.arrivals]
    assert seen == ["Bearer token-1", "Bearer token-2", "Bearer token-3"]


def test_composite_call_credentials(
    send: Send, pki: Pki, tls_target: str, service: FaultyUserService
) -> None:
    both = grpc.composite_call_credentials(
        token_call_credentials(lambda: "user-token"),
        token_call_credentials(lambda: "k-123", header="x-api-key", scheme=""),
    )
    tls = TlsConfig(root_certificates=pki.ca, server_name_override="localhost")
    with GrpcClient(tls_target, tls=tls, call_credentials=both) as client:
        assert send(client, GetUser()).is_success()

    sent = service.arrivals[0].metadata
    assert sent["authorization"] == "Bearer user-token"
    assert sent["x-api-key"] == "k-123"


def test_failing_token_provider_fails_the_call_not_the_caller(
    send: Send, pki: Pki, tls_target: str, service: FaultyUserService
) -> None:
    def provider() -> str:
        raise RuntimeError("token service down")

    tls = TlsConfig(root_certificates=pki.ca, server_name_override="localhost")
    with GrpcClient(
        tls_target, tls=tls, call_credentials=token_call_credentials(provider), retry=NO_RETRY
    ) as client:
        response = send(client, GetUser())

    assert not response.is_success()
    assert "token service down" in response.details()
    assert service.calls == 0


def test_call_credentials_need_a_secure_channel() -> None:
    with pytest.raises(ValueError, match="secure channel"):
        GrpcClient("127.0.0.1:1", call_credentials=token_call_credentials(lambda: "t"))


def test_tls_and_raw_credentials_are_exclusive(pki: Pki) -> None:
    with pytest.raises(ValueError, match="not both"):
        GrpcClient(
            "127.0.0.1:1",
            tls=TlsConfig(root_certificates=pki.ca),
            credentials=grpc.ssl_channel_credentials(),
        )


def test_tls_config_from_files_and_repr(pki: Pki, tmp_path: Path) -> None:
    (tmp_path / "ca.pem").write_bytes(pki.ca)
    (tmp_path / "client.pem").write_bytes(pki.client.certificate)
    (tmp_path / "client.key").write_bytes(pki.client.private_key)
    tls = TlsConfig.from_files(
        root_certificates=tmp_path / "ca.pem",
        certificate_chain=tmp_path / "client.pem",
        private_key=str(tmp_path / "client.key"),
        server_name_override="localhost",
    )
    assert tls == TlsConfig(
        root_certificates=pki.ca,
        certificate_chain=pki.client.certificate,
        private_key=pki.client.private_key,
        server_name_override="localhost",
    )
    assert tls.mutual
    text = repr(tls)
    assert text == "TlsConfig(roots=custom, mutual=True, server_name_override='localhost')"
    assert "PRIVATE" not in text
    assert repr(TlsConfig()) == "TlsConfig(roots=system, mutual=False)"


def test_tls_config_rejects_half_identities_and_non_pem(pki: Pki) -> None:
    with pytest.raises(ValueError, match="both certificate_chain and private_key"):
        TlsConfig(certificate_chain=pki.client.certificate)
    with pytest.raises(ValueError, match="does not look like PEM"):
        TlsConfig(root_certificates=b"not a certificate")
    with pytest.raises(TypeError, match="PEM bytes"):
        TlsConfig(root_certificates="-----BEGIN CERTIFICATE-----")  # type: ignore[arg-type]


def test_equal_tls_settings_share_channels(
    pki: Pki, tls_target: str, service: FaultyUserService
) -> None:
    def tls() -> TlsConfig:
        return TlsConfig(root_certificates=pki.ca, server_name_override="localhost")

    with (
        GrpcClient(tls_target, tls=tls(), share_channels=True) as first,
        GrpcClient(tls_target, tls=tls(), share_channels=True) as second,
    ):
        assert first.call(GetUser()).is_success()
        assert second.call(GetUser()).is_success()

    assert len(service.peers()) == 1
