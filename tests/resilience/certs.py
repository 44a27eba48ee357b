"""A throwaway PKI for the TLS tests: a CA, a server certificate and a client certificate.

EC P-256 keys keep generation to milliseconds. The server certificate names
``localhost`` (DNS) and 127.0.0.1 (IP); clients dial 127.0.0.1 and may check the
name ``localhost`` through the server name override.
"""

from __future__ import annotations

import datetime
import ipaddress
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID


@dataclass(frozen=True)
class Identity:
    certificate: bytes  # PEM
    private_key: bytes  # PEM


@dataclass(frozen=True)
class Pki:
    ca: bytes  # PEM of the CA certificate
    server: Identity
    client: Identity
    other_ca: bytes  # a CA that signed nothing here: trusting it alone must fail


def _key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def _certificate(
    common_name: str,
    key: ec.EllipticCurvePrivateKey,
    *,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
    names: list[x509.GeneralName] | None = None,
    usage: list[x509.ObjectIdentifier] | None = None,
) -> x509.Certificate:
    now = datetime.datetime.now(datetime.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer[0].subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=issuer is None, path_length=None), critical=True)
    )
    if names:
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    if usage:
        builder = builder.add_extension(x509.ExtendedKeyUsage(usage), critical=False)
    return builder.sign(issuer[1] if issuer else key, hashes.SHA256())


def _pem(certificate: x509.Certificate) -> bytes:
    return certificate.public_bytes(serialization.Encoding.PEM)


def make_pki() -> Pki:
    ca_key = _key()
    ca = _certificate("protoreq test CA", ca_key)
    server_key = _key()
    server = _certificate(
        "localhost",
        server_key,
        issuer=(ca, ca_key),
        names=[x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))],
        usage=[ExtendedKeyUsageOID.SERVER_AUTH],
    )
    client_key = _key()
    client = _certificate(
        "protoreq test client",
        client_key,
        issuer=(ca, ca_key),
        usage=[ExtendedKeyUsageOID.CLIENT_AUTH],
    )
    other_key = _key()
    return Pki(
        ca=_pem(ca),
        server=Identity(_pem(server), _pem_key(server_key)),
        client=Identity(_pem(client), _pem_key(client_key)),
        other_ca=_pem(_certificate("some other CA", other_key)),
    )
