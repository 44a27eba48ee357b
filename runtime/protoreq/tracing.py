"""Trace propagation: ``x-trace-id`` always, W3C ``traceparent`` when OpenTelemetry is in use.

OpenTelemetry is optional: if the application never imported it, no span can
be active, so we look in ``sys.modules`` instead of importing it ourselves and
pay nothing on the call path.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

from protoreq._defaults import TRACE_ID_KEY
from protoreq.context import RequestContext, new_trace_id

if TYPE_CHECKING:
    from protoreq.metadata import MetadataPairs

__all__ = ["OTEL_MODULE", "TRACE_ID_KEY", "with_trace_headers", "with_w3c_headers"]

OTEL_MODULE = "opentelemetry.trace"
"""In ``sys.modules`` once the application uses OpenTelemetry; only then can a span be active."""


def with_trace_headers(pairs: MetadataPairs) -> tuple[MetadataPairs, str]:
    """``pairs`` with ``x-trace-id`` (and ``traceparent``) ensured, and the trace id sent."""
    for key, value in pairs:
        if key == TRACE_ID_KEY and isinstance(value, str):
            trace_id = value
            break
    else:
        trace_id = RequestContext.get_trace_id() or new_trace_id()
        pairs = (*pairs, (TRACE_ID_KEY, trace_id))
    if OTEL_MODULE in sys.modules:
        pairs = with_w3c_headers(pairs)
    return pairs, trace_id


def with_w3c_headers(pairs: MetadataPairs) -> MetadataPairs:
    """``pairs`` plus ``traceparent`` (and what else the propagator injects) for the active span."""
    from opentelemetry import propagate, trace  # noqa: PLC0415  # already imported by the app

    if not trace.get_current_span().get_span_context().is_valid:
        return pairs
    present = {key for key, _ in pairs}
    carrier: dict[str, str] = {}
    propagate.inject(carrier)
    extra = tuple((key, value) for key, value in carrier.items() if key not in present)
    return (*pairs, *extra)
