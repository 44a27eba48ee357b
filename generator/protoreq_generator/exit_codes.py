"""The CLI's exit codes: one per class of gRPC status, so scripts can branch on the kind.

| code | meaning |
|---|---|
| 0 | OK (health: SERVING) |
| 1 | local error: bad JSON, unknown service or method, unreadable file, no reflection |
| 2 | usage error (bad option) |
| 3 | the request: INVALID_ARGUMENT, FAILED_PRECONDITION, OUT_OF_RANGE |
| 4 | the resource: NOT_FOUND, ALREADY_EXISTS |
| 5 | the caller: UNAUTHENTICATED, PERMISSION_DENIED |
| 6 | transient: UNAVAILABLE, RESOURCE_EXHAUSTED, ABORTED (a retry may help) |
| 7 | time: DEADLINE_EXCEEDED, CANCELLED |
| 8 | the server lacks it: UNIMPLEMENTED |
| 9 | server fault: UNKNOWN, INTERNAL, DATA_LOSS |
| 10 | health: NOT_SERVING |
| 11 | health: SERVICE_UNKNOWN or UNKNOWN |
"""

from __future__ import annotations

from typing import Final

import grpc

OK: Final = 0
LOCAL_ERROR: Final = 1
USAGE: Final = 2
NOT_SERVING: Final = 10
HEALTH_UNKNOWN: Final = 11

_BY_STATUS: Final = {
    grpc.StatusCode.OK: OK,
    grpc.StatusCode.INVALID_ARGUMENT: 3,
    grpc.StatusCode.FAILED_PRECONDITION: 3,
    grpc.StatusCode.OUT_OF_RANGE: 3,
    grpc.StatusCode.NOT_FOUND: 4,
    grpc.StatusCode.ALREADY_EXISTS: 4,
    grpc.StatusCode.UNAUTHENTICATED: 5,
    grpc.StatusCode.PERMISSION_DENIED: 5,
    grpc.StatusCode.UNAVAILABLE: 6,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 6,
    grpc.StatusCode.ABORTED: 6,
    grpc.StatusCode.DEADLINE_EXCEEDED: 7,
    grpc.StatusCode.CANCELLED: 7,
    grpc.StatusCode.UNIMPLEMENTED: 8,
    grpc.StatusCode.UNKNOWN: 9,
    grpc.StatusCode.INTERNAL: 9,
    grpc.StatusCode.DATA_LOSS: 9,
}


def for_status(code: grpc.StatusCode) -> int:
    """The exit code of an RPC that ended with ``code``."""
    return _BY_STATUS.get(code, 9)
