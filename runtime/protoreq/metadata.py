"""Metadata: validating what we send and holding what we receive (redacted when shown).

grpcio rejects a bad key only once the call is under way, with an error that
does not name the key; checking here makes misuse fail at once and clearly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, Protocol

from protoreq.errors import InvalidMetadataError
from protoreq.redaction import is_sensitive_metadata_key, redacted_metadata

MetadataValue = str | bytes
MetadataPairs = tuple[tuple[str, MetadataValue], ...]

_KEY_PATTERN: Final = re.compile(r"[0-9a-z_.\-]+")

_VALID_KEYS_LIMIT: Final = 1024
_valid_keys: set[str] = set()
"""Keys already checked: the same few keys recur on every call. Bounded: a program sending
ever new keys (ids in key names) empties it when full instead of growing without end."""

_DROPPED_BY_GRPC: Final = {
    "content-type": "gRPC sets it itself ('application/grpc')",
    "te": "gRPC sets it itself ('trailers')",
    "content-length": "HTTP/2 frames carry the length",
    "user-agent": (
        "grpcio replaces it with its own; set the channel option "
        "('grpc.primary_user_agent', '...') instead"
    ),
    "lb-cost-bin": "grpcio keeps it for its load balancer",
    "endpoint-load-metrics-bin": "grpcio keeps it for its load balancer",
}
"""Keys that pass gRPC's syntax but that grpcio drops without a word: refusing them beats
a header that silently never arrives."""


def _check_key(key: object) -> str:
    if key in _valid_keys:
        return key  # only str keys are ever added to the set
    if not isinstance(key, str):
        raise InvalidMetadataError(f"metadata key {key!r} must be a str, not {type(key).__name__}")
    if not _KEY_PATTERN.fullmatch(key):
        hint = " (keys must be lowercase)" if key.lower() != key else ""
        raise InvalidMetadataError(
            f"invalid metadata key {key!r}{hint}: gRPC allows only 0-9 a-z _ . - in keys"
        )
    if key.startswith("grpc-"):
        raise InvalidMetadataError(
            f"metadata key {key!r} is reserved: keys starting with 'grpc-' belong to gRPC itself"
        )
    dropped = _DROPPED_BY_GRPC.get(key)
    if dropped is not None:
        raise InvalidMetadataError(
            f"metadata key {key!r} is reserved and grpcio would drop it silently: {dropped}"
        )
    if len(_valid_keys) >= _VALID_KEYS_LIMIT:
        _valid_keys.clear()
    _valid_keys.add(key)
    return key


def _check_value(key: str, value: object) -> MetadataValue:
    if key.endswith("-bin"):
        if not isinstance(value, bytes):
            raise InvalidMetadataError(
                f"metadata key {key!r} ends in '-bin' so its value must be bytes, "
                f"not {type(value).__name__}"
            )
        return value
    if not isinstance(value, str):
        raise InvalidMetadataError(
            f"metadata value for {key!r} must be a str (only '-bin' keys take bytes), "
            f"not {type(value).__name__}"
        )
    if not (value.isascii() and value.isprintable()):
        raise InvalidMetadataError(
            f"metadata value for {key!r} must be printable ASCII; "
            "send other text base64-encoded or under a '-bin' key as bytes"
        )
    return value


def outgoing_metadata(
    items: Mapping[str, MetadataValue | None] | Iterable[tuple[str, MetadataValue | None]],
) -> MetadataPairs:
    """Validated pairs ready for grpcio; ``None`` values are dropped, order is kept."""
    pairs = items.items() if isinstance(items, Mapping) else items
    return tuple(
        (_check_key(key), _check_value(key, value)) for key, value in pairs if value is not None
    )


is_sensitive = is_sensitive_metadata_key
"""Kept under its old name; the decision lives in :mod:`protoreq.redaction`."""
redacted = redacted_metadata


class Metadata(Mapping[str, MetadataValue]):
    """Received metadata, read-only.

    As a mapping a repeated key shows its last value; :meth:`get_all` and
    :meth:`pairs` keep every value in the order the server sent them.
    """

    __slots__ = ("_by_key", "_pairs")

    def __init__(self, pairs: Iterable[tuple[str, MetadataValue]] = ()) -> None:
        self._pairs: MetadataPairs = tuple((key, value) for key, value in pairs)
        self._by_key: dict[str, MetadataValue] = dict(self._pairs)

    def __getitem__(self, key: str) -> MetadataValue:
        return self._by_key[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._by_key)

    def __len__(self) -> int:
        return len(self._by_key)

    def get_all(self, key: str) -> list[MetadataValue]:
        return [value for k, value in self._pairs if k == key]

    def pairs(self) -> MetadataPairs:
        return self._pairs

    def __add__(self, other: Metadata) -> Metadata:
        return Metadata(self._pairs + other._pairs)

    def __repr__(self) -> str:
        return f"Metadata({redacted(self._pairs)!r})"


EMPTY_METADATA: Final = Metadata()


def received_metadata(pairs: Iterable[tuple[str, MetadataValue]] | None) -> Metadata:
    """grpcio hands back tuples of namedtuples (sync) or ``aio.Metadata``; normalize both."""
    if not pairs:
        return EMPTY_METADATA
    return Metadata((key, value) for key, value in pairs)


class FinishedCall(Protocol):
    """A finished grpcio call, asked for its metadata only when a response's owner wants it.

    The sync ``with_call`` result fits; reading its metadata takes a lock and
    two conversions, which most callers never need.
    """

    def initial_metadata(self) -> Any: ...
    def trailing_metadata(self) -> Any: ...
