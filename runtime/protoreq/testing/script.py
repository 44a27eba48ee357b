"""Scripted answers, stored by request class or method path, evaluated into outcomes.

Shared by :class:`~protoreq.testing.FakeGrpcClient` and
:class:`~protoreq.testing.FakeGrpcServer`: both look an answer up the same
way, call a callable answer, check the answer's type against the RPC and turn
it into messages plus, possibly, a :class:`Failure`. Only what a callable
receives differs (the client fake passes the request object, the server the
request message), so the caller supplies the arguments.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from google.protobuf.message import Message

from protoreq.metadata import MetadataPairs, MetadataValue, outgoing_metadata
from protoreq.method import RpcMethod
from protoreq.testing.failure import Failure


class ScriptError(TypeError):
    """A scripted answer that cannot answer its RPC (wrong message type, a stream for a
    single answer, ...): a mistake in the test, reported where the call is made."""


@dataclass(frozen=True, slots=True)
class Script:
    """One scripted answer and the metadata that goes with a successful one."""

    answer: object  # a message, a Failure, an iterable of them, or a callable returning those
    name: str  # what was scripted, for messages: "GetUser" or "/user.UserService/GetUser"
    initial_metadata: MetadataPairs = ()
    trailing_metadata: MetadataPairs = ()

    @classmethod
    def of(
        cls,
        answer: object,
        name: str,
        initial_metadata: Mapping[str, MetadataValue] | None,
        trailing_metadata: Mapping[str, MetadataValue] | None,
    ) -> Script:
        if answer is None:
            raise TypeError(
                f"no answer given for {name}: script a message, a Failure or a callable"
            )
        return cls(
            answer=answer,
            name=name,
            initial_metadata=outgoing_metadata(initial_metadata or {}),
            trailing_metadata=outgoing_metadata(trailing_metadata or {}),
        )

    def check_now(self, rpc: RpcMethod[Any, Any]) -> None:
        """Check a fixed answer against its RPC while scripting, so a mistake points at the
        ``respond()`` line; callables and generators can only be checked when called."""
        if callable(self.answer):
            return
        if not rpc.cardinality.streams_responses:
            self.single(rpc)
        elif isinstance(self.answer, list | tuple | Message | Failure):
            for _ in self.stream(rpc):
                pass

    def single(self, rpc: RpcMethod[Any, Any], *args: object) -> Message | Failure:
        """The one answer of a unary or client-streaming call."""
        value = self.answer(*args) if callable(self.answer) else self.answer
        if isinstance(value, Failure):
            return value
        if isinstance(value, Message):
            _check_type(self, rpc, value)
            return value
        raise ScriptError(
            f"the answer scripted for {self.name} is {_describe(value)}, but {rpc.path} answers "
            f"one {_full_name(rpc.response_type)} (or a Failure)"
        )

    def stream(self, rpc: RpcMethod[Any, Any], *args: object) -> Iterator[Message | Failure]:
        """The answers of a server-streaming or bidi call, lazily: a Failure ends the stream."""
        value = self.answer(*args) if callable(self.answer) else self.answer
        if isinstance(value, Failure):
            yield value
            return
        if isinstance(value, Message | str | bytes) or not isinstance(value, Iterable):
            raise ScriptError(
                f"the answer scripted for {self.name} is {_describe(value)}, but {rpc.path} "
                f"answers a stream: script a list (or generator) of {_full_name(rpc.response_type)}"
            )
        for item in value:
            if isinstance(item, Failure):
                yield item
                return
            if not isinstance(item, Message):
                raise ScriptError(
                    f"the stream scripted for {self.name} holds {_describe(item)}; "
                    f"{rpc.path} streams {_full_name(rpc.response_type)} (or ends on a Failure)"
                )
            _check_type(self, rpc, item)
            yield item


class ScriptBook:
    """Scripts by request class and by method path; the latest script for a key wins.

    Thread-safe: fakes answer from server threads and event loops while the
    test thread may still be scripting.
    """

    def __init__(self) -> None:
        self._by_class: dict[type[Any], Script] = {}
        self._by_path: dict[str, Script] = {}
        self._lock = threading.Lock()

    def set_for_class(self, request_class: type[Any], script: Script) -> None:
        with self._lock:
            self._by_class[request_class] = script

    def set_for_path(self, path: str, script: Script) -> None:
        with self._lock:
            self._by_path[path] = script

    def find(self, request_class: type[Any] | None, path: str) -> Script | None:
        """The script for the class (or its nearest scripted base class), else for the path."""
        with self._lock:
            if request_class is not None:
                for klass in request_class.__mro__:
                    found = self._by_class.get(klass)
                    if found is not None:
                        return found
            return self._by_path.get(path)

    def clear(self) -> None:
        with self._lock:
            self._by_class.clear()
            self._by_path.clear()

    def scripted(self) -> list[str]:
        """What has an answer, for the message of an unscripted call."""
        with self._lock:
            return sorted([k.__name__ for k in self._by_class] + list(self._by_path))


def unscripted_details(name: str, path: str, scripted: list[str]) -> str:
    """The details text of an unscripted call: it names the request and how to script it."""
    known = ", ".join(scripted) if scripted else "nothing yet"
    return (
        f"no answer scripted for {name} ({path}); script one with respond({name}, ...) "
        f"or fail({name}, ...) (scripted: {known})"
    )


def _check_type(script: Script, rpc: RpcMethod[Any, Any], message: Message) -> None:
    expected = _full_name(rpc.response_type)
    actual = message.DESCRIPTOR.full_name
    if actual != expected:
        raise ScriptError(
            f"the answer scripted for {script.name} is a {actual}, "
            f"but {rpc.path} answers {expected}"
        )


def _full_name(message_type: type[Message]) -> str:
    return message_type.DESCRIPTOR.full_name


def _describe(value: object) -> str:
    if isinstance(value, Message):
        return f"a {value.DESCRIPTOR.full_name}"
    return f"{type(value).__name__} {value!r:.60}"
