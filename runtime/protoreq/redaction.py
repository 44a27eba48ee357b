"""What protoreq never prints: credential metadata, and message fields marked ``debug_redact``.

Every place that shows metadata or a message to a human (log records, reprs,
error messages, the testing helpers' records, spans) asks this module, so they
all agree on what is secret and a key added with
:func:`add_sensitive_metadata_keys` is hidden everywhere at once.

The decisions are made lazily, when something is about to be printed, never on
the call path; each is cached (per metadata key, per message type) in a bounded
cache, so a stream of distinct keys cannot grow memory.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Iterable
from typing import Any, Final

from google.protobuf import descriptor_pool, text_format
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from protoreq.errors import InvalidMetadataError
from protoreq.field_labels import is_repeated

REDACTED: Final = "[REDACTED]"
_ANY: Final = "google.protobuf.Any"

MetadataValue = str | bytes

_SENSITIVE_PARTS: Final = (
    "auth",
    "token",
    "secret",
    "key",
    "session",
    "signature",
    "jwt",
    "credential",
    "password",
    "passwd",
    "cookie",
)
"""Parts of a key that say its value is a credential: ``x-authorization``, ``authentication``,
``x-amz-security-token``, ``x-api-key``, ``private-key``, ``x-session-id``,
``x-goog-iap-jwt-assertion``, ``set-cookie``... Over-redacting a harmless key costs a log
reader little; under-redacting leaks a credential, so the parts are broad on purpose. (Plain
substrings, not a regular expression: compiling one would cost every import 0.3 ms.)"""

_added_keys: frozenset[str] = frozenset()
"""Keys the application declared sensitive (exact names, lowercase)."""

_CACHE_SIZE: Final = 1024
"""Distinct keys (and message types) whose decision is remembered; the rest are recomputed."""


def add_sensitive_metadata_keys(*keys: str) -> None:
    """Treat these metadata keys as secret too: their values never appear in logs, reprs or errors.

    For keys the built-in patterns miss (``x-customer-pin``). Keys are matched
    exactly and case-insensitively (gRPC keys are lowercase on the wire). The
    setting is process-wide and only ever adds: a key cannot be made
    non-sensitive again.
    """
    global _added_keys  # noqa: PLW0603  # one process-wide list, replaced atomically
    checked: list[str] = []
    for key in keys:
        if not isinstance(key, str) or not key.strip():
            raise InvalidMetadataError(
                f"add_sensitive_metadata_keys() takes non-empty str keys, got {key!r}"
            )
        checked.append(key.strip().lower())
    _added_keys = _added_keys | frozenset(checked)
    is_sensitive_metadata_key.cache_clear()


@functools.lru_cache(maxsize=_CACHE_SIZE)
def is_sensitive_metadata_key(key: str) -> bool:
    """Whether a key's value must never be shown: credentials, cookies, binary (``-bin``) blobs."""
    lowered = key.lower()
    return (
        lowered.endswith("-bin")
        or lowered in _added_keys
        or any(part in lowered for part in _SENSITIVE_PARTS)
    )


def redacted_metadata(pairs: Iterable[tuple[str, MetadataValue]]) -> dict[str, str]:
    """A printable copy of metadata: sensitive values replaced, other bytes shown as a length."""
    shown: dict[str, str] = {}
    for key, value in pairs:
        if is_sensitive_metadata_key(key):
            shown[key] = REDACTED
        elif isinstance(value, bytes):
            shown[key] = f"<{len(value)} bytes>"
        else:
            shown[key] = value
    return shown


# -- messages -------------------------------------------------------------------------------


def message_text(message: Message) -> str:
    """``message`` as one line of text format, every ``debug_redact`` field shown as [REDACTED].

    protobuf's own ``text_format`` (and ``str(message)``) print those fields in
    clear in Python; C++ and Java's debug strings hide them. Messages whose type
    cannot reach a redacted field (worked out once per type) print as usual.
    """
    if not _may_hold_redacted(message.DESCRIPTOR):
        return text_format.MessageToString(message, as_one_line=True)
    return text_format.MessageToString(
        message, as_one_line=True, message_formatter=_format_redacting
    )


def _format_redacting(message: Message, indent: int, as_one_line: bool) -> str | None:
    """text_format's hook, asked for every (sub)message: ``None`` lets it print as usual.

    A message with redacted fields of its own is printed here, field by field
    in text_format's order; its other fields go back to text_format with this
    hook, so messages nested in them are redacted too.
    """
    descriptor = message.DESCRIPTOR
    if descriptor.full_name == _ANY:
        return _format_any(message)
    if not _prints_itself(descriptor):
        return None
    out = io.StringIO()
    for field, value in message.ListFields():
        if _is_redacted(field):
            name = f"[{field.full_name}]" if field.is_extension else field.name
            out.write(f"{name}: {REDACTED} ")
            continue
        if _is_map(field):
            entry_class = value.GetEntryClass()
            items = [entry_class(key=key, value=value[key]) for key in sorted(value)]
        elif is_repeated(field):
            items = list(value)
        else:
            items = [value]
        for item in items:
            text_format.PrintField(
                field,
                item,
                out,
                as_one_line=True,
                message_formatter=_format_redacting,
            )
    return out.getvalue().rstrip()


def _format_any(message: Any) -> str | None:
    """An ``Any`` of a type this process knows is unpacked (and redacted) by text_format;
    one it does not know would print as raw bytes that may hold a secret, so they are hidden."""
    type_name = message.TypeName()
    try:
        descriptor_pool.Default().FindMessageTypeByName(type_name)
    except KeyError:
        import json  # noqa: PLC0415 - an unknown Any is rare: load json then

        return f"type_url: {json.dumps(message.type_url)} value: {REDACTED}"
    return None


def _is_map(field: FieldDescriptor) -> bool:
    entry = field.message_type
    return entry is not None and entry.GetOptions().map_entry


@functools.lru_cache(maxsize=_CACHE_SIZE * 4)
def _is_redacted(field: FieldDescriptor) -> bool:
    """``[debug_redact = true]``, or a custom field option whose enum value is ``debug_redact``.

    The second form is how C++ lets a company define one annotation
    (``[(acme.sensitivity) = SECRET]``) that redacts wherever it is used.
    """
    options = field.GetOptions()
    if options.debug_redact:
        return True
    for option, value in options.ListFields():
        if option.is_extension and option.enum_type is not None and not is_repeated(option):
            enum_value = option.enum_type.values_by_number.get(value)
            if enum_value is not None and enum_value.GetOptions().debug_redact:
                return True
    return False


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _prints_itself(descriptor: Descriptor) -> bool:
    """Whether a message of this type may have a redacted field of its own.

    Its own fields are known; extensions are only known per message, so an
    extendable type is printed by :func:`_format_redacting` too.
    """
    return bool(descriptor.extension_ranges) or any(
        _is_redacted(field) for field in descriptor.fields
    )


@functools.lru_cache(maxsize=_CACHE_SIZE)
def _may_hold_redacted(descriptor: Descriptor) -> bool:
    """Whether a message of this type can contain a redacted field anywhere inside.

    A walk over the type graph, once per type; an ``Any`` (whose content is
    only known per message) or an extendable type counts as "can".
    """
    seen: set[str] = set()
    pending = [descriptor]
    while pending:
        current = pending.pop()
        if current.full_name in seen:
            continue
        seen.add(current.full_name)
        if current.full_name == _ANY or _prints_itself(current):
            return True
        pending.extend(
            field.message_type for field in current.fields if field.message_type is not None
        )
    return False
