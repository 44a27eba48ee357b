"""Pagers for AIP-158 list methods: every result of every page, errors as values.

A list method (``page_size`` and ``page_token`` in, ``next_page_token`` and one
repeated results field out) generates a class extending
:class:`~protoreq.generated.GeneratedPaginatedGrpcRequest`, which names its
results field (``items_field``) and is typed by the result's message. A
:class:`Pager` sends that request, then the same request with each returned
``next_page_token``, until the token is empty; each page is an ordinary call, so
the request's metadata, per-page timeout and retry policy apply to every page,
and all pages carry one trace id. Pages are fetched only as they are consumed
(AIP-4233: no greedy reading of long collections). A page naming the token it
was asked with as the next one ends the pager (INTERNAL) instead of looping.

A failure ends the iteration without an exception, as on a
:class:`~protoreq.GrpcStream`; the pager's ``is_success()``, ``status_code()``,
``details()`` and ``response()`` then tell what happened.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import grpc
from google.protobuf.message import Message

from protoreq.context import RequestContext, new_trace_id
from protoreq.response import GrpcResponse
from protoreq.stream_state import StreamNotFinishedError

if TYPE_CHECKING:
    from protoreq.caller import GrpcCaller
    from protoreq.generated import GeneratedPaginatedGrpcRequest

__all__ = ["AsyncPager", "ItemT", "Pager"]

RespT = TypeVar("RespT", bound=Message)
ItemT = TypeVar("ItemT", bound=Message)


class _PagerState(Generic[RespT, ItemT]):
    """What sync and async pagers share: the next request, the trace id, the outcome."""

    def __init__(
        self, client: GrpcCaller, request: GeneratedPaginatedGrpcRequest[Any, RespT, ItemT]
    ) -> None:
        self._client = client
        self._first = request
        self._next: GeneratedPaginatedGrpcRequest[Any, RespT, ItemT] | None = request
        self._trace_id = RequestContext.get_trace_id() or new_trace_id()
        self._last: GrpcResponse[RespT] | None = None
        self._pages = 0

    def _settle(self, response: GrpcResponse[RespT]) -> bool:
        """Record one page's answer; whether it is a page to hand out."""
        self._last = response
        if not response.is_success():
            self._next = None
            return False
        self._pages += 1
        token: str = getattr(response.message(), "next_page_token", "")
        sent = self._next
        if token and sent is not None and token == sent.message().page_token:
            # A server answering the token it was sent would be paged through forever.
            self._last = _repeated_token(response, token)
            self._next = None
            return True
        self._next = self._first.with_page_token(token) if token else None
        return True

    def _items(self, response: GrpcResponse[RespT]) -> Iterator[ItemT]:
        items: Iterator[ItemT] = iter(getattr(response.message(), self._first.items_field))
        return items

    def is_finished(self) -> bool:
        """Whether the last page (or a failure) has been received."""
        return self._next is None

    def pages_received(self) -> int:
        """How many pages arrived successfully so far."""
        return self._pages

    def response(self) -> GrpcResponse[RespT]:
        """The last page's response: the failed one if the pager ended on a failure."""
        return self._outcome()

    def is_success(self) -> bool:
        """Whether every page arrived (asked before the end: :class:`StreamNotFinishedError`)."""
        return self._outcome().is_success()

    def status_code(self) -> grpc.StatusCode:
        return self._outcome().status_code()

    def details(self) -> str:
        return self._outcome().details()

    def _outcome(self) -> GrpcResponse[RespT]:
        if self._next is not None or self._last is None:
            raise StreamNotFinishedError(
                f"the pager of {self._first.method_name()} has not reached its last page yet: "
                "iterate it to the end before asking how it ended"
            )
        return self._last

    def __repr__(self) -> str:
        state = "finished" if self._next is None else "open"
        return f"<{type(self).__name__} {self._first.method_name()} {state} pages={self._pages}>"


def _repeated_token(page: GrpcResponse[RespT], token: str) -> GrpcResponse[RespT]:
    """The pager's outcome when a page names itself as the next one: a local INTERNAL."""
    return GrpcResponse(
        method_path=page.method_path(),
        code=grpc.StatusCode.INTERNAL,
        details=(
            f"the server answered page_token {token!r} with the same next_page_token; "
            "the pager stopped after handing out that page rather than ask for it forever"
        ),
        trace_id=page.trace_id(),
    )


class Pager(_PagerState[RespT, ItemT]):
    """Iterate for the results (typed as the results field's message), ``pages()`` for pages.

    One pass: items and pages are drawn from the same sequence of calls.
    """

    def __iter__(self) -> Iterator[ItemT]:
        for page in self.pages():
            yield from self._items(page)

    def pages(self) -> Iterator[GrpcResponse[RespT]]:
        """Each successful page's response, fetched when asked for; a failure ends it."""
        while self._next is not None:
            request = self._next
            with RequestContext.scope(trace_id=self._trace_id):
                response = self._client.call(request)
            if not self._settle(response):
                return
            yield response


class AsyncPager(_PagerState[RespT, ItemT]):
    """The ``async for`` twin of :class:`Pager`, sending each page with ``call_async()``."""

    async def __aiter__(self) -> AsyncIterator[ItemT]:
        async for page in self.pages():
            for item in self._items(page):
                yield item

    async def pages(self) -> AsyncIterator[GrpcResponse[RespT]]:
        """Each successful page's response, fetched when asked for; a failure ends it."""
        while self._next is not None:
            request = self._next
            with RequestContext.scope(trace_id=self._trace_id):
                response = await self._client.call_async(request)
            if not self._settle(response):
                return
            yield response
