"""A real ``user.UserService`` whose answers follow a script: slow, failing, or fast.

Each arrival takes the next :class:`Answer` of the script (then ``default``).
A slow answer waits in small steps while the call is active, so a client's
cancel ends it early and is recorded: the test can see that the server learnt
of the cancellation, not just that the client stopped waiting.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Sequence
from concurrent import futures
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import grpc

from protos import user_pb2

_STEP = 0.005


@dataclass(frozen=True)
class Answer:
    """How the server answers one arrival: after ``sleep`` seconds, OK or ``code``."""

    sleep: float = 0.0
    code: grpc.StatusCode = grpc.StatusCode.OK
    pushback_ms: str | None = None


@dataclass
class Arrival:
    index: int
    at: float
    peer: str
    attempt_header: str | None
    cancelled: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)


@dataclass
class ScriptedUsers:
    script: Sequence[Answer] = ()
    default: Answer = Answer()
    arrivals: list[Arrival] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def handler(self) -> grpc.GenericRpcHandler:
        def answer(request: Any, context: grpc.ServicerContext) -> user_pb2.User:
            return self._answer(context)

        handlers = {
            name: grpc.unary_unary_rpc_method_handler(
                answer,
                request_deserializer=request_type.FromString,
                response_serializer=user_pb2.User.SerializeToString,
            )
            for name, request_type in (
                ("GetUser", user_pb2.GetUserRequest),
                ("CreateUser", user_pb2.CreateUserRequest),
            )
        }
        return grpc.method_handlers_generic_handler("user.UserService", handlers)

    def _answer(self, context: grpc.ServicerContext) -> user_pb2.User:
        metadata = dict(context.invocation_metadata())
        with self.lock:
            index = len(self.arrivals)
            arrival = Arrival(
                index,
                time.monotonic(),
                context.peer(),
                str(metadata.get("grpc-previous-rpc-attempts", "")) or None,
            )
            self.arrivals.append(arrival)
        answer = self.script[index] if index < len(self.script) else self.default
        try:
            until = time.monotonic() + answer.sleep
            while time.monotonic() < until:
                if not context.is_active():
                    arrival.cancelled.set()
                    context.abort(grpc.StatusCode.CANCELLED, "cancelled by the client")
                time.sleep(_STEP)
            if answer.code is not grpc.StatusCode.OK:
                if answer.pushback_ms is not None:
                    context.set_trailing_metadata((("grpc-retry-pushback-ms", answer.pushback_ms),))
                context.abort(answer.code, f"scripted {answer.code.name}")
            return user_pb2.User(id=f"arrival-{index}", name="Ana")
        finally:
            arrival.finished.set()

    def count(self) -> int:
        with self.lock:
            return len(self.arrivals)


@contextmanager
def serving(users: ScriptedUsers) -> Iterator[str]:
    """``users`` on a real server on 127.0.0.1 for the ``with`` block; yields the target."""
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=16))
    server.add_generic_rpc_handlers((users.handler(),))
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop(grace=None).wait()
