"""Retry configuration and the one retry decision shared by sync and async calls.

A :class:`RetryPolicy` is a client default (``GrpcClient(..., retry=...)``) or a
request's own choice (``retry_policy()``). The client default applies only to
RPCs the proto marks safe to repeat; a policy returned by the request itself is
an explicit opt-in.

The behaviour follows gRPC's own retry design (gRFC A6) so that it matches what
service owners expect from other gRPC clients:

* exponential backoff with *full* jitter: retry ``n`` waits
  ``uniform(0, min(initial_backoff * backoff_multiplier ** (n - 1), max_backoff))``;
* only the policy's status codes are retried (UNAVAILABLE by default);
* the server can push back: ``grpc-retry-pushback-ms`` in the trailing metadata
  (a delay, or "do not retry" when negative or unreadable) or a
  ``google.rpc.RetryInfo`` in the rich error details sets the delay instead of
  the backoff, which then restarts from ``initial_backoff``;
* a per-client token bucket (:class:`RetryThrottle`) stops retrying while most
  recent attempts fail, so a dead dependency does not receive ``max_attempts``
  times the traffic;
* the call's overall deadline bounds everything: no sleep ends past it.
"""

from __future__ import annotations

import logging
import random
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final

import grpc

if TYPE_CHECKING:
    from protoreq.response import GrpcResponse

PUSHBACK_KEY: Final = "grpc-retry-pushback-ms"
"""Trailing metadata key a server uses to ask for a delay (ms) or, when negative, no retry."""

