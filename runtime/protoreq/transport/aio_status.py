"""Keep the server's status when grpc.aio would replace it with INTERNAL (grpc/grpc#36066).

When a server ends a client-streaming or bidi call (aborting, or answering
early) while a ``call.write()`` is still in flight, grpc.aio's failed write
overwrites the status the server had already delivered with ``INTERNAL:
Internal error from Core``; about one run in five of a fast upload to a
server that aborts sees it. The status is set first, though, and done
callbacks run at that moment: :class:`FirstStatus` remembers it there and
puts it back when the call reports that INTERNAL. Should grpcio's internals
change, nothing is remembered and the INTERNAL passes through unchanged.
"""

from __future__ import annotations

import time
from typing import Any, Final

import grpc

from protoreq.scripted_calls import KnownStatus

_CORE_INTERNAL: Final = "Internal error from Core"
_CODES: Final = {code.value[0]: code for code in grpc.StatusCode}


class FirstStatus:
    """The first status a grpc.aio call ended with, as its done callback saw it."""

    __slots__ = ("_call", "_deadline", "_status")

    def __init__(self, call: Any, deadline: float | None = None) -> None:
        self._call = call
        self._status: Any = None
        self._deadline = deadline
        """The call's ``time.monotonic()`` deadline: a write cut off by it races the same way."""
        call.add_done_callback(self._remember)

    def _remember(self, call: Any) -> None:
        if self._status is None:
            self._status = _cython_status(call)

    def correct(self, error: grpc.RpcError) -> grpc.RpcError:
        """``error``, or the status the server sent if grpc.aio replaced it with its INTERNAL."""
        if not _is_write_race(error):
            return error
        first = self._status
        if first is None:  # the done callbacks have not run yet: the status may be there already
            first = _cython_status(self._call)
        if first is None or _CODES.get(first.code()) is grpc.StatusCode.INTERNAL:
            return self._expired(error)
        code = _CODES.get(first.code())
        if code is None or code in (grpc.StatusCode.OK, grpc.StatusCode.INTERNAL):
            return error  # nothing better to report (an OK reply is gone with the overwrite)
        initial = getattr(error, "initial_metadata", lambda: ())() or ()
        return KnownStatus(
            code,
            first.details() or "",
            tuple((key, value) for key, value in initial),
            tuple((key, value) for key, value in first.trailing_metadata() or ()),
        )

    def _expired(self, error: grpc.RpcError) -> grpc.RpcError:
        """DEADLINE_EXCEEDED for the write race past the deadline, else ``error``.

        The deadline ending a bidi call while a ``write()`` is in flight sets off
        the same INTERNAL, sometimes before the done callbacks have run.
        """
        deadline = self._deadline
        if deadline is None or time.monotonic() < deadline:
            return error
        initial = getattr(error, "initial_metadata", lambda: ())() or ()
        return KnownStatus(
            grpc.StatusCode.DEADLINE_EXCEEDED,
            "Deadline Exceeded",
            tuple((key, value) for key, value in initial),
            (),
        )


def _cython_status(call: Any) -> Any:
    """The status grpc.aio keeps on the Cython call (grpc/aio/_call.py reads it so too).

    An intercepted call (grpc.aio interceptors on the channel) holds the call
    its interceptors made (``_last_returned_call_from_interceptors``, or what
    ``_interceptors_task`` returned), possibly intercepted again, or wrapped
    with a response iterator an interceptor returned (``_call``).
    """
    for _ in range(_MAX_INTERCEPTED_DEPTH):
        cython_call = getattr(call, "_cython_call", None)
        if cython_call is not None:
            return getattr(cython_call, "_status", None)
        inner = getattr(call, "_call", None)  # a response iterator an interceptor returned
        if inner is None:
            inner = getattr(call, "_last_returned_call_from_interceptors", None)
        if inner is None:
            task = getattr(call, "_interceptors_task", None)
            if task is None or not task.done() or task.cancelled() or task.exception():
                return None
            inner = task.result()
        call = inner
    return None


_MAX_INTERCEPTED_DEPTH: Final = 16


def _is_write_race(error: grpc.RpcError) -> bool:
    code = getattr(error, "code", None)
    details = getattr(error, "details", None)
    return (
        callable(code)
        and callable(details)
        and code() is grpc.StatusCode.INTERNAL
        and details() == _CORE_INTERNAL
    )
