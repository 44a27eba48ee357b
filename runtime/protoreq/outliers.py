"""Outlier ejection: skip an endpoint whose calls keep failing with UNAVAILABLE, for a while.

It applies where protoreq balances calls over endpoints itself (see
:mod:`protoreq.transport.endpoints`: DNS re-resolution, live registries,
``ipv4:`` lists). gRPC's xDS outlier detection and Envoy eject on failure
*rates* across many clients; one client mostly needs the simpler signal of a
dead or unreachable backend, which grpcio reports as UNAVAILABLE, so that is
what counts here: other statuses are the server's answers and show it is up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import grpc

_UNAVAILABLE: Final = grpc.StatusCode.UNAVAILABLE
_NEUTRAL: Final = frozenset({grpc.StatusCode.CANCELLED, grpc.StatusCode.DEADLINE_EXCEEDED})
"""Outcomes that tell nothing about the endpoint: the caller gave up, not the server."""


@dataclass(frozen=True, slots=True)
class OutlierEjection:
    """When to skip a failing endpoint, and for how long.

    After ``consecutive_failures`` calls in a row on one endpoint answered
    UNAVAILABLE, the endpoint gets no calls for ``base_ejection`` seconds. When
    that time is over it is on probation: its next call decides, a success (any
    answer but UNAVAILABLE) clears its record, another UNAVAILABLE ejects it
    again at once for twice as long, up to ``max_ejection``. The last endpoint
    that is not ejected is never ejected: when it fails too, every ejection is
    lifted and calls go to all endpoints, so the first one back takes them at
    once (the others stay on probation). The defaults follow gRPC's xDS outlier
    detection (30 s base, 300 s cap), with a lower threshold than Envoy's 5
    because only UNAVAILABLE counts.
    """

    consecutive_failures: int = 3
    base_ejection: float = 30.0
    max_ejection: float = 300.0

    def __post_init__(self) -> None:
        if self.consecutive_failures < 1:
            raise ValueError(
                f"consecutive_failures must be at least 1, got {self.consecutive_failures}"
            )
        if not self.base_ejection > 0:  # nan too
            raise ValueError(f"base_ejection must be positive seconds, got {self.base_ejection}")
        if not self.max_ejection >= self.base_ejection:
            raise ValueError(
                f"max_ejection ({self.max_ejection}) must be at least base_ejection "
                f"({self.base_ejection})"
            )

    def ejection_time(self, ejections: int) -> float:
        """Seconds the ``ejections``-th ejection in a row lasts (1 for the first)."""
        return min(self.max_ejection, self.base_ejection * 2.0 ** (ejections - 1))


class EndpointHealth:
    """One endpoint's record: UNAVAILABLE answers in a row, and its ejection. Not locked:
    the endpoint set updates it under its own lock."""

    __slots__ = ("ejected_until", "ejections", "failures")

    def __init__(self) -> None:
        self.failures = 0
        self.ejections = 0
        """Ejections since its last success: the next one lasts twice as long."""
        self.ejected_until = 0.0
        """``time.monotonic()`` when the current (or last) ejection ends; 0: never ejected."""

    def clean(self) -> bool:
        return self.failures == 0 and self.ejections == 0

    def is_ejected(self, now: float) -> bool:
        return self.ejected_until > now

    def record(self, code: grpc.StatusCode) -> bool:
        """Count one outcome; ``True`` if it was an UNAVAILABLE (else it may have cleared)."""
        if code is _UNAVAILABLE:
            self.failures += 1
            return True
        if code not in _NEUTRAL:
            self.failures = 0
            self.ejections = 0
            self.ejected_until = 0.0
        return False

    def due(self, policy: OutlierEjection) -> bool:
        """Whether its failures call for an ejection: the threshold, or probation ending badly."""
        return self.failures >= policy.consecutive_failures or self.ejections > 0

    def eject(self, policy: OutlierEjection, now: float) -> float:
        self.ejections += 1
        seconds = policy.ejection_time(self.ejections)
        self.ejected_until = now + seconds
        self.failures = 0
        return seconds
