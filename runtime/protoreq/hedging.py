"""Hedging: send a unary call again while the first attempt is slow; the first answer wins.

Hedging is the retry layer's sibling (gRFC A6; grpcio's C-core has retries but
not hedging): a call has one or the other, never both. Where a retry waits for
a failure, a hedge goes out while earlier attempts are still running, so a
server that is slow for one request in twenty costs the caller
``hedging_delay`` plus a normal answer, not the slow one. Only calls that are
safe to repeat get hedges by default (the proto marks them ``IDEMPOTENT`` or
``NO_SIDE_EFFECTS``): every hedge may run on a server to its end.

The rules, as A6 has them: every ``hedging_delay`` without an answer another
attempt goes out, up to ``max_attempts``; the first OK or *fatal* status (any
code outside ``non_fatal_status_codes``) is the answer and the other attempts
are cancelled at once; a non-fatal failure sends the next hedge immediately
(or after the server's ``grpc-retry-pushback-ms``; a negative or unreadable
pushback stops further hedges); the retry budget counts non-fatal failures and
stops hedging while it is low; the call's deadline bounds all attempts.

:class:`HedgedCall` keeps that bookkeeping for the sync and async loops of
:class:`HedgingLayer`, which differ only in how they wait: sync hedges are
grpcio futures (grpcio's own completion thread reports them: no thread per
call or per hedge), async hedges are tasks on the running loop.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import queue
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final, Protocol, TypeAlias

import grpc

from protoreq.response import GrpcResponse
from protoreq.retry import RetryBudget, server_pushback
from protoreq.status import LocalRpcError, response_from_error

if TYPE_CHECKING:
    from protoreq.preparation import PreparedCall

_OK: Final = grpc.StatusCode.OK
_MAX_ATTEMPTS: Final = 5
"""gRFC A6's ceiling on attempts (hedges included); larger values are misuse here."""

_PREVIOUS_ATTEMPTS_KEY: Final = "grpc-previous-rpc-attempts"

_logger: Final = logging.getLogger("protoreq")


@dataclass(frozen=True, slots=True)
class HedgingPolicy:
    """How many attempts a slow unary call may have in flight, and how far apart they start.

    ``max_attempts`` counts the first attempt (3: up to two hedges);
    ``hedging_delay`` is the wait in seconds before each further attempt (0 sends
    them all at once). A status in ``non_fatal_status_codes`` (UNAVAILABLE by
    default, the code of a server that is down or restarting) lets the other
    attempts run on; any other failure is the call's answer, as an OK is.
    """

    max_attempts: int = 3
    hedging_delay: float = 0.05
    non_fatal_status_codes: frozenset[grpc.StatusCode] = field(
        default=frozenset({grpc.StatusCode.UNAVAILABLE})
    )

    def __init__(
        self,
        max_attempts: int = 3,
        hedging_delay: float = 0.05,
        non_fatal_status_codes: Iterable[grpc.StatusCode] = (grpc.StatusCode.UNAVAILABLE,),
    ) -> None:
        if not 1 <= max_attempts <= _MAX_ATTEMPTS:
            raise ValueError(
                f"max_attempts must be between 1 and {_MAX_ATTEMPTS} (gRFC A6's limit), "
                f"got {max_attempts}"
            )
        if not hedging_delay >= 0:  # nan too
            raise ValueError(f"hedging_delay must be >= 0 seconds, got {hedging_delay}")
        codes = frozenset(non_fatal_status_codes)
        if not all(isinstance(code, grpc.StatusCode) for code in codes):
            raise TypeError("non_fatal_status_codes must be grpc.StatusCode members")
        if _OK in codes:
            raise ValueError("OK cannot be a non-fatal status code: it is the answer")
        object.__setattr__(self, "max_attempts", max_attempts)
        object.__setattr__(self, "hedging_delay", hedging_delay)
        object.__setattr__(self, "non_fatal_status_codes", codes)

    def __repr__(self) -> str:
        codes = ", ".join(sorted(code.name for code in self.non_fatal_status_codes))
        return (
            f"HedgingPolicy(max_attempts={self.max_attempts}, "
            f"hedging_delay={self.hedging_delay}, non_fatal_status_codes={{{codes}}})"
        )


class AttemptHooks(Protocol):
    """The interceptors' per-attempt hooks (see :class:`protoreq.interceptors.InterceptorChain`)."""

    def attempt_started(self, call: PreparedCall) -> None: ...
    def attempt_ended(self, call: PreparedCall, outcome: GrpcResponse[Any]) -> None: ...


Cancel: TypeAlias = Callable[[], object]
StartAttempt: TypeAlias = "Callable[[PreparedCall, Callable[[GrpcResponse[Any]], None]], Cancel]"
"""Start one sync attempt without waiting; the callback gets its outcome (on any thread)."""
AsyncAttempt: TypeAlias = "Callable[[PreparedCall], Awaitable[GrpcResponse[Any]]]"


