"""Exceptions protoreq raises.

RPC failures are values (:class:`~protoreq.GrpcResponse`), never exceptions from
``call()``; these exceptions are for misuse, detected before anything is sent,
and for callers who explicitly ask a failed response for its message.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import grpc

if TYPE_CHECKING:
    from protoreq.response import GrpcResponse


class ProtoreqError(Exception):
    """Base class of every exception protoreq raises itself."""


class InvalidMetadataError(ProtoreqError, ValueError):
    """A metadata key or value that gRPC would reject, caught before the call."""


class InvalidRequestError(ProtoreqError, TypeError):
    """Something passed as a request is not one, or builds the wrong message type."""


class UnknownMethodError(ProtoreqError, LookupError):
    """A request names a service or method absent from the protobuf descriptor pool."""


class InvalidInterceptorError(ProtoreqError, TypeError):
    """Something in ``interceptors=`` is neither a protoreq nor a grpcio client interceptor."""


class ClientClosedError(ProtoreqError, RuntimeError):
    """A call on a client after ``close()``."""


class GrpcStatusError(ProtoreqError):
    """Raised only on request: by ``raise_for_status()`` or ``message()`` of a failed call."""

    def __init__(self, response: GrpcResponse[Any]) -> None:
        self.response = response
        code = response.status_code()
        super().__init__(f"{response.method_path()} failed with {code.name}: {response.details()}")

    @property
    def code(self) -> grpc.StatusCode:
        return self.response.status_code()

    @property
    def details(self) -> str:
        return self.response.details()
