"""Interceptor rows: what one interceptor costs, and OpenTelemetry tracing against the standard.

* "no-op interceptor": a client with one ``protoreq.Interceptor`` that
  overrides nothing against a client with none — the price of the chain itself.
* "OpenTelemetryInterceptor": protoreq's own spans and metrics against the
  raw grpcio stub on a channel intercepted by ``opentelemetry-instrumentation-grpc``'s
  client interceptor; both export to the same kind of SDK pipeline (an
  in-memory exporter behind a simple span processor), so the ratio compares
  the instrumentation, not the exporter.
* "ValidatingInterceptor": ``protoreq.validate`` (protovalidate) checking each
  outgoing ``GetUserRequest`` against a client with none (skipped without
  protovalidate). The message has no ``buf.validate`` rules: this is the price
  every call pays; a message with rules adds its rules' evaluation.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import grpc

from bench.budget import Budget
from bench.environment import grpc_stubs
from bench.stats import Row, paired_row
from bench.workload import Sample, rotations, time_async, time_sync
from protoreq.errors import ProtoreqError

_TIMEOUT = 30.0


def _cpu_row(label: str, ours: list[Sample], theirs: list[Sample], target: str = "") -> Row:
    return paired_row(
        label,
        "µs",
        [s.cpu_us_per_op for s in ours],
        [s.cpu_us_per_op for s in theirs],
        target,
    )


def _measure_sync(
    variants: dict[str, Callable[[], object]], budget: Budget
) -> dict[str, list[Sample]]:
    for operation in variants.values():  # connect, warm caches
        time_sync(operation, 100, budget.seconds_per_loop)
    samples: dict[str, list[Sample]] = {name: [] for name in variants}
    for order in rotations(list(variants), budget.unary_repetitions):
        for name in order:
            samples[name].append(
                time_sync(variants[name], budget.unary_calls, budget.seconds_per_loop)
            )
    return samples


def _tracing() -> tuple[Any, Any]:
    """A tracer provider exporting to memory, and a meter provider reading into memory."""
    from opentelemetry.sdk.metrics import MeterProvider  # noqa: PLC0415
    from opentelemetry.sdk.metrics.export import InMemoryMetricReader  # noqa: PLC0415
    from opentelemetry.sdk.trace import TracerProvider  # noqa: PLC0415
    from opentelemetry.sdk.trace.export import SimpleSpanProcessor  # noqa: PLC0415
    from opentelemetry.sdk.trace.export.in_memory_span_exporter import (  # noqa: PLC0415
        InMemorySpanExporter,
    )

    tracer_provider = TracerProvider()
    exporter = InMemorySpanExporter()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])
    return tracer_provider, meter_provider


def interceptors_sync(target: str, budget: Budget) -> list[Row]:
    """Sync unary calls: no interceptor, one no-op interceptor, OpenTelemetry both ways."""
    from opentelemetry.instrumentation.grpc import client_interceptor, grpcext  # noqa: PLC0415

    from protoreq import GrpcClient, Interceptor  # noqa: PLC0415
    from protoreq.context import new_trace_id  # noqa: PLC0415
    from protoreq.otel import OpenTelemetryInterceptor  # noqa: PLC0415
    from protos import user_pb2  # noqa: PLC0415

    user_pb2_grpc = grpc_stubs()
    from protos.user_protoreq import GetUserGrpcRequest  # noqa: PLC0415

    tracer_provider, meter_provider = _tracing()
    plain = GrpcClient(target)
    noop = GrpcClient(target, interceptors=[Interceptor()])
    validating = _validating_client(target)
    traced = GrpcClient(
        target,
        interceptors=[
            OpenTelemetryInterceptor(tracer_provider=tracer_provider, meter_provider=meter_provider)
        ],
    )
    raw_channel = grpcext.intercept_channel(
        grpc.insecure_channel(target),
        client_interceptor(tracer_provider=tracer_provider),  # type: ignore[no-untyped-call]
    )
    raw_stub = user_pb2_grpc.UserServiceStub(raw_channel)

    def raw_traced() -> object:
        return raw_stub.GetUser(
            user_pb2.GetUserRequest(user_id="1"),
            timeout=_TIMEOUT,
            metadata=(("x-trace-id", new_trace_id()),),
        )

    variants: dict[str, Callable[[], object]] = {
        "plain": lambda: plain.call(GetUserGrpcRequest(user_id="1")).message(),
        "noop": lambda: noop.call(GetUserGrpcRequest(user_id="1")).message(),
        "otel": lambda: traced.call(GetUserGrpcRequest(user_id="1")).message(),
        "raw+otel": raw_traced,
    }
    if validating is not None:
        variants["validate"] = lambda: validating.call(GetUserGrpcRequest(user_id="1")).message()
    try:
        samples = _measure_sync(variants, budget)
    finally:
        for client in (plain, noop, traced, validating):
            if client is not None:
                client.close()
        raw_channel.close()
    rows = (
        []
        if validating is None
        else [
            _cpu_row(
                "ValidatingInterceptor (message without rules) vs none, sync: client CPU per call",
                samples["validate"],
                samples["plain"],
            )
        ]
    )
    return [
        *rows,
        _cpu_row(
            "one no-op interceptor vs none, sync: client CPU per call",
            samples["noop"],
            samples["plain"],
            "≤ 1.06",
        ),
        _cpu_row(
            "OpenTelemetryInterceptor vs raw stub + otel-instrumentation-grpc, sync: CPU per call",
            samples["otel"],
            samples["raw+otel"],
            "< 1.00",
        ),
    ]


def _validating_client(target: str) -> Any:
    """A client validating every message, or ``None`` without protovalidate."""
    from protoreq import GrpcClient  # noqa: PLC0415

    try:
        from protoreq.validate import ValidatingInterceptor  # noqa: PLC0415

        interceptor = ValidatingInterceptor()
    except ProtoreqError:
        return None
    return GrpcClient(target, interceptors=[interceptor])


def interceptors_async(target: str, budget: Budget) -> list[Row]:
    return asyncio.run(_interceptors_async(target, budget))


async def _interceptors_async(target: str, budget: Budget) -> list[Row]:
    from protoreq import GrpcClient, Interceptor  # noqa: PLC0415
    from protos.user_protoreq import GetUserGrpcRequest  # noqa: PLC0415

    plain = GrpcClient(target)
    noop = GrpcClient(target, interceptors=[Interceptor()])

    async def plain_call() -> object:
        return (await plain.call_async(GetUserGrpcRequest(user_id="1"))).message()

    async def noop_call() -> object:
        return (await noop.call_async(GetUserGrpcRequest(user_id="1"))).message()

    variants: dict[str, Callable[[], Awaitable[object]]] = {"plain": plain_call, "noop": noop_call}
    try:
        for operation in variants.values():
            await time_async(operation, 2, 1, budget.seconds_per_loop)
        samples: dict[str, list[Sample]] = {name: [] for name in variants}
        for order in rotations(list(variants), budget.unary_repetitions):
            for name in order:
                samples[name].append(
                    await time_async(variants[name], budget.unary_calls, 1, budget.seconds_per_loop)
                )
    finally:
        await plain.aclose()
        await noop.aclose()
    return [
        _cpu_row(
            "one no-op interceptor vs none, async: client CPU per call",
            samples["noop"],
            samples["plain"],
            "≤ 1.06",
        )
    ]
