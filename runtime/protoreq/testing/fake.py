"""``FakeGrpcClient``: a ``GrpcClient`` that answers from a script instead of a network.

It *is* a :class:`~protoreq.GrpcClient` (a subclass), so code typed
``def __init__(self, client: GrpcClient)`` takes it without casts or
protocols. Every I/O method is overridden: nothing here opens a channel.

Requests go through :func:`protoreq.preparation.prepare`, the very checks the
real client makes, so misuse (a bad metadata key, a streaming request sent
with ``call()``) fails in tests as it would in production, and the recorded
metadata is what would have been sent.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterable, Callable, Iterable, Iterator, Mapping, Sequence
from typing import Any, TypeVar, overload

import grpc
from google.protobuf.message import Message

from protoreq.client import DEFAULT_TIMEOUT, GrpcClient
from protoreq.errors import (
    ClientClosedError,
    InvalidInterceptorError,
    ProtoreqError,
    UnknownMethodError,
)
from protoreq.interceptors import Interceptor, InterceptorChain, grpc_interceptors
from protoreq.metadata import Metadata, MetadataValue
from protoreq.method import RpcMethod
from protoreq.preparation import CallDefaults, PreparedCall, prepare
from protoreq.request import (
    AnyRequest,
    BidiStreamingGrpcRequest,
    ClientStreamingGrpcRequest,
    GrpcRequest,
    ServerStreamingGrpcRequest,
)
from protoreq.response import GrpcResponse
from protoreq.status import LocalRpcError
from protoreq.streaming import AsyncGrpcStream, GrpcStream
from protoreq.testing.failure import Failure, ScriptedRpcError
from protoreq.testing.fake_streams import (
    ended_stream,
    ended_stream_async,
    outgoing_source,
    scripted_stream,
    scripted_stream_async,
)
from protoreq.testing.records import SentCall
from protoreq.testing.request_class import (
    AnyRequestClass,
    BidiStreamingRequestClass,
    ClientStreamingRequestClass,
    ServerStreamingRequestClass,
    UnaryRequestClass,
    check_path,
    check_request_class,
    rpc_of_class,
    rpc_of_path,
)
from protoreq.testing.script import Script, ScriptBook, unscripted_details
from protoreq.transport.outgoing import OutgoingMessages, async_source, sync_source

Req = TypeVar("Req")
R = TypeVar("R")
ReqT = TypeVar("ReqT", bound=Message)
RespT = TypeVar("RespT", bound=Message)


class UnscriptedCallError(ProtoreqError, AssertionError):
    """A strict :class:`FakeGrpcClient` was sent a request nobody scripted an answer for."""


class _FakeState:
    """Everything the fake adds to ``GrpcClient``, kept under one attribute so it can never
    collide with the real client's own (private) attributes."""

    def __init__(self, *, strict: bool, defaults: CallDefaults) -> None:
        self.strict = strict
        self.defaults = defaults
        self.scripts = ScriptBook()
        self.calls: list[SentCall] = []
        self.lock = threading.Lock()
        self.closed = False


