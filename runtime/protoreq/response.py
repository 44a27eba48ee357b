"""The answer to a call: status, details, metadata and the typed message.

RPC failures are carried here instead of raised, so calling code branches on
``is_success()`` the way the original design does, and a failure can be
logged, retried or passed on without exception plumbing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Final, Generic, TypeVar

import grpc
from google.protobuf import descriptor_pool, message_factory
from google.protobuf.message import DecodeError, Message

from protoreq.errors import GrpcStatusError
from protoreq.metadata import EMPTY_METADATA, FinishedCall, Metadata, received_metadata

ReceivedMetadata = tuple[Any, Any] | FinishedCall | None
"""Metadata not read yet: raw ``(initial, trailing)`` pairs, or a finished call to ask."""

if TYPE_CHECKING:
    from google.protobuf import any_pb2
    from google.rpc import status_pb2

T = TypeVar("T", bound=Message)

STATUS_DETAILS_KEY = "grpc-status-details-bin"
_OK: Final = grpc.StatusCode.OK


class GrpcResponse(Generic[T]):
    """Outcome of one call (after any retries), successful or not."""

    __slots__ = (
        "_attempts",
        "_code",
        "_details",
        "_elapsed",
        "_finished_call",
        "_initial_metadata",
        "_merged_metadata",
        "_message",
        "_method_path",
        "_trace_id",
        "_trailing_metadata",
    )

    def __init__(
        self,
        *,
        method_path: str,
        code: grpc.StatusCode,
        details: str = "",
        message: T | None = None,
        initial_metadata: Metadata = EMPTY_METADATA,
        trailing_metadata: Metadata = EMPTY_METADATA,
        elapsed: float = 0.0,
        trace_id: str | None = None,
        attempts: int = 1,
    ) -> None:
        self._method_path = method_path
        self._code = code
        self._details = details
        self._message = message
        self._initial_metadata: Metadata | None = initial_metadata
        self._trailing_metadata: Metadata | None = trailing_metadata
        self._finished_call: ReceivedMetadata = None
        self._merged_metadata: Metadata | None = None
        self._elapsed = elapsed
        self._trace_id = trace_id
        self._attempts = attempts

    @classmethod
    def received(  # noqa: PLR0917  # positional: made on every call, keyword binding costs
        cls,
        method_path: str,
        message: T,
        received: ReceivedMetadata,
        elapsed: float,
        trace_id: str | None,
        attempts: int,
    ) -> GrpcResponse[T]:
        """A successful response as the client makes one per call: positional, metadata unread.

        ``received`` is grpcio's raw ``(initial, trailing)`` pairs or a finished
        call with ``initial_metadata()`` / ``trailing_metadata()`` methods; they
        become :class:`Metadata` only when asked for.
        """
        response = cls.__new__(cls)
        response._method_path = method_path
        response._code = _OK
        response._details = ""
        response._message = message
        response._initial_metadata = None
        response._trailing_metadata = None
        response._finished_call = received
        response._merged_metadata = None
        response._elapsed = elapsed
        response._trace_id = trace_id
        response._attempts = attempts
        return response

    def is_success(self) -> bool:
        return self._code is _OK

    def status_code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        """The server's status message ("" on success)."""
        return self._details

    def message(self) -> T:
        """The response message; a failed call has none, so this raises :class:`GrpcStatusError`."""
        if self._message is None:
            raise GrpcStatusError(self)
        return self._message

    def raise_for_status(self) -> GrpcResponse[T]:
        """``self`` when successful, otherwise raise :class:`GrpcStatusError`; chains like httpx."""
        if self._code is not grpc.StatusCode.OK:
            raise GrpcStatusError(self)
        return self

    def metadata(self) -> Metadata:
        """Initial and trailing metadata together; a key in both shows its trailing value."""
        if self._merged_metadata is None:
            self._merged_metadata = self.initial_metadata() + self.trailing_metadata()
        return self._merged_metadata

    def initial_metadata(self) -> Metadata:
        found = self._initial_metadata
        if found is None:
            found = self._initial_metadata = _read(self._finished_call, initial=True)
        return found

    def trailing_metadata(self) -> Metadata:
        found = self._trailing_metadata
        if found is None:
            found = self._trailing_metadata = _read(self._finished_call, initial=False)
        return found

    def method_path(self) -> str:
        """``/package.Service/Method``, for messages and logs."""
        return self._method_path

    def elapsed(self) -> float:
        """Seconds from the start of the call (first attempt) to its outcome."""
        return self._elapsed

    def trace_id(self) -> str | None:
        """The ``x-trace-id`` the call carried."""
        return self._trace_id

    def attempts(self) -> int:
        """How many times the call was sent (more than 1 after retries)."""
        return self._attempts

    def rich_status(self) -> status_pb2.Status | None:
        """The ``google.rpc.Status`` a server attached (``grpc-status-details-bin``), if any."""
        raw = self.trailing_metadata().get(STATUS_DETAILS_KEY)
        if not isinstance(raw, bytes):
            return None
        from google.rpc import status_pb2  # noqa: PLC0415  # only failures with details pay for it

        try:
            return status_pb2.Status.FromString(raw)
        except DecodeError:
            return None

    def error_details(self) -> list[Message]:
        """The rich status's details unpacked (``BadRequest``, ``RetryInfo``, ...).

        Types this process does not know stay as ``google.protobuf.Any``.
        """
        status = self.rich_status()
        if status is None:
            return []
        from google.rpc import error_details_pb2  # noqa: F401, PLC0415  # registers the standard types

        return [_unpack(detail) for detail in status.details]

    def to_dict(self) -> dict[str, Any]:
        """The message in protobuf's JSON mapping (``json_format.MessageToDict``).

        A failed call has no message: it answers ``{"code": "NOT_FOUND", "details":
        ..., "error_details": [...]}``, each detail in the JSON mapping with its
        ``@type``. This is data the caller asked for, so ``debug_redact`` fields are
        *not* redacted here (reprs and logs redact them); mind where you send it.
        """
        from google.protobuf import json_format  # noqa: PLC0415 - only conversions load it

        if self._message is not None:
            return json_format.MessageToDict(self._message)
        status = self.rich_status()
        if status is not None:
            from google.rpc import error_details_pb2  # noqa: F401, PLC0415  # registers the standard types
        return {
            "code": self._code.name,
            "details": self._details,
            "error_details": []
            if status is None
            else [_detail_dict(one) for one in status.details],
        }

    def to_json(self, *, indent: int | None = None) -> str:
        """:meth:`to_dict` as JSON text (not redacted either)."""
        import json  # noqa: PLC0415 - only conversions load it

        return json.dumps(self.to_dict(), indent=indent)

    def __repr__(self) -> str:
        return (
            f"<GrpcResponse {self._method_path} {self._code.name}"
            f"{f' {self._details!r}' if self._details else ''}"
            f" attempts={self._attempts} elapsed={self._elapsed * 1000:.1f}ms>"
        )


