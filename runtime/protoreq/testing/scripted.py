"""``FakeGrpcServer``: a real gRPC server whose answers are scripted per request class.

Where :class:`~protoreq.testing.FakeGrpcClient` replaces the client, this
keeps the client real and replaces the service: code under test calls a real
``GrpcClient`` at ``server.target`` and everything on the wire is genuine.
It is built at run time from each RPC's descriptor (``rpc`` on generated
request classes, the descriptor pool for hand-written ones), so any service
gets a typed fake server in a few lines without generated servicer bases::

    with FakeGrpcServer() as server:
        server.respond(GetUserGrpcRequest, user_pb2.User(id="1"))
        server.fail(CreateUserGrpcRequest, grpc.StatusCode.ALREADY_EXISTS, "taken")
        client = GrpcClient(server.target)

It is also a ``grpc.GenericRpcHandler``, so ``serve(real_handler, fake)``
runs it beside real servicers. It claims every RPC the descriptor pool knows
(answering the unscripted ones UNIMPLEMENTED), so list it *after* real generic
handlers; servicers added with grpc's ``add_XServicer_to_server`` take
precedence anyway (grpcio looks their registered methods up first).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack
from types import TracebackType
from typing import Any, ClassVar, Never, Self, TypeVar, overload

import grpc
from google.protobuf.message import Message

from protoreq.errors import UnknownMethodError
from protoreq.metadata import MetadataValue
from protoreq.method import Cardinality, RpcMethod
from protoreq.status import received_metadata
from protoreq.testing.failure import Failure
from protoreq.testing.records import ReceivedCall
from protoreq.testing.request_class import (
    AnyRequestClass,
    BidiStreamingRequestClass,
    ClientStreamingRequestClass,
    ServerStreamingRequestClass,
    UnaryRequestClass,
    check_request_class,
    rpc_of_class,
    rpc_of_path,
)
from protoreq.testing.script import Script, ScriptBook, ScriptError, unscripted_details
from protoreq.testing.server import serve

ReqT = TypeVar("ReqT", bound=Message)
RespT = TypeVar("RespT", bound=Message)


class _Status(grpc.Status):
    """A failure as ``ServicerContext.abort_with_status`` takes it: code, details and trailing
    metadata (which carries the rich ``google.rpc.Status``) in one go."""

    def __init__(self, failure: Failure) -> None:
        self.code = failure.code
        self.details = failure.details
        self.trailing_metadata = failure.trailing_pairs()


class FakeGrpcServer(grpc.GenericRpcHandler):
    """Scripted answers behind a real server; records every call it receives.

    Scripts are keyed by method path; a request class is turned into its path
    when scripted. The latest script for an RPC answers every call of it. An
    unscripted RPC that the descriptor pool knows answers UNIMPLEMENTED with
    details naming it. Callable answers receive what a servicer would: the
    request message (unary, server-streaming), the list of messages
    (client-streaming) or an iterator over them (bidi). A scripted answer of the
    wrong type ends the call with INTERNAL and the reason in the details.
    """

    sync_handlers_only: ClassVar[bool] = True  # see protoreq.testing.server.serve_async

    def __init__(self, *, max_workers: int = 8) -> None:
        self._scripts = ScriptBook()
        self._calls: list[ReceivedCall] = []
        self._lock = threading.Lock()
        self._max_workers = max_workers
        self._running: ExitStack | None = None
        self._target: str | None = None

    # -- scripting --------------------------------------------------------------------------

    @overload
    def respond(
        self,
        request: UnaryRequestClass[Any, ReqT, RespT],
        answer: RespT | Failure | Callable[[ReqT], RespT | Failure],
        *,
        initial_metadata: Mapping[str, MetadataValue] | None = None,
        trailing_metadata: Mapping[str, MetadataValue] | None = None,
    ) -> None: ...
    @overload
    def respond(
        self,
        request: ClientStreamingRequestClass[Any, ReqT, RespT],
        answer: RespT | Failure | Callable[[list[ReqT]], RespT | Failure],
        *,
        initial_metadata: Mapping[str, MetadataValue] | None = None,
        trailing_metadata: Mapping[str, MetadataValue] | None = None,
    ) -> None: ...
    @overload
    def respond(
        self,
        request: ServerStreamingRequestClass[Any, ReqT, RespT],
        answer: Iterable[RespT | Failure] | Callable[[ReqT], Iterable[RespT | Failure] | Failure],
        *,
        initial_metadata: Mapping[str, MetadataValue] | None = None,
        trailing_metadata: Mapping[str, MetadataValue] | None = None,
    ) -> None: ...
    @overload
    def respond(
        self,
        request: BidiStreamingRequestClass[Any, ReqT, RespT],
        answer: Iterable[RespT | Failure]
        | Callable[[Iterator[ReqT]], Iterable[RespT | Failure] | Failure],
        *,
        initial_metadata: Mapping[str, MetadataValue] | None = None,
        trailing_metadata: Mapping[str, MetadataValue] | None = None,
    ) -> None: ...
    @overload
    def respond(
        self,
        request: str,
        answer: object,
        *,
        initial_metadata: Mapping[str, MetadataValue] | None = None,
        trailing_metadata: Mapping[str, MetadataValue] | None = None,
    ) -> None: ...

    def respond(
        self,
        request: AnyRequestClass | str,
        answer: object,
        *,
        initial_metadata: Mapping[str, MetadataValue] | None = None,
        trailing_metadata: Mapping[str, MetadataValue] | None = None,
    ) -> None:
        """Answer every call of ``request`` (a request class or method path) with ``answer``:
        a response message or a :class:`Failure` (unary, client-streaming), an
        iterable of messages optionally ending with a :class:`Failure` (streams), or a
        callable returning those. Metadata goes with successful answers."""
        self._script(request, answer, initial_metadata, trailing_metadata)

    def fail(
        self,
        request: AnyRequestClass | str,
        code: grpc.StatusCode,
        details: str = "",
        *,
        error_details: Sequence[Message] = (),
        initial_metadata: Mapping[str, MetadataValue] | None = None,
        trailing_metadata: Mapping[str, MetadataValue] | None = None,
    ) -> None:
        """End every call of ``request`` with ``code``, ``details`` and rich ``error_details``."""
        failure = Failure(
            code,
            details,
            error_details=error_details,
            initial_metadata=initial_metadata,
            trailing_metadata=trailing_metadata,
        )
        self._script(request, failure, None, None)

    def _script(
        self,
        request: object,
        answer: object,
        initial_metadata: Mapping[str, MetadataValue] | None,
        trailing_metadata: Mapping[str, MetadataValue] | None,
    ) -> None:
        if isinstance(request, str):
            rpc, name = rpc_of_path(request), request
        else:
            request_class = check_request_class(request)
            rpc, name = rpc_of_class(request_class), request_class.__name__
        script = Script.of(answer, name, initial_metadata, trailing_metadata)
        script.check_now(rpc)
        self._scripts.set_for_path(rpc.path, script)

    # -- what was received ------------------------------------------------------------------

    @property
    def calls(self) -> list[ReceivedCall]:
        """Every call received, in order of arrival."""
        with self._lock:
            return list(self._calls)

    @overload
    def messages_of(self, request: UnaryRequestClass[Any, ReqT, Any]) -> list[ReqT]: ...
    @overload
    def messages_of(self, request: ClientStreamingRequestClass[Any, ReqT, Any]) -> list[ReqT]: ...
    @overload
    def messages_of(self, request: ServerStreamingRequestClass[Any, ReqT, Any]) -> list[ReqT]: ...
    @overload
    def messages_of(self, request: BidiStreamingRequestClass[Any, ReqT, Any]) -> list[ReqT]: ...

    def messages_of(self, request: AnyRequestClass) -> list[Any]:
        """Every request message received for ``request``'s RPC, in order, typed."""
        path = rpc_of_class(check_request_class(request)).path
        return [m for call in self.calls if call.method.path == path for m in call.messages]

    # -- running ----------------------------------------------------------------------------

    @property
    def target(self) -> str:
        """``127.0.0.1:<port>`` while running in its own ``with`` block."""
        if self._target is None:
            raise RuntimeError(
                "FakeGrpcServer is not running: use `with FakeGrpcServer() as server:` "
                "or run it with protoreq.testing.serve(server)"
            )
        return self._target

    def __enter__(self) -> Self:
        stack = ExitStack()
        self._target = stack.enter_context(serve(self, max_workers=self._max_workers))
        self._running = stack
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        running, self._running, self._target = self._running, None, None
        if running is not None:
            running.close()

    # -- grpc.GenericRpcHandler -------------------------------------------------------------

    def service(
        self, handler_call_details: grpc.HandlerCallDetails
    ) -> grpc.RpcMethodHandler[Any, Any] | None:
        """grpcio asks per call, so scripts added after the server started apply at once."""
        path = handler_call_details.method
        try:
            rpc = rpc_of_path(path)
        except (UnknownMethodError, ValueError):
            return None  # grpcio answers UNIMPLEMENTED itself
        return _Handler(self, rpc, self._scripts.find(None, path)).method_handler()

    def unscripted_details(self, rpc: RpcMethod[Any, Any]) -> str:
        return unscripted_details(rpc.method, rpc.path, self._scripts.scripted())

    def record(self, rpc: RpcMethod[Any, Any], context: grpc.ServicerContext) -> ReceivedCall:
        received = ReceivedCall(
            method=rpc,
            metadata=received_metadata(context.invocation_metadata()),
            peer=context.peer(),
            time_remaining=context.time_remaining(),
        )
        with self._lock:
            self._calls.append(received)
        return received

    def __repr__(self) -> str:
        scripted = ", ".join(self._scripts.scripted()) or "nothing"
        where = self._target or "not running"
        return f"FakeGrpcServer({where}, {len(self._calls)} calls, scripted: {scripted})"


