"""Request classes as scripting keys: their static types for mypy, their RPC at run time.

The typing trick: a request class (``GetUser``) must tell mypy two things at
once — the class itself (so a callable answer receives a ``GetUser`` and may
read its attributes) and the response type it declares (so the answer must be
a ``user_pb2.User``). A class is callable, so each protocol below has an
overloaded ``__call__``: one item captures what the call builds (``Req``), the
other the request kind with its message types. Matching ``type[GetUser]``
against the protocol solves all three type variables.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar, overload

from google.protobuf.message import Message

from protoreq.method import RpcMethod, resolve_method
from protoreq.request import (
    REQUEST_BASES,
    BidiStreamingGrpcRequest,
    ClientStreamingGrpcRequest,
    GrpcRequest,
    ServerStreamingGrpcRequest,
)

Req_co = TypeVar("Req_co", covariant=True)
ReqT = TypeVar("ReqT", bound=Message)
RespT = TypeVar("RespT", bound=Message)


class UnaryRequestClass(Protocol[Req_co, ReqT, RespT]):
    """A ``GrpcRequest`` / ``BaseGrpcRequest`` subclass (one message each way)."""

    @overload
    def __call__(self, *args: Any, **kwargs: Any) -> Req_co: ...
    @overload
    def __call__(self, *args: Any, **kwargs: Any) -> GrpcRequest[ReqT, RespT]: ...  # type: ignore[overload-cannot-match]


class ClientStreamingRequestClass(Protocol[Req_co, ReqT, RespT]):
    """A ``ClientStreamingGrpcRequest`` subclass (many messages out, one answer)."""

    @overload
    def __call__(self, *args: Any, **kwargs: Any) -> Req_co: ...
    @overload
    def __call__(self, *args: Any, **kwargs: Any) -> ClientStreamingGrpcRequest[ReqT, RespT]: ...  # type: ignore[overload-cannot-match]


class ServerStreamingRequestClass(Protocol[Req_co, ReqT, RespT]):
    """A ``ServerStreamingGrpcRequest`` subclass (one message out, a stream back)."""

    @overload
    def __call__(self, *args: Any, **kwargs: Any) -> Req_co: ...
    @overload
    def __call__(self, *args: Any, **kwargs: Any) -> ServerStreamingGrpcRequest[ReqT, RespT]: ...  # type: ignore[overload-cannot-match]


class BidiStreamingRequestClass(Protocol[Req_co, ReqT, RespT]):
    """A ``BidiStreamingGrpcRequest`` subclass (streams both ways)."""

    @overload
    def __call__(self, *args: Any, **kwargs: Any) -> Req_co: ...
    @overload
    def __call__(self, *args: Any, **kwargs: Any) -> BidiStreamingGrpcRequest[ReqT, RespT]: ...  # type: ignore[overload-cannot-match]


AnyRequestClass = (
    UnaryRequestClass[Any, Any, Any]
    | ClientStreamingRequestClass[Any, Any, Any]
    | ServerStreamingRequestClass[Any, Any, Any]
    | BidiStreamingRequestClass[Any, Any, Any]
)
"""Any request class, for methods whose typing does not depend on the RPC's kind."""


def check_request_class(request_class: object) -> type[Any]:
    """``request_class`` if it is a request class; a clear error for anything else."""
    if not (isinstance(request_class, type) and issubclass(request_class, REQUEST_BASES)):
        raise TypeError(
            "script answers by request class (e.g. GetUserGrpcRequest) or by method path "
            f"('/package.Service/Method'), got {request_class!r}"
        )
    return request_class


def rpc_of_class(request_class: type[Any]) -> RpcMethod[Any, Any]:
    """The RPC a request class sends, without an instance.

    Generated classes carry ``rpc``. A hand-written class names its service
    and method in instance methods, which in practice return constants; they
    are called on an instance made without ``__init__``. If they need state,
    the error says to script by method path instead.
    """
    declared: RpcMethod[Any, Any] | None = getattr(request_class, "rpc", None)
    if declared is not None:
        return declared
    bare = object.__new__(request_class)
    try:
        service, method = bare.service_name(), bare.method_name()
    except Exception as error:
        raise TypeError(
            f"cannot tell which RPC {request_class.__name__} calls without an instance "
            f"({type(error).__name__}: {error}); script it by method path instead, "
            "e.g. '/package.Service/Method'"
        ) from error
    return resolve_method(service, method)


def check_path(path: str) -> str:
    """A method path in gRPC's form, ``/package.Service/Method``."""
    parts = path.split("/")
    if len(parts) != 3 or parts[0] or not parts[1] or not parts[2]:
        raise ValueError(f"a method path looks like '/package.Service/Method', got {path!r}")
    return path


def rpc_of_path(path: str) -> RpcMethod[Any, Any]:
    _, service, method = check_path(path).split("/")
    return resolve_method(service, method)
