"""A real ``chat.ChatService`` (protos/chat.proto) for the streaming tests.

Tests steer the server through request metadata, so every cardinality takes
the same instructions:

* ``x-fail-after: N`` — abort with ``x-fail-code`` (default ABORTED) once N
  messages went out (Subscribe, Converse) or came in (Upload, Send: N=0);
* ``x-delay: S`` — sleep S seconds before each message;
* ``x-pad: N`` — add N characters to each message's text (backpressure tests).

Every stream sends initial metadata ``x-room`` and trailing metadata
``x-sent`` / ``x-received``. :class:`ChatProgress` records how far the server
got, for tests that compare it with what the client consumed. Handler loops
check ``context.is_active()`` and are bounded by the request, so a stopped
server never leaves a thread behind.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import grpc

from protos import chat_pb2

SERVICE = "chat.ChatService"


@dataclass
class ChatProgress:
    """How many messages the server has produced and consumed, across calls."""

    produced: int = 0
    consumed: int = 0
    metadata: list[dict[str, str | bytes]] = field(default_factory=list)
    time_remaining: list[float | None] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start(self, context: grpc.ServicerContext) -> None:
        with self.lock:
            self.produced = 0
            self.consumed = 0
            self.metadata.append(dict(context.invocation_metadata()))
            self.time_remaining.append(context.time_remaining())

    @property
    def trace_ids(self) -> list[str | bytes | None]:
        """The ``x-trace-id`` each call arrived with, in order."""
        with self.lock:
            return [metadata.get("x-trace-id") for metadata in self.metadata]


@dataclass(frozen=True)
class _Instructions:
    fail_after: int | None
    fail_code: grpc.StatusCode
    delay: float
    pad: str

    @classmethod
    def of(cls, context: grpc.ServicerContext) -> _Instructions:
        metadata = {key: value for key, value in context.invocation_metadata()}

        def text(key: str) -> str | None:
            value = metadata.get(key)
            return value if isinstance(value, str) else None

        fail_after = text("x-fail-after")
        return cls(
            fail_after=None if fail_after is None else int(fail_after),
            fail_code=grpc.StatusCode[text("x-fail-code") or "ABORTED"],
            delay=float(text("x-delay") or 0),
            pad="." * int(text("x-pad") or 0),
        )

    def pause(self) -> None:
        if self.delay:
            time.sleep(self.delay)

    def check(self, context: grpc.ServicerContext, done: int) -> None:
        if self.fail_after is not None and done >= self.fail_after:
            context.abort(self.fail_code, f"failed after {done} messages")


class ChatService:
    """The four RPCs of ``chat.ChatService``, each honouring the metadata instructions."""

    def __init__(self, progress: ChatProgress | None = None) -> None:
        self.progress = progress or ChatProgress()

    def send(
        self, request: chat_pb2.ChatMessage, context: grpc.ServicerContext
    ) -> chat_pb2.ChatMessage:
        self.progress.start(context)
        told = _Instructions.of(context)
        told.check(context, 0)
        told.pause()
        return chat_pb2.ChatMessage(seq=request.seq + 1, text=f"re: {request.text}")

    def subscribe(
        self, request: chat_pb2.SubscribeRequest, context: grpc.ServicerContext
    ) -> Iterator[chat_pb2.ChatMessage]:
        self.progress.start(context)
        told = _Instructions.of(context)
        context.send_initial_metadata((("x-room", request.room),))
        sent = 0
        for seq in range(request.count):
            told.check(context, sent)
            if not context.is_active():
                return
            told.pause()
            with self.progress.lock:
                self.progress.produced += 1
            yield chat_pb2.ChatMessage(seq=seq, text=f"{request.room} {seq}{told.pad}")
            sent += 1
        context.set_trailing_metadata((("x-sent", str(sent)),))

    def upload(
        self, requests: Iterable[chat_pb2.ChatMessage], context: grpc.ServicerContext
    ) -> chat_pb2.UploadSummary:
        self.progress.start(context)
        told = _Instructions.of(context)
        context.send_initial_metadata((("x-room", "upload"),))
        count = 0
        last_seq = 0
        texts: list[str] = []
        for message in requests:
            count += 1
            last_seq = message.seq
            texts.append(message.text)
            with self.progress.lock:
                self.progress.consumed += 1
            told.check(context, count)
            told.pause()
        context.set_trailing_metadata((("x-received", str(count)),))
        return chat_pb2.UploadSummary(count=count, last_seq=last_seq, joined=",".join(texts))

    def converse(
        self, requests: Iterable[chat_pb2.ChatMessage], context: grpc.ServicerContext
    ) -> Iterator[chat_pb2.ChatMessage]:
        self.progress.start(context)
        told = _Instructions.of(context)
        context.send_initial_metadata((("x-room", "converse"),))
        sent = 0
        for message in requests:
            with self.progress.lock:
                self.progress.consumed += 1
            told.check(context, sent)
            told.pause()
            with self.progress.lock:
                self.progress.produced += 1
            yield chat_pb2.ChatMessage(seq=message.seq + 1, text=f"re: {message.text}{told.pad}")
            sent += 1
        context.set_trailing_metadata((("x-sent", str(sent)),))

    def handler(self) -> grpc.GenericRpcHandler:
        request, reply = chat_pb2.ChatMessage, chat_pb2.ChatMessage
        return grpc.method_handlers_generic_handler(
            SERVICE,
            {
                "Send": grpc.unary_unary_rpc_method_handler(
                    self.send, request.FromString, reply.SerializeToString
                ),
                "Subscribe": grpc.unary_stream_rpc_method_handler(
                    self.subscribe,
                    chat_pb2.SubscribeRequest.FromString,
                    reply.SerializeToString,
                ),
                "Upload": grpc.stream_unary_rpc_method_handler(
                    self.upload, request.FromString, chat_pb2.UploadSummary.SerializeToString
                ),
                "Converse": grpc.stream_stream_rpc_method_handler(
                    self.converse, request.FromString, reply.SerializeToString
                ),
            },
        )
