"""The retry layer: sends a unary call's attempts until one answers or the policy says stop.

It sits between the interceptor chain and the transport (see
:mod:`protoreq.interceptors`): call-level interceptors see the call once,
attempt hooks and grpcio's interceptors see every attempt. The decision itself
(:func:`protoreq.retry.decide_retry`) is shared by sync and async; the two
loops below differ only in how they wait.

Restarts: while grpcio reconnects (its reconnect backoff starts at about 1 s,
longer than a retry policy's backoffs) a fail-fast attempt fails at once, so a
call's retries would be spent before a restarted server is back. A retry
therefore waits for the channel first: nothing is sent to a server that is
down, the deadline and the young disconnection's window
(:class:`~protoreq.retry.Disconnection`, about 5 s) bound the wait, and a call
whose wait runs out answers with its last failure (UNAVAILABLE, not a
misleading DEADLINE_EXCEEDED). Without a deadline a retry does not wait, so a
dead server cannot hold a call forever; nor does it for a client made with
``wait_for_ready=False``.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final, Protocol

import grpc

from protoreq.preparation import PreparedCall
from protoreq.response import GrpcResponse
from protoreq.retry import (
    Disconnection,
    RetryBudget,
    decide_retry,
    log_retry_decision,
    lost_connection,
)

_OK: Final = grpc.StatusCode.OK

Attempt = Callable[[PreparedCall], GrpcResponse[Any]]
AsyncAttempt = Callable[[PreparedCall], Awaitable[GrpcResponse[Any]]]


class Connectivity(Protocol):
    """What the retry layer asks the transport about its channels."""

    def connected(self) -> bool: ...
    def connected_async(self) -> bool: ...
    def wait_for_connection(self, seconds: float) -> bool: ...
    async def wait_for_connection_async(self, seconds: float) -> bool: ...


class RetryLayer:
    """Repeats attempts per the call's policy, sharing one retry budget (gRFC A6 throttle)."""

    __slots__ = (
        "attempt",
        "attempt_async",
        "budget",
        "closed",
        "connectivity",
        "disconnection",
        "waits_for_connection",
    )

    def __init__(
        self,
        attempt: Attempt,
        attempt_async: AsyncAttempt,
        *,
        budget: RetryBudget | None,
        connectivity: Connectivity,
        closed: Callable[[], bool],
        waits_for_connection: bool = True,
    ) -> None:
        self.attempt = attempt
        self.attempt_async = attempt_async
        self.budget = budget
        self.connectivity = connectivity
        self.closed = closed
        """Whether the client was closed: ``close()`` ends retrying."""
        self.waits_for_connection = waits_for_connection
        self.disconnection = Disconnection()

    def send(self, prepared: PreparedCall) -> GrpcResponse[Any]:
        attempt = self.attempt
        while True:
            prepared.attempt += 1
            response = attempt(prepared)
            budget = self.budget
            if response._code is _OK and (budget is None or budget.full):
                return response  # what delay() would decide, without the work
            delay = self.delay(prepared, response, self.connectivity.connected)
            if delay is None:
                return response
            prepared.backoff = delay
            time.sleep(delay)
            if self.closed():
                return response  # closed during the backoff: the last outcome stands
            wait = self._connection_wait(prepared)
            if wait is not None and not self._reconnected(
                self.connectivity.wait_for_connection(wait)
            ):
                return response  # no connection in time

    async def send_async(self, prepared: PreparedCall) -> GrpcResponse[Any]:
        attempt = self.attempt_async
        while True:
            prepared.attempt += 1
            response = await attempt(prepared)
            budget = self.budget
            if response._code is _OK and (budget is None or budget.full):
                return response
            delay = self.delay(prepared, response, self.connectivity.connected_async)
            if delay is None:
                return response
            prepared.backoff = delay
            await asyncio.sleep(delay)
            if self.closed():
                return response
            wait = self._connection_wait(prepared)
            if wait is not None and not self._reconnected(
                await self.connectivity.wait_for_connection_async(wait)
            ):
                return response

    def _connection_wait(self, prepared: PreparedCall) -> float | None:
        """How long the next attempt may wait for a connection; ``None``: it does not wait."""
        remaining = prepared.remaining()
        if remaining is None or not self.waits_for_connection:
            return None
        return min(remaining, self.disconnection.wait_limit(time.monotonic()))

    def _reconnected(self, connected: bool) -> bool:
        if connected:
            self.disconnection.reconnected()
        return connected

    def delay(
        self, prepared: PreparedCall, response: GrpcResponse[Any], connected: Callable[[], bool]
    ) -> float | None:
        """Seconds to wait before the next attempt, or ``None``: see :func:`decide_retry`.

        ``connected`` tells whether the call's channel has a connection now; a
        retryable failure without one costs no token while the disconnection is
        young (see :class:`~protoreq.retry.Disconnection`).
        """
        if response._code is _OK:
            # decide_retry's first rule, without building a decision nobody reads.
            if self.budget is not None:
                self.budget.record_success()
            return None
        if self.closed():
            return None  # close() ends retrying: the call answers with this attempt's outcome
        budget = self.budget
        policy = prepared.retry
        if (
            budget is not None
            and policy is not None
            and response._code in policy.retryable_status_codes
            and (not connected() or lost_connection(response.details()))
            and self.disconnection.failed_unconnected(time.monotonic())
        ):
            budget = None  # its connection is gone, and its retry waits for a new one
        decision = decide_retry(
            policy,
            response,
            attempt=prepared.attempt,
            retries_since_pushback=prepared.retries_since_pushback,
            remaining=prepared.remaining(),
            budget=budget,
        )
        if policy is not None:
            log_retry_decision(
                decision,
                path=prepared.rpc.path,
                attempt=prepared.attempt,
                trace_id=prepared.trace_id,
            )
        if decision.pushed_back:
            prepared.retries_since_pushback = 0
        elif decision.retry:
            prepared.retries_since_pushback += 1
        return decision.delay
