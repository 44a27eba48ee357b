"""What the fakes saw: one record per call, for a test's assertions."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from google.protobuf.message import Message

from protoreq.metadata import Metadata
from protoreq.method import RpcMethod
from protoreq.redaction import message_text
from protoreq.request import AnyRequest


def _shown(messages: list[Message]) -> str:
    """The messages as a test failure shows them: ``debug_redact`` fields hidden."""
    return "[" + ", ".join(f"<{message_text(message)}>" for message in messages) + "]"


@dataclass(frozen=True, slots=True, repr=False)
class SentCall:
    """A call made on a :class:`~protoreq.testing.FakeGrpcClient`: what a real client
    would have put on the wire, after the same checks a real client makes."""

    request: AnyRequest
    """The request object, exactly as passed to ``call()`` / ``stream()``."""
    method: RpcMethod[Any, Any]
    metadata: Metadata
    """The outgoing metadata as it would have been sent: validated, ``x-trace-id`` included."""
    timeout: float | None
    """Seconds the call would have been given (request, client default or context deadline)."""
    trace_id: str
    messages: list[Message] = field(default_factory=list)
    """The request message; for client-streaming and bidi calls, the outgoing messages as read."""

    def __repr__(self) -> str:
        return (
            f"SentCall({self.method.path}, request={type(self.request).__name__}, "
            f"metadata={self.metadata!r}, timeout={self.timeout!r}, trace_id={self.trace_id!r}, "
            f"messages={_shown(self.messages)})"
        )


@dataclass(frozen=True, slots=True, repr=False)
class ReceivedCall:
    """A call a :class:`~protoreq.testing.FakeGrpcServer` received over the network."""

    method: RpcMethod[Any, Any]
    metadata: Metadata
    """The invocation metadata as the server saw it (gRPC adds ``user-agent`` and the like)."""
    peer: str
    time_remaining: float | None
    """Seconds left of the caller's deadline when the call arrived; ``None`` without one."""
    messages: list[Message] = field(default_factory=list)
    """The request message(s) received, in order."""

    def __repr__(self) -> str:
        return (
            f"ReceivedCall({self.method.path}, metadata={self.metadata!r}, peer={self.peer!r}, "
            f"time_remaining={self.time_remaining!r}, messages={_shown(self.messages)})"
        )
