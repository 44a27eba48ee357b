"""Scripting mistakes mypy must reject; each is marked with an ``E:`` comment naming the codes.

Not collected by pytest and excluded from the main mypy run (``negative/``);
``test_typing.py`` type-checks it in a subprocess and compares mypy's errors
with these markers, line by line. Unmarked lines must type-check.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence

from protoreq.testing import FakeGrpcClient, FakeGrpcServer
from protos import chat_pb2, my_pb2, user_pb2
from tests.testing.requests import Converse, CreateUser, GetUser, Subscribe, Upload

fake = FakeGrpcClient()
server = FakeGrpcServer()
user = user_pb2.User(id="1")

# The right shapes type-check.
fake.respond(GetUser, user)
fake.respond(GetUser, lambda request: user_pb2.User(id=request.user_id))
fake.respond(Subscribe, [chat_pb2.ChatMessage()])
server.respond(GetUser, lambda message: user_pb2.User(id=message.user_id))

# A message of another type.
fake.respond(GetUser, my_pb2.MyResponse())  # E: arg-type
server.respond(GetUser, my_pb2.MyResponse())  # E: arg-type

# A callable answering another type.
fake.respond(GetUser, lambda request: my_pb2.MyResponse())  # E: arg-type, return-value


def other_type(request: GetUser) -> my_pb2.MyResponse:
    return my_pb2.MyResponse()


fake.respond(GetUser, other_type)  # E: arg-type


# A callable for another request class.
def for_create_user(request: CreateUser) -> user_pb2.User:
    return user


fake.respond(GetUser, for_create_user)  # E: arg-type

# A callable reading what its request does not have (so its argument is typed, not Any).
fake.respond(GetUser, lambda request: user_pb2.User(id=request.no_such_field))  # E: attr-defined
server.respond(GetUser, lambda message: user_pb2.User(id=message.user))  # E: attr-defined

# A stream where one answer is due, and one answer where a stream is due.
fake.respond(GetUser, [user])  # E: arg-type
fake.respond(Subscribe, chat_pb2.ChatMessage())  # E: arg-type

# A stream of the wrong type.
fake.respond(Subscribe, [user])  # E: list-item


# Streaming callables: the wrong message type in and out.
def summarize(request: Upload, messages: Sequence[user_pb2.User]) -> chat_pb2.UploadSummary:
    return chat_pb2.UploadSummary()


fake.respond(Upload, summarize)  # E: arg-type


def echo(request: Converse, messages: Iterator[chat_pb2.ChatMessage]) -> Iterator[user_pb2.User]:
    yield user


fake.respond(Converse, echo)  # E: arg-type
