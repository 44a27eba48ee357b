"""A message with ``buf.validate`` rules, for the validation tests and the bench.

protovalidate (2.x) ships ``buf/validate/validate.proto`` only as a compiled
descriptor (for its own protobuf runtime), not as a .proto file protoc could
import; so the test schema is built as a ``FileDescriptorProto`` here, its
field options carrying ``buf.validate.field`` rules, and added to protobuf's
default pool beside that descriptor, as protoc's output would be.
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, NamedTuple

import grpc
from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

from protoreq import BaseGrpcRequest
from tests.support.call_log import CallLog
from tests.support.servers import serve

F = descriptor_pb2.FieldDescriptorProto
_RULES_FIELD = 1159  # buf.validate.field on google.protobuf.FieldOptions


class Shelfcheck(NamedTuple):
    NewBook: Any
    Chapter: Any
    Receipt: Any


@functools.cache
def shelfcheck() -> Shelfcheck:
    """``shelfcheck.NewBook`` (rules on title, pages, chapters[].name), in the default pool."""
    from google.protobuf import duration_pb2, field_mask_pb2, timestamp_pb2  # noqa: F401, PLC0415
    from protovalidate._gen.buf.validate import validate_pb  # noqa: PLC0415

    pool = descriptor_pool.Default()  # validate.proto's imports are loaded above
    pool.AddSerializedFile(validate_pb._DESC.proto.to_binary())
    rules_class = message_factory.GetMessageClass(
        pool.FindMessageTypeByName("buf.validate.FieldRules")
    )

    def rules(**kinds: dict[str, Any]) -> descriptor_pb2.FieldOptions:
        built = rules_class()
        for kind, values in kinds.items():
            for name, value in values.items():
                setattr(getattr(built, kind), name, value)
        encoded = built.SerializeToString()
        options = descriptor_pb2.FieldOptions()
        tag = (_RULES_FIELD << 3) | 2
        options.MergeFromString(_varint(tag) + _varint(len(encoded)) + encoded)
        return options

    file = descriptor_pb2.FileDescriptorProto(
        name="shelfcheck/books.proto",
        package="shelfcheck",
        syntax="proto3",
        dependency=["buf/validate/validate.proto"],
    )
    chapter = file.message_type.add(name="Chapter")
    chapter.field.add(
        name="name", number=1, type=F.TYPE_STRING, options=rules(string={"min_len": 1})
    )
    book = file.message_type.add(name="NewBook")
    book.field.add(name="title", number=1, type=F.TYPE_STRING, options=rules(string={"min_len": 1}))
    book.field.add(name="pages", number=2, type=F.TYPE_INT32, options=rules(int32={"gt": 0}))
    book.field.add(
        name="chapters",
        number=3,
        type=F.TYPE_MESSAGE,
        type_name=".shelfcheck.Chapter",
        label=F.LABEL_REPEATED,
    )
    book.field.add(name="note", number=4, type=F.TYPE_STRING)
    file.message_type.add(name="Receipt").field.add(name="id", number=1, type=F.TYPE_STRING)
    service = file.service.add(name="Checker")
    service.method.add(
        name="AddBook", input_type=".shelfcheck.NewBook", output_type=".shelfcheck.Receipt"
    )
    pool.AddSerializedFile(file.SerializeToString())
    classes = [
        message_factory.GetMessageClass(pool.FindMessageTypeByName(f"shelfcheck.{name}"))
        for name in ("NewBook", "Chapter", "Receipt")
    ]
    return Shelfcheck(*classes)


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


class AddBookRequest(BaseGrpcRequest[Any, Any]):
    """A hand-written request for ``shelfcheck.Checker/AddBook``."""

    def __init__(self, book: Any) -> None:
        super().__init__()
        self._book = book

    def service_name(self) -> str:
        return "shelfcheck.Checker"

    def method_name(self) -> str:
        return "AddBook"

    def message(self) -> Any:
        return self._book


@contextmanager
def checker_server() -> Iterator[tuple[str, CallLog]]:
    """A real server for ``shelfcheck.Checker``: it accepts anything (the client validates)."""
    classes = shelfcheck()
    log = CallLog()

    def add_book(request: Any, context: grpc.ServicerContext) -> Any:
        log.record("AddBook", context)
        return classes.Receipt(id=f"receipt-{request.title}")

    handler = grpc.method_handlers_generic_handler(
        "shelfcheck.Checker",
        {
            "AddBook": grpc.unary_unary_rpc_method_handler(
                add_book,
                request_deserializer=classes.NewBook.FromString,
                response_serializer=classes.Receipt.SerializeToString,
            )
        },
    )
    with serve(handler) as address:
        yield address, log
