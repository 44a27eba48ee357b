"""A scripted failure: the status a fake (client or server) ends a call with.

One value type for both fakes, so a test scripts a failure the same way
whether its code under test talks to a :class:`FakeGrpcClient` or to a real
client pointed at a :class:`FakeGrpcServer`. Rich error details travel the
way real servers send them: a serialized ``google.rpc.Status`` under
``grpc-status-details-bin`` in the trailing metadata, so
``GrpcResponse.rich_status()`` and ``error_details()`` read them unchanged.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import any_pb2
from google.protobuf.message import Message

from protoreq.metadata import MetadataPairs, MetadataValue, outgoing_metadata
from protoreq.response import STATUS_DETAILS_KEY


@dataclass(frozen=True, slots=True)
class Failure:
    """End the call with ``code`` (never OK), ``details`` and optional rich error details.

    ``error_details`` are ``google.rpc`` messages (``BadRequest``, ``RetryInfo``,
    ...) or any other protobuf messages; they are packed into a
    ``google.rpc.Status``. Metadata values follow gRPC's rules (checked at once).
    """

    code: grpc.StatusCode
    details: str = ""
    error_details: Sequence[Message] = ()
    initial_metadata: Mapping[str, MetadataValue] | None = None
    trailing_metadata: Mapping[str, MetadataValue] | None = None
    _initial_pairs: MetadataPairs = field(init=False, repr=False, compare=False)
    _trailing_pairs: MetadataPairs = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.code, grpc.StatusCode):
            raise TypeError(f"Failure needs a grpc.StatusCode, got {self.code!r}")
        if self.code is grpc.StatusCode.OK:
            raise ValueError("a Failure cannot have status OK: script a response message instead")
        object.__setattr__(self, "error_details", tuple(self.error_details))
        object.__setattr__(self, "_initial_pairs", outgoing_metadata(self.initial_metadata or {}))
        trailing = outgoing_metadata(self.trailing_metadata or {})
        if self.error_details:
            trailing = (*trailing, (STATUS_DETAILS_KEY, self.rich_status_bytes()))
        object.__setattr__(self, "_trailing_pairs", trailing)

    def initial_pairs(self) -> MetadataPairs:
        return self._initial_pairs

    def trailing_pairs(self) -> MetadataPairs:
        """The trailing metadata to send, the serialized rich status included."""
        return self._trailing_pairs

    def rich_status_bytes(self) -> bytes:
        """``google.rpc.Status`` with this code, details and packed ``error_details``."""
        from google.rpc import status_pb2  # noqa: PLC0415  # only rich failures pay for it

        packed = []
        for detail in self.error_details:
            holder = any_pb2.Any()
            holder.Pack(detail)
            packed.append(holder)
        status = status_pb2.Status(code=self.code.value[0], message=self.details, details=packed)
        serialized: bytes = status.SerializeToString()
        return serialized


class ScriptedRpcError(grpc.RpcError):
    """A :class:`Failure` dressed as grpcio's error, so the runtime turns it into a response
    through the same code path as a real failure (``PreparedCall.failed``)."""

    def __init__(self, failure: Failure) -> None:
        super().__init__(failure.details)
        self.failure = failure

    def code(self) -> grpc.StatusCode:
        return self.failure.code

    def details(self) -> str:
        return self.failure.details

    def initial_metadata(self) -> tuple[Any, ...]:
        return self.failure.initial_pairs()

    def trailing_metadata(self) -> tuple[Any, ...]:
        return self.failure.trailing_pairs()
