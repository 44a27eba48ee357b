"""The user service: ``user.UserService`` of ``protos/user.proto`` on a real grpcio server.

It is written with grpc's generic handlers and the generated ``user_pb2``
messages, so it needs no ``_pb2_grpc`` module (``protoreq generate`` writes
none; add ``--grpc_python_out`` to a protoc run if you prefer servicer classes).

Two behaviours exist to show the client side at work:

* the first read of a freshly created user fails with UNAVAILABLE and a
  ``grpc-retry-pushback-ms`` of 50 ("replica catching up"), which the client
  retries after the delay the server asked for;
* the server runs every handler under ``protoreq.server.ContextServerInterceptor``,
  so inside it ``RequestContext`` holds the caller's trace id, ip and deadline:
  its log records carry the trace id, and any call it made to another service
  would carry it on, within the caller's deadline, without a line of code here.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Iterator
from concurrent import futures
from contextlib import contextmanager
from typing import Final, TypeVar

import grpc
from google.protobuf.message import Message

from protoreq import RequestContext
from protoreq.server import ContextServerInterceptor
from protos import user_pb2

SERVICE: Final = "user.UserService"
PUSHBACK_MS: Final = "50"

logger: Final = logging.getLogger("examples.user_server")

ReqT = TypeVar("ReqT", bound=Message)
RespT = TypeVar("RespT", bound=Message)


class UserStore:
    """Users in memory, with ids ``u-1``, ``u-2``, ... in order of creation."""

    def __init__(self) -> None:
        self._users: dict[str, user_pb2.User] = {}
        self._unread: set[str] = set()  # created, not read yet: the "lagging replica"
        self._lock = threading.Lock()

    def add(self, name: str, email: str, age: int) -> user_pb2.User:
        with self._lock:
            user_id = f"u-{len(self._users) + 1}"
            user = user_pb2.User(
                id=user_id, name=name, email=email, age=age, created_at="2026-11-24T10:00:00Z"
            )
            self._users[user_id] = user
            self._unread.add(user_id)
            return user

    def get(self, user_id: str) -> user_pb2.User | None:
        with self._lock:
            return self._users.get(user_id)

    def first_read(self, user_id: str) -> bool:
        """True once per created user: its first read finds the replica behind."""
        with self._lock:
            if user_id in self._unread:
                self._unread.discard(user_id)
                return True
            return False


class UserService:
    """The handlers; ``trace_ids`` lists the ``x-trace-id`` of every call, in arrival order."""

    def __init__(self, store: UserStore) -> None:
        self._store = store
        self._lock = threading.Lock()
        self.trace_ids: list[str] = []

    def get_user(
        self, request: user_pb2.GetUserRequest, context: grpc.ServicerContext
    ) -> user_pb2.User:
        self._arrived("GetUser", request.user_id)
        context.send_initial_metadata((("x-served-by", "user-service"),))
        if self._store.first_read(request.user_id):
            context.set_trailing_metadata((("grpc-retry-pushback-ms", PUSHBACK_MS),))
            context.abort(grpc.StatusCode.UNAVAILABLE, "replica catching up, retry shortly")
        user = self._store.get(request.user_id)
        if user is None:
            context.abort(grpc.StatusCode.NOT_FOUND, f"user {request.user_id} not found")
        return user

    def create_user(
        self, request: user_pb2.CreateUserRequest, context: grpc.ServicerContext
    ) -> user_pb2.User:
        self._arrived("CreateUser", request.name)
        if not request.email:
            context.abort(grpc.StatusCode.INVALID_ARGUMENT, "email is required")
        return self._store.add(request.name, request.email, request.age)

    def _arrived(self, method: str, subject: str) -> None:
        """Record and log the call, with the trace id and ip the interceptor's scope holds."""
        trace_id = RequestContext.get_trace_id() or ""
        with self._lock:
            self.trace_ids.append(trace_id)
        logger.info(
            "%s %s",
            method,
            subject,
            extra={"trace_id": trace_id, "client_ip": RequestContext.get_client_ip()},
        )

    def handler(self) -> grpc.GenericRpcHandler:
        """Both RPCs as one generic handler, (de)serialized with the generated messages."""
        return grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "GetUser": _unary(self.get_user, user_pb2.GetUserRequest, user_pb2.User),
                "CreateUser": _unary(self.create_user, user_pb2.CreateUserRequest, user_pb2.User),
            },
        )


def _unary(
    behaviour: Callable[[ReqT, grpc.ServicerContext], RespT],
    request_type: type[ReqT],
    response_type: type[RespT],
) -> grpc.RpcMethodHandler[ReqT, RespT]:
    return grpc.unary_unary_rpc_method_handler(
        behaviour,
        request_deserializer=request_type.FromString,
        response_serializer=response_type.SerializeToString,
    )


def new_server(*, max_workers: int) -> grpc.Server:
    """A grpcio server whose handlers each run in their caller's ``RequestContext`` scope."""
    return grpc.server(
        futures.ThreadPoolExecutor(max_workers=max_workers, thread_name_prefix="users"),
        interceptors=[ContextServerInterceptor()],
    )


@contextmanager
def running(service: UserService, *, host: str = "127.0.0.1", port: int = 0) -> Iterator[str]:
    """Serve ``service`` on ``host:port`` (0: any free port) and yield the target it got."""
    server = new_server(max_workers=4)
    server.add_generic_rpc_handlers((service.handler(),))
    bound = server.add_insecure_port(f"{host}:{port}")
    server.start()
    try:
        yield f"{host}:{bound}"
    finally:
        server.stop(grace=1.0).wait(timeout=5.0)
