"""Per-request context on :mod:`contextvars`: trace id, client ip and deadline.

contextvars follow ``asyncio`` tasks (each task starts with a copy of its
creator's context), so a scope opened while serving a request covers every
outgoing call made for it, sync or async, without passing anything around.
"""

from __future__ import annotations

import logging
import math
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TYPE_CHECKING, Final, NamedTuple

from protoreq._timeouts import bounded_or_none, is_nan
from protoreq.traceparent import TRACEPARENT_KEY, trace_id_of_traceparent

if TYPE_CHECKING:
    import grpc


def _first_random_bytes(count: int) -> bytes:
    """Make the trace-id generator on first use, so importing protoreq does not load ``random``.

    It then takes this function's place in :data:`_random_bytes`: later calls cost
    what they did before (one global lookup), with no check for "made yet".
    """
    global _random_bytes  # noqa: PLW0603 - the lazily made generator replaces this function
    import random  # noqa: PLC0415

    generator = random.Random()  # trace ids must be unique, not secret
    if hasattr(os, "register_at_fork"):  # forked workers must not repeat their parent's ids
        os.register_at_fork(after_in_child=generator.seed)
    _random_bytes = generator.randbytes
    return _random_bytes(count)


_random_bytes: Callable[[int], bytes] = _first_random_bytes
"""``randbytes`` of a generator of our own: ``random.seed(0)`` in user code must not make
trace ids repeat."""


def new_trace_id() -> str:
    """A fresh random trace id (32 lowercase hex digits, W3C trace-id sized).

    Made on every call that has no trace id yet, so it is cheap: 128 bits from a
    Mersenne Twister seeded from ``os.urandom`` (reseeded in forked children),
    several times faster than ``uuid.uuid4().hex``. Trace ids identify, they do not
    authenticate, so they need not be unpredictable.
    """
    return _random_bytes(16).hex()


MAX_TRACE_ID_LENGTH: Final = 128
"""Longer than any trace id format in use (W3C: 32, UUID: 36, X-Ray's ``Root=...``: ~80)."""


def usable_trace_id(candidate: object) -> str:
    """``candidate`` if it can be sent as ``x-trace-id``, else a fresh trace id.

    Usable: a ``str`` of printable ASCII (what gRPC allows in a metadata value),
    at most :data:`MAX_TRACE_ID_LENGTH` characters, no leading or trailing
    space. Anything else would make every call in the scope fail, so it is
    replaced rather than refused; the replacement is logged at DEBUG with an
    escaped, shortened hint of what came in. Checked once per scope, not per call.
    """
    if (
        isinstance(candidate, str)
        and len(candidate) <= MAX_TRACE_ID_LENGTH
        and candidate.isascii()
        and candidate.isprintable()
        and candidate == candidate.strip()
    ):
        return candidate
    replacement = new_trace_id()
    logger = logging.getLogger("protoreq")
    if logger.isEnabledFor(logging.DEBUG):
        hint = ascii(candidate[:60]) if isinstance(candidate, str) else type(candidate).__name__
        logger.debug(
            "trace id %s replaced by %s: not printable ASCII of at most %d characters",
            hint,
            replacement,
            MAX_TRACE_ID_LENGTH,
            extra={"trace_id": replacement},
        )
    return replacement


class _Scope(NamedTuple):
    """The current trace id, client ip and deadline; immutable, read in one ``ContextVar.get``.

    A NamedTuple rather than a frozen dataclass: same fields and reads, but it costs a
    tenth of the class-creation time at import and is quicker to construct per scope.
    """

    trace_id: str | None = None
    client_ip: str | None = None
    deadline: float | None = None  # time.monotonic() seconds


# _Scope is frozen, so sharing one default instance is safe.
_current: ContextVar[_Scope] = ContextVar(
    "protoreq_request_context",
    default=_Scope(),  # noqa: B039
)


current_scope: Final[Callable[[], _Scope]] = _current.get
"""The current trace id, client ip and deadline in one read (the call path needs them all)."""


