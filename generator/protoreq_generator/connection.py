"""The options every server command shares: how to reach the server and where its schema is.

``--plaintext`` is the default for loopback targets (127.0.0.0/8, ::1,
localhost) and TLS with the system's roots for every other target; any TLS
option asks for TLS.
"""

from __future__ import annotations

import base64
import ipaddress
import socket
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from protoreq_generator.schema import (
    Schema,
    SchemaError,
    from_protos,
    from_protoset,
    from_reflection,
)

if TYPE_CHECKING:
    from protoreq import GrpcClient, TlsConfig
    from protoreq.channel import ChannelOption


@dataclass(frozen=True)
class Connection:
    """What the shared options said, ready to open a client and load a schema."""

    target: str
    protos: tuple[Path, ...]
    includes: tuple[Path, ...]
    protoset: Path | None
    plaintext: bool | None
    cacert: Path | None
    cert: Path | None
    key: Path | None
    servername: str | None
    insecure: bool
    authority: str | None
    headers: tuple[str, ...]
    timeout: float | None

    @classmethod
    def for_target(cls, target: str) -> Connection:
        """Defaults only: plaintext to loopback, TLS with the system's roots elsewhere."""
        return cls(
            target=target,
            protos=(),
            includes=(),
            protoset=None,
            plaintext=None,
            cacert=None,
            cert=None,
            key=None,
            servername=None,
            insecure=False,
            authority=None,
            headers=(),
            timeout=30.0,
        )

    def metadata(self) -> dict[str, str | bytes]:
        """``-H 'key: value'`` pairs; ``-bin`` keys take base64 values, as gRPC sends them."""
        metadata: dict[str, str | bytes] = {}
        for header in self.headers:
            key, colon, value = header.partition(":")
            key = key.strip().lower()
            if not colon or not key:
                raise click.BadParameter(f"{header!r} is not 'key: value'", param_hint="-H")
            value = value.strip()
            metadata[key] = base64.b64decode(value) if key.endswith("-bin") else value
        return metadata

    def tls(self) -> TlsConfig | None:
        asked = any((self.cacert, self.cert, self.key, self.servername, self.insecure))
        if self.plaintext is True:
            if asked:
                raise click.UsageError("--plaintext cannot be combined with TLS options")
            return None
        if self.plaintext is None and not asked and _is_loopback(self.target):
            return None
        from protoreq import TlsConfig  # noqa: PLC0415 - the runtime loads when a command runs

        try:
            if self.insecure:
                return _trust_what_is_presented(self.target, self.servername)
            return TlsConfig.from_files(
                root_certificates=self.cacert,
                certificate_chain=self.cert,
                private_key=self.key,
                server_name_override=self.servername,
            )
        except (OSError, ValueError) as error:
            raise click.UsageError(f"TLS: {error}") from None

    def client(self, **settings: Any) -> GrpcClient:
        from protoreq import GrpcClient  # noqa: PLC0415 - not loaded by ``protoreq --help``

        options: list[ChannelOption] = []
        if self.authority:
            options.append(("grpc.default_authority", self.authority))
        return GrpcClient(
            self.target,
            tls=self.tls(),
            timeout=self.timeout,
            options=options,
            **settings,
        )

    def schema(self, client: GrpcClient | None, symbols: tuple[str, ...] = ()) -> Schema:
        """From --protoset or --proto when given, else what reflection says about ``symbols``."""
        if self.protoset is not None:
            return from_protoset(self.protoset)
        if self.protos:
            return from_protos(self.protos, self.includes)
        if client is None:
            raise SchemaError("no schema: pass --proto or --protoset")
        return from_reflection(client, symbols)


def _host_port(target: str) -> tuple[str, int]:
    address = target.split("///", 1)[-1]
    host, _, port = address.rpartition(":")
    return host.strip("[]") or address, int(port) if port.isdigit() else 443


def _is_loopback(target: str) -> bool:
    host, _ = _host_port(target)
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _trust_what_is_presented(target: str, servername: str | None) -> TlsConfig:
    """``--insecure``: trust the certificate the server presents, whoever signed it.

    grpcio cannot switch verification off, so this fetches the server's
    certificate once and pins it as the only root; it must still name the host
    (or ``--servername``). It encrypts, but proves nothing about who answers:
    for tests and development only.
    """
    host, port = _host_port(target)
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((host, port), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=servername or host) as wrapped,
    ):
        der = wrapped.getpeercert(binary_form=True)
    if der is None:
        raise ValueError(f"{target} presented no certificate")
    pem = ssl.DER_cert_to_PEM_cert(der).encode()
    from protoreq import TlsConfig  # noqa: PLC0415

    return TlsConfig(root_certificates=pem, server_name_override=servername)


def connection_options(command: Callable[..., Any]) -> Callable[..., Any]:
    """The target argument and the connection and schema options, declared once."""
    path = click.Path(exists=True, dir_okay=False, path_type=Path)
    decorators = [
        click.argument("target"),
        click.option(
            "--proto",
            "protos",
            multiple=True,
            type=path,
            metavar="FILE",
            help="Read the schema from this .proto (repeatable) instead of server reflection.",
        ),
        click.option(
            "-I",
            "--proto-path",
            "includes",
            multiple=True,
            type=click.Path(exists=True, file_okay=False, path_type=Path),
            metavar="DIR",
            help="Folder --proto imports are resolved against (repeatable).",
        ),
        click.option(
            "--protoset",
            type=path,
            metavar="FILE",
            help="Read the schema from a FileDescriptorSet (protoc --descriptor_set_out).",
        ),
        click.option(
            "--plaintext/--tls",
            default=None,
            help="No TLS (the default for 127.0.0.1, ::1 and localhost) or TLS (elsewhere).",
        ),
        click.option("--cacert", type=path, help="PEM file of the CAs to trust (TLS)."),
        click.option("--cert", type=path, help="PEM client certificate, for mutual TLS."),
        click.option("--key", type=path, help="PEM private key of --cert."),
        click.option(
            "--servername", metavar="NAME", help="Name to verify the server's certificate against."
        ),
        click.option(
            "--insecure",
            is_flag=True,
            help="TLS without verifying the server: trust the certificate it presents.",
        ),
        click.option("--authority", metavar="NAME", help="The :authority the calls carry."),
        click.option(
            "-H",
            "--header",
            "headers",
            multiple=True,
            metavar="'KEY: VALUE'",
            help="Request metadata (repeatable); -bin keys take base64 values.",
        ),
        click.option(
            "--timeout",
            type=click.FloatRange(min=0, min_open=True),
            default=30.0,
            show_default=True,
            metavar="SECONDS",
            help="Deadline of each call.",
        ),
    ]
    for decorator in reversed(decorators):
        command = decorator(command)
    return command


__all__ = ["Connection", "SchemaError", "connection_options"]