_logger: Final = logging.getLogger("protoreq")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to repeat a failed call.

    ``max_attempts`` counts the first attempt too (3 means up to 2 retries).
    """

    max_attempts: int = 3
    initial_backoff: float = 0.1
    max_backoff: float = 5.0
    backoff_multiplier: float = 2.0
    retryable_status_codes: frozenset[grpc.StatusCode] = field(
        default=frozenset({grpc.StatusCode.UNAVAILABLE})
    )

    def __init__(
        self,
        max_attempts: int = 3,
        initial_backoff: float = 0.1,
        max_backoff: float = 5.0,
        backoff_multiplier: float = 2.0,
        retryable_status_codes: Iterable[grpc.StatusCode] = (grpc.StatusCode.UNAVAILABLE,),
    ) -> None:
        if max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {max_attempts}")
        if initial_backoff < 0 or max_backoff < 0:
            raise ValueError("backoff times must not be negative")
        if backoff_multiplier < 1:
            raise ValueError(f"backoff_multiplier must be at least 1, got {backoff_multiplier}")
        codes = frozenset(retryable_status_codes)
        if not all(isinstance(code, grpc.StatusCode) for code in codes):
            raise TypeError("retryable_status_codes must be grpc.StatusCode members")
        if grpc.StatusCode.OK in codes:
            raise ValueError("OK is not a retryable status code")
        object.__setattr__(self, "max_attempts", max_attempts)
        object.__setattr__(self, "initial_backoff", initial_backoff)
        object.__setattr__(self, "max_backoff", max_backoff)
        object.__setattr__(self, "backoff_multiplier", backoff_multiplier)
        object.__setattr__(self, "retryable_status_codes", codes)

    def backoff_ceiling(self, retry: int) -> float:
        """The largest wait before retry number ``retry`` (1 for the first retry)."""
        return min(self.max_backoff, self.initial_backoff * self.backoff_multiplier ** (retry - 1))

    def __repr__(self) -> str:
        codes = ", ".join(sorted(code.name for code in self.retryable_status_codes))
        return (
            f"RetryPolicy(max_attempts={self.max_attempts}, "
            f"initial_backoff={self.initial_backoff}, "
            f"max_backoff={self.max_backoff}, backoff_multiplier={self.backoff_multiplier}, "
            f"retryable_status_codes={{{codes}}})"
        )


NO_RETRY = RetryPolicy(max_attempts=1)
"""A policy that makes exactly one attempt."""


@dataclass(frozen=True, slots=True)
class RetryThrottle:
    """Settings of the retry budget, gRFC A6's ``retryThrottling``.

    Each client keeps ``tokens``, starting at ``max_tokens``. An attempt that
    fails with a retryable code (or that the server pushes back on) takes one
    token; a successful call gives back ``token_ratio``. While ``tokens`` is at
    or below ``max_tokens / 2`` failed calls are answered without retrying, so
    against a dead server each call costs one attempt, not ``max_attempts``.
    The defaults (10, 0.1) stop retries once failures exceed about 10 % of
    calls, as in A6's example.
    """

    max_tokens: float = 10.0
    token_ratio: float = 0.1

    def __post_init__(self) -> None:
        if not 0 < self.max_tokens <= 1000:
            raise ValueError(f"max_tokens must be in (0, 1000], got {self.max_tokens}")
        if self.token_ratio <= 0:
            raise ValueError(f"token_ratio must be positive, got {self.token_ratio}")

    def __repr__(self) -> str:
        return f"RetryThrottle(max_tokens={self.max_tokens}, token_ratio={self.token_ratio})"


DEFAULT_RETRY_THROTTLE: Final = RetryThrottle()
"""The budget every client gets unless it passes ``retry_throttle=`` (``None`` turns it off)."""


class RetryBudget:
    """The live token bucket of one client, shared by its sync and async calls.

    Thread-safe: sync calls may run in many threads while async calls run on
    event loops, and all of them draw on the same budget.
    """

    __slots__ = ("_lock", "_tokens", "full", "throttle")

    def __init__(self, throttle: RetryThrottle) -> None:
        self.throttle = throttle
        self._tokens = throttle.max_tokens
        self._lock = threading.Lock()
        self.full = True
        """Every token is there: a success has nothing to give back (the usual state)."""

    @property
    def tokens(self) -> float:
        return self._tokens

    def allows_retries(self) -> bool:
        return self._tokens > self.throttle.max_tokens / 2

    def record_success(self) -> None:
        if self.full:
            return  # the usual state of a healthy client: nothing to add, no lock to take
        with self._lock:
            self._tokens = min(self.throttle.max_tokens, self._tokens + self.throttle.token_ratio)
            self.full = self._tokens >= self.throttle.max_tokens

    def record_failure(self) -> bool:
        """Take a token; ``True`` when retrying is still allowed afterwards."""
        with self._lock:
            self._tokens = max(0.0, self._tokens - 1)
            self.full = False
            return self._tokens > self.throttle.max_tokens / 2

    def __repr__(self) -> str:
        return f"RetryBudget(tokens={self._tokens:g}, {self.throttle!r})"


@dataclass(frozen=True, slots=True)
class RetryDecision:
    """What to do after one attempt: wait ``delay`` seconds and retry, or answer now."""

    delay: float | None
    reason: str
    pushed_back: bool = False
    """The delay came from the server, so the backoff restarts at ``initial_backoff``."""

    @property
    def retry(self) -> bool:
        return self.delay is not None


_DONT_RETRY: Final = -1.0  # what server_pushback() answers for "the server says: do not retry"


def server_pushback(response: GrpcResponse[Any]) -> float | None:
    """The delay the server asked for, in seconds; ``-1.0`` when it asked not to retry.

    ``grpc-retry-pushback-ms`` wins over a ``google.rpc.RetryInfo`` detail; ``None``
    when the server said neither.
    """
    values = response.trailing_metadata().get_all(PUSHBACK_KEY)
    if values:
        raw = values[0]
        text = raw.decode("ascii", "replace") if isinstance(raw, bytes) else raw
        try:
            millis = int(text.strip())
        except ValueError:
            return _DONT_RETRY  # A6: an unparseable pushback means "do not retry"
        return _DONT_RETRY if millis < 0 else millis / 1000
    return _retry_info_delay(response)


def _retry_info_delay(response: GrpcResponse[Any]) -> float | None:
    if not response.trailing_metadata().get_all("grpc-status-details-bin"):
        return None  # the common case: no rich status to decode
    from google.rpc import error_details_pb2  # noqa: PLC0415  # only rich failures pay for it

    for detail in response.error_details():
        if isinstance(detail, error_details_pb2.RetryInfo) and detail.HasField("retry_delay"):
            delay: float = detail.retry_delay.ToTimedelta().total_seconds()
            return max(0.0, delay)
    return None


def decide_retry(
    policy: RetryPolicy | None,
    response: GrpcResponse[Any],
    *,
    attempt: int,
    retries_since_pushback: int,
    remaining: float | None,
    budget: RetryBudget | None,
) -> RetryDecision:
    """The one retry decision for sync and async calls, made after every attempt.

    ``attempt`` is the number of the attempt that just ended (1 for the first);
    ``retries_since_pushback`` counts retries made since the server last set the
    delay (or since the start), which is what the backoff grows with;
    ``remaining`` is the time left before the call's overall deadline.

    The order is gRPC's own: success feeds the budget; a code outside the policy
    ends the call without touching the budget; a retryable failure takes a token
    even on the last attempt, then attempts, pushback and the deadline are checked.
    """
    code = response.status_code()
    if code is grpc.StatusCode.OK:
        if budget is not None:
            budget.record_success()
        return RetryDecision(None, "succeeded")
    if policy is None:
        return RetryDecision(None, "no retry policy for this call")
    if code not in policy.retryable_status_codes:
        return RetryDecision(None, f"{code.name} is not retryable")
    pushback = server_pushback(response)
    allowed = budget.record_failure() if budget is not None else True
    if pushback == _DONT_RETRY:
        return RetryDecision(None, "the server asked not to retry")
    if not allowed:
        return RetryDecision(None, "retry budget exhausted (too many recent failures)")
    if attempt >= policy.max_attempts:
        return RetryDecision(None, f"all {policy.max_attempts} attempts made")
    if pushback is not None:
        delay, reason = pushback, "server pushback"
    else:
        ceiling = policy.backoff_ceiling(retries_since_pushback + 1)
        delay, reason = random.uniform(0, ceiling), "backoff"  # jitter, not cryptography
    if remaining is not None and delay >= remaining:
        return RetryDecision(
            None, f"the deadline ({remaining:.3f}s left) comes before the next attempt"
        )
    return RetryDecision(delay, reason, pushed_back=pushback is not None)


def log_retry_decision(
    decision: RetryDecision, *, path: str, attempt: int, trace_id: str | None
) -> None:
    """A DEBUG record per decision; the attempts themselves are logged with their outcome."""
    if not _logger.isEnabledFor(logging.DEBUG):
        return
    delay_ms = None if decision.delay is None else round(decision.delay * 1000, 3)
    if decision.retry:
        text = f"%s attempt %d failed; retrying in {delay_ms} ms (%s)"
    else:
        text = "%s attempt %d is final: %s"
    _logger.debug(
        text,
        path,
        attempt,
        decision.reason,
        extra={
            "trace_id": trace_id,
            "rpc_attempt": attempt,
            "rpc_retry_delay_ms": delay_ms,
            "rpc_retry_reason": decision.reason,
        },
    )


RECONNECT_WINDOW: Final = 5.0
"""Seconds of a disconnection during which retries wait for the connection at no budget cost.