class RequestContext:
    """Class-level accessors, as in the original design: ``RequestContext.get_trace_id()``."""

    @staticmethod
    def get_trace_id() -> str | None:
        return _current.get().trace_id

    @staticmethod
    def get_client_ip() -> str | None:
        return _current.get().client_ip

    @staticmethod
    def get_deadline() -> float | None:
        """The scope's deadline as a :func:`time.monotonic` timestamp, or ``None``."""
        return _current.get().deadline

    @staticmethod
    def time_remaining() -> float | None:
        """Seconds left before the scope's deadline (may be negative), or ``None``."""
        deadline = _current.get().deadline
        return None if deadline is None else deadline - time.monotonic()

    @staticmethod
    @contextmanager
    def scope(
        *,
        trace_id: str | None = None,
        client_ip: str | None = None,
        deadline: float | None = None,
        timeout: float | None = None,
    ) -> Iterator[None]:
        """Set context values for the code inside; works in sync code and in coroutines.

        Values not given are inherited from the enclosing scope. A ``trace_id``
        that cannot travel as gRPC metadata (see :func:`usable_trace_id`; it often
        comes from an untrusted HTTP header) is replaced by a fresh one, so the
        calls inside still go out. ``deadline`` is a
        :func:`time.monotonic` timestamp and ``timeout`` a number of seconds from
        now; the scope keeps the earliest of them and of the enclosing deadline,
        so an inner scope can shorten the time left but never extend it. A
        ``timeout`` of ``inf`` (or ~31 years and more) and a ``deadline`` as far
        away set no deadline; ``nan`` for either raises ``ValueError``.
        """
        if is_nan(timeout) or is_nan(deadline):
            raise ValueError(
                f"RequestContext.scope() needs a number of seconds or None, "
                f"got timeout={timeout!r}, deadline={deadline!r}"
            )
        outer = _current.get()
        now = time.monotonic()
        if deadline is not None and bounded_or_none(deadline - now) is None:
            deadline = None
        candidates = [d for d in (outer.deadline, deadline) if d is not None]
        timeout = bounded_or_none(timeout)
        if timeout is not None:
            candidates.append(now + timeout)
        if trace_id is not None:
            trace_id = usable_trace_id(trace_id)
        inner = _Scope(
            trace_id=trace_id if trace_id is not None else outer.trace_id,
            client_ip=client_ip if client_ip is not None else outer.client_ip,
            deadline=min(candidates) if candidates else None,
        )
        token = _current.set(inner)
        try:
            yield
        finally:
            _current.reset(token)

    @staticmethod
    def from_servicer_context(
        context: grpc.ServicerContext | grpc.aio.ServicerContext[object, object],
    ) -> _ScopeArguments:
        """Scope arguments for a server handler: its caller's trace id, peer ip and deadline.

        ``with RequestContext.scope(**RequestContext.from_servicer_context(ctx)):``
        makes every call the handler makes carry the same trace id and never
        outlive the caller's deadline. The trace id is the caller's ``x-trace-id``,
        else the trace id of its W3C ``traceparent``, else ``None``. A caller that
        sent no deadline gives ``timeout=None``: sync grpcio reports that as ~9.2e18
        seconds left, which would overflow the next call's deadline.
        """
        trace_id = traceparent = None
        for key, value in context.invocation_metadata() or ():
            if key == "x-trace-id" and isinstance(value, str):
                trace_id = value
            elif key == TRACEPARENT_KEY and isinstance(value, str):
                traceparent = value
        if not trace_id and traceparent is not None:
            trace_id = trace_id_of_traceparent(traceparent)
        return {
            "trace_id": trace_id,
            "client_ip": _peer_ip(context.peer()),
            "timeout": timeout_of(context.time_remaining()),
        }


if TYPE_CHECKING:
    from typing import TypedDict

    class _ScopeArguments(TypedDict):
        trace_id: str | None
        client_ip: str | None
        timeout: float | None
else:
    _ScopeArguments = dict


def timeout_of(time_remaining: float | None) -> float | None:
    """A servicer context's ``time_remaining()`` as a timeout for a scope: ``None`` for none.

    A sync grpcio handler whose caller sent no deadline reports about 9.2e18
    seconds, not ``None`` (see :mod:`protoreq._timeouts`); ``nan`` and unbounded
    values mean "no deadline". A passed deadline stays negative, so the
    handler's own calls fail fast.
    """
    if time_remaining is None or math.isnan(time_remaining):
        return None
    return bounded_or_none(time_remaining)


def _peer_ip(peer: str) -> str | None:
    """``ipv4:127.0.0.1:5000`` -> ``127.0.0.1``; ``ipv6:[::1]:5000`` -> ``::1``."""
    kind, _, address = peer.partition(":")
    if kind == "ipv4":
        return address.rpartition(":")[0] or None
    if kind == "ipv6":
        host = address.rpartition(":")[0]
        return host.strip("[]") or None
    return None