class _Handler:
    """The grpcio method handler for one call of one RPC, by cardinality."""

    def __init__(
        self, server: FakeGrpcServer, rpc: RpcMethod[Any, Any], script: Script | None
    ) -> None:
        self.server = server
        self.rpc = rpc
        self.script = script

    def method_handler(self) -> grpc.RpcMethodHandler[Any, Any]:
        codec: dict[str, Any] = {
            "request_deserializer": self.rpc.request_type.FromString,
            "response_serializer": self.rpc.response_type.SerializeToString,
        }
        kind = self.rpc.cardinality
        if kind is Cardinality.UNARY_UNARY:
            return grpc.unary_unary_rpc_method_handler(self.unary_unary, **codec)
        if kind is Cardinality.STREAM_UNARY:
            return grpc.stream_unary_rpc_method_handler(self.stream_unary, **codec)
        if kind is Cardinality.UNARY_STREAM:
            return grpc.unary_stream_rpc_method_handler(self.unary_stream, **codec)
        return grpc.stream_stream_rpc_method_handler(self.stream_stream, **codec)

    def unary_unary(self, request: Message, context: grpc.ServicerContext) -> Message:
        received = self.server.record(self.rpc, context)
        received.messages.append(request)
        return self._single(context, request)

    def stream_unary(self, requests: Iterator[Message], context: grpc.ServicerContext) -> Message:
        received = self.server.record(self.rpc, context)
        received.messages.extend(requests)
        return self._single(context, list(received.messages))

    def unary_stream(self, request: Message, context: grpc.ServicerContext) -> Iterator[Message]:
        received = self.server.record(self.rpc, context)
        received.messages.append(request)
        yield from self._stream(context, request)

    def stream_stream(
        self, requests: Iterator[Message], context: grpc.ServicerContext
    ) -> Iterator[Message]:
        received = self.server.record(self.rpc, context)
        if self.script is not None and callable(self.script.answer):
            yield from self._stream(context, _recorded(requests, received.messages))
        else:
            received.messages.extend(requests)  # a fixed answer: read everything, then reply
            yield from self._stream(context, iter(received.messages))

    def _script(self, context: grpc.ServicerContext) -> Script:
        if self.script is None:
            details = self.server.unscripted_details(self.rpc)
            context.abort(grpc.StatusCode.UNIMPLEMENTED, f"FakeGrpcServer: {details}")
        return self.script

    def _single(self, context: grpc.ServicerContext, argument: object) -> Message:
        script = self._script(context)
        try:
            outcome = script.single(self.rpc, argument)
        except ScriptError as error:
            context.abort(grpc.StatusCode.INTERNAL, f"FakeGrpcServer: {error}")
        if isinstance(outcome, Failure):
            _abort(context, outcome)
        _send_metadata(context, script)
        return outcome

    def _stream(self, context: grpc.ServicerContext, argument: object) -> Iterator[Message]:
        script = self._script(context)
        answers = script.stream(self.rpc, argument)
        sent_metadata = False
        try:
            for item in answers:
                if isinstance(item, Failure):
                    _abort(context, item)
                if not sent_metadata:
                    _send_metadata(context, script)
                    sent_metadata = True
                yield item
        except ScriptError as error:
            context.abort(grpc.StatusCode.INTERNAL, f"FakeGrpcServer: {error}")
        if not sent_metadata:
            _send_metadata(context, script)


def _recorded(requests: Iterator[Message], into: list[Message]) -> Iterator[Message]:
    for message in requests:
        into.append(message)
        yield message


def _send_metadata(context: grpc.ServicerContext, script: Script) -> None:
    if script.initial_metadata:
        context.send_initial_metadata(script.initial_metadata)
    if script.trailing_metadata:
        context.set_trailing_metadata(script.trailing_metadata)


def _abort(context: grpc.ServicerContext, failure: Failure) -> Never:
    if failure.initial_pairs():
        context.send_initial_metadata(failure.initial_pairs())
    context.abort_with_status(_Status(failure))
