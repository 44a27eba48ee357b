"""Long-running operations (AIP-151): wait for a ``google.longrunning.Operation``.

A method returning ``Operation`` with ``option (google.longrunning.operation_info)``
generates a class carrying ``operation_types``: an :class:`OperationTypes` naming
the result and metadata messages. :class:`OperationWaiter` (and the client's
``wait()`` / ``wait_async()``) polls ``google.longrunning.Operations/GetOperation``
through the same client, with backoff, until the operation is ``done``, and
answers a ``GrpcResponse`` of the result type: the unpacked ``response``, or the
operation's ``error`` as a failed response (its code, message and details, which
``rich_status()`` / ``error_details()`` read as for any failed call). Not done
within ``timeout``: DEADLINE_EXCEEDED, and the operation goes on on the server.
A failed poll ends the wait with that poll's failure (after the client's
retries, if any). Errors are values here too.

The ``google.longrunning`` messages come from googleapis-common-protos, which
grpcio-status (a dependency) installs; they are imported when first used.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, ClassVar, Final, Generic, TypeVar, cast

import grpc
from google.protobuf.message import Message

from protoreq.context import RequestContext, new_trace_id
from protoreq.errors import InvalidRequestError
from protoreq.generated import GeneratedGrpcRequest
from protoreq.metadata import Metadata
from protoreq.method import Idempotency, RpcMethod
from protoreq.response import STATUS_DETAILS_KEY, GrpcResponse

if TYPE_CHECKING:
    from protoreq.caller import GrpcCaller

__all__ = ["DEFAULT_POLL", "MetaT", "OperationTypes", "OperationWaiter", "PollPolicy", "ResultT"]

ResultT = TypeVar("ResultT", bound=Message)
MetaT = TypeVar("MetaT", bound=Message)

OPERATIONS_SERVICE: Final = "google.longrunning.Operations"
_CODES = {code.value[0]: code for code in grpc.StatusCode}
_DEADLINE_SLACK: Final = 0.05
"""A poll failing with DEADLINE_EXCEEDED this close to the wait's end ran out of its time."""


@dataclass(frozen=True, slots=True)
class OperationTypes(Generic[ResultT, MetaT]):
    """What an operation's ``response`` and ``metadata`` hold (its ``operation_info``)."""

    result_type: type[ResultT]
    metadata_type: type[MetaT]


@dataclass(frozen=True, slots=True)
class PollPolicy:
    """Seconds between polls: ``initial``, times ``multiplier`` after each, at most ``maximum``."""

    initial: float = 0.5
    multiplier: float = 1.5
    maximum: float = 10.0

    def __post_init__(self) -> None:
        if not (0 < self.initial <= self.maximum) or self.multiplier < 1:
            raise ValueError(
                f"PollPolicy needs 0 < initial <= maximum and multiplier >= 1, got {self!r}"
            )


DEFAULT_POLL: Final = PollPolicy()


def _operations() -> Any:
    from google.longrunning import operations_pb2  # noqa: PLC0415  # only LRO users pay for it

    return operations_pb2


class _OperationsRequest(GeneratedGrpcRequest[Any, Any]):
    """A call of ``google.longrunning.Operations``; its ``rpc`` is made on first use."""

    _method: ClassVar[str]
    _types: ClassVar[tuple[str, str]]
    _made: ClassVar[RpcMethod[Any, Any] | None] = None

    def __init__(self, name: str, *, metadata: Any, timeout: Any) -> None:
        super().__init__(metadata=metadata, timeout=timeout)
        cls = type(self)
        if cls.rpc is None:
            pb2 = _operations()
            cls.rpc = RpcMethod(
                service=OPERATIONS_SERVICE,
                method=cls._method,
                request_type=getattr(pb2, cls._types[0]),
                response_type=_response_type(cls._types[1]),
                idempotency=Idempotency.IDEMPOTENT,
            )
        self._message = cls.rpc.request_type(name=name)


def _response_type(name: str) -> type[Message]:
    if name == "Empty":
        from google.protobuf import empty_pb2  # noqa: PLC0415

        return empty_pb2.Empty
    return cast(type[Message], getattr(_operations(), name))


class _GetOperation(_OperationsRequest):
    _method = "GetOperation"
    _types = ("GetOperationRequest", "Operation")


class _CancelOperation(_OperationsRequest):
    _method = "CancelOperation"
    _types = ("CancelOperationRequest", "Empty")


