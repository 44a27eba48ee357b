"""The bases of generated request classes: everything but the typed constructor.

A generated class declares its :class:`RpcMethod` (``rpc``) and a typed
``__init__`` that builds the message; these bases answer ``service_name()`` and
``method_name()`` from ``rpc`` and ``message()`` / ``messages()`` from what the
constructor stored, and give unary-request classes ``from_message()``,
``from_json()`` and ``from_dict()``. So a generated module spells out only
what differs between RPCs (thousands of them in a large tree: less to
generate, to import and to read), and the client can tell, once per class,
that it may read the message directly. AIP-158 list methods extend
:class:`GeneratedPaginatedGrpcRequest`, typed by their result too, for
:class:`~protoreq.pagination.Pager`.

Each base is a subclass of the public request kind it stands for
(:class:`BaseGrpcRequest`, :class:`ServerStreamingGrpcRequest`, ...), so
generated requests are what they always were to ``isinstance``, to mypy and
to subclasses that override ``metadata()`` or ``timeout()``. Hand-written
requests keep subclassing the public kinds, where ``service_name()``,
``method_name()`` and ``message()`` stay abstract.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Callable, Iterable, Mapping
from typing import Any, ClassVar, Generic, ParamSpec, Self, TypeVar, cast

from google.protobuf.message import Message

from protoreq._defaults import USE_CLIENT_DEFAULT, UseClientDefault
from protoreq.errors import InvalidRequestError
from protoreq.method import ReqT, RespT, RpcMethod
from protoreq.request import (
    BaseGrpcRequest,
    BidiStreamingGrpcRequest,
    ClientStreamingGrpcRequest,
    MetadataValue,
    ServerStreamingGrpcRequest,
    _RequestDefaults,
    _RequestSettings,
)

__all__ = [
    "GeneratedBidiStreamingGrpcRequest",
    "GeneratedClientStreamingGrpcRequest",
    "GeneratedGrpcRequest",
    "GeneratedPaginatedGrpcRequest",
    "GeneratedServerStreamingGrpcRequest",
    "construct_quietly",
    "oneof_conflict",
]

ItemT = TypeVar("ItemT", bound=Message)
_P = ParamSpec("_P")
_R = TypeVar("_R")


class _NamedByRpc(_RequestSettings):
    """``service_name()`` and ``method_name()`` from the class's ``rpc``."""

    def _static_rpc(self) -> RpcMethod[Any, Any]:
        rpc = type(self).rpc
        if rpc is None:
            raise InvalidRequestError(
                f"{type(self).__name__} subclasses a generated request base but declares no "
                "`rpc = RpcMethod(...)`"
            )
        return rpc

    def service_name(self) -> str:
        return self._static_rpc().service

    def method_name(self) -> str:
        return self._static_rpc().method