class FakeGrpcClient(GrpcClient):
    """A stand-in for :class:`~protoreq.GrpcClient` that answers from scripted answers.

    Script with :meth:`respond` and :meth:`fail`, keyed by request class (a
    subclass of a scripted class uses its base's script) or by method path
    (``"/user.UserService/GetUser"``); the latest script for a key stays in
    force for every call until replaced. An unscripted call answers
    UNIMPLEMENTED, naming the request — or, with ``strict=True``, raises
    :class:`UnscriptedCallError`. The fake never retries: it answers each call
    once, as scripted. Exceptions raised by a callable answer reach the caller.
    """

    def __init__(
        self,
        *,
        strict: bool = False,
        target: str = "fake",
        timeout: float | None = DEFAULT_TIMEOUT,
        interceptors: Sequence[Interceptor] = (),
    ) -> None:
        own, grpc_sync, grpc_aio = grpc_interceptors(interceptors)
        if grpc_sync or grpc_aio:
            raise InvalidInterceptorError(
                "FakeGrpcClient runs protoreq interceptors only: grpcio's own interceptors "
                "run on channels, and the fake opens none"
            )
        super().__init__(target, timeout=timeout, retry=None)
        self._fake = _FakeState(
            strict=strict, defaults=CallDefaults(target=target, timeout=timeout, retry=None)
        )
        chain = InterceptorChain(own)
        self._fake_send = chain.unary(chain.attempt(self._answer_call))
        self._fake_send_async = chain.unary_async(chain.attempt_async(self._answer_call_async))
        self._fake_open = chain.stream(chain.stream_attempt(self._answer_stream))
        self._fake_open_async = chain.stream_async(chain.stream_attempt(self._answer_stream_async))

    # -- scripting --------------------------------------------------------------------------

    @overload
    def respond(
        self,
        request: UnaryRequestClass[Req, Any, RespT],
        answer: RespT | Failure | Callable[[Req], RespT | Failure],
        *,
        initial_metadata: Mapping[str, MetadataValue] | None = None,
        trailing_metadata: Mapping[str, MetadataValue] | None = None,
    ) -> None: ...
    @overload
    def respond(
        self,
        request: ClientStreamingRequestClass[Req, ReqT, RespT],
        answer: RespT | Failure | Callable[[Req, Sequence[ReqT]], RespT | Failure],
        *,
        initial_metadata: Mapping[str, MetadataValue] | None = None,
        trailing_metadata: Mapping[str, MetadataValue] | None = None,
    ) -> None: ...
    @overload
    def respond(
        self,
        request: ServerStreamingRequestClass[Req, Any, RespT],
        answer: Iterable[RespT | Failure] | Callable[[Req], Iterable[RespT | Failure] | Failure],
        *,
        initial_metadata: Mapping[str, MetadataValue] | None = None,
        trailing_metadata: Mapping[str, MetadataValue] | None = None,
    ) -> None: ...
    @overload
    def respond(
        self,
        request: BidiStreamingRequestClass[Req, ReqT, RespT],
        answer: Iterable[RespT | Failure]
        | Callable[[Req, Iterator[ReqT]], Iterable[RespT | Failure] | Failure],
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
        """Answer every call of ``request`` (a request class or a method path) with ``answer``.

        ``answer`` is, by the RPC's kind:

        * unary / client-streaming — a response message, a :class:`Failure`, or a
          callable returning one; it receives the request (and, for
          client-streaming, the list of outgoing messages);
        * server-streaming / bidi — an iterable of response messages, optionally
          ending with a :class:`Failure`, or a callable returning such an iterable;
          it receives the request (and, for bidi, an iterator over the outgoing
          messages, read as the answers are consumed).

        ``initial_metadata`` / ``trailing_metadata`` go with successful answers.
        A fixed answer is checked against the RPC here when the RPC is known without
        a request (a :class:`ScriptError` otherwise surfaces at the call). A generator
        given as a fixed answer plays once; use a list, or a callable, for every call.
        """
        self._script(request, answer, initial_metadata, trailing_metadata)

    def respond_pages(
        self,
        request: UnaryRequestClass[Req, Any, RespT],
        pages: Sequence[RespT | Failure],
        *,
        initial_metadata: Mapping[str, MetadataValue] | None = None,
        trailing_metadata: Mapping[str, MetadataValue] | None = None,
    ) -> None:
        """Script an AIP-158 list method's pages, for ``paginate()`` and the facades' pagers.

        The first page answers a request without ``page_token``; page ``i`` answers
        the token ``"<i>"``, which each page but the last carries as its
        ``next_page_token`` (a copy of the page is changed, not the page given). A
        :class:`Failure` answers its page as a failed call. To script by token
        yourself, ``respond()`` with a callable reading ``request.message().page_token``.
        """
        scripted = list(pages)
        if not scripted:
            raise TypeError(
                "respond_pages() needs at least one page (an empty collection is one empty page)"
            )
        answers: list[Message | Failure] = []
        for index, page in enumerate(scripted):
            if isinstance(page, Failure):
                answers.append(page)
                continue
            copy: Any = type(page)()
            copy.CopyFrom(page)
            if index + 1 < len(scripted) and not copy.next_page_token:
                copy.next_page_token = str(index + 1)
            answers.append(copy)

        def answer(sent: Any) -> Message | Failure:
            token = sent.message().page_token
            index = 0 if not token else int(token) if token.isdigit() else -1
            if not 0 <= index < len(answers):
                return Failure(
                    grpc.StatusCode.INVALID_ARGUMENT,
                    f"respond_pages(): no page was scripted for page_token {token!r}",
                )
            return answers[index]

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
        """Make every call of ``request`` fail with ``code`` and ``details``.

        ``error_details`` (``google.rpc`` messages such as ``BadRequest``) arrive as
        the response's ``rich_status()`` / ``error_details()``. A stream fails at once.
        """
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
            path = check_path(request)
            script = Script.of(answer, path, initial_metadata, trailing_metadata)
            _check_if_known(script, lambda: rpc_of_path(path))
            self._fake.scripts.set_for_path(path, script)
            return
        request_class = check_request_class(request)
        script = Script.of(answer, request_class.__name__, initial_metadata, trailing_metadata)
        _check_if_known(script, lambda: rpc_of_class(request_class))
        self._fake.scripts.set_for_class(request_class, script)

    # -- what was sent ----------------------------------------------------------------------

    @property
    def calls(self) -> list[SentCall]:
        """Every call made, in order, with the metadata and timeout it would have been sent with."""
        with self._fake.lock:
            return list(self._fake.calls)

    @property
    def requests(self) -> list[AnyRequest]:
        """Every request object sent, in order."""
        return [call.request for call in self.calls]

    def requests_of(self, request_class: type[R]) -> list[R]:
        """The requests sent that are instances of ``request_class``, in order, typed as such."""
        return [call.request for call in self.calls if isinstance(call.request, request_class)]

    @property
    def closed(self) -> bool:
        """Whether ``close()`` / ``aclose()`` was called (code under test may own the client)."""
        return self._fake.closed

    # -- calls ------------------------------------------------------------------------------

    def call(
        self, request: GrpcRequest[Any, RespT] | ClientStreamingGrpcRequest[Any, RespT]
    ) -> GrpcResponse[RespT]:
        prepared = self._prepare(request, streaming_response=False)
        if isinstance(prepared, GrpcResponse):
            return prepared
        return self._fake_send(prepared)

    async def call_async(
        self, request: GrpcRequest[Any, RespT] | ClientStreamingGrpcRequest[Any, RespT]
    ) -> GrpcResponse[RespT]:
        prepared = self._prepare(request, streaming_response=False)
        if isinstance(prepared, GrpcResponse):
            return prepared
        return await self._fake_send_async(prepared)

    def stream(
        self, request: ServerStreamingGrpcRequest[Any, RespT] | BidiStreamingGrpcRequest[Any, RespT]
    ) -> GrpcStream[RespT]:
        prepared = self._prepare(request, streaming_response=True)
        if isinstance(prepared, GrpcResponse):
            return ended_stream(prepared)
        return self._fake_open(prepared)

    def stream_async(
        self, request: ServerStreamingGrpcRequest[Any, RespT] | BidiStreamingGrpcRequest[Any, RespT]
    ) -> AsyncGrpcStream[RespT]:
        prepared = self._prepare(request, streaming_response=True)
        if isinstance(prepared, GrpcResponse):
            return ended_stream_async(prepared)
        return self._fake_open_async(prepared)

    # -- the fake's "transport": answers from the script, behind the same interceptor chain ---

    def _answer_call(self, prepared: PreparedCall) -> GrpcResponse[Any]:
        source = None if prepared.message is not None else sync_source(prepared)
        sent = self._record(prepared)
        if source is not None:
            outgoing = OutgoingMessages(prepared)
            sent.messages.extend(outgoing.accept(message) for message in source)
        return self._answer_single(prepared, sent)

    async def _answer_call_async(self, prepared: PreparedCall) -> GrpcResponse[Any]:
        source = None if prepared.message is not None else async_source(prepared)
        sent = self._record(prepared)
        await asyncio.sleep(0)  # a real call yields to the loop; so does the fake
        if source is not None:
            outgoing = OutgoingMessages(prepared)
            if isinstance(source, AsyncIterable):
                sent.messages.extend([outgoing.accept(message) async for message in source])
            else:
                sent.messages.extend(outgoing.accept(message) for message in source)
        return self._answer_single(prepared, sent)

    def _answer_stream(self, prepared: PreparedCall) -> GrpcStream[Any]:
        source = outgoing_source(prepared, asynchronous=False)
        sent = self._record(prepared)
        script = self._find(prepared)
        if isinstance(script, GrpcResponse):
            prepared.done(script)
            return ended_stream(script)
        return scripted_stream(prepared, script, sent, source)

    def _answer_stream_async(self, prepared: PreparedCall) -> AsyncGrpcStream[Any]:
        source = outgoing_source(prepared, asynchronous=True)
        sent = self._record(prepared)
        script = self._find(prepared)
        if isinstance(script, GrpcResponse):
            prepared.done(script)
            return ended_stream_async(script)
        return scripted_stream_async(prepared, script, sent, source)

    def _prepare(
        self, request: object, *, streaming_response: bool
    ) -> PreparedCall | GrpcResponse[Any]:
        if self._fake.closed:
            raise ClientClosedError(f"FakeGrpcClient({self.target!r}) is closed")
        prepared = prepare(request, self._fake.defaults, streaming_response=streaming_response)
        if isinstance(prepared, PreparedCall):
            prepared.attempt = 1
        return prepared

    def _record(self, prepared: PreparedCall) -> SentCall:
        sent = SentCall(
            request=prepared.request,
            method=prepared.rpc,
            metadata=Metadata(prepared.metadata),
            timeout=None if prepared.deadline is None else prepared.deadline - prepared.started,
            trace_id=prepared.trace_id,
            messages=[] if prepared.message is None else [prepared.message],
        )
        with self._fake.lock:
            self._fake.calls.append(sent)
        return sent

    def _find(self, prepared: PreparedCall) -> Script | GrpcResponse[Any]:
        """The script for this call, or the UNIMPLEMENTED answer of an unscripted one."""
        request_class = type(prepared.request)
        script = self._fake.scripts.find(request_class, prepared.rpc.path)
        if script is not None:
            return script
        details = unscripted_details(
            request_class.__name__, prepared.rpc.path, self._fake.scripts.scripted()
        )
        if self._fake.strict:
            raise UnscriptedCallError(f"FakeGrpcClient(strict=True): {details}")
        return prepared.failed(LocalRpcError(grpc.StatusCode.UNIMPLEMENTED, details))

    def _answer_single(self, prepared: PreparedCall, sent: SentCall) -> GrpcResponse[Any]:
        script = self._find(prepared)
        if isinstance(script, GrpcResponse):
            return script
        if prepared.message is None:
            outcome = script.single(prepared.rpc, prepared.request, list(sent.messages))
        else:
            outcome = script.single(prepared.rpc, prepared.request)
        if isinstance(outcome, Failure):
            return prepared.failed(ScriptedRpcError(outcome))
        return prepared.succeeded(
            outcome, Metadata(script.initial_metadata), Metadata(script.trailing_metadata)
        )

    # -- closing ----------------------------------------------------------------------------

    def close(self) -> None:
        self._fake.closed = True

    async def aclose(self) -> None:
        self._fake.closed = True

    def __repr__(self) -> str:
        state = "closed" if self._fake.closed else "open"
        scripted = ", ".join(self._fake.scripts.scripted()) or "nothing"
        return (
            f"FakeGrpcClient(strict={self._fake.strict}, {len(self._fake.calls)} calls, "
            f"scripted: {scripted}, {state})"
        )


def _check_if_known(script: Script, find_rpc: Callable[[], RpcMethod[Any, Any]]) -> None:
    """Check a fixed answer now when the RPC can be known without a request; otherwise
    (a service whose ``_pb2`` is not imported yet, a class that needs its ``__init__``
    to name its RPC) the check happens at the call."""
    try:
        rpc = find_rpc()
    except (TypeError, UnknownMethodError):
        return
    script.check_now(rpc)