grpcio reconnects after about 1 s, then 2.6 s, then 5.2 s (its backoff, with
jitter), so a server that restarts within about 2.5 s is back inside the window.
"""


_LOST_CONNECTION_MARKERS: Final = (
    "Socket closed",
    "Connection reset",
    "Stream removed",
    "GOAWAY",
    "Broken pipe",
    "failed to connect to all addresses",
)
"""What grpc core says when a call's connection broke or could not be made (not a server's
answer). Wording it might change only makes such failures cost a token again."""


def lost_connection(details: str) -> bool:
    """Whether an UNAVAILABLE came from the transport (the connection went) rather than a server."""
    return any(marker in details for marker in _LOST_CONNECTION_MARKERS)


class Disconnection:
    """When a client's channel lost its server, so that a quick restart costs no call.

    A call that fails while the channel has no connection never reached a
    server; its retry waits for the connection and so adds no load anywhere.
    Such failures take no token from the retry budget during the first
    :data:`RECONNECT_WINDOW` seconds of a disconnection: a restart must not
    empty the budget of a client with many callers, each of which fails once.
    Past the window the server is down rather than restarting: failures take
    tokens again, the budget runs out, and calls fail at once instead of waiting.
    A disconnection ends when a retry finds the channel connected, or when no
    call has failed for lack of a connection for a whole window.

    Updated by many threads without a lock: a race only moves the window's start
    by the time between two failures.
    """

    __slots__ = ("_last", "_since")

    def __init__(self) -> None:
        self._since: float | None = None
        self._last: float | None = None

    def failed_unconnected(self, now: float) -> bool:
        """Record a failure without a connection; ``True`` while the disconnection is young."""
        last = self._last
        if last is None or self._since is None or now - last > RECONNECT_WINDOW:
            self._since = now  # a new disconnection
        self._last = now
        return now - self._since < RECONNECT_WINDOW

    def wait_limit(self, now: float) -> float:
        """How long a retry may wait for the connection: what is left of the window."""
        since = self._since
        if since is None:
            return RECONNECT_WINDOW
        return max(0.0, since + RECONNECT_WINDOW - now)

    def reconnected(self) -> None:
        self._since = None
        self._last = None
