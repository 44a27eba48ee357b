"""Pagers against a real server: every item of every page, failures as values, sync and async."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest

from protoreq import (
    AsyncPager,
    GrpcClient,
    Pager,
    RequestContext,
    RetryPolicy,
    StreamNotFinishedError,
)
from protoreq.testing import Failure, FakeGrpcClient
from tests.patterns.library import library, library_server
from tests.support.call_log import CallLog


@pytest.fixture
def server() -> Iterator[tuple[str, CallLog]]:
    with library_server() as found:
        yield found


def list_books(parent: str, **options: Any) -> Any:
    return library().requests.ListBooksGrpcRequest(parent=parent, **options)


def sent(fake: FakeGrpcClient) -> list[Any]:
    return fake.requests_of(library().requests.ListBooksGrpcRequest)


def tokens(log: CallLog) -> list[str]:
    return [call.method.removeprefix("ListBooks:") for call in log.calls]


def test_items_of_every_page_in_order(server: tuple[str, CallLog]) -> None:
    address, log = server
    with GrpcClient(address) as client:
        pager = client.paginate(list_books("shelves/7", page_size=3))
        names = [book.name for book in pager]
    assert names == [f"books/{i}" for i in range(7)]
    assert tokens(log) == ["", "3", "6"]
    assert pager.is_success()
    assert pager.status_code() is grpc.StatusCode.OK
    assert pager.pages_received() == 3


def test_pages_are_the_responses(server: tuple[str, CallLog]) -> None:
    address, _ = server
    with GrpcClient(address) as client:
        pages = list(client.paginate(list_books("shelves/5", page_size=2)).pages())
    assert [len(page.message().books) for page in pages] == [2, 2, 1]
    assert [page.message().total_size for page in pages] == [5, 5, 5]


def test_an_empty_page_with_a_token_does_not_end_the_pager(server: tuple[str, CallLog]) -> None:
    address, log = server
    with GrpcClient(address) as client:
        pager = client.paginate(list_books("shelves/gap"))
        names = [book.name for book in pager]
    assert names == ["books/0", "books/1", "books/2"]
    assert tokens(log) == ["", "b", "c"]
    assert pager.is_success()


def test_an_empty_collection_is_one_empty_page(server: tuple[str, CallLog]) -> None:
    address, log = server
    with GrpcClient(address) as client:
        pager = client.paginate(list_books("shelves/0"))
        assert list(pager) == []
    assert tokens(log) == [""]
    assert pager.is_success()


def test_a_failure_on_page_3_ends_the_iteration_as_a_value(server: tuple[str, CallLog]) -> None:
    address, log = server
    with GrpcClient(address) as client:
        pager = client.paginate(list_books("shelves/fail-3", page_size=2))
        names = [book.name for book in pager]
    assert names == [f"books/{i}" for i in range(4)]
    assert tokens(log) == ["", "2", "4"]
    assert not pager.is_success()
    assert pager.status_code() is grpc.StatusCode.INTERNAL
    assert pager.details() == "page 3 is on fire"
    assert pager.response().status_code() is grpc.StatusCode.INTERNAL
    assert pager.pages_received() == 2


def test_a_page_naming_itself_as_next_stops_the_pager(server: tuple[str, CallLog]) -> None:
    address, log = server
    with GrpcClient(address) as client:
        pager = client.paginate(list_books("shelves/stuck"))
        names = [book.name for book in pager]
    assert names == ["books/0", "books/1"]
    assert tokens(log) == ["", "x"]
    assert pager.status_code() is grpc.StatusCode.INTERNAL
    assert "same next_page_token" in pager.details()


def test_status_before_the_end_is_misuse(server: tuple[str, CallLog]) -> None:
    address, _ = server
    with GrpcClient(address) as client:
        pager = client.paginate(list_books("shelves/4", page_size=2))
        items = iter(pager)
        next(items)
        with pytest.raises(StreamNotFinishedError, match="ListBooks"):
            pager.is_success()


def test_pages_are_fetched_only_as_consumed(server: tuple[str, CallLog]) -> None:
    address, log = server
    with GrpcClient(address) as client:
        items = iter(client.paginate(list_books("shelves/9", page_size=3)))
        assert next(items).name == "books/0"
        assert tokens(log) == [""]


def test_every_page_carries_the_metadata_timeout_and_one_trace_id(
    server: tuple[str, CallLog],
) -> None:
    address, log = server
    with GrpcClient(address) as client:
        request = list_books("shelves/6", page_size=2, metadata={"x-tenant": "t1"}, timeout=20.0)
        assert len(list(client.paginate(request))) == 6
    assert [call.metadata["x-tenant"] for call in log.calls] == ["t1"] * 3
    trace_ids = {call.metadata["x-trace-id"] for call in log.calls}
    assert len(trace_ids) == 1
    for call in log.calls:  # per page, not shared: each page has its own 20 s
        assert call.time_remaining is not None
        assert 10 < call.time_remaining <= 21  # grpcio rounds deadlines up a little


def test_the_callers_trace_id_is_kept(server: tuple[str, CallLog]) -> None:
    address, log = server
    with GrpcClient(address) as client, RequestContext.scope(trace_id="trace-of-the-caller"):
        assert len(list(client.paginate(list_books("shelves/4", page_size=2)))) == 4
    assert [call.metadata["x-trace-id"] for call in log.calls] == ["trace-of-the-caller"] * 2


def test_the_requests_retry_policy_applies_to_each_page(server: tuple[str, CallLog]) -> None:
    address, log = server

    class Retried(library().requests.ListBooksGrpcRequest):  # type: ignore[misc]
        def retry_policy(self) -> RetryPolicy:
            return RetryPolicy(max_attempts=3, initial_backoff=0.01, max_backoff=0.05)

    with GrpcClient(address) as client:
        pager: Any = client.paginate(Retried(parent="shelves/flaky", page_size=2))
        pages = list(pager.pages())
    assert [page.attempts() for page in pages] == [1, 2]
    assert tokens(log) == ["", "2", "2"]
    assert pager.is_success()


async def test_async_pager_items_and_failure(server: tuple[str, CallLog]) -> None:
    address, log = server
    async with GrpcClient(address) as client:
        pager = client.paginate_async(list_books("shelves/fail-3", page_size=2))
        names = [book.name async for book in pager]
    assert names == [f"books/{i}" for i in range(4)]
    assert pager.status_code() is grpc.StatusCode.INTERNAL
    assert len({call.metadata["x-trace-id"] for call in log.calls}) == 1


async def test_async_pager_pages_with_an_empty_page(server: tuple[str, CallLog]) -> None:
    address, _ = server
    async with GrpcClient(address) as client:
        pages = [page async for page in client.paginate_async(list_books("shelves/gap")).pages()]
    assert [len(page.message().books) for page in pages] == [2, 0, 1]


def test_facade_pager(server: tuple[str, CallLog]) -> None:
    address, _ = server
    with GrpcClient(address) as client:
        pager = (
            library()
            .requests.LibraryClient(client)
            .list_books_pager(parent="shelves/5", page_size=2)
        )
        assert isinstance(pager, Pager)
        assert [book.name for book in pager] == [f"books/{i}" for i in range(5)]


async def test_async_facade_pager(server: tuple[str, CallLog]) -> None:
    address, _ = server
    async with GrpcClient(address) as client:
        pager = (
            library()
            .requests.AsyncLibraryClient(client)
            .list_books_pager(parent="shelves/fail-3", page_size=3)
        )
        assert isinstance(pager, AsyncPager)
        assert len([book async for book in pager]) == 6
        assert pager.details() == "page 3 is on fire"


def test_methods_that_do_not_follow_aip_158_have_no_pager() -> None:
    requests = library().requests
    assert not hasattr(requests.LibraryClient, "search_books_pager")
    assert not hasattr(requests.LibraryClient, "create_book_pager")
    assert requests.ListBooksGrpcRequest.items_field == "books"


def test_the_fake_scripts_pages_by_token() -> None:
    pb2 = library().pb2
    pages = {
        "": pb2.ListBooksResponse(books=[pb2.Book(name="a")], next_page_token="2"),
        "2": pb2.ListBooksResponse(books=[], next_page_token="3"),
        "3": Failure(grpc.StatusCode.PERMISSION_DENIED, "not your shelf"),
    }
    fake = FakeGrpcClient()
    fake.respond(
        library().requests.ListBooksGrpcRequest, lambda request: pages[request.message().page_token]
    )
    pager = library().requests.LibraryClient(fake).list_books_pager(parent="shelves/x")
    assert [book.name for book in pager] == ["a"]
    assert pager.status_code() is grpc.StatusCode.PERMISSION_DENIED
    assert [request.message().page_token for request in sent(fake)] == ["", "2", "3"]
    assert [request.message().parent for request in sent(fake)] == ["shelves/x"] * 3


def test_the_fake_scripts_pages_in_order() -> None:
    pb2 = library().pb2
    fake = FakeGrpcClient()
    fake.respond_pages(
        library().requests.ListBooksGrpcRequest,
        [
            pb2.ListBooksResponse(books=[pb2.Book(name="a"), pb2.Book(name="b")]),
            pb2.ListBooksResponse(books=[pb2.Book(name="c")]),
        ],
    )
    pager = fake.paginate(list_books("shelves/x"))
    assert [book.name for book in pager] == ["a", "b", "c"]
    assert [request.message().page_token for request in sent(fake)] == ["", "1"]
    assert pager.is_success()
