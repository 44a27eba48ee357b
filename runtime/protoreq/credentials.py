"""Security: TLS and mutual TLS for channels, per-call tokens, clearer handshake failures.

``TlsConfig`` is a small value object instead of grpcio's opaque
``ChannelCredentials`` so that it can be compared (clients with equal TLS
settings may share channels), printed without leaking the private key, and
loaded from PEM files. Raw ``grpc.ChannelCredentials`` stay accepted through
``GrpcClient(credentials=...)`` for anything this does not cover (ALTS, local
credentials, xDS credentials).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Final

import grpc

TokenProvider = Callable[[], str]
"""Returns the current token; called once per call, so it should cache and refresh itself."""


@dataclass(frozen=True, slots=True)
class TlsConfig:
    """TLS for a channel: whom to trust and, for mutual TLS, who we are.

    * ``root_certificates`` — PEM of the CAs that may sign the server's
      certificate; ``None`` uses the system's trust store (grpcio's bundled roots).
    * ``certificate_chain`` and ``private_key`` — PEM of this client's certificate
      and key, for servers that require client certificates (mTLS); both or neither.
    * ``server_name_override`` — the name to check the server's certificate
      against when the target's host differs (an IP address, a tunnel). Tests and
      special networks only: it is not a way to skip verification.
    """

    root_certificates: bytes | None = None
    certificate_chain: bytes | None = None
    private_key: bytes | None = None
    server_name_override: str | None = None

    def __post_init__(self) -> None:
        if (self.certificate_chain is None) != (self.private_key is None):
            raise ValueError("mutual TLS needs both certificate_chain and private_key (or neither)")
        for name in ("root_certificates", "certificate_chain", "private_key"):
            value = getattr(self, name)
            if value is not None and not isinstance(value, bytes):
                raise TypeError(f"TlsConfig.{name} must be PEM bytes, got {type(value).__name__}")
            if value is not None and b"-----BEGIN " not in value:
                raise ValueError(f"TlsConfig.{name} does not look like PEM (no '-----BEGIN ')")

    @classmethod
    def from_files(
        cls,
        *,
        root_certificates: str | Path | None = None,
        certificate_chain: str | Path | None = None,
        private_key: str | Path | None = None,
        server_name_override: str | None = None,
    ) -> TlsConfig:
        """Read the PEM files now, so a wrong path fails here rather than at the first call."""

        def read(path: str | Path | None) -> bytes | None:
            return None if path is None else Path(path).read_bytes()

        return cls(
            root_certificates=read(root_certificates),
            certificate_chain=read(certificate_chain),
            private_key=read(private_key),
            server_name_override=server_name_override,
        )

    @property
    def mutual(self) -> bool:
        return self.certificate_chain is not None

    def channel_credentials(self) -> grpc.ChannelCredentials:
        return grpc.ssl_channel_credentials(
            root_certificates=self.root_certificates,
            private_key=self.private_key,
            certificate_chain=self.certificate_chain,
        )

    def __repr__(self) -> str:
        roots = "custom" if self.root_certificates is not None else "system"
        shown = [f"roots={roots}", f"mutual={self.mutual}"]
        if self.server_name_override:
            shown.append(f"server_name_override={self.server_name_override!r}")
        return f"TlsConfig({', '.join(shown)})"  # never the key


class _TokenPlugin(grpc.AuthMetadataPlugin):
    """Asks the provider for a token on every call; a failing provider fails that call only."""

    def __init__(self, provider: TokenProvider, header: str, scheme: str) -> None:
        self._provider = provider
        self._header = header
        self._prefix = f"{scheme} " if scheme else ""

    def __call__(
        self, context: grpc.AuthMetadataContext, callback: grpc.AuthMetadataPluginCallback
    ) -> None:
        try:
            token = self._provider()
        except Exception as error:  # reported to grpcio, which fails the call
            callback((), error)
            return
        callback(((self._header, f"{self._prefix}{token}"),), None)


def token_call_credentials(
    provider: TokenProvider, *, header: str = "authorization", scheme: str = "Bearer"
) -> grpc.CallCredentials:
    """Call credentials sending ``<header>: <scheme> <token>`` with a fresh token per call.

    grpcio runs ``provider`` on its own thread for sync and async calls alike,
    so it must be thread-safe and must not block on an event loop. An exception
    from it fails that one call with UNAVAILABLE, carrying the exception text.
    Combine several with ``grpc.composite_call_credentials``; gRPC sends call
    credentials only over secure channels (TLS, or ``grpc.local_channel_credentials``).
    """
    if header != header.lower() or not header:
        raise ValueError(f"metadata header must be lowercase and non-empty, got {header!r}")
    return grpc.metadata_call_credentials(
        _TokenPlugin(provider, header, scheme), name=f"protoreq-token:{header}"
    )


_HANDSHAKE_HINTS: Final = (
    (
        re.compile(r"CERTIFICATE_VERIFY_FAILED|unable to get local issuer|self.signed", re.I),
        "TLS: the server's certificate is not signed by a trusted CA; "
        "check TlsConfig.root_certificates",
    ),
    (
        re.compile(r"not in peer certificate|hostname|name mismatch", re.I),
        "TLS: the server's certificate does not name the host dialled; "
        "check the target or TlsConfig.server_name_override",
    ),
    (
        re.compile(r"WRONG_VERSION_NUMBER|packet length too long|record layer", re.I),
        "TLS: the server does not seem to speak TLS; is it a plaintext server?",
    ),
)


def explain_connection_failure(details: str, tls: TlsConfig | None, *, secure: bool) -> str:
    """``details`` with a hint appended when a secure connection could not be set up.

    grpcio's text for a rejected client certificate is only "Socket closed",
    which hides why; these hints name the likely setting instead.
    """
    if not secure or "failed to connect" not in details:
        return details
    for pattern, hint in _HANDSHAKE_HINTS:
        if pattern.search(details):
            return f"{details} [{hint}]"
    if re.search(r"Socket closed|Connection reset|handshake", details, re.I):
        if tls is not None and not tls.mutual:
            hint = (
                "TLS: the server closed the connection during the handshake; it may require a "
                "client certificate (mutual TLS): set TlsConfig.certificate_chain and private_key"
            )
        else:
            hint = (
                "TLS: the server closed the connection during the handshake; it may not trust "
                "this client's certificate, or not speak TLS"
            )
        return f"{details} [{hint}]"
    return details