class HedgedCall:
    """One hedged call's state: attempts sent and running, when the next may go, the answer.

    Shared by the sync and async loops, which call it from one thread (or task)
    only: the loop that waits for the call.
    """

    __slots__ = (
        "answer",
        "budget",
        "last",
        "last_sent",
        "next_at",
        "policy",
        "prepared",
        "running",
        "sent",
    )

    def __init__(
        self, prepared: PreparedCall, policy: HedgingPolicy, budget: RetryBudget | None
    ) -> None:
        self.prepared = prepared
        self.policy = policy
        self.budget = budget
        self.sent = 0
        self.running: dict[int, PreparedCall] = {}
        """Attempts sent whose outcome has not been taken, by ``id``."""
        self.next_at: float | None = time.monotonic()
        """When the next attempt may go out; ``None``: no more attempts."""
        self.last_sent = 0.0
        self.last: GrpcResponse[Any] | None = None
        self.answer: GrpcResponse[Any] | None = None

    def due(self, now: float, closed: bool) -> bool:
        """Whether to send another attempt now (and, if not, whether any more may follow)."""
        if self.sent == 0:
            return True  # the first attempt always goes (a closed client refuses it itself)
        if self.answer is not None or self.next_at is None:
            return False
        if closed or self._expired(now) or not self._budget_allows():
            self.next_at = None
            return False
        return now >= self.next_at

    def _expired(self, now: float) -> bool:
        deadline = self.prepared.deadline
        return deadline is not None and now >= deadline

    def _budget_allows(self) -> bool:
        budget = self.budget
        if budget is None or budget.allows_retries():
            return True
        _logger.debug(
            "%s: no more hedges, the retry budget is exhausted (too many recent failures)",
            self.prepared.rpc.path,
            extra={"trace_id": self.prepared.trace_id},
        )
        return False

    def next_attempt(self) -> PreparedCall:
        """The call object of the attempt about to go out (``attempt`` counts from 1).

        Each attempt has its own, since attempts run side by side and hooks may
        change one's metadata; they share the call's ``state``.
        """
        now = time.monotonic()
        prepared = self.prepared
        self.sent += 1
        metadata = prepared.metadata
        if self.sent > 1:  # A6: a hedge says how many went before it
            metadata = (*metadata, (_PREVIOUS_ATTEMPTS_KEY, str(self.sent - 1)))
        attempt = dataclasses.replace(
            prepared,
            metadata=metadata,
            attempt=self.sent,
            backoff=now - self.last_sent if self.sent > 1 else 0.0,
            _state=prepared.state,
            _when_done=None,
        )
        self.last_sent = now
        more = self.sent < self.policy.max_attempts
        self.next_at = now + self.policy.hedging_delay if more else None
        self.running[id(attempt)] = attempt
        return attempt

    def wait_seconds(self, now: float) -> float | None:
        """How long to wait for an outcome before the next attempt is due (``None``: no limit)."""
        if self.next_at is None:
            return None
        wait = max(0.0, self.next_at - now)
        deadline = self.prepared.deadline
        return wait if deadline is None else max(0.0, min(wait, deadline - now))

    def ended(self, attempt: PreparedCall, outcome: GrpcResponse[Any]) -> None:
        """Take one attempt's outcome: it may be the answer, or let the others run on."""
        del self.running[id(attempt)]
        if self.answer is not None:
            return  # a loser that answered before its cancel: the winner stands
        self.last = outcome
        code = outcome._code
        budget = self.budget
        if code is _OK or code not in self.policy.non_fatal_status_codes:
            if code is _OK and budget is not None:
                budget.record_success()
            self.answer = outcome
            return
        if budget is not None:
            budget.record_failure()
        if self.next_at is None:
            return
        pushback = server_pushback(outcome)
        if pushback is None:
            self.next_at = time.monotonic()  # A6: a non-fatal failure sends the next one now
        elif pushback < 0:
            self.next_at = None  # the server asked not to retry
        else:
            self.next_at = time.monotonic() + pushback

    @property
    def finished(self) -> bool:
        return self.answer is not None or (self.next_at is None and not self.running)

    def outcome(self) -> GrpcResponse[Any]:
        """The call's answer: the winner, or the last failure; ``attempts()`` counts every one."""
        response = self.answer or self.last
        assert response is not None  # finished: at least one attempt has ended
        response._attempts = self.sent
        return response

    def cancelled(self, attempt: PreparedCall) -> GrpcResponse[Any]:
        """The outcome of a losing attempt, cancelled because another one answered."""
        del self.running[id(attempt)]
        winner = self.answer._attempts if self.answer is not None else 0
        _logger.debug(
            "%s: attempt %d cancelled, attempt %d answered first",
            attempt.rpc.path,
            attempt.attempt,
            winner,
            extra={"trace_id": attempt.trace_id},
        )
        return response_from_error(
            LocalRpcError(
                grpc.StatusCode.CANCELLED,
                f"hedged attempt cancelled: attempt {winner} answered first",
            ),
            method_path=attempt.rpc.path,
            elapsed=attempt.elapsed(),
            trace_id=attempt.trace_id,
            attempts=attempt.attempt,
        )


