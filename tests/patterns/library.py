"""The test-only ``library`` API (``tests/patterns/protos``): an AIP-158 list method.

Kept out of ``protos/`` (whose output is the committed example and golden
files). Compiled once per test process by ``protoreq generate``'s own pipeline,
imported like any generated code, and served by a real grpcio server.

``ListBooks`` reads instructions from ``parent``:

* ``shelves/<n>`` — ``n`` books, ``page_size`` per page (tokens ``"<offset>"``);
* ``shelves/gap`` — two books, then an empty page that still has a next token, then one;
* ``shelves/fail-3`` — as ``shelves/9`` but page 3 fails with INTERNAL;
* ``shelves/flaky`` — as ``shelves/4``, but the first try of page 2 is UNAVAILABLE.
"""

from __future__ import annotations

import atexit
import functools
import importlib
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

import grpc

from protoreq_generator.protoc import Invocation, compile_into
from tests.support.call_log import CallLog
from tests.support.servers import serve

LIBRARY_PROTOS = Path(__file__).resolve().parent / "protos"


class Library(NamedTuple):
    pb2: Any
    requests: Any


@functools.cache
def library() -> Library:
    """``library.library_pb2`` and ``library.library_protoreq``, generated into a temp folder."""
    out = Path(tempfile.mkdtemp(prefix="protoreq-library-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    compile_into(Invocation(includes=(LIBRARY_PROTOS,), sources=(LIBRARY_PROTOS,)), out)
    sys.path.insert(0, str(out))
    pb2: ModuleType = importlib.import_module("library.library_pb2")
    requests: ModuleType = importlib.import_module("library.library_protoreq")
    return Library(pb2, requests)


def book(index: int) -> Any:
    return library().pb2.Book(name=f"books/{index}", title=f"Book {index}")


class _Shelves:
    """The ``ListBooks`` handler; records every page asked for in ``log``."""

    def __init__(self, log: CallLog) -> None:
        self.log = log
        self.flaky_failed = False
        self.lock = threading.Lock()

    def list_books(self, request: Any, context: grpc.ServicerContext) -> Any:
        pb2 = library().pb2
        self.log.record(f"ListBooks:{request.page_token}", context)
        parent = request.parent.removeprefix("shelves/")
        if parent == "gap":
            pages = {"": ([0, 1], "b"), "b": ([], "c"), "c": ([2], "")}
            indexes, token = pages[request.page_token]
            return pb2.ListBooksResponse(books=[book(i) for i in indexes], next_page_token=token)
        offset = int(request.page_token or "0")
        size = request.page_size or 2
        total = {"fail-3": 9, "flaky": 4}.get(parent) or int(parent)
        if parent == "fail-3" and offset == 2 * size:
            context.abort(grpc.StatusCode.INTERNAL, "page 3 is on fire")
        if parent == "flaky" and offset == size:
            with self.lock:
                failed, self.flaky_failed = self.flaky_failed, True
            if not failed:
                context.abort(grpc.StatusCode.UNAVAILABLE, "try page 2 again")
        end = min(offset + size, total)
        return pb2.ListBooksResponse(
            books=[book(i) for i in range(offset, end)],
            next_page_token=str(end) if end < total else "",
            total_size=total,
        )


@contextmanager
def library_server() -> Iterator[tuple[str, CallLog]]:
    """A real server for ``library.Library``; yields its address and what it saw."""
    pb2 = library().pb2
    log = CallLog()
    shelves = _Shelves(log)
    handler = grpc.method_handlers_generic_handler(
        "library.Library",
        {
            "ListBooks": grpc.unary_unary_rpc_method_handler(
                shelves.list_books,
                request_deserializer=pb2.ListBooksRequest.FromString,
                response_serializer=pb2.ListBooksResponse.SerializeToString,
            ),
        },
    )
    with serve(handler) as address:
        yield address, log
