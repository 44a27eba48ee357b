"""OpenTelemetry for protoreq calls: a span per call and per attempt, and duration metrics.

``GrpcClient(target, interceptors=[OpenTelemetryInterceptor()])`` traces and
measures every call, unary and streaming, sync and async, following the RPC
semantic conventions of **release v1.44.0** (the one the
``opentelemetry-semantic-conventions`` package carries; semconv *main* has since
renamed ``rpc.response.status_code`` to ``rpc.status_code``):

* one ``CLIENT`` span per call, named ``{rpc.method}`` (``user.UserService/GetUser``),
  covering the whole call with its retries (a stream: until it ends — iterated
  to its end, failed, cancelled, closed or dropped); attributes
  ``rpc.system.name="grpc"``, ``rpc.method``, ``server.address``/``server.port``
  (from the target), ``rpc.response.status_code`` (``"OK"``, ``"NOT_FOUND"``) and,
  on failure, ``error.type`` (the status name) with the span status ``ERROR`` —
  on a client span every status but OK is an error;
* one ``INTERNAL`` child span per attempt, ``Attempt.{rpc.method}`` (gRFC A72's
  name), with ``protoreq.attempt`` (1, 2, ...), ``protoreq.retry.backoff`` (the
  seconds waited before it) and the attempt's own status; its context is what
  ``traceparent`` carries to the server. With ``attempt_spans="retried"`` a call
  answered by its first attempt has no attempt span (the call span is the
  server's parent, as with Go's otelgrpc): attempt 1's span is written, with
  its own start time, only once a second attempt starts. An attempt span costs
  about as much as the call span, and most calls make one attempt;
* the histograms ``rpc.client.call.duration`` (seconds, the whole call, with the
  span's attributes) and ``grpc.client.attempt.duration`` (seconds, per attempt;
  semconv has no attempt metric, so gRFC A66's name and labels ``grpc.method``,
  ``grpc.target``, ``grpc.status``, which grpcio's own OpenTelemetry plugin uses).

When the span's context is valid (an SDK is installed, sampled or not), the
call's trace id — ``x-trace-id``, its log records, ``GrpcResponse.trace_id()``
— becomes the span's, so logs and traces join.

``OTEL_SEMCONV_STABILITY_OPT_IN`` (comma-separated, read when the interceptor is
made) selects the conventions, as OpenTelemetry's instrumentations read it:
``rpc/dup`` emits the v1.37 names besides the current ones (``rpc.system``,
``rpc.service``, ``rpc.grpc.status_code`` as an int, and the ``rpc.client.duration``
histogram in milliseconds; ``rpc.method`` keeps its fully qualified value on
spans, where one key holds one value), ``rpc/old`` the v1.37 names alone (with
the short ``rpc.method``), as Go's otelgrpc does; anything else, the current
names.

Spans are never attached as the current context across a stream's iteration
(no generator boundary to detach across); a unary call's span is current only
while the call runs, within one frame.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal, TypeAlias

try:
    from opentelemetry import context, metrics, propagate, trace
    from opentelemetry.trace import Span, SpanKind, Status, StatusCode
    from opentelemetry.util.types import AttributeValue
except ImportError as missing:  # pragma: no cover - exercised in a subprocess by the tests
    raise ImportError(
        "protoreq.otel needs the OpenTelemetry API: pip install 'protoreq[otel]' "
        "(it installs opentelemetry-api)"
    ) from missing

import grpc

from protoreq._version import __version__
from protoreq.interceptors import (
    AsyncStreamNext,
    AsyncUnaryNext,
    ClientCall,
    Interceptor,
    StreamNext,
    UnaryNext,
)
from protoreq.response import GrpcResponse
from protoreq.streaming import AsyncGrpcStream, GrpcStream

__all__ = ["SEMCONV_SCHEMA_URL", "AttemptSpans", "OpenTelemetryInterceptor", "server_address"]

SEMCONV_SCHEMA_URL: Final = "https://opentelemetry.io/schemas/1.44.0"

# Attribute names (semconv v1.44.0; the v1.37 ones marked old), spelled here so the otel
# extra needs only opentelemetry-api.
RPC_SYSTEM_NAME: Final = "rpc.system.name"
RPC_METHOD: Final = "rpc.method"
RPC_RESPONSE_STATUS_CODE: Final = "rpc.response.status_code"
ERROR_TYPE: Final = "error.type"
SERVER_ADDRESS: Final = "server.address"
SERVER_PORT: Final = "server.port"
OLD_RPC_SYSTEM: Final = "rpc.system"
OLD_RPC_SERVICE: Final = "rpc.service"
OLD_RPC_GRPC_STATUS_CODE: Final = "rpc.grpc.status_code"
ATTEMPT: Final = "protoreq.attempt"
RETRY_BACKOFF: Final = "protoreq.retry.backoff"
GRPC_METHOD: Final = "grpc.method"
GRPC_TARGET: Final = "grpc.target"
GRPC_STATUS: Final = "grpc.status"

CALL_DURATION: Final = "rpc.client.call.duration"
OLD_CALL_DURATION: Final = "rpc.client.duration"
ATTEMPT_DURATION: Final = "grpc.client.attempt.duration"

DURATION_BUCKETS: Final = (
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1,
    2.5,
    5,
    7.5,
    10,
)
"""Seconds: the boundaries semconv asks ``rpc.client.call.duration`` to advise."""
OLD_DURATION_BUCKETS: Final = (
    0,
    5,
    10,
    25,
    50,
    75,
    100,
    250,
    500,
    750,
    1000,
    2500,
    5000,
    7500,
    10000,
)
"""Milliseconds, for the v1.37 ``rpc.client.duration``."""

_OK: Final = grpc.StatusCode.OK

Attributes: TypeAlias = dict[str, AttributeValue]
_SCHEMES_WITHOUT_HOST: Final = ("ipv4:", "ipv6:")
"""Address lists: no single low-cardinality name, so the whole target is the address."""
_UNIX_SCHEMES: Final = ("unix:", "unix-abstract:")
_NAMED_SCHEMES: Final = (*_UNIX_SCHEMES, *_SCHEMES_WITHOUT_HOST, "dns:", "xds:", "vsock:")


def emitted_conventions(opt_in: str | None) -> tuple[bool, bool]:
    """``(current, old)``: which RPC conventions ``OTEL_SEMCONV_STABILITY_OPT_IN`` asks for."""
    values = {value.strip().lower() for value in (opt_in or "").split(",")}
    if "rpc/dup" in values:  # semconv: the duplicate form wins over any other value
        return True, True
    if "rpc/old" in values:
        return False, True
    return True, False


def server_address(target: str) -> tuple[str, int | None]:
    """``server.address`` and ``server.port`` for a gRPC target, as semconv's gRPC page says.

    ``host:port``, ``[::1]:port`` and ``dns:[//authority/]host:port`` give the host and
    port; ``unix:path``, ``unix:///path`` and ``unix-abstract:name`` the socket name and no
    port; ``ipv4:``/``ipv6:`` address lists and other schemes (``xds:///name``) the whole
    target and no port: no DNS lookups, no connection details, low cardinality.
    """
    for scheme in _UNIX_SCHEMES:
        if target.startswith(scheme):
            path = target[len(scheme) :]
            if path.startswith("//"):  # unix://[authority]/path: the path is what names it
                slash = path.find("/", 2)
                path = path[slash:] if slash >= 0 else ""
            return (path or target), None
    if target.startswith(_SCHEMES_WITHOUT_HOST):
        return target, None
    if target.startswith("dns:"):
        endpoint = target[len("dns:") :]
        if endpoint.startswith("//"):  # dns://[resolver]/host:port
            endpoint = endpoint[endpoint.find("/", 2) + 1 :] if "/" in endpoint[2:] else ""
        return _host_and_port(endpoint) if endpoint else (target, None)
    if "://" in target or target.startswith(_NAMED_SCHEMES):
        return target, None
    return _host_and_port(target)


def _host_and_port(endpoint: str) -> tuple[str, int | None]:
    if endpoint.startswith("["):  # [ipv6]:port
        host, _, rest = endpoint[1:].partition("]")
        port = rest[1:] if rest.startswith(":") else ""
        return host, int(port) if port.isdigit() else None
    host, colon, port = endpoint.rpartition(":")
    if colon and port.isdigit() and host and ":" not in host:
        return host, int(port)
    return endpoint, None  # no port given (gRPC would use 443; semconv: set none)


def _grpc_target(target: str) -> str:
    """gRFC A66's ``grpc.target``: the target as a URI (``dns:///`` when it names no scheme)."""
    if "://" in target or target.startswith(_NAMED_SCHEMES):
        return target
    return f"dns:///{target}"


@dataclass(frozen=True, slots=True)
class _MethodNames:
    """What one (method, target) pair's spans and metrics say, worked out once."""

    span_name: str
    attempt_span_name: str
    span_attributes: Mapping[str, AttributeValue]
    """Set at span creation (sampling-relevant: method, system, server)."""
    metric_attributes: Mapping[str, AttributeValue]
    old_metric_attributes: Mapping[str, AttributeValue]
    attempt_metric_attributes: Mapping[str, AttributeValue]


AttemptSpans: TypeAlias = Literal["always", "retried"]
"""When attempt spans are written: for every attempt, or only for calls that make more than one."""
_ATTEMPT_SPANS: Final = ("always", "retried")


@dataclass(slots=True)
class _FirstAttempt:
    """Attempt 1 without a span yet (``attempt_spans="retried"``): what its span would say."""

    start_ns: int
    started: float
    ended: tuple[grpc.StatusCode, str, int] | None = None
    """How it ended (status, details, end time in ns), once it has."""


@dataclass(slots=True)
class _CallTelemetry:
    """One call's span, its open attempt spans and their start times (``call.state[self]``)."""

    names: _MethodNames
    span: Span
    started: float
    attempts: dict[int, tuple[Span, float]] = field(default_factory=dict)
    """Open attempt spans and their start times, by attempt number (hedges overlap)."""
    first: _FirstAttempt | None = None
    """Attempt 1 while it has no span (``attempt_spans="retried"``)."""
    ended: bool = False


class OpenTelemetryInterceptor(Interceptor):
    """Spans and duration metrics for every call, per the RPC semantic conventions.

    ``tracer_provider`` / ``meter_provider`` default to OpenTelemetry's global
    ones (resolved lazily by the API, so configuring them later works); a
    ``metrics.NoOpMeterProvider()`` turns the histograms off. ``attempt_spans``
    is ``"always"`` (gRFC A72: a span per attempt) or ``"retried"`` (attempt
    spans only for calls that make more than one attempt).
    """

    def __init__(
        self,
        tracer_provider: trace.TracerProvider | None = None,
        meter_provider: metrics.MeterProvider | None = None,
        *,
        attempt_spans: AttemptSpans = "always",
    ) -> None:
        if attempt_spans not in _ATTEMPT_SPANS:
            raise ValueError(f"attempt_spans must be 'always' or 'retried', not {attempt_spans!r}")
        self._lazy_first_attempt = attempt_spans == "retried"
        self._current, self._old = emitted_conventions(
            os.environ.get("OTEL_SEMCONV_STABILITY_OPT_IN")
        )
        self._tracer = trace.get_tracer(
            "protoreq", __version__, tracer_provider, schema_url=SEMCONV_SCHEMA_URL
        )
        meter = metrics.get_meter(
            "protoreq", __version__, meter_provider, schema_url=SEMCONV_SCHEMA_URL
        )
        self._call_duration = (
            meter.create_histogram(
                CALL_DURATION,
                unit="s",
                description="Measures the duration of an outgoing Remote Procedure Call (RPC).",
                explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
            )
            if self._current
            else None
        )
        self._old_call_duration = (
            meter.create_histogram(
                OLD_CALL_DURATION,
                unit="ms",
                description="Measures the duration of outbound RPC.",
                explicit_bucket_boundaries_advisory=OLD_DURATION_BUCKETS,
            )
            if self._old
            else None
        )
        self._attempt_duration = meter.create_histogram(
            ATTEMPT_DURATION,
            unit="s",
            description="Time from the start of a client call attempt to its end.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS,
        )
        self._names_for = functools.lru_cache(maxsize=1024)(self._method_names)

    def __repr__(self) -> str:
        forms = [name for name, on in (("current", self._current), ("old", self._old)) if on]
        attempts = ", attempt_spans='retried'" if self._lazy_first_attempt else ""
        return f"OpenTelemetryInterceptor(semconv={'+'.join(forms)}{attempts})"

    # -- names and attributes, once per (method, target) ---------------------------------------

    def _method_names(self, service: str, method: str, target: str) -> _MethodNames:
        full_name = f"{service}/{method}"
        address, port = server_address(target)
        server: dict[str, AttributeValue] = {SERVER_ADDRESS: address}
        if port is not None:
            server[SERVER_PORT] = port
        current: dict[str, AttributeValue] = {}
        old: dict[str, AttributeValue] = {}
        if self._current:
            current = {RPC_SYSTEM_NAME: "grpc", RPC_METHOD: full_name, **server}
        if self._old:
            old = {OLD_RPC_SYSTEM: "grpc", OLD_RPC_SERVICE: service, RPC_METHOD: method, **server}
        return _MethodNames(
            span_name=full_name,
            attempt_span_name=f"Attempt.{full_name}",
            span_attributes={**old, **current},  # both: the fully qualified rpc.method wins
            metric_attributes=current,
            old_metric_attributes=old,
            attempt_metric_attributes={GRPC_METHOD: full_name, GRPC_TARGET: _grpc_target(target)},
        )

    def _status_attributes(self, code: grpc.StatusCode) -> tuple[Attributes, Attributes]:
        """``(current, old)`` attributes for how a call or attempt ended."""
        current: Attributes = {}
        if self._current:
            current[RPC_RESPONSE_STATUS_CODE] = code.name
            if code is not _OK:
                current[ERROR_TYPE] = code.name
        old: Attributes = {OLD_RPC_GRPC_STATUS_CODE: code.value[0]} if self._old else {}
        return current, old

    # -- the call span ------------------------------------------------------------------------

    def _start(self, call: ClientCall) -> _CallTelemetry:
        rpc = call.rpc
        names = self._names_for(rpc.service, rpc.method, call.target)
        span = self._tracer.start_span(
            names.span_name, kind=SpanKind.CLIENT, attributes=names.span_attributes
        )
        telemetry = _CallTelemetry(names, span, time.monotonic())
        call.state[self] = telemetry
        span_context = span.get_span_context()
        if span_context.is_valid:
            call.set_trace_id(format(span_context.trace_id, "032x"))
        return telemetry

    def _end(self, telemetry: _CallTelemetry, outcome: GrpcResponse[Any]) -> None:
        if telemetry.ended:
            return
        telemetry.ended = True
        code = outcome.status_code()
        for attempt in list(telemetry.attempts):
            self._end_attempt(telemetry, attempt, code, outcome.details())
        current, old = self._status_attributes(code)
        span = telemetry.span
        if span.is_recording():
            span.set_attributes({**current, **old})
            if code is not _OK:
                span.set_status(Status(StatusCode.ERROR, outcome.details() or None))
        span.end()
        self._record_call(telemetry, current, old)

    def _end_with_exception(self, telemetry: _CallTelemetry, error: BaseException) -> None:
        """The call raised instead of answering (its caller's messages raised, the task was
        cancelled, an interrupt): ``error.type`` is the exception's class, as semconv says."""
        if telemetry.ended:
            return
        telemetry.ended = True
        error_type = f"{type(error).__module__}.{type(error).__qualname__}"
        attributes: Attributes = {ERROR_TYPE: error_type} if self._current else {}
        spans = [span for span, _ in telemetry.attempts.values()]
        for span in (*spans, telemetry.span):
            if span.is_recording():
                span.set_attributes(attributes)
                span.record_exception(error)
                span.set_status(Status(StatusCode.ERROR, str(error) or None))
            span.end()
        telemetry.attempts.clear()
        self._record_call(telemetry, attributes, {})

    def _record_call(self, telemetry: _CallTelemetry, current: Attributes, old: Attributes) -> None:
        seconds = time.monotonic() - telemetry.started
        names = telemetry.names
        if self._call_duration is not None:
            self._call_duration.record(seconds, {**names.metric_attributes, **current})
        if self._old_call_duration is not None:
            self._old_call_duration.record(seconds * 1000, {**names.old_metric_attributes, **old})

    # -- attempts -----------------------------------------------------------------------------

    def on_attempt_start(self, call: ClientCall) -> None:
        telemetry: _CallTelemetry | None = call.state.get(self)
        if telemetry is None:
            return
        parent = trace.set_span_in_context(telemetry.span)
        if self._lazy_first_attempt:
            if call.attempt == 1:
                telemetry.first = _FirstAttempt(time.time_ns(), time.monotonic())
                self._send_traceparent(call, telemetry.span, parent)  # the call span's
                return
            self._open_first_attempt(telemetry, parent)
        span = self._start_attempt_span(telemetry, parent, call.attempt, call.backoff)
        telemetry.attempts[call.attempt] = (span, time.monotonic())
        self._send_traceparent(call, span, trace.set_span_in_context(span, parent))

    def _start_attempt_span(
        self,
        telemetry: _CallTelemetry,
        parent: Any,
        attempt: int,
        backoff: float,
        start_time: int | None = None,
    ) -> Span:
        attributes: Attributes = {ATTEMPT: attempt}
        if attempt > 1:
            attributes[RETRY_BACKOFF] = backoff
        return self._tracer.start_span(
            telemetry.names.attempt_span_name,
            context=parent,
            kind=SpanKind.INTERNAL,
            attributes={**telemetry.names.span_attributes, **attributes},
            start_time=start_time,
        )

    def _open_first_attempt(self, telemetry: _CallTelemetry, parent: Any) -> None:
        """A second attempt starts: attempt 1's span is written now, with its own times."""
        first = telemetry.first
        if first is None:
            return
        telemetry.first = None
        span = self._start_attempt_span(telemetry, parent, 1, 0.0, start_time=first.start_ns)
        if first.ended is None:  # still running (a hedge overtakes it): ends when it does
            telemetry.attempts[1] = (span, first.started)
            return
        code, details, end_ns = first.ended
        self._set_attempt_status(span, code, details)
        span.end(end_time=end_ns)

    @staticmethod
    def _send_traceparent(call: ClientCall, span: Span, span_in_context: Any) -> None:
        if span.get_span_context().is_valid:
            carrier: dict[str, str] = {}
            propagate.inject(carrier, context=span_in_context)
            for key, value in carrier.items():
                call.set_metadata(key, value)  # replaces a traceparent from the enclosing span

    def on_attempt_end(self, call: ClientCall, outcome: GrpcResponse[Any]) -> None:
        telemetry: _CallTelemetry | None = call.state.get(self)
        if telemetry is None:
            return
        first = telemetry.first
        if first is not None and call.attempt == 1:
            code = outcome.status_code()
            first.ended = (code, outcome.details(), time.time_ns())
            self._record_attempt(telemetry, first.started, code)
            return
        self._end_attempt(telemetry, call.attempt, outcome.status_code(), outcome.details())

    def _end_attempt(
        self, telemetry: _CallTelemetry, attempt: int, code: grpc.StatusCode, details: str
    ) -> None:
        opened = telemetry.attempts.pop(attempt, None)
        if opened is None:
            return
        span, started = opened
        self._set_attempt_status(span, code, details)
        span.end()
        self._record_attempt(telemetry, started, code)

    def _set_attempt_status(self, span: Span, code: grpc.StatusCode, details: str) -> None:
        if span.is_recording():
            current, old = self._status_attributes(code)
            span.set_attributes({**current, **old})
            if code is not _OK:
                span.set_status(Status(StatusCode.ERROR, details or None))

    def _record_attempt(
        self, telemetry: _CallTelemetry, started: float, code: grpc.StatusCode
    ) -> None:
        self._attempt_duration.record(
            time.monotonic() - started,
            {**telemetry.names.attempt_metric_attributes, GRPC_STATUS: code.name},
        )

    # -- around every kind of call ------------------------------------------------------------

    def intercept_unary(self, call_next: UnaryNext, call: ClientCall) -> GrpcResponse[Any]:
        telemetry = self._start(call)
        # Current while the call runs, for inner interceptors: what trace.use_span() does with
        # both its exception options off, without its context manager's frames.
        token = context.attach(trace.set_span_in_context(telemetry.span))
        try:
            try:
                response = call_next(call)
            finally:
                context.detach(token)
        except BaseException as error:
            self._end_with_exception(telemetry, error)
            raise
        self._end(telemetry, response)
        return response

    async def intercept_unary_async(
        self, call_next: AsyncUnaryNext, call: ClientCall
    ) -> GrpcResponse[Any]:
        telemetry = self._start(call)
        token = context.attach(trace.set_span_in_context(telemetry.span))
        try:
            try:
                response = await call_next(call)
            finally:
                context.detach(token)
        except BaseException as error:
            self._end_with_exception(telemetry, error)
            raise
        self._end(telemetry, response)
        return response

    def intercept_stream(self, call_next: StreamNext, call: ClientCall) -> GrpcStream[Any]:
        telemetry = self._start(call)
        call.add_done_callback(functools.partial(self._end, telemetry))
        try:
            return call_next(call)
        except BaseException as error:
            self._end_with_exception(telemetry, error)
            raise

    def intercept_stream_async(
        self, call_next: AsyncStreamNext, call: ClientCall
    ) -> AsyncGrpcStream[Any]:
        telemetry = self._start(call)
        call.add_done_callback(functools.partial(self._end, telemetry))
        try:
            return call_next(call)
        except BaseException as error:
            self._end_with_exception(telemetry, error)
            raise
