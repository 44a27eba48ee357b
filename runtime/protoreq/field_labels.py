"""Whether a field is repeated or required, on every protobuf the runtime supports.

protobuf 5.29 added ``FieldDescriptor.is_repeated`` / ``is_required`` and
protobuf 7 dropped ``label``; the declared floor (5.26) has only ``label``.
"""

from __future__ import annotations

from typing import Any


def is_repeated(field: Any) -> bool:
    repeated = getattr(field, "is_repeated", None)
    if repeated is not None:
        return bool(repeated)
    return bool(field.label == field.LABEL_REPEATED)


def is_required(field: Any) -> bool:
    required = getattr(field, "is_required", None)
    if required is not None:
        return bool(required)
    return bool(field.label == field.LABEL_REQUIRED)