class _OneMessage(_NamedByRpc, Generic[ReqT]):
    """What generated requests with one message (unary, server-streaming) share.

    ``message()`` is what the constructor built; ``from_message()``,
    ``from_json()`` and ``from_dict()`` make a request from a message at hand.
    """

    _message: ReqT

    def message(self) -> ReqT:
        return self._message

    @classmethod
    def from_message(
        cls,
        message: ReqT,
        *,
        metadata: Mapping[str, MetadataValue] | None = None,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> Self:
        """A request that sends ``message`` as it is (not copied; the constructor is not run)."""
        return _from_message(cls, message, metadata, timeout)

    @classmethod
    def from_json(
        cls,
        text: str | bytes,
        *,
        metadata: Mapping[str, MetadataValue] | None = None,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> Self:
        """A request whose message is ``text`` read with protobuf's JSON mapping.

        Unknown fields and wrong values raise :class:`InvalidRequestError` naming the
        field, at once; as with ``from_message()``, the constructor is not run.
        """
        return _from_message(cls, _parsed(cls, text), metadata, timeout)

    @classmethod
    def from_dict(
        cls,
        mapping: Mapping[str, Any],
        *,
        metadata: Mapping[str, MetadataValue] | None = None,
        timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
    ) -> Self:
        """``from_json()`` for an already decoded JSON object (``json.loads`` output)."""
        return _from_message(cls, _parsed(cls, mapping), metadata, timeout)


class GeneratedGrpcRequest(_OneMessage[ReqT], BaseGrpcRequest[ReqT, RespT]):
    """A generated unary request: ``message()`` is what the constructor built."""


class GeneratedPaginatedGrpcRequest(GeneratedGrpcRequest[ReqT, RespT], Generic[ReqT, RespT, ItemT]):
    """A generated AIP-158 list request: a unary one whose pager yields ``ItemT``.

    ``items_field`` names the response's results field, so the pager never guesses;
    ``page_token`` and ``next_page_token`` are AIP-158's fixed names.
    """

    items_field: ClassVar[str]

    def with_page_token(self, token: str) -> Self:
        """This request (its class, metadata, timeout, overrides) asking for the page ``token``."""
        message = type(self._message)()
        message.CopyFrom(self._message)
        message.page_token = token  # type: ignore[attr-defined]  # AIP-158: a string field
        import copy  # noqa: PLC0415  # once per page; not loaded by every generated module's import

        request = copy.copy(self)
        request._message = message
        return request


class GeneratedServerStreamingGrpcRequest(
    _OneMessage[ReqT], ServerStreamingGrpcRequest[ReqT, RespT]
):
    """A generated server-streaming request; ``from_message()`` as for unary ones."""


class GeneratedClientStreamingGrpcRequest(_NamedByRpc, ClientStreamingGrpcRequest[ReqT, RespT]):
    """A generated client-streaming request: ``messages()`` is what the constructor was given."""

    _messages: Iterable[ReqT] | AsyncIterable[ReqT]

    def messages(self) -> Iterable[ReqT] | AsyncIterable[ReqT]:
        return self._messages


class GeneratedBidiStreamingGrpcRequest(_NamedByRpc, BidiStreamingGrpcRequest[ReqT, RespT]):
    """A generated bidi request: ``messages()`` is what the constructor was given."""

    _messages: Iterable[ReqT] | AsyncIterable[ReqT]

    def messages(self) -> Iterable[ReqT] | AsyncIterable[ReqT]:
        return self._messages


def _from_message(
    cls: type[_R],
    message: Any,
    metadata: Mapping[str, MetadataValue] | None,
    timeout: float | UseClientDefault | None,
) -> _R:
    """``from_message()``: the constructor is skipped, so required fields need no values."""
    request = cls.__new__(cls)  # a deprecated class warns here, as its constructor would
    _RequestDefaults.__init__(cast(Any, request), metadata=metadata, timeout=timeout)
    cast(Any, request)._message = message
    return request


def _parsed(cls: type[_NamedByRpc], source: str | bytes | Mapping[str, Any]) -> Any:
    """The request message ``source`` describes in protobuf's JSON mapping (``json_format``)."""
    rpc = cls.rpc
    if rpc is None:
        raise InvalidRequestError(
            f"{cls.__name__} declares no `rpc = RpcMethod(...)`, so its message type is unknown"
        )
    from google.protobuf import json_format  # noqa: PLC0415 - loaded by the first from_json()

    message = rpc.request_type()
    try:
        if isinstance(source, Mapping):
            json_format.ParseDict(dict(source), message)
        else:
            json_format.Parse(source, message)
    except json_format.ParseError as error:
        raise InvalidRequestError(
            f"{cls.__name__}: not a {rpc.request_type.DESCRIPTOR.full_name} in protobuf's "
            f"JSON mapping: {error}"
        ) from None
    return message


def construct_quietly(cls: Callable[_P, _R], /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
    """``cls(...)`` without the warning of a class marked ``@deprecated``.

    For the facade method of a deprecated RPC: the method is marked too, and has
    warned its caller already (at the caller's line, where the class could not).
    ``@deprecated`` warns in ``__new__``, which this skips.
    """
    request: Any = object.__new__(cast(type[_R], cls))
    request.__init__(*args, **kwargs)
    return cast(_R, request)


def oneof_conflict(request: object, oneof: str, /, **members: object) -> InvalidRequestError:
    """The error for a constructor given several members of one oneof (``None`` = not given).

    Built only when the generated check has failed, so it may take its time.
    """
    given = [name for name, value in members.items() if value is not None]
    return InvalidRequestError(
        f"{type(request).__name__}: {', '.join(given[:-1])} and {given[-1]} are members of "
        f"oneof {oneof!r}, which holds one value; pass at most one of them"
    )
