"""The test-only ``library`` API (``tests/patterns/protos``): an AIP-158 list method.

Kept out of ``protos/`` (whose output is the committed example and golden
files). Compiled once per test process by ``protoreq generate``'s own pipeline,
imported like any generated code, and served by a real grpcio server.

``ListBooks`` reads instructions from ``parent``:

* ``shelves/<n>`` — ``n`` books, ``page_size`` per page (tokens ``"<offset>"``);
* ``shelves/gap`` — two books, then an empty page that still has a next token, then one;
* ``shelves/fail-3`` — as ``shelves/9`` but page 3 fails with INTERNAL;
* ``shelves/flaky`` — as ``shelves/4``, but the first try of page 2 is UNAVAILABLE;
* ``shelves/stuck`` — every page after the first names itself as the next one.
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
    export_pb2: Any
    export: Any


@functools.cache
def library() -> Library:
    """``library.library_pb2`` and ``library.library_protoreq``, generated into a temp folder."""
    out = Path(tempfile.mkdtemp(prefix="protoreq-library-"))
    atexit.register(shutil.rmtree, out, ignore_errors=True)
    includes = (LIBRARY_PROTOS, longrunning_include(out / "include"), *common_protos())
    compile_into(Invocation(includes=includes, sources=(LIBRARY_PROTOS,)), out / "py")
    sys.path.insert(0, str(out / "py"))
    pb2: ModuleType = importlib.import_module("library.library_pb2")
    requests: ModuleType = importlib.import_module("library.library_protoreq")
    export_pb2: ModuleType = importlib.import_module("library.export_pb2")
    export: ModuleType = importlib.import_module("library.export_protoreq")
    return Library(pb2, requests, export_pb2, export)


def common_protos() -> tuple[Path, ...]:
    """Where googleapis-common-protos installed its .proto files (``google/api/...``)."""
    import google.api  # noqa: PLC0415

    return tuple(Path(folder).parents[1] for folder in google.api.__path__)


def longrunning_include(folder: Path) -> Path:
    """An include folder with ``google/longrunning/operations.proto``.

    googleapis-common-protos ships that file as ``operations_proto.proto`` (its
    ``_pb2`` registers the proper name), so a .proto importing it needs a copy
    under the name the import uses.
    """
    target = folder / "google" / "longrunning" / "operations.proto"
    target.parent.mkdir(parents=True, exist_ok=True)
    for root in common_protos():
        shipped = root / "google" / "longrunning" / "operations_proto.proto"
        if shipped.is_file():
            shutil.copyfile(shipped, target)
            return folder
    raise FileNotFoundError("googleapis-common-protos ships no google/longrunning .proto")


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
        if parent == "stuck":
            return pb2.ListBooksResponse(books=[book(len(request.page_token))], next_page_token="x")
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


class _Operations:
    """``library.Exporter`` and ``google.longrunning.Operations`` over one in-memory table.

    ``ExportShelf`` reads ``shelf``: ``ok:<n>`` is done with a result after ``n`` polls
    (its metadata counts the polls), ``instant`` is done at once, ``error`` fails at
    the first poll (NOT_FOUND with a ``BadRequest``), ``forever`` never finishes
    (until cancelled: then CANCELLED), ``wrong`` finishes with the wrong result type.
    """

    def __init__(self, log: CallLog) -> None:
        self.log = log
        self.lock = threading.Lock()
        self.operations: dict[str, Any] = {}
        self.polls: dict[str, int] = {}
        self.shelves: dict[str, str] = {}

    def start(self, request: Any, context: grpc.ServicerContext) -> Any:
        from google.longrunning import operations_pb2  # noqa: PLC0415

        self.log.record("ExportShelf", context)
        name = f"operations/{len(self.operations)}-{request.shelf}"
        operation = operations_pb2.Operation(name=name)
        with self.lock:
            self.operations[name] = operation
            self.polls[name] = 0
            self.shelves[name] = request.shelf
        if request.shelf == "instant":
            self._finish(name, books=1)
        return self.operations[name]

    def _finish(self, name: str, *, books: int) -> None:
        operation = self.operations[name]
        operation.done = True
        operation.response.Pack(
            library().export_pb2.ExportShelfResponse(uri=f"gs://exports/{name}", books=books)
        )

    def get(self, request: Any, context: grpc.ServicerContext) -> Any:
        from google.protobuf import any_pb2  # noqa: PLC0415
        from google.rpc import code_pb2, error_details_pb2  # noqa: PLC0415

        self.log.record("GetOperation", context)
        with self.lock:
            operation = self.operations.get(request.name)
            if operation is None:
                context.abort(grpc.StatusCode.NOT_FOUND, f"no operation {request.name}")
            self.polls[request.name] += 1
            polls = self.polls[request.name]
            shelf = self.shelves[request.name]
            if not operation.done:
                operation.metadata.Pack(
                    library().export_pb2.ExportShelfMetadata(percent_done=polls)
                )
            if shelf.startswith("ok:") and polls >= int(shelf.removeprefix("ok:")):
                self._finish(request.name, books=polls)
            elif shelf == "error":
                operation.done = True
                operation.error.code = code_pb2.NOT_FOUND
                operation.error.message = "shelf gone"
                detail = any_pb2.Any()
                detail.Pack(
                    error_details_pb2.BadRequest(
                        field_violations=[
                            error_details_pb2.BadRequest.FieldViolation(
                                field="shelf", description="no such shelf"
                            )
                        ]
                    )
                )
                operation.error.details.append(detail)
            elif shelf == "wrong":
                operation.done = True
                operation.response.Pack(library().export_pb2.ExportShelfRequest(shelf="x"))
            return operation

    def cancel(self, request: Any, context: grpc.ServicerContext) -> Any:
        from google.protobuf import empty_pb2  # noqa: PLC0415
        from google.rpc import code_pb2  # noqa: PLC0415

        self.log.record("CancelOperation", context)
        with self.lock:
            operation = self.operations[request.name]
            if not operation.done:
                operation.done = True
                operation.error.code = code_pb2.CANCELLED
                operation.error.message = "cancelled by the caller"
        return empty_pb2.Empty()


@contextmanager
def operations_server() -> Iterator[tuple[str, CallLog]]:
    """A real server for ``library.Exporter`` and ``google.longrunning.Operations``."""
    from google.longrunning import operations_pb2  # noqa: PLC0415
    from google.protobuf import empty_pb2  # noqa: PLC0415

    export_pb2 = library().export_pb2
    log = CallLog()
    operations = _Operations(log)
    exporter = grpc.method_handlers_generic_handler(
        "library.Exporter",
        {
            "ExportShelf": grpc.unary_unary_rpc_method_handler(
                operations.start,
                request_deserializer=export_pb2.ExportShelfRequest.FromString,
                response_serializer=operations_pb2.Operation.SerializeToString,
            ),
        },
    )
    lro = grpc.method_handlers_generic_handler(
        "google.longrunning.Operations",
        {
            "GetOperation": grpc.unary_unary_rpc_method_handler(
                operations.get,
                request_deserializer=operations_pb2.GetOperationRequest.FromString,
                response_serializer=operations_pb2.Operation.SerializeToString,
            ),
            "CancelOperation": grpc.unary_unary_rpc_method_handler(
                operations.cancel,
                request_deserializer=operations_pb2.CancelOperationRequest.FromString,
                response_serializer=empty_pb2.Empty.SerializeToString,
            ),
        },
    )
    with serve(exporter, lro) as address:
        yield address, log
