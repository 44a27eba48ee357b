"""The one place where grpcio's exceptions become responses.

Sync ``grpc.RpcError`` (raised by ``with_call``) and ``grpc.aio.AioRpcError``
both implement code/details/initial_metadata/trailing_metadata, so both go
through :func:`response_from_error`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol

import grpc

from protoreq.metadata import received_metadata
from protoreq.response import GrpcResponse

__all__ = ["LocalRpcError", "received_metadata", "response_from_error", "undecodable_reply"]

UNDECODABLE_REPLY = "Exception deserializing response!"
"""grpcio's details when a reply does not parse: sync grpcio answers INTERNAL with them, and
grpc.aio hands out ``None`` as the message instead, so protoreq answers for it alike."""


class _FinishedCall(Protocol):
    def code(self) -> grpc.StatusCode | None: ...
    def details(self) -> str | None: ...
    def initial_metadata(self) -> Any: ...
    def trailing_metadata(self) -> Any: ...


def response_from_error(
    error: grpc.RpcError | BaseException,
    *,
    method_path: str,
    elapsed: float,
    trace_id: str | None,
    attempts: int = 1,
    explain: Callable[[str], str] | None = None,
) -> GrpcResponse[Any]:
    """A failed :class:`GrpcResponse` with the error's status, details and metadata.

    ``explain`` (the client's, on secure channels) rewrites the details of an
    UNAVAILABLE status: it adds what a failed TLS handshake most likely means.
    Unary calls and streams all end here, so all get the same hint.
    """
    if isinstance(error, grpc.RpcError) and callable(getattr(error, "code", None)):
        # Sync errors from with_call and AioRpcError both carry the finished call's status.
        call: _FinishedCall = error  # type: ignore[assignment]
        code = call.code() or grpc.StatusCode.UNKNOWN
        details = call.details() or ""
        if explain is not None and code is grpc.StatusCode.UNAVAILABLE:
            details = explain(details)
        return GrpcResponse(
            method_path=method_path,
            code=code,
            details=details,
            initial_metadata=received_metadata(call.initial_metadata()),
            trailing_metadata=received_metadata(call.trailing_metadata()),
            elapsed=elapsed,
            trace_id=trace_id,
            attempts=attempts,
        )
    return GrpcResponse(
        method_path=method_path,
        code=grpc.StatusCode.UNKNOWN,
        details=f"{type(error).__name__}: {error}",
        elapsed=elapsed,
        trace_id=trace_id,
        attempts=attempts,
    )


class LocalRpcError(grpc.RpcError):
    """A status decided on this side, with no server involved (deadline already spent,
    channel closed under the call): it travels the same road as grpcio's errors."""

    def __init__(
        self, code: grpc.StatusCode, details: str, initial: Any = (), trailing: Any = ()
    ) -> None:
        super().__init__(details)
        self._code = code
        self._details = details
        self._initial = initial
        self._trailing = trailing

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def initial_metadata(self) -> Any:
        return self._initial

    def trailing_metadata(self) -> Any:
        return self._trailing


def undecodable_reply(initial: Any = (), trailing: Any = ()) -> LocalRpcError:
    """The INTERNAL status sync grpcio gives a reply that does not parse as the response type."""
    return LocalRpcError(grpc.StatusCode.INTERNAL, UNDECODABLE_REPLY, initial, trailing)
