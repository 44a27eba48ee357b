"""grpc.aio's write race (grpc/grpc#36066) at a deadline: the INTERNAL becomes DEADLINE_EXCEEDED.

A bidi call whose deadline ends it while a ``write()`` is in flight sometimes
reports ``INTERNAL: Internal error from Core`` before its done callbacks have
run (seen once in a few thousand runs of test_bidi's deadline test); the race
cannot be provoked on demand, so its correction is checked on the error itself.
"""

from __future__ import annotations

import time
from typing import Any

import grpc

from protoreq.scripted_calls import KnownStatus
from protoreq.transport.aio_status import FirstStatus


class NotYetDone:
    """A call whose done callbacks have not run yet."""

    def add_done_callback(self, callback: Any) -> None:
        self.callback = callback


RACE = KnownStatus(grpc.StatusCode.INTERNAL, "Internal error from Core", (), ())


def test_the_race_after_the_deadline_is_deadline_exceeded() -> None:
    corrected = FirstStatus(NotYetDone(), time.monotonic() - 0.01).correct(RACE)
    assert corrected.code() is grpc.StatusCode.DEADLINE_EXCEEDED


def test_the_race_before_the_deadline_or_without_one_passes_through() -> None:
    assert FirstStatus(NotYetDone(), time.monotonic() + 60).correct(RACE) is RACE
    assert FirstStatus(NotYetDone()).correct(RACE) is RACE


def test_other_errors_pass_through() -> None:
    other = KnownStatus(grpc.StatusCode.INTERNAL, "the server said so", (), ())
    assert FirstStatus(NotYetDone(), time.monotonic() - 1).correct(other) is other