def _read(received: ReceivedMetadata, *, initial: bool) -> Metadata:
    """One half of what :meth:`GrpcResponse.received` was given, as :class:`Metadata`."""
    if received is None:
        return EMPTY_METADATA
    if isinstance(received, tuple):
        return received_metadata(received[0 if initial else 1])
    pairs = received.initial_metadata() if initial else received.trailing_metadata()
    return received_metadata(pairs)


def _unpack(detail: any_pb2.Any) -> Message:
    type_name = detail.TypeName()
    try:
        descriptor = descriptor_pool.Default().FindMessageTypeByName(type_name)
    except KeyError:
        return detail
    unpacked: Message = message_factory.GetMessageClass(descriptor)()
    return unpacked if detail.Unpack(unpacked) else detail


def _detail_dict(detail: any_pb2.Any) -> dict[str, Any]:
    """One rich-status detail in the JSON mapping; a type this process lacks stays opaque."""
    import base64  # noqa: PLC0415 - only conversions load these

    from google.protobuf import json_format  # noqa: PLC0415

    try:
        return json_format.MessageToDict(detail)
    except TypeError:  # json_format cannot resolve the type url
        return {"@type": detail.type_url, "value": base64.b64encode(detail.value).decode()}


def response_type_of(response: GrpcResponse[Any]) -> type[Message] | None:
    """The message class of a successful response (used by the testing helpers)."""
    return None if response._message is None else type(response._message)
