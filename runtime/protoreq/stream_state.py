"""What a stream is apart from its I/O: message counts, the final status, the log record.

``GrpcStream`` (sync), ``AsyncGrpcStream`` and the client-streaming ``call()``
paths all end the same way: once, with a status built by
:func:`protoreq.status.response_from_error` (or OK), logged as one record that
carries how many messages went each way. That logic lives here, once, so the
sync and async paths differ only in how they wait on grpcio.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from typing import Any, Final

import grpc
from google.protobuf.message import Message

from protoreq.errors import ProtoreqError
from protoreq.logs import log_payload, payloads_logged
from protoreq.metadata import Metadata
from protoreq.preparation import PreparedCall
from protoreq.response import GrpcResponse
from protoreq.status import LocalRpcError, response_from_error
from protoreq.transport.outgoing import OutgoingMessages

SENT_FIELD: Final = "rpc_messages_sent"
RECEIVED_FIELD: Final = "rpc_messages_received"

CANCELLED_BY_CLIENT: Final = "the stream was cancelled by the client"
CANCELLED_WITH_TASK: Final = "the task consuming the stream was cancelled"
CANCELLED_WHEN_DROPPED: Final = "the stream was dropped before its end (garbage collected)"


class StreamNotFinishedError(ProtoreqError, RuntimeError):
    """How a stream ended was asked before it ended.

    Iterate the stream to its end (iteration stops on success and on failure
    alike) or ``cancel()`` it first; ``is_finished()`` tells which it is.
    """


class StreamCore:
    """Counts and outcome of one stream; safe to finish from two threads at once.

    ``cancel()`` may run on another thread than the one iterating, so settling
    the outcome takes a lock and the first outcome wins: the loser (say, the
    CANCELLED error the iterating thread sees after a local cancel) is dropped.
    """

    __slots__ = (
        "_lock",
        "_started",
        "ended_with",
        "log_payloads",
        "method_path",
        "on_end",
        "outgoing",
        "prepared",
        "received",
        "trace_id",
    )

    def __init__(
        self,
        *,
        method_path: str,
        trace_id: str | None,
        prepared: PreparedCall | None = None,
        outgoing: OutgoingMessages | None = None,
    ) -> None:
        self.method_path = method_path
        self.trace_id = trace_id
        self.prepared = prepared  # None for streams scripted by tests: they are not logged
        self.outgoing = outgoing
        self.received = 0
        self.ended_with: GrpcResponse[Any] | None = None
        """How the stream ended, once it has (set once, under the lock); read per message."""
        self.log_payloads = (
            prepared is not None and prepared.defaults.log_payloads and payloads_logged()
        )
        """Whether each message is logged at DEBUG: decided once, when the stream starts,
        rather than asking the logger for every message."""
        self._started = time.monotonic() if prepared is None else prepared.started
        self._lock = threading.Lock()
        self.on_end: Callable[[GrpcResponse[Any]], object] | None = None
        """For unlogged streams that stand for a call (the testing fake's): its end hooks."""

    @classmethod
    def for_call(cls, prepared: PreparedCall, outgoing: OutgoingMessages | None) -> StreamCore:
        prepared.attempt = max(prepared.attempt, 1)  # streams are sent once, never retried
        return cls(
            method_path=prepared.rpc.path,
            trace_id=prepared.trace_id,
            prepared=prepared,
            outgoing=outgoing,
        )

    # -- counting -----------------------------------------------------------------------------

    def sent(self) -> int:
        if self.outgoing is not None:
            return self.outgoing.count
        return 1 if self.prepared is not None and self.prepared.message is not None else 0

    def received_message(self, message: Any) -> Any:
        """Count one incoming message (and log it at DEBUG); the consumer keeps it, not us.

        The streams' per-message loops spell this out inline; this is for the rest.
        """
        self.received += 1
        if self.log_payloads:
            log_payload("received", self.method_path, message, self.trace_id)
        return message

    def elapsed(self) -> float:
        if self.ended_with is not None:
            return self.ended_with.elapsed()
        return time.monotonic() - self._started

    # -- ending -------------------------------------------------------------------------------

    @property
    def finished(self) -> bool:
        return self.ended_with is not None

    def finish_ok(
        self, initial: Metadata, trailing: Metadata, message: Message | None = None
    ) -> bool:
        """The server closed the stream with OK; ``message`` is a client-streaming call's reply."""
        return self.settle(
            GrpcResponse(
                method_path=self.method_path,
                code=grpc.StatusCode.OK,
                message=message,
                initial_metadata=initial,
                trailing_metadata=trailing,
                elapsed=time.monotonic() - self._started,
                trace_id=self.trace_id,
                attempts=self._attempts(),
            )
        )

    def finish_error(self, error: BaseException) -> bool:
        """The stream failed: grpcio's error (or a local one) becomes its status."""
        return self.settle(
            response_from_error(
                error,
                method_path=self.method_path,
                elapsed=time.monotonic() - self._started,
                trace_id=self.trace_id,
                attempts=self._attempts(),
                explain=None if self.prepared is None else self.prepared.explain,
            )
        )

    def finish_cancelled(self, details: str = CANCELLED_BY_CLIENT) -> bool:
        return self.finish_error(LocalRpcError(grpc.StatusCode.CANCELLED, details))

    def settle(self, response: GrpcResponse[Any]) -> bool:
        """Record how the stream ended, once; log it if it was a real call."""
        with self._lock:
            if self.ended_with is not None:
                return False
            self.ended_with = response
        if self.prepared is not None:
            self.prepared.log(
                response,
                extra={SENT_FIELD: self.sent(), RECEIVED_FIELD: self.received},
            )
            self.prepared.done(response)  # interceptors' end hooks
        elif self.on_end is not None:
            self.on_end(response)
        return True

    def dropped(self) -> None:
        """The stream object went away unended (a ``break`` out of the only loop over it).

        It ends here, CANCELLED, so its record is logged and interceptors' end hooks run;
        grpcio cancels its own call when that is collected too.
        """
        if self.ended_with is None and self.prepared is not None:
            self.finish_cancelled(CANCELLED_WHEN_DROPPED)

    def outcome(self) -> GrpcResponse[Any]:
        """The status the stream ended with; asking before the end is an error, not a wait."""
        outcome = self.ended_with
        if outcome is None:
            raise StreamNotFinishedError(
                f"the stream {self.method_path} has not ended yet: iterate it to the end "
                "or cancel() it before asking how it ended"
            )
        return outcome

    def raise_outgoing_error(self) -> None:
        """Re-raise what the caller's outgoing messages raised (see :class:`OutgoingMessages`)."""
        if self.outgoing is not None:
            self.outgoing.raise_error()

    def _attempts(self) -> int:
        return 1 if self.prepared is None else self.prepared.attempt

    def __repr__(self) -> str:
        state = "running" if self.ended_with is None else self.ended_with.status_code().name
        return f"{self.method_path} {state} sent={self.sent()} received={self.received}"


def task_is_cancelled() -> bool:
    """Whether the running task itself is being cancelled, not just the grpc.aio call under it.

    grpc.aio raises ``CancelledError`` both when our task is cancelled and when
    the call was cancelled locally (``cancel()``, a closed channel); only the
    first must propagate.
    """
    task = asyncio.current_task()
    return task is not None and task.cancelling() > 0
