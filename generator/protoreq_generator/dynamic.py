"""Request classes made at run time for RPCs known only by descriptor (reflection, protosets).

protoreq's client takes a request's static facts from its class (the once-per-class
call plan reads ``rpc``), so each dynamic RPC gets a small class of its own with
``rpc`` set, built from the method descriptor and the pool's message classes.
Instances carry only the message(s), metadata and timeout.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from google.protobuf import message_factory
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message

from protoreq import (
    USE_CLIENT_DEFAULT,
    BaseGrpcRequest,
    BidiStreamingGrpcRequest,
    Cardinality,
    ClientStreamingGrpcRequest,
    Idempotency,
    RetryPolicy,
    RpcMethod,
    ServerStreamingGrpcRequest,
    UseClientDefault,
)

MetadataPairs = Mapping[str, str | bytes]

_IDEMPOTENCY = {0: Idempotency.UNKNOWN, 1: Idempotency.NO_SIDE_EFFECTS, 2: Idempotency.IDEMPOTENT}


def rpc_method(method: MethodDescriptor) -> RpcMethod[Any, Any]:
    """The :class:`RpcMethod` of a method descriptor, with message classes from its pool."""
    return RpcMethod(
        service=method.containing_service.full_name,
        method=method.name,
        request_type=message_factory.GetMessageClass(method.input_type),
        response_type=message_factory.GetMessageClass(method.output_type),
        cardinality=Cardinality.of(
            client_streaming=method.client_streaming, server_streaming=method.server_streaming
        ),
        idempotency=_IDEMPOTENCY.get(method.GetOptions().idempotency_level, Idempotency.UNKNOWN),
    )


class _Dynamic:
    """What every dynamic request holds besides its messages: names, metadata, deadline, retry."""

    rpc: Any

    def _setup(
        self,
        messages: list[Message],
        metadata: MetadataPairs | None,
        timeout: float | UseClientDefault | None,
        retry: RetryPolicy | UseClientDefault | None,
    ) -> None:
        self._messages = messages
        self._retry = retry
        BaseGrpcRequest.__init__(self, metadata=metadata, timeout=timeout)  # type: ignore[arg-type]

    def service_name(self) -> str:
        return str(self.rpc.service)

    def method_name(self) -> str:
        return str(self.rpc.method)

    def message(self) -> Message:
        return self._messages[0]

    def messages(self) -> Iterable[Message]:
        return self._messages

    def retry_policy(self) -> RetryPolicy | UseClientDefault | None:
        return self._retry


_BASES: dict[Cardinality, type[Any]] = {
    Cardinality.UNARY_UNARY: BaseGrpcRequest,
    Cardinality.UNARY_STREAM: ServerStreamingGrpcRequest,
    Cardinality.STREAM_UNARY: ClientStreamingGrpcRequest,
    Cardinality.STREAM_STREAM: BidiStreamingGrpcRequest,
}

_classes: dict[str, type[Any]] = {}


def request_class(rpc: RpcMethod[Any, Any]) -> type[Any]:
    """A request class for ``rpc`` (one per method path), of the base its cardinality needs."""
    key = f"{rpc.path}:{id(rpc.request_type)}"
    found = _classes.get(key)
    if found is None:

        def __init__(  # noqa: N807
            self: _Dynamic,
            messages: list[Message],
            *,
            metadata: MetadataPairs | None = None,
            timeout: float | UseClientDefault | None = USE_CLIENT_DEFAULT,
            retry: RetryPolicy | UseClientDefault | None = USE_CLIENT_DEFAULT,
        ) -> None:
            self._setup(messages, metadata, timeout, retry)

        found = type(
            f"{rpc.method}DynamicRequest",
            (_Dynamic, _BASES[rpc.cardinality]),
            {"rpc": rpc, "__init__": __init__},
        )
        _classes[key] = found
    return found
