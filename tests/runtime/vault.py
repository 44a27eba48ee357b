"""The test-only ``vault`` schema (``tests/runtime/protos``): fields marked ``debug_redact``.

Kept out of ``protos/`` (which the examples and golden files mirror). Compiled
once per test process by ``protoreq generate``'s own pipeline, imported like
any generated code, and served by a real grpcio server.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import shutil
import sys
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import grpc

from protoreq_generator.protoc import Invocation, compile_into
from tests.support.servers import serve

VAULT_PROTOS = Path(__file__).resolve().parent / "protos"

PASSWORD = "hunter2-password-secret"
PRIVATE_KEY = b"private-key-bytes-secret"
EMAIL = "annotated-email-secret@example.com"
RECOVERY_CODE = "recovery-code-secret"
VAULT_VALUE = "map-value-secret"
OTP = "otp-oneof-secret"
PIN = 987654321
SESSION_TOKEN = "session-token-reply-secret"
SECRETS = (PASSWORD, PRIVATE_KEY.decode(), EMAIL, RECOVERY_CODE, VAULT_VALUE, OTP, str(PIN))
"""Every value a redacted field holds in :func:`account`; none may be printed."""
VISIBLE = ("visible-user", "visible-display", "visible-label", "visible-region", "visible-id")
"""Values of ordinary fields beside them; all must still be printed."""


class Vault(NamedTuple):
    pb2: Any
    requests: Any


@functools.cache
def vault() -> Vault:
    """``vault.accounts_pb2`` and ``vault.accounts_protoreq``, generated into a temporary folder."""
    out = Path(tempfile.mkdtemp(prefix="protoreq-vault-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    compile_into(Invocation(includes=(VAULT_PROTOS,), sources=(VAULT_PROTOS,)), out)
    sys.path.insert(0, str(out))
    pb2: ModuleType = importlib.import_module("vault.accounts_pb2")
    requests: ModuleType = importlib.import_module("vault.accounts_protoreq")
    return Vault(pb2, requests)


def credentials() -> Any:
    return vault().pb2.Credentials(
        username="visible-user",
        password=PASSWORD,
        private_key=PRIVATE_KEY,
        email=EMAIL,
        display_name="visible-display",
    )


def account() -> Any:
    """An account with a secret in every shape: nested, repeated, map, oneof, Any, recursive."""
    pb2 = vault().pb2
    built = pb2.Account(
        id="visible-id",
        credentials=credentials(),
        recovery_codes=[RECOVERY_CODE],
        previous=[credentials()],
        labels={"visible-label": "visible-label"},
        vault={"key": VAULT_VALUE},
        by_region={"visible-region": credentials()},
        otp=OTP,
        pin=PIN,
        parent=pb2.Account(id="visible-id", otp=OTP),
    )
    built.attachment.Pack(credentials())
    return built


@contextmanager
def vault_server() -> Iterator[str]:
    """A real server for ``vault.Vault``: SignIn answers a token, Watch streams two replies,
    Enroll reads a stream of credentials."""
    pb2 = vault().pb2

    def sign_in(request: Any, context: grpc.ServicerContext) -> Any:
        return pb2.SignInReply(
            session_token=SESSION_TOKEN, user=request.account.credentials.username
        )

    def watch(request: Any, context: grpc.ServicerContext) -> Iterator[Any]:
        for _ in range(2):
            yield pb2.SignInReply(session_token=SESSION_TOKEN, user="visible-user")

    def enroll(requests: Iterator[Any], context: grpc.ServicerContext) -> Any:
        users = [credentials.username for credentials in requests]
        return pb2.SignInReply(session_token=SESSION_TOKEN, user=",".join(users))

    handler = grpc.method_handlers_generic_handler(
        "vault.Vault",
        {
            "SignIn": grpc.unary_unary_rpc_method_handler(
                sign_in,
                request_deserializer=pb2.SignInRequest.FromString,
                response_serializer=pb2.SignInReply.SerializeToString,
            ),
            "Watch": grpc.unary_stream_rpc_method_handler(
                watch,
                request_deserializer=pb2.SignInRequest.FromString,
                response_serializer=pb2.SignInReply.SerializeToString,
            ),
            "Enroll": grpc.stream_unary_rpc_method_handler(
                enroll,
                request_deserializer=pb2.Credentials.FromString,
                response_serializer=pb2.SignInReply.SerializeToString,
            ),
        },
    )
    with serve(handler) as address:
        yield address
