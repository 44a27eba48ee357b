"""What a test server saw: metadata, peer and deadline of every call."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

import grpc


@dataclass(frozen=True)
class ReceivedCall:
    method: str
    metadata: dict[str, str | bytes]
    peer: str
    time_remaining: float | None


@dataclass
class CallLog:
    """What the server saw, shared by every handler of one server."""

    calls: list[ReceivedCall] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def record(self, method: str, context: grpc.ServicerContext) -> ReceivedCall:
        received = ReceivedCall(
            method=method,
            metadata={key: value for key, value in context.invocation_metadata()},
            peer=context.peer(),
            time_remaining=context.time_remaining(),
        )
        with self.lock:
            self.calls.append(received)
        return received

    def peers(self) -> set[str]:
        with self.lock:
            return {call.peer for call in self.calls}

    def last(self) -> ReceivedCall:
        with self.lock:
            return self.calls[-1]
