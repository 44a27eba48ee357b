"""The retry layer: sends a unary call's attempts until one answers or the policy says stop.

It sits between the interceptor chain and the transport (see
:mod:`protoreq.interceptors`): call-level interceptors see the call once,
attempt hooks and grpcio's interceptors see every attempt. The decision itself
(:func:`protoreq.retry.decide_retry`) is shared by sync and async; the two
loops below differ only in how they wait.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from typing import Any, Final

import grpc

from protoreq.preparation import PreparedCall
from protoreq.response import GrpcResponse
from protoreq.retry import RetryBudget, decide_retry, log_retry_decision

_OK: Final = grpc.StatusCode.OK

Attempt = Callable[[PreparedCall], GrpcResponse[Any]]
AsyncAttempt = Callable[[PreparedCall], Awaitable[GrpcResponse[Any]]]


class RetryLayer:
    """Repeats attempts per the call's policy, sharing one retry budget (gRFC A6 throttle)."""

    __slots__ = ("attempt", "attempt_async", "budget")

    def __init__(
        self, attempt: Attempt, attempt_async: AsyncAttempt, budget: RetryBudget | None
    ) -> None:
        self.attempt = attempt
        self.attempt_async = attempt_async
        self.budget = budget

    def send(self, prepared: PreparedCall) -> GrpcResponse[Any]:
        attempt = self.attempt
        while True:
            prepared.attempt += 1
            response = attempt(prepared)
            budget = self.budget
            if response._code is _OK and (budget is None or budget.full):
                return response  # what delay() would decide, without the work
            delay = self.delay(prepared, response)
            if delay is None:
                return response
            prepared.backoff = delay
            time.sleep(delay)

    async def send_async(self, prepared: PreparedCall) -> GrpcResponse[Any]:
        attempt = self.attempt_async
        while True:
            prepared.attempt += 1
            response = await attempt(prepared)
            budget = self.budget
            if response._code is _OK and (budget is None or budget.full):
                return response
            delay = self.delay(prepared, response)
            if delay is None:
                return response
            prepared.backoff = delay
            await asyncio.sleep(delay)

    def delay(self, prepared: PreparedCall, response: GrpcResponse[Any]) -> float | None:
        """Seconds to wait before the next attempt, or ``None``: see :func:`decide_retry`."""
        if response._code is _OK:
            # decide_retry's first rule, without building a decision nobody reads.
            if self.budget is not None:
                self.budget.record_success()
            return None
        decision = decide_retry(
            prepared.retry,
            response,
            attempt=prepared.attempt,
            retries_since_pushback=prepared.retries_since_pushback,
            remaining=prepared.remaining(),
            budget=self.budget,
        )
        if prepared.retry is not None:
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
