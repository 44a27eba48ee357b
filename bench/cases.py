"""The clients the instruction bench compares, one *case* each, built inside the measured child.

A case is a client set up against the bench server and a ``run(count)`` that
makes ``count`` unary calls, or reads one server stream of ``count`` messages.
Every case of a group (``unary-sync``, ``unary-async``, ``stream-sync``,
``stream-async``) does the same work: request ``GetUser(user_id="1")`` (or a
stream of ``count`` small users), with a 30 s (streams: 120 s) deadline and one
``x-trace-id`` pair made by :func:`protoreq.context.new_trace_id`, which is what
protoreq sends by default — except where a row says the client cannot.

Peers are imported by name (:func:`importlib.import_module`): they are bench-only
requirements (``bench/requirements-peers.txt``), absent from the dev install, and
a missing one raises :class:`SkippedError` with the reason, which becomes a row.
"""

from __future__ import annotations

import importlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import grpc

from bench.environment import REGISTERED, grpc_stubs
from bench.server import STREAM_METHOD, STREAM_SERVICE

UNARY_TIMEOUT = 30.0
STREAM_TIMEOUT = 120.0
STREAM_PATH = f"/{STREAM_SERVICE}/{STREAM_METHOD}"

GROUPS = ("unary-sync", "unary-async", "stream-sync", "stream-async")


class SkippedError(RuntimeError):
    """This case cannot run here (a peer not installed, a stub not generated); says why."""


@dataclass
class Case:
    """One client, ready: ``run(count)`` does ``count`` operations (sync or a coroutine)."""

    run: Callable[[int], object]
    close: Callable[[], object]
    is_async: bool


