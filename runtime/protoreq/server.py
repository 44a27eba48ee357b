"""Server interceptors that run every handler inside its caller's :class:`RequestContext`.

``grpc.server(executor, interceptors=[ContextServerInterceptor()])`` (or
``grpc.aio.server(interceptors=[AsyncContextServerInterceptor()])``) gives
every handler, of all four kinds, the scope that
``RequestContext.scope(**RequestContext.from_servicer_context(context))``
would open: the caller's trace id (``x-trace-id``, else the trace id of its
W3C ``traceparent``, else a fresh one, so all the handler's calls share one),
its ip, and its deadline. Every call the handler makes through protoreq then
carries them on without a line of handler code.

The scope is the incoming call's own, not nested in whatever context the
server's thread or task had: a request boundary starts afresh.

Where the scope must hold:

* unary responses: around the handler call;
* streamed responses: around the handler call *and* every step of the
  response iterator, because a generator's body runs in the context of
  whoever calls ``next()`` on it (a grpc thread). Sync iterators are stepped
  with ``Context.run`` in one context copied for the call; async generators
  and coroutines run in the call's own asyncio task, where the scope is set;
* request iterators are consumed by the handler's code, so they are read
  inside the scope too.

Wrapping is decided once per method (the handler's kind and, for grpc.aio,
whether it is a coroutine, an async generator or a sync function) and cached
per method, so a call pays for a dictionary lookup, reading its metadata,
and one context-variable set and reset.
"""

from __future__ import annotations

import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Iterator
from contextlib import suppress
from contextvars import Context, Token, copy_context
from typing import Any, Final, TypeAlias

import grpc
import grpc.aio

from protoreq.context import RequestContext, _current, _Scope, new_trace_id

__all__ = ["AsyncContextServerInterceptor", "ContextServerInterceptor"]

Handler: TypeAlias = "grpc.RpcMethodHandler[Any, Any]"
Behaviour: TypeAlias = Callable[[Any, Any], Any]
ServicerContext: TypeAlias = "grpc.ServicerContext | grpc.aio.ServicerContext[Any, Any]"

_HANDLER_FACTORIES: Final = {
    (False, False): ("unary_unary", grpc.unary_unary_rpc_method_handler),
    (False, True): ("unary_stream", grpc.unary_stream_rpc_method_handler),
    (True, False): ("stream_unary", grpc.stream_unary_rpc_method_handler),
    (True, True): ("stream_stream", grpc.stream_stream_rpc_method_handler),
}
"""(request_streaming, response_streaming) -> the handler's behaviour attribute and factory."""


def caller_scope(context: ServicerContext) -> _Scope:
    """The scope a handler runs in: its caller's trace id (or a fresh one), ip and deadline."""
    arguments = RequestContext.from_servicer_context(context)
    timeout = arguments["timeout"]
    return _Scope(
        trace_id=arguments["trace_id"] or new_trace_id(),
        client_ip=arguments["client_ip"],
        deadline=None if timeout is None else time.monotonic() + timeout,
    )


# -- sync behaviours (grpc.server, and sync handlers on a grpc.aio server) -------------------


def _sync_unary_response(behaviour: Behaviour) -> Behaviour:
    """unary-unary and stream-unary: the handler call is the whole RPC."""

    def in_caller_scope(request: Any, context: Any) -> Any:
        token = _current.set(caller_scope(context))
        try:
            return behaviour(request, context)
        finally:
            _current.reset(token)

    return in_caller_scope


def _sync_streamed_response(behaviour: Behaviour) -> Behaviour:
    """unary-stream and stream-stream: the handler call, then every ``next()`` of its iterator."""

    def in_caller_scope(request: Any, context: Any) -> Iterator[Any]:
        call_context = copy_context()
        call_context.run(_current.set, caller_scope(context))
        responses = call_context.run(behaviour, request, context)
        return _stepped_in(call_context, responses)

    return in_caller_scope


def _stepped_in(call_context: Context, responses: Iterable[Any]) -> Iterator[Any]:
    """``responses``, each step (and the final close) run inside ``call_context``.

    Setting the variable inside this generator instead would leak it into the
    grpc thread between steps, and resetting it would fail when the generator is
    closed from another context; ``Context.run`` per step has neither problem.
    """
    iterator = call_context.run(iter, responses)
    try:
        while True:
            try:
                response = call_context.run(next, iterator)
            except StopIteration:
                return
            yield response
    finally:
        close = getattr(iterator, "close", None)
        if close is not None:
            call_context.run(close)


