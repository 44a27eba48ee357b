"""What a server can see of a client's timeout, given how gRPC puts it on the wire.

A client does not send its deadline but the time left, in the ``grpc-timeout``
header: an integer of at most 8 digits and a unit (``n u m S M H``). grpc core
(what grpcio runs) spends far fewer digits than that: it counts whole
milliseconds, keeps about three significant digits and rounds the value *up*
to the next step of its unit (1 ms below 1 s, 10 ms below 10 s, 100 ms below
100 s, 1 s below 1,000 s and so on; "4.991 s left" goes out as ``5S``). The
server adds that to its own clock, so its ``time_remaining()`` may exceed what
the client had left, and the client's timeout, by up to one such step plus the
millisecond each side rounds to. Tests bound what the server saw with
:func:`server_time_remaining_bound`, never with the bare timeout.
"""

from __future__ import annotations

import math

_MILLISECOND_ROUNDING_MS = 1
"""Each side counts the deadline in whole milliseconds, rounding up."""


def encoding_step_ms(milliseconds: int) -> int:
    """The step grpc core rounds a timeout of ``milliseconds`` up to: three significant digits."""
    digits = len(str(max(milliseconds, 1)))
    step: int = 10 ** max(0, digits - 3)
    return step


def server_time_remaining_bound(timeout: float) -> float:
    """The most a server's ``time_remaining()`` can report for a call sent with ``timeout`` s."""
    milliseconds = math.ceil(timeout * 1000) + _MILLISECOND_ROUNDING_MS
    step = encoding_step_ms(milliseconds)
    encoded = math.ceil(milliseconds / step) * step
    return (encoded + _MILLISECOND_ROUNDING_MS) / 1000
