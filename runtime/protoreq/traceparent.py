"""Reading an incoming W3C ``traceparent`` header (Trace Context, level 1), without OpenTelemetry.

A server whose callers trace with OpenTelemetry but do not send ``x-trace-id``
still learns their trace id from ``traceparent``, so its log records and the
calls it makes join the caller's trace. Only the trace id is needed, so this is
a parser of the header's fixed layout, not a propagator::

    version "-" trace-id "-" parent-id "-" trace-flags
    00      -   32 hex   -   16 hex    -   2 hex

The spec's rules for receivers are followed: lowercase hex only; version
``ff`` and all-zero trace or parent ids are invalid; version ``00`` has
exactly these four fields, while a later version may append ``-...`` fields
that a version-00 reader skips.
"""

from __future__ import annotations

import functools
import re
from typing import Final

TRACEPARENT_KEY: Final = "traceparent"

_LAYOUT: Final = (
    r"(?P<version>[0-9a-f]{2})-(?P<trace_id>[0-9a-f]{32})-(?P<parent_id>[0-9a-f]{16})"
    r"-[0-9a-f]{2}(?P<rest>-.*)?"
)


@functools.cache
def _layout() -> re.Pattern[str]:
    """Compiled when a first ``traceparent`` arrives: compiling costs every import 0.5 ms."""
    return re.compile(_LAYOUT, re.DOTALL)


_INVALID_TRACE_ID: Final = "0" * 32
_INVALID_PARENT_ID: Final = "0" * 16


def trace_id_of_traceparent(value: str) -> str | None:
    """The trace id (32 lowercase hex digits) of a valid ``traceparent`` value, else ``None``.

    A malformed header means "no incoming trace" (the spec says to restart the
    trace), never an error: the caller gets a fresh trace id instead.
    """
    parsed = _layout().fullmatch(value.strip(" \t"))
    if parsed is None:
        return None
    version = parsed["version"]
    if version == "ff" or (version == "00" and parsed["rest"] is not None):
        return None
    trace_id = parsed["trace_id"]
    if trace_id == _INVALID_TRACE_ID or parsed["parent_id"] == _INVALID_PARENT_ID:
        return None
    return trace_id
