"""OpenTelemetry tests: the real SDK with in-memory exporters, own providers per test.

Nothing here sets OpenTelemetry's global providers: each test hands its own
``TracerProvider`` / ``MeterProvider`` to the interceptor, so spans and metric
points never leak between tests. The streaming fixtures (a real ChatService, the
sync/async ``drive``r) come from ``tests/streaming``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import grpc
import pytest
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import HistogramDataPoint, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from protoreq.otel import OpenTelemetryInterceptor
from tests.streaming.conftest import chat_target, drive, progress  # noqa: F401  # fixtures

OPT_IN = "OTEL_SEMCONV_STABILITY_OPT_IN"


@dataclass(frozen=True)
class Point:
    """One histogram data point, with its attributes as a plain dict."""

    attributes: dict[str, Any]
    count: int
    sum: float
    explicit_bounds: list[float]

    @classmethod
    def of(cls, point: HistogramDataPoint) -> Point:
        return cls(
            dict(point.attributes or {}), point.count, point.sum, list(point.explicit_bounds)
        )


@dataclass
class Telemetry:
    """One test's providers, their in-memory exporter and reader, and the interceptor."""

    interceptor: OpenTelemetryInterceptor
    tracer_provider: TracerProvider
    meter_provider: MeterProvider
    exporter: InMemorySpanExporter
    reader: InMemoryMetricReader

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def call_span(self) -> ReadableSpan:
        """The one finished CLIENT span (a test makes one call unless it says otherwise)."""
        (span,) = [s for s in self.spans() if s.kind is SpanKind.CLIENT]
        return span

    def attempt_spans(self, parent: ReadableSpan) -> list[ReadableSpan]:
        parent_id = parent.context.span_id
        children = [s for s in self.spans() if s.parent is not None]
        return sorted(
            (s for s in children if s.parent is not None and s.parent.span_id == parent_id),
            key=lambda s: s.start_time or 0,
        )

    def points(self, name: str) -> list[Point]:
        data = self.reader.get_metrics_data()
        found: list[Point] = []
        for resource in data.resource_metrics if data is not None else []:
            for scope in resource.scope_metrics:
                for metric in scope.metrics:
                    if metric.name == name:
                        found.extend(Point.of(p) for p in metric.data.data_points)  # type: ignore[arg-type]
        return found

    def units(self) -> dict[str, str]:
        data = self.reader.get_metrics_data()
        return {
            metric.name: metric.unit or ""
            for resource in (data.resource_metrics if data is not None else [])
            for scope in resource.scope_metrics
            for metric in scope.metrics
        }


@pytest.fixture
def make_telemetry(monkeypatch: pytest.MonkeyPatch) -> Iterator[Callable[..., Telemetry]]:
    """``make_telemetry(opt_in=None)``: fresh providers and an interceptor made under ``opt_in``."""
    made: list[Telemetry] = []

    def make(opt_in: str | None = None) -> Telemetry:
        if opt_in is None:
            monkeypatch.delenv(OPT_IN, raising=False)
        else:
            monkeypatch.setenv(OPT_IN, opt_in)
        exporter = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
        reader = InMemoryMetricReader()
        meter_provider = MeterProvider(metric_readers=[reader])
        interceptor = OpenTelemetryInterceptor(tracer_provider, meter_provider)
        telemetry = Telemetry(interceptor, tracer_provider, meter_provider, exporter, reader)
        made.append(telemetry)
        return telemetry

    yield make
    for telemetry in made:
        telemetry.tracer_provider.shutdown()
        telemetry.meter_provider.shutdown()


@pytest.fixture
def telemetry(make_telemetry: Callable[..., Telemetry]) -> Telemetry:
    return make_telemetry()


@dataclass
class FlakyUsers:
    """A ``user.UserService`` whose ``GetUser`` fails UNAVAILABLE ``failures`` times, then answers.

    Records each call's metadata as the list of pairs it arrived with.
    """

    failures: int
    metadata: list[list[tuple[str, Any]]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self) -> grpc.GenericRpcHandler:
        from protos import user_pb2  # noqa: PLC0415  # compiled at session start

        def get_user(request: Any, context: grpc.ServicerContext) -> Any:
            with self.lock:
                self.metadata.append(list(context.invocation_metadata()))
                calls = len(self.metadata)
            if calls <= self.failures:
                context.abort(grpc.StatusCode.UNAVAILABLE, f"try again ({calls})")
            return user_pb2.User(id=request.user_id, name="John Doe")

        return grpc.method_handlers_generic_handler(
            "user.UserService",
            {
                "GetUser": grpc.unary_unary_rpc_method_handler(
                    get_user,
                    request_deserializer=user_pb2.GetUserRequest.FromString,
                    response_serializer=user_pb2.User.SerializeToString,
                )
            },
        )


@pytest.fixture
def flaky_users(request: pytest.FixtureRequest) -> Iterator[tuple[FlakyUsers, str]]:
    """``(service, target)``: fails twice unless the test is parametrized with another count."""
    from tests.support.servers import serve  # noqa: PLC0415

    service = FlakyUsers(getattr(request, "param", 2))
    with serve(service.handler()) as address:
        yield service, address