# -- async behaviours (grpc.aio.server) --------------------------------------------------------


def _async_coroutine(behaviour: Callable[[Any, Any], Awaitable[Any]]) -> Behaviour:
    """A coroutine handler (any kind; streams through ``context.read()`` / ``write()``)."""

    async def in_caller_scope(request: Any, context: Any) -> Any:
        token = _current.set(caller_scope(context))
        try:
            return await behaviour(request, context)
        finally:
            _current.reset(token)

    return in_caller_scope


def _async_generator(behaviour: Callable[[Any, Any], AsyncIterator[Any]]) -> Behaviour:
    """An async generator handler: its steps run in the call's task, where the scope is set."""

    async def in_caller_scope(request: Any, context: Any) -> AsyncIterator[Any]:
        token = _current.set(caller_scope(context))
        responses = behaviour(request, context)
        try:
            async for response in responses:
                yield response
        finally:
            aclose = getattr(responses, "aclose", None)
            if aclose is not None:
                await aclose()
            _reset_if_same_context(token)

    return in_caller_scope


def _reset_if_same_context(token: Token[_Scope]) -> None:
    """Reset, unless asyncio finalizes an abandoned generator from another task's context.

    Then the call's task, whose context held the scope, is already gone.
    """
    with suppress(ValueError):
        _current.reset(token)


def _async_behaviour(behaviour: Behaviour, response_streaming: bool) -> Behaviour:
    """grpc.aio dispatches on what the behaviour is, so the wrapper must be the same thing."""
    if inspect.iscoroutinefunction(behaviour):
        return _async_coroutine(behaviour)
    if response_streaming and inspect.isasyncgenfunction(behaviour):
        return _async_generator(behaviour)
    return _sync_behaviour(behaviour, response_streaming)


def _sync_behaviour(behaviour: Behaviour, response_streaming: bool) -> Behaviour:
    if response_streaming:
        return _sync_streamed_response(behaviour)
    return _sync_unary_response(behaviour)


# -- the interceptors ---------------------------------------------------------------------------


class _WrappedHandlers:
    """Each method's handler and its wrapped twin, made once and reused while the handler is.

    Bounded by the number of methods the server implements: unknown methods
    have no handler and are not cached. A handler made anew per call (by an
    interceptor further down) is wrapped anew, replacing the method's entry.
    """

    def __init__(self, wrap: Callable[[Behaviour, bool], Behaviour]) -> None:
        self._wrap = wrap
        self._by_method: dict[str, tuple[Handler, Handler]] = {}

    def wrapped(self, method: str, handler: Handler | None) -> Handler | None:
        if handler is None:
            return None
        known = self._by_method.get(method)
        if known is not None and known[0] is handler:
            return known[1]
        wrapped = self._wrapped_anew(handler)
        self._by_method[method] = (handler, wrapped)  # a racing thread at worst wraps twice
        return wrapped

    def _wrapped_anew(self, handler: Handler) -> Handler:
        attribute, factory = _HANDLER_FACTORIES[
            bool(handler.request_streaming), bool(handler.response_streaming)
        ]
        behaviour = getattr(handler, attribute)
        if behaviour is None:  # a handler object that does not say what it serves: leave it be
            return handler
        wrapped_handler: Handler = factory(
            self._wrap(behaviour, bool(handler.response_streaming)),
            request_deserializer=handler.request_deserializer,
            response_serializer=handler.response_serializer,
        )
        return wrapped_handler


class ContextServerInterceptor(grpc.ServerInterceptor):
    """For ``grpc.server(interceptors=[...])``: every handler runs in its caller's scope."""

    def __init__(self) -> None:
        self._handlers = _WrappedHandlers(_sync_behaviour)

    def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Handler | None],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = continuation(handler_call_details)
        return self._handlers.wrapped(handler_call_details.method, handler)


class AsyncContextServerInterceptor(grpc.aio.ServerInterceptor):
    """For ``grpc.aio.server(interceptors=[...])``: every handler runs in its caller's scope.

    Coroutine, async generator and sync handlers are all covered.
    """

    def __init__(self) -> None:
        self._handlers = _WrappedHandlers(_async_behaviour)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Handler | None]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Handler | None:
        handler = await continuation(handler_call_details)
        return self._handlers.wrapped(handler_call_details.method, handler)