class OperationWaiter(Generic[ResultT, MetaT]):
    """One operation being waited for: ``wait()``, ``latest()``, typed ``metadata()``, ``cancel()``.

    ``started`` is the answer of the method that began the operation (a failed one
    makes ``wait()`` answer that failure) or an ``Operation`` message. The polls carry
    ``metadata`` (as a request's extra metadata) and one trace id.
    """

    def __init__(
        self,
        client: GrpcCaller,
        started: GrpcResponse[Any] | Message,
        types: OperationTypes[ResultT, MetaT],
        *,
        metadata: dict[str, str | bytes] | None = None,
        on_metadata: Callable[[MetaT], object] | None = None,
    ) -> None:
        self._client = client
        self._types = types
        self._metadata = metadata
        self._on_metadata = on_metadata
        self._trace_id = RequestContext.get_trace_id() or new_trace_id()
        self._failed: GrpcResponse[Any] | None = None
        operation: Message
        if isinstance(started, GrpcResponse):
            self._trace_id = started.trace_id() or self._trace_id
            if not started.is_success():
                self._failed = started
                self._latest: Any = _operations().Operation()
                return
            operation = started.message()
        else:
            operation = started
        if operation.DESCRIPTOR.full_name != "google.longrunning.Operation":
            raise InvalidRequestError(
                f"wait() needs a google.longrunning.Operation (or a response holding one), "
                f"got a {operation.DESCRIPTOR.full_name}"
            )
        self._latest = operation

    def latest(self) -> Message:
        """The last ``Operation`` seen (the started one, then each poll's answer)."""
        return cast(Message, self._latest)

    def name(self) -> str:
        return cast(str, self._latest.name)

    def done(self) -> bool:
        return bool(self._latest.done)

    def metadata(self) -> MetaT | None:
        """The latest ``metadata`` unpacked as the method's metadata type (``None``: none yet)."""
        packed = self._latest.metadata
        if not packed.type_url:
            return None
        found = self._types.metadata_type()
        return found if packed.Unpack(found) else None

    def wait(
        self, *, timeout: float | None = None, poll: PollPolicy = DEFAULT_POLL
    ) -> GrpcResponse[ResultT]:
        """Poll until done (or ``timeout`` seconds pass) and answer the result."""
        begun = time.monotonic()
        delay = poll.initial
        while self._failed is None and not self._latest.done:
            left = _left(begun, timeout)
            if left is not None and left <= 0:
                return self._not_done(begun, timeout)
            time.sleep(delay if left is None else min(delay, left))
            delay = min(delay * poll.multiplier, poll.maximum)
            with RequestContext.scope(trace_id=self._trace_id):
                polled = self._client.call(self._get(_left(begun, timeout)))
            self._settle(polled, begun, timeout)
        return self._outcome(begun)

    async def wait_async(
        self, *, timeout: float | None = None, poll: PollPolicy = DEFAULT_POLL
    ) -> GrpcResponse[ResultT]:
        """``wait()`` for asyncio code, polling with ``call_async()``."""
        begun = time.monotonic()
        delay = poll.initial
        while self._failed is None and not self._latest.done:
            left = _left(begun, timeout)
            if left is not None and left <= 0:
                return self._not_done(begun, timeout)
            await asyncio.sleep(delay if left is None else min(delay, left))
            delay = min(delay * poll.multiplier, poll.maximum)
            with RequestContext.scope(trace_id=self._trace_id):
                polled = await self._client.call_async(self._get(_left(begun, timeout)))
            self._settle(polled, begun, timeout)
        return self._outcome(begun)

    def cancel(self) -> GrpcResponse[Message]:
        """Ask the server to cancel (``Operations/CancelOperation``); ``wait()`` tells the end."""
        with RequestContext.scope(trace_id=self._trace_id):
            return self._client.call(
                _CancelOperation(self.name(), metadata=self._metadata, timeout=None)
            )

    async def cancel_async(self) -> GrpcResponse[Message]:
        with RequestContext.scope(trace_id=self._trace_id):
            return await self._client.call_async(
                _CancelOperation(self.name(), metadata=self._metadata, timeout=None)
            )

    # -- inside -----------------------------------------------------------------------------

    def _get(self, left: float | None) -> _GetOperation:
        timeout = None if left is None else max(left, 0.001)
        return _GetOperation(self.name(), metadata=self._metadata, timeout=timeout)

    def _settle(self, polled: GrpcResponse[Any], begun: float, timeout: float | None) -> None:
        if not polled.is_success():
            if polled.status_code() is grpc.StatusCode.DEADLINE_EXCEEDED:
                left = _left(begun, timeout)
                if left is not None and left <= _DEADLINE_SLACK:
                    return  # the poll ran out of the wait's own time: still not done
            self._failed = polled
            return
        self._latest = polled.message()
        if self._on_metadata is not None:
            found = self.metadata()
            if found is not None:
                self._on_metadata(found)

    def _not_done(self, begun: float, timeout: float | None) -> GrpcResponse[ResultT]:
        return GrpcResponse(
            method_path=_path("GetOperation"),
            code=grpc.StatusCode.DEADLINE_EXCEEDED,
            details=f"operation {self.name()!r} not done after {timeout}s (it goes on)",
            elapsed=time.monotonic() - begun,
            trace_id=self._trace_id,
        )

    def _outcome(self, begun: float) -> GrpcResponse[ResultT]:
        failed = self._failed
        if failed is not None:
            return cast(GrpcResponse[ResultT], failed)
        latest = self._latest
        elapsed = time.monotonic() - begun
        if latest.WhichOneof("result") == "error":
            error = latest.error
            return GrpcResponse(
                method_path=_path("GetOperation"),
                code=_CODES.get(error.code, grpc.StatusCode.UNKNOWN),
                details=error.message,
                trailing_metadata=Metadata(((STATUS_DETAILS_KEY, error.SerializeToString()),)),
                elapsed=elapsed,
                trace_id=self._trace_id,
            )
        result = self._types.result_type()
        if not latest.response.Unpack(result):
            return GrpcResponse(
                method_path=_path("GetOperation"),
                code=grpc.StatusCode.INTERNAL,
                details=(
                    f"operation {self.name()!r} answered "
                    f"{latest.response.TypeName() or 'nothing'}, "
                    f"not the {result.DESCRIPTOR.full_name} of its operation_info"
                ),
                elapsed=elapsed,
                trace_id=self._trace_id,
            )
        return GrpcResponse(
            method_path=_path("GetOperation"),
            code=grpc.StatusCode.OK,
            message=result,
            elapsed=elapsed,
            trace_id=self._trace_id,
        )


def _path(method: str) -> str:
    return f"/{OPERATIONS_SERVICE}/{method}"


def _left(begun: float, timeout: float | None) -> float | None:
    return None if timeout is None else timeout - (time.monotonic() - begun)
