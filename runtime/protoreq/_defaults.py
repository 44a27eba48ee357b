"""What every request starts from: the sentinel that lets ``None`` keep its meaning, and the
name of the trace-id header.

``timeout=None`` means "no deadline" in gRPC, so "not given, use the client's
default" needs a value of its own, as in httpx's ``USE_CLIENT_DEFAULT``.
"""

from __future__ import annotations

import enum
from typing import Final


class UseClientDefault(enum.Enum):
    """The type of :data:`USE_CLIENT_DEFAULT`; an enum so ``is`` checks narrow for mypy."""

    USE_CLIENT_DEFAULT = "USE_CLIENT_DEFAULT"

    def __repr__(self) -> str:
        return "USE_CLIENT_DEFAULT"


USE_CLIENT_DEFAULT: Final = UseClientDefault.USE_CLIENT_DEFAULT
"""Leave this setting to the client (its ``timeout=``, ``retry=`` ...)."""


TRACE_ID_KEY: Final = "x-trace-id"
"""The metadata key that carries a call's trace id (here, not in :mod:`protoreq.tracing`, so
that request classes can name it without importing the tracing machinery)."""
