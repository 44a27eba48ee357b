"""Stand-ins for grpcio's call objects that play back a list of messages and a final status.

``GrpcStream.from_messages()`` and ``AsyncGrpcStream.from_messages()`` build
streams on these, so a scripted stream (a test fake's) runs through exactly
the code a real one does: the same iteration, the same end-of-stream handling.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable, Iterator, Mapping
from typing import Any, Generic, TypeVar

import grpc

from protoreq.metadata import Metadata, MetadataPairs, MetadataValue

T = TypeVar("T")

MetadataInput = Mapping[str, MetadataValue] | Iterable[tuple[str, MetadataValue]]


def as_pairs(metadata: MetadataInput | Metadata) -> MetadataPairs:
    if isinstance(metadata, Metadata):
        return metadata.pairs()
    pairs = metadata.items() if isinstance(metadata, Mapping) else metadata
    return tuple((key, value) for key, value in pairs)


class KnownStatus(grpc.RpcError):
    """A final status known in full (a scripted stream's, or one grpc.aio would have lost).

    Shaped like grpcio's errors, so it becomes a response through ``status.py``
    like any other.
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        details: str,
        initial: MetadataPairs,
        trailing: MetadataPairs,
    ) -> None:
        super().__init__(details)
        self._code = code
        self._details = details
        self._initial = initial
        self.trailing_pairs = trailing

    def code(self) -> grpc.StatusCode:
        return self._code

    def details(self) -> str:
        return self._details

    def initial_metadata(self) -> MetadataPairs:
        return self._initial

    def trailing_metadata(self) -> Any:  # grpc-stubs type it with their private _Metadatum
        return self.trailing_pairs


class ScriptedCall(Generic[T]):
    """Plays ``messages`` back lazily (a generator can script pauses), then ends with ``status``."""

    def __init__(self, messages: Iterable[T], status: KnownStatus) -> None:
        self._messages: Iterator[T] = iter(messages)
        self._status = status

    def __next__(self) -> T:
        try:
            return next(self._messages)
        except StopIteration:
            if self._status.code() is grpc.StatusCode.OK:
                raise
        raise self._status

    def initial_metadata(self) -> MetadataPairs:
        return self._status.initial_metadata()

    def trailing_metadata(self) -> MetadataPairs:
        return self._status.trailing_pairs

    def cancel(self) -> bool:
        return True


class AsyncScriptedCall(Generic[T]):
    """:class:`ScriptedCall` for ``AsyncGrpcStream``; ``messages`` may be an async iterable."""

    def __init__(self, messages: Iterable[T] | AsyncIterable[T], status: KnownStatus) -> None:
        self._async: AsyncIterator[T] | None = None
        self._sync: Iterator[T] | None = None
        if isinstance(messages, AsyncIterable):
            self._async = aiter(messages)
        else:
            self._sync = iter(messages)
        self._status = status

    def __aiter__(self) -> AsyncIterator[T]:
        return self._play()

    async def _play(self) -> AsyncIterator[T]:
        """The messages, then the end: quietly on OK, else the status raised, as grpc.aio does."""
        if self._async is not None:
            async for message in self._async:
                yield message
        elif self._sync is not None:
            for message in self._sync:
                yield message
        if self._status.code() is not grpc.StatusCode.OK:
            raise self._status

    async def initial_metadata(self) -> MetadataPairs:
        return self._status.initial_metadata()

    async def trailing_metadata(self) -> MetadataPairs:
        return self._status.trailing_pairs

    def cancel(self) -> bool:
        return True
