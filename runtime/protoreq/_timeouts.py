"""What a number of seconds means as a timeout: a finite deadline, no deadline, or misuse.

grpcio turns a timeout into an absolute deadline in nanoseconds of a 64-bit
clock: ``inf``, or anything near 9.2e9 seconds, overflows it and the call
fails at once with DEADLINE_EXCEEDED without being sent. A sync grpcio
handler whose caller sent no deadline reports ``time_remaining()`` of about
9.2e18 for the same reason. None of these is a deadline anybody meant, so
protoreq reads every timeout at or beyond :data:`UNBOUNDED_SECONDS` (about 31
years) as "no deadline", and refuses ``nan``, which is no duration at all.
"""

from __future__ import annotations

import math
from typing import Final

UNBOUNDED_SECONDS: Final = 1e9
"""Timeouts this long or longer (``inf`` included) mean no deadline."""


def is_unbounded(seconds: float) -> bool:
    """``seconds`` is so long that it cannot be a deadline (``nan`` is not: refuse it)."""
    return seconds >= UNBOUNDED_SECONDS


def bounded_or_none(seconds: float | None) -> float | None:
    """``seconds``, or ``None`` (no deadline) when it is unbounded; ``nan`` stays for the caller."""
    if seconds is None or is_unbounded(seconds):
        return None
    return seconds


def is_nan(seconds: float | None) -> bool:
    return seconds is not None and math.isnan(seconds)