class HedgingLayer:
    """Sends hedged calls: sync attempts as grpcio futures, async ones as tasks."""

    __slots__ = ("attempt_async", "budget", "closed", "hooks", "start_attempt")

    def __init__(
        self,
        start_attempt: StartAttempt,
        attempt_async: AsyncAttempt,
        *,
        hooks: AttemptHooks,
        budget: RetryBudget | None,
        closed: Callable[[], bool],
    ) -> None:
        self.start_attempt = start_attempt
        self.attempt_async = attempt_async
        self.hooks = hooks
        self.budget = budget
        self.closed = closed

    def send(self, prepared: PreparedCall) -> GrpcResponse[Any]:
        policy = prepared.hedging
        assert policy is not None  # the client sends only hedged calls here
        hedged = HedgedCall(prepared, policy, self.budget)
        outcomes: queue.SimpleQueue[tuple[PreparedCall, GrpcResponse[Any]]] = queue.SimpleQueue()
        cancels: dict[int, Cancel] = {}

        def take(attempt: PreparedCall, outcome: GrpcResponse[Any]) -> None:
            cancels.pop(id(attempt), None)
            hedged.ended(attempt, outcome)
            self.hooks.attempt_ended(attempt, outcome)

        try:
            while True:
                if hedged.due(time.monotonic(), self.closed()):
                    attempt = hedged.next_attempt()
                    self.hooks.attempt_started(attempt)
                    cancels[id(attempt)] = self.start_attempt(
                        attempt, functools.partial(_put, outcomes, attempt)
                    )
                    continue
                if hedged.finished:  # (due() may just have ruled out further attempts)
                    break
                try:
                    take(*outcomes.get(timeout=hedged.wait_seconds(time.monotonic())))
                except queue.Empty:
                    continue  # the next hedge is due
        finally:
            while hedged.running and not outcomes.empty():  # answered meanwhile: not losers
                take(*outcomes.get_nowait())
            for key, attempt in list(hedged.running.items()):  # the losers (all, on an interrupt)
                cancel = cancels.pop(key, None)  # None: its outcome arrived meanwhile
                if cancel is not None:
                    cancel()
                self.hooks.attempt_ended(attempt, hedged.cancelled(attempt))
        return hedged.outcome()

    async def send_async(self, prepared: PreparedCall) -> GrpcResponse[Any]:
        policy = prepared.hedging
        assert policy is not None
        hedged = HedgedCall(prepared, policy, self.budget)
        tasks: dict[asyncio.Future[GrpcResponse[Any]], PreparedCall] = {}

        def take(task: asyncio.Future[GrpcResponse[Any]]) -> None:
            attempt = tasks.pop(task)
            outcome = task.result()
            hedged.ended(attempt, outcome)
            self.hooks.attempt_ended(attempt, outcome)

        try:
            while True:
                if hedged.due(time.monotonic(), self.closed()):
                    attempt = hedged.next_attempt()
                    self.hooks.attempt_started(attempt)
                    tasks[asyncio.ensure_future(self.attempt_async(attempt))] = attempt
                    continue
                if hedged.finished:
                    break
                wait = hedged.wait_seconds(time.monotonic())
                if not tasks:  # a pushback delays the next attempt, and none is running
                    await asyncio.sleep(wait or 0.0)
                    continue
                done, _ = await asyncio.wait(
                    tasks, timeout=wait, return_when=asyncio.FIRST_COMPLETED
                )
                for task in done:
                    if hedged.answer is None:
                        take(task)
        finally:
            for task in [task for task in tasks if task.done() and not task.cancelled()]:
                if task.exception() is None:
                    take(task)  # answered meanwhile: not a loser
            for task, attempt in tasks.items():
                task.cancel()
                self.hooks.attempt_ended(attempt, hedged.cancelled(attempt))
            if tasks:
                await asyncio.gather(*tasks, return_exceptions=True)  # let the cancels finish
        return hedged.outcome()


def _put(
    outcomes: queue.SimpleQueue[tuple[PreparedCall, GrpcResponse[Any]]],
    attempt: PreparedCall,
    outcome: GrpcResponse[Any],
) -> None:
    outcomes.put((attempt, outcome))
