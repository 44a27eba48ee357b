"""Retry configuration.

A :class:`RetryPolicy` is a client default (``GrpcClient(..., retry=...)``) or a
request's own choice (``retry_policy()``). The client default applies only to
RPCs the proto marks safe to repeat; a policy returned by the request itself is
an explicit opt-in.
"""

from __future__ import annotations

import random
from collections.abc import Iterable
from dataclasses import dataclass, field

import grpc


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """How often and how patiently to repeat a failed call."""

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
        if grpc.StatusCode.OK in codes:
            raise ValueError("OK is not a retryable status code")
        object.__setattr__(self, "max_attempts", max_attempts)
        object.__setattr__(self, "initial_backoff", initial_backoff)
        object.__setattr__(self, "max_backoff", max_backoff)
        object.__setattr__(self, "backoff_multiplier", backoff_multiplier)
        object.__setattr__(self, "retryable_status_codes", codes)

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


def retry_delay(
    policy: RetryPolicy | None,
    *,
    attempt: int,
    code: grpc.StatusCode,
    remaining: float | None,
) -> float | None:
    """Seconds to wait before the next attempt, or ``None`` to stop and answer now.

    The one retry decision for sync and async calls: exponential backoff with
    full jitter, never sleeping past the overall deadline.
    """
    if policy is None or code is grpc.StatusCode.OK or attempt >= policy.max_attempts:
        return None
    if code not in policy.retryable_status_codes:
        return None
    ceiling = min(
        policy.max_backoff, policy.initial_backoff * policy.backoff_multiplier ** (attempt - 1)
    )
    delay = random.uniform(0, ceiling)  # jitter, not cryptography
    if remaining is not None and delay >= remaining:
        return None
    return delay
