"""The bases of generated request classes: everything but the typed constructor.

A generated class declares its :class:`RpcMethod` (``rpc``) and a typed
``__init__`` that builds the message; these bases answer ``service_name()`` and
``method_name()`` from ``rpc`` and ``message()`` / ``messages()`` from what the
constructor stored, and give unary-request classes ``from_message()``. So a
generated module spells out only what differs between RPCs (thousands of
them in a large tree: less to generate, to import and to read), and the
client can tell, once per class, that it may read the message directly.

Each base is a subclass of the public request kind it stands for
(:class:`BaseGrpcRequest`, :class:`ServerStreamingGrpcRequest`, ...), so
generated requests are what they always were to ``isinstance``, to mypy and
to subclasses that override ``metadata()`` or ``timeout()``. Hand-written
requests keep subclassing the public kinds, where ``service_name()``,
``method_name()`` and ``message()`` stay abstract.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, Iterable, Mapping
from typing import Any, Self

from protoreq._defaults import USE_CLIENT_DEFAULT, UseClientDefault
from protoreq.errors import InvalidRequestError
from protoreq.method import ReqT, RespT, RpcMethod
from protoreq.request import (
    BaseGrpcRequest,
    BidiStreamingGrpcRequest,
    ClientStreamingGrpcRequest,
    MetadataValue,
    ServerStreamingGrpcRequest,
    _RequestSettings,
)

__all__ = [
    "GeneratedBidiStreamingGrpcRequest",
    "GeneratedClientStreamingGrpcRequest",
    "GeneratedGrpcRequest",
    "GeneratedServerStreamingGrpcRequest",
]


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


class GeneratedGrpcRequest(_NamedByRpc, BaseGrpcRequest[ReqT, RespT]):
    """A generated unary request: ``message()`` is what the constructor built."""

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
        """A request that sends ``message`` as it is (not copied)."""
        request = cls(metadata=metadata, timeout=timeout)
        request._message = message
        return request


class GeneratedServerStreamingGrpcRequest(_NamedByRpc, ServerStreamingGrpcRequest[ReqT, RespT]):
    """A generated server-streaming request; ``from_message()`` as for unary ones."""

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
        """A request that sends ``message`` as it is (not copied)."""
        request = cls(metadata=metadata, timeout=timeout)
        request._message = message
        return request


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
