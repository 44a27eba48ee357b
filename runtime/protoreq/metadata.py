"""Metadata: validating what we send, holding what we receive, redacting what we log.

grpcio rejects a bad key only once the call is under way, with an error that
does not name the key; checking here makes misuse fail at once and clearly.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from typing import Any, Final, Protocol

from protoreq.errors import InvalidMetadataError

MetadataValue = str | bytes
MetadataPairs = tuple[tuple[str, MetadataValue], ...]

_KEY_PATTERN: Final = re.compile(r"[0-9a-z_.\-]+")
_valid_keys: set[str] = set()  # keys already checked: the same few keys recur on every call

REDACTED: Final = "[REDACTED]"
_SENSITIVE_KEYS: Final = frozenset({"authorization", "proxy-authorization", "cookie", "set-cookie"})
_SENSITIVE_PARTS: Final = ("token", "secret", "password", "passwd", "api-key", "api_key", "apikey")


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


def is_sensitive(key: str) -> bool:
    """Whether a key's value must never reach a log: credentials, cookies, binary blobs."""
    return (
        key in _SENSITIVE_KEYS
        or key.endswith("-bin")
        or any(part in key for part in _SENSITIVE_PARTS)
    )


def redacted(pairs: Iterable[tuple[str, MetadataValue]]) -> dict[str, str]:
    """A loggable copy: sensitive values replaced, bytes shown as their length."""
    shown: dict[str, str] = {}
    for key, value in pairs:
        if is_sensitive(key):
            shown[key] = REDACTED
        elif isinstance(value, bytes):
            shown[key] = f"<{len(value)} bytes>"
        else:
            shown[key] = value
    return shown


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
