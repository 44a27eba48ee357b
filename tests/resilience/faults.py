"""Fault-injecting servers for the resilience tests: real grpcio servers on 127.0.0.1.

``FaultyUserService`` implements ``user.UserService`` (GetUser is NO_SIDE_EFFECTS
in the proto, CreateUser is not) and answers each arriving call with the next
scripted :class:`Fault`, then with success; it records when each call arrived
and from which peer, so tests can measure backoff and count connections.
"""

from __future__ import annotations

import itertools
import threading
import time
from collections.abc import Iterator, Sequence
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc
from google.protobuf import any_pb2, duration_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc_status import rpc_status

from protos import user_pb2


@dataclass(frozen=True)
class Fault:
    """One failed answer: a status, optionally with pushback or a RetryInfo detail."""

    code: grpc.StatusCode = grpc.StatusCode.UNAVAILABLE
    details: str = "injected failure"
    pushback_ms: str | None = None
    retry_info_delay: float | None = None
    sleep: float = 0.0


@dataclass(frozen=True)
class Arrival:
    method: str
    at: float  # time.monotonic()
    peer: str
    metadata: dict[str, str | bytes]


@dataclass
class FaultyUserService:
    """Fails the first ``len(faults)`` calls as scripted (or every call with ``always``)."""

    faults: Sequence[Fault] = ()
    always: Fault | None = None
    arrivals: list[Arrival] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def handlers(self) -> list[grpc.GenericRpcHandler]:
        def handler(
            method: str,
            request_type: type[user_pb2.GetUserRequest] | type[user_pb2.CreateUserRequest],
        ) -> grpc.RpcMethodHandler[Any, user_pb2.User]:
            return grpc.unary_unary_rpc_method_handler(
                lambda request, context: self._answer(method, context),
                request_deserializer=request_type.FromString,
                response_serializer=user_pb2.User.SerializeToString,
            )

        return [
            grpc.method_handlers_generic_handler(
                "user.UserService",
                {
                    "GetUser": handler("GetUser", user_pb2.GetUserRequest),
                    "CreateUser": handler("CreateUser", user_pb2.CreateUserRequest),
                },
            )
        ]

    def _answer(self, method: str, context: grpc.ServicerContext) -> user_pb2.User:
        arrival = Arrival(
            method=method,
            at=time.monotonic(),
            peer=context.peer(),
            metadata={key: value for key, value in context.invocation_metadata()},
        )
        with self._lock:
            index = len(self.arrivals)
            self.arrivals.append(arrival)
        fault = self.always or (self.faults[index] if index < len(self.faults) else None)
        if fault is None:
            return user_pb2.User(id=f"answer-{index + 1}", name="John Doe")
        if fault.sleep:
            time.sleep(fault.sleep)
        _fail(context, fault)
        raise AssertionError("unreachable: abort raises")

    @property
    def calls(self) -> int:
        with self._lock:
            return len(self.arrivals)

    def gaps(self) -> list[float]:
        """Seconds between consecutive arrivals: the client's waits plus one round trip each."""
        with self._lock:
            times = [arrival.at for arrival in self.arrivals]
        return [later - earlier for earlier, later in itertools.pairwise(times)]

    def peers(self) -> set[str]:
        with self._lock:
            return {arrival.peer for arrival in self.arrivals}


def _fail(context: grpc.ServicerContext, fault: Fault) -> None:
    if fault.retry_info_delay is not None:
        delay = duration_pb2.Duration()
        delay.FromNanoseconds(round(fault.retry_info_delay * 1e9))
        detail = any_pb2.Any()
        detail.Pack(error_details_pb2.RetryInfo(retry_delay=delay))
        status = status_pb2.Status(
            code=fault.code.value[0], message=fault.details, details=[detail]
        )
        context.abort_with_status(rpc_status.to_status(status))
    if fault.pushback_ms is not None:
        context.set_trailing_metadata((("grpc-retry-pushback-ms", fault.pushback_ms),))
    context.abort(fault.code, fault.details)


def start_server(
    handlers: Sequence[grpc.GenericRpcHandler],
    *,
    port: int = 0,
    credentials: grpc.ServerCredentials | None = None,
    options: Sequence[tuple[str, int | str]] = (),
) -> tuple[grpc.Server, int]:
    """A started grpcio server on 127.0.0.1 (plaintext, or TLS with ``credentials``)."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8), options=list(options))
    server.add_generic_rpc_handlers(tuple(handlers))
    address = f"127.0.0.1:{port}"
    if credentials is None:
        bound = server.add_insecure_port(address)
    else:
        bound = server.add_secure_port(address, credentials)
    server.start()
    return server, bound


@contextmanager
def serve_on(
    handlers: Sequence[grpc.GenericRpcHandler],
    *,
    port: int = 0,
    credentials: grpc.ServerCredentials | None = None,
    options: Sequence[tuple[str, int | str]] = (),
) -> Iterator[int]:
    """``start_server`` for the length of a ``with`` block; yields the port."""
    server, bound = start_server(handlers, port=port, credentials=credentials, options=options)
    try:
        yield bound
    finally:
        server.stop(grace=None).wait()
