"""JSON and dicts: generated ``from_json()`` / ``from_dict()``, ``GrpcResponse.to_dict()``.

Round trips through protobuf's JSON mapping for maps, oneofs, enums and
well-known types, answered by real servers.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.protobuf import json_format
from google.rpc import error_details_pb2

from protoreq import GrpcClient, InvalidRequestError
from protos.user_protoreq import GetUserGrpcRequest
from tests.patterns.library import library, library_server
from tests.support.call_log import CallLog
from tests.support.servers import serve


def rich_book() -> Any:
    pb2 = library().pb2
    built = pb2.Book(
        name="books/1",
        title="Dune",
        genre=pb2.FICTION,
        labels={"lang": "en", "shelf": "top"},
        isbn="978-0441013593",
        sequels={2: pb2.Book(name="books/2", print_run=5000)},
    )
    built.published.FromJsonString("1965-08-01T00:00:00Z")
    built.reading_time.FromSeconds(36000)
    built.extra.update({"awards": ["Hugo", "Nebula"], "pages": 412, "banned": None})
    built.copies_sold.value = 20_000_000
    return built


BOOK_JSON = {
    "name": "books/1",
    "title": "Dune",
    "genre": "FICTION",
    "labels": {"lang": "en", "shelf": "top"},
    "isbn": "978-0441013593",
    "published": "1965-08-01T00:00:00Z",
    "readingTime": "36000s",
    "extra": {"awards": ["Hugo", "Nebula"], "pages": 412.0, "banned": None},
    "copiesSold": "20000000",
    "sequels": {"2": {"name": "books/2", "printRun": 5000}},
}


def test_from_dict_reads_maps_oneofs_enums_and_well_known_types() -> None:
    request = library().requests.CreateBookGrpcRequest.from_dict(
        {"parent": "shelves/1", "book": BOOK_JSON}, metadata={"x-tenant": "t1"}, timeout=3.0
    )
    assert request.message() == library().pb2.CreateBookRequest(
        parent="shelves/1", book=rich_book()
    )
    assert request.message().book.WhichOneof("edition") == "isbn"
    assert request.timeout() == 3.0
    assert request.metadata()["x-tenant"] == "t1"


def test_from_json_round_trips_what_json_format_wrote() -> None:
    original = library().pb2.CreateBookRequest(parent="shelves/1", book=rich_book())
    text = json_format.MessageToJson(original)
    assert library().requests.CreateBookGrpcRequest.from_json(text).message() == original
    snake = json_format.MessageToJson(original, preserving_proto_field_name=True)
    assert library().requests.CreateBookGrpcRequest.from_json(snake.encode()).message() == original


def test_a_paginated_request_from_json_keeps_its_pager() -> None:
    request = library().requests.ListBooksGrpcRequest.from_json(
        '{"parent": "shelves/3", "pageSize": 2}'
    )
    assert request.with_page_token("7").message().page_token == "7"
    assert request.message().page_token == ""


def test_server_streaming_requests_have_from_json_too() -> None:
    from protos.chat_protoreq import SubscribeGrpcRequest  # noqa: PLC0415

    request = SubscribeGrpcRequest.from_json('{"room": "dune"}')
    assert request.message().room == "dune"


@pytest.mark.parametrize(
    ("source", "named"),
    [
        ('{"parent": "s", "shelf": "x"}', "shelf"),
        ('{"book": {"name": "b", "author": "x"}}', "author"),
        ('{"book": {"genre": "COOKBOOK"}}', "COOKBOOK"),
        ('{"book": {"isbn": "1", "printRun": 2}}', "edition"),
        ('{"parent": 5}', "parent"),
        ("{not json", "Failed to load JSON"),
    ],
)
def test_unknown_fields_and_bad_values_are_clear_errors(source: str, named: str) -> None:
    with pytest.raises(InvalidRequestError, match="CreateBookGrpcRequest") as raised:
        library().requests.CreateBookGrpcRequest.from_json(source)
    assert named in str(raised.value)
    assert "library.CreateBookRequest" in str(raised.value)


def test_from_dict_refuses_unknown_fields_too() -> None:
    with pytest.raises(InvalidRequestError, match='no field named "shelf"'):
        library().requests.CreateBookGrpcRequest.from_dict({"shelf": "x"})


@pytest.fixture
def book_server() -> Iterator[str]:
    """``CreateBook`` answers the book it was sent, through the wire."""
    pb2 = library().pb2

    def create_book(request: Any, context: grpc.ServicerContext) -> Any:
        return request.book

    handler = grpc.method_handlers_generic_handler(
        "library.Library",
        {
            "CreateBook": grpc.unary_unary_rpc_method_handler(
                create_book,
                request_deserializer=pb2.CreateBookRequest.FromString,
                response_serializer=pb2.Book.SerializeToString,
            )
        },
    )
    with serve(handler) as address:
        yield address


def test_to_dict_and_to_json_of_a_response_round_trip(book_server: str) -> None:
    requests = library().requests
    with GrpcClient(book_server) as client:
        response = client.call(requests.CreateBookGrpcRequest.from_dict({"book": BOOK_JSON}))
    assert response.is_success()
    assert response.to_dict() == BOOK_JSON
    assert json.loads(response.to_json()) == BOOK_JSON
    assert response.to_json(indent=2).startswith('{\n  "name"')
    assert json_format.ParseDict(response.to_dict(), library().pb2.Book()) == rich_book()


def test_to_dict_of_a_failure_has_code_details_and_error_details(target: str) -> None:
    with GrpcClient(target) as client:
        response = client.call(GetUserGrpcRequest(user_id="rich"))
    assert response.to_dict() == {
        "code": "NOT_FOUND",
        "details": "user rich not found",
        "error_details": [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": "user_id", "description": "no such user"}],
            }
        ],
    }
    assert json.loads(response.to_json())["code"] == "NOT_FOUND"
    assert isinstance(response.error_details()[0], error_details_pb2.BadRequest)


def test_to_dict_of_a_failure_without_details(library_log: tuple[str, CallLog]) -> None:
    address, _ = library_log
    with GrpcClient(address) as client:
        pager = client.paginate(library().requests.ListBooksGrpcRequest(parent="shelves/fail-3"))
        assert len(list(pager)) == 4
    assert pager.response().to_dict() == {
        "code": "INTERNAL",
        "details": "page 3 is on fire",
        "error_details": [],
    }


@pytest.fixture
def library_log() -> Iterator[tuple[str, CallLog]]:
    with library_server() as found:
        yield found
