"""Structured logging: one record per call on the ``protoreq`` logger.

Fields travel as ``extra`` attributes (``rpc_service``, ``rpc_status``, ...)
so any formatter can use them; :class:`JsonLogFormatter` writes them as JSON
lines. Metadata is logged only redacted; payloads only at DEBUG, on their own
child logger ``protoreq.payloads`` (so they can be switched off alone), with
``debug_redact`` fields hidden (see :mod:`protoreq.redaction`).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Final

from google.protobuf.message import Message

from protoreq.metadata import MetadataPairs
from protoreq.redaction import message_text, redacted_metadata

logger: Final = logging.getLogger("protoreq")
logger.addHandler(logging.NullHandler())
payload_logger: Final = logging.getLogger("protoreq.payloads")
"""Messages sent and received, at DEBUG. A child of ``protoreq``: its records reach the same
handlers, and ``logging.getLogger("protoreq.payloads").setLevel(logging.INFO)`` keeps DEBUG
call records while switching payloads off."""

_STANDARD_ATTRIBUTES: Final = frozenset(
    logging.LogRecord("", 0, "", 0, "", None, None).__dict__
) | {"message", "asctime", "taskName"}


def outcome_logged(*, ok: bool) -> bool:
    """Whether a call's outcome would be logged at all (INFO on success, WARNING otherwise).

    The call path asks this first and skips building the record's fields when
    nobody listens; payloads are logged at DEBUG, below both levels, so a
    ``False`` here rules them out too.
    """
    return logger.isEnabledFor(logging.INFO if ok else logging.WARNING)


def log_call_outcome(
    *,
    target: str,
    service: str,
    method: str,
    code_name: str,
    elapsed: float,
    attempt: int,
    trace_id: str | None,
    metadata: MetadataPairs,
    details: str = "",
    extra: Mapping[str, object] | None = None,
) -> None:
    """One record per call (or per attempt, when retried): INFO on success, WARNING otherwise."""
    level = logging.INFO if code_name == "OK" else logging.WARNING
    if not logger.isEnabledFor(level):
        return
    fields: dict[str, object] = {
        "rpc_target": target,
        "rpc_service": service,
        "rpc_method": method,
        "rpc_status": code_name,
        "rpc_duration_ms": round(elapsed * 1000, 3),
        "rpc_attempt": attempt,
        "trace_id": trace_id,
        "rpc_metadata": redacted_metadata(metadata),
    }
    if details:
        fields["rpc_details"] = details
    if extra:
        fields.update(extra)
    logger.log(
        level,
        "%s/%s %s in %.1f ms",
        service,
        method,
        code_name,
        elapsed * 1000,
        extra=fields,
    )


def payloads_logged() -> bool:
    """Whether :func:`log_payload` would log anything now (asked once per stream)."""
    return payload_logger.isEnabledFor(logging.DEBUG)


def log_payload(direction: str, path: str, message: Message, trace_id: str | None) -> None:
    """The message itself, only at DEBUG: payloads can hold personal data.

    Fields the .proto marks ``[debug_redact = true]`` show as ``[REDACTED]``.
    """
    if payload_logger.isEnabledFor(logging.DEBUG):
        payload_logger.debug(
            "%s %s: %s",
            direction,
            path,
            message_text(message),
            extra={"trace_id": trace_id, "rpc_direction": direction},
        )


class JsonLogFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, plus every ``extra`` field."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        for key, value in record.__dict__.items():
            if key not in _STANDARD_ATTRIBUTES and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, default=str, separators=(",", ":"))