def peer(module: str, requirement: str) -> Any:
    """Import a peer's module, or :class:`SkippedError` naming what to install."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise SkippedError(
            f"{requirement} not installed (pip install -r bench/requirements-peers.txt): {error}"
        ) from error


def generated(module: str, peer_name: str) -> Any:
    """A module the bench generated for a peer at start-up (bench.peer_stubs)."""
    try:
        return importlib.import_module(module)
    except ImportError as error:
        raise SkippedError(f"{peer_name} stubs were not generated: {error}") from error


def _trace_id() -> Callable[[], str]:
    from protoreq.context import new_trace_id  # noqa: PLC0415

    return new_trace_id


def _user_pb2() -> Any:
    return importlib.import_module("protos.user_pb2")


def _check(received: int, expected: int) -> None:
    if received != expected:
        raise RuntimeError(f"stream delivered {received}/{expected} messages")


def _tracing() -> tuple[Any, Any]:
    """The SDK both OpenTelemetry rows export to: in-memory spans, in-memory metrics."""
    from bench.interceptors import _tracing as tracing  # noqa: PLC0415

    return tracing()


# --- protoreq ----------------------------------------------------------------------------


def _protoreq_client(target: str, flavour: str) -> Any:
    from protoreq import GrpcClient, Interceptor  # noqa: PLC0415

    if flavour == "plain":
        return GrpcClient(target)
    if flavour == "noop":
        return GrpcClient(target, interceptors=[Interceptor()])
    from protoreq.otel import OpenTelemetryInterceptor  # noqa: PLC0415

    tracer_provider, meter_provider = _tracing()
    if flavour == "otel-lean":  # spans only, attempt spans only for retried calls
        from opentelemetry.metrics import NoOpMeterProvider  # noqa: PLC0415

        lean = OpenTelemetryInterceptor(
            tracer_provider, NoOpMeterProvider(), attempt_spans="retried"
        )
        return GrpcClient(target, interceptors=[lean])
    interceptor = OpenTelemetryInterceptor(
        tracer_provider=tracer_provider, meter_provider=meter_provider
    )
    return GrpcClient(target, interceptors=[interceptor])


def protoreq_case(group: str, flavour: str) -> Callable[[str], Case]:
    def build(target: str) -> Case:
        client = _protoreq_client(target, flavour)
        get_user = importlib.import_module("protos.user_protoreq").GetUserGrpcRequest
        if group.startswith("stream"):
            from bench.streaming import _stream_request_class  # noqa: PLC0415

            stream_class = _stream_request_class()
        if group == "unary-sync":

            def unary_sync(count: int) -> None:
                for _ in range(count):
                    client.call(get_user(user_id="1")).message()

            return Case(unary_sync, client.close, is_async=False)
        if group == "unary-async":

            async def unary_async(count: int) -> None:
                for _ in range(count):
                    (await client.call_async(get_user(user_id="1"))).message()

            return Case(unary_async, client.aclose, is_async=True)
        if group == "stream-sync":

            def stream_sync(count: int) -> None:
                received = 0
                stream = client.stream(stream_class(count))
                for _ in stream:
                    received += 1
                _check(received, count if stream.is_success() else -1)

            return Case(stream_sync, client.close, is_async=False)

        async def stream_async(count: int) -> None:
            received = 0
            stream = client.stream_async(stream_class(count))
            async for _ in stream:
                received += 1
            _check(received, count if stream.is_success() else -1)

        return Case(stream_async, client.aclose, is_async=True)

    return build


# --- raw grpcio (optionally with opentelemetry-instrumentation-grpc) ---------------------


def _raw_channel(target: str, is_async: bool, otel: bool) -> Any:
    if not otel:
        return grpc.aio.insecure_channel(target) if is_async else grpc.insecure_channel(target)
    instrumentation = importlib.import_module("opentelemetry.instrumentation.grpc")
    tracer_provider, _ = _tracing()
    if is_async:
        return grpc.aio.insecure_channel(
            target,
            interceptors=instrumentation.aio_client_interceptors(tracer_provider=tracer_provider),
        )
    return instrumentation.grpcext.intercept_channel(
        grpc.insecure_channel(target),
        instrumentation.client_interceptor(tracer_provider=tracer_provider),
    )


def _stream_callable(channel: Any) -> Any:
    user_pb2 = _user_pb2()
    return channel.unary_stream(
        STREAM_PATH,
        request_serializer=user_pb2.GetUserRequest.SerializeToString,
        response_deserializer=user_pb2.User.FromString,
        **REGISTERED,
    )


def raw_case(group: str, *, otel: bool = False) -> Callable[[str], Case]:
    def build(target: str) -> Case:
        is_async = group.endswith("async")
        channel = _raw_channel(target, is_async, otel)
        user_pb2 = _user_pb2()
        new_trace_id = _trace_id()
        if group.startswith("unary"):
            get_user = grpc_stubs().UserServiceStub(channel).GetUser
            return _unary_case(
                lambda: get_user(
                    user_pb2.GetUserRequest(user_id="1"),
                    timeout=UNARY_TIMEOUT,
                    metadata=(("x-trace-id", new_trace_id()),),
                ),
                channel.close,
                is_async,
            )
        stream = _stream_callable(channel)
        return _stream_case(
            lambda count: stream(
                user_pb2.GetUserRequest(user_id=str(count)),
                timeout=STREAM_TIMEOUT,
                metadata=(("x-trace-id", new_trace_id()),),
            ),
            channel.close,
            is_async,
        )

    return build


def _unary_case(call: Callable[[], Any], close: Callable[[], object], is_async: bool) -> Case:
    """A case making ``count`` calls of ``call`` (awaiting each when ``is_async``)."""
    if not is_async:

        def unary_sync(count: int) -> None:
            for _ in range(count):
                call()

        return Case(unary_sync, close, is_async=False)

    async def unary_async(count: int) -> None:
        for _ in range(count):
            await call()

    return Case(unary_async, close, is_async=True)


def _stream_case(
    open_stream: Callable[[int], Any], close: Callable[[], object], is_async: bool
) -> Case:
    """A case reading one stream of ``count`` messages from ``open_stream(count)``."""
    if not is_async:

        def stream_sync(count: int) -> None:
            received = 0
            for _ in open_stream(count):
                received += 1
            _check(received, count)

        return Case(stream_sync, close, is_async=False)

    async def stream_async(count: int) -> None:
        received = 0
        async for _ in open_stream(count):
            received += 1
        _check(received, count)

    return Case(stream_async, close, is_async=True)


# --- google-api-core: what every GAPIC client runs ---------------------------------------


def gapic_case(group: str) -> Callable[[str], Case]:
    def build(target: str) -> Case:
        is_async = group.endswith("async")
        module = "google.api_core.gapic_v1.method" + ("_async" if is_async else "")
        wrap_method = peer(module, "google-api-core").wrap_method
        channel = grpc.aio.insecure_channel(target) if is_async else grpc.insecure_channel(target)
        user_pb2 = _user_pb2()
        new_trace_id = _trace_id()
        if group.startswith("unary"):
            get_user = wrap_method(
                grpc_stubs().UserServiceStub(channel).GetUser, default_timeout=UNARY_TIMEOUT
            )
            return _unary_case(
                lambda: get_user(
                    user_pb2.GetUserRequest(user_id="1"),
                    metadata=(("x-trace-id", new_trace_id()),),
                ),
                channel.close,
                is_async,
            )
        stream = wrap_method(_stream_callable(channel), default_timeout=STREAM_TIMEOUT)
        if not is_async:
            return _stream_case(
                lambda count: stream(
                    user_pb2.GetUserRequest(user_id=str(count)),
                    metadata=(("x-trace-id", new_trace_id()),),
                ),
                channel.close,
                is_async,
            )

        async def stream_async(count: int) -> None:
            received = 0
            call = await stream(
                user_pb2.GetUserRequest(user_id=str(count)),
                metadata=(("x-trace-id", new_trace_id()),),
            )
            async for _ in call:
                received += 1
            _check(received, count)

        return Case(stream_async, channel.close, is_async=True)

    return build


# --- betterproto2: sync stubs on grpcio, async stubs on grpclib --------------------------


def _grpclib_channel(target: str) -> Any:
    client = peer("grpclib.client", "grpclib")
    host, _, port = target.rpartition(":")
    return client.Channel(host, int(port))


def betterproto2_case(group: str) -> Callable[[str], Case]:
    def build(target: str) -> Case:
        peer("betterproto2", "betterproto2")
        users = generated("bp2.user", "betterproto2")
        streams = generated("bp2.bench", "betterproto2")
        request = users.GetUserRequest
        if group == "unary-sync":  # the sync stub takes no metadata and no timeout
            channel = grpc.insecure_channel(target)
            stub = users.UserServiceStub(channel)
            return _unary_case(lambda: stub.get_user(request(user_id="1")), channel.close, False)
        if group == "stream-sync":
            channel = grpc.insecure_channel(target)
            stream_stub = streams.BenchStub(channel)
            return _stream_case(
                lambda count: stream_stub.stream(request(user_id=str(count))), channel.close, False
            )
        channel = _grpclib_channel(target)
        new_trace_id = _trace_id()
        if group == "unary-async":
            async_stub = users.UserServiceAsyncStub(channel)
            return _unary_case(
                lambda: async_stub.get_user(
                    request(user_id="1"),
                    timeout=UNARY_TIMEOUT,
                    metadata={"x-trace-id": new_trace_id()},
                ),
                channel.close,
                True,
            )
        async_stream_stub = streams.BenchAsyncStub(channel)
        return _stream_case(
            lambda count: async_stream_stub.stream(
                request(user_id=str(count)),
                timeout=STREAM_TIMEOUT,
                metadata={"x-trace-id": new_trace_id()},
            ),
            channel.close,
            True,
        )

    return build


# --- grpclib (async only) ----------------------------------------------------------------


def grpclib_case(group: str) -> Callable[[str], Case]:
    def build(target: str) -> Case:
        channel = _grpclib_channel(target)
        user_pb2 = _user_pb2()
        new_trace_id = _trace_id()
        if group == "unary-async":
            stub = generated("protos.user_grpc", "grpclib").UserServiceStub(channel)
            return _unary_case(
                lambda: stub.GetUser(
                    user_pb2.GetUserRequest(user_id="1"),
                    timeout=UNARY_TIMEOUT,
                    metadata={"x-trace-id": new_trace_id()},
                ),
                channel.close,
                True,
            )
        stream_stub = generated("bench_stream_grpc", "grpclib").BenchStub(channel)

        async def stream_async(count: int) -> None:
            received = 0
            async with stream_stub.Stream.open(
                timeout=STREAM_TIMEOUT, metadata={"x-trace-id": new_trace_id()}
            ) as stream:
                await stream.send_message(user_pb2.GetUserRequest(user_id=str(count)), end=True)
                async for _ in stream:
                    received += 1
            _check(received, count)

        return Case(stream_async, channel.close, is_async=True)

    return build


# --- connect-python (the connectrpc package), speaking the gRPC protocol -----------------


def connect_case(group: str) -> Callable[[str], Case]:
    def build(target: str) -> Case:
        pyqwest = peer("pyqwest", "connectrpc (pyqwest)")
        protocol = peer("connectrpc.protocol", "connectrpc").ProtocolType.GRPC
        is_async = group.endswith("async")
        if is_async:
            http = pyqwest.Client(pyqwest.HTTPTransport(http_version=pyqwest.HTTPVersion.HTTP2))
        else:
            http = pyqwest.SyncClient(
                pyqwest.SyncHTTPTransport(http_version=pyqwest.HTTPVersion.HTTP2)
            )
        user_pb2 = _user_pb2()
        new_trace_id = _trace_id()
        address = f"http://{target}"
        # Uncompressed, like grpcio by default (connect's stubs default to gzip).
        settings: dict[str, Any] = {
            "protocol": protocol,
            "send_compression": None,
            "http_client": http,
        }
        suffix = "" if is_async else "Sync"
        if group.startswith("unary"):
            users = generated("protos.user_connect", "connect")
            client = getattr(users, f"UserServiceClient{suffix}")(address, **settings)
            return _unary_case(
                lambda: client.get_user(
                    user_pb2.GetUserRequest(user_id="1"),
                    headers={"x-trace-id": new_trace_id()},
                    timeout_ms=int(UNARY_TIMEOUT * 1000),
                ),
                client.close,
                is_async,
            )
        streams = generated("bench_stream_connect", "connect")
        client = getattr(streams, f"BenchClient{suffix}")(address, **settings)
        return _stream_case(
            lambda count: client.stream(
                user_pb2.GetUserRequest(user_id=str(count)),
                headers={"x-trace-id": new_trace_id()},
                timeout_ms=int(STREAM_TIMEOUT * 1000),
            ),
            client.close,
            is_async,
        )

    return build


# --- the registry ------------------------------------------------------------------------

CaseBuilder = Callable[[str], Case]


def _group_cases(group: str) -> dict[str, CaseBuilder]:
    cases: dict[str, CaseBuilder] = {
        "raw": raw_case(group),
        "protoreq": protoreq_case(group, "plain"),
        "protoreq+noop": protoreq_case(group, "noop"),
        "protoreq+otel": protoreq_case(group, "otel"),
        "protoreq+otel-lean": protoreq_case(group, "otel-lean"),
        "raw+otel-grpc": raw_case(group, otel=True),
        "gapic": gapic_case(group),
        "betterproto2": betterproto2_case(group),
    }
    if group.endswith("async"):
        cases["grpclib"] = grpclib_case(group)
    cases["connect"] = connect_case(group)
    return cases


CASES: dict[str, CaseBuilder] = {
    f"{group}/{name}": builder for group in GROUPS for name, builder in _group_cases(group).items()
}
"""Every case, named ``group/client``."""

Run = Callable[[int], object]
AsyncRun = Callable[[int], Awaitable[object]]
