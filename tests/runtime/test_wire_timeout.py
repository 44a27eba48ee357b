"""A server's ``time_remaining()`` may exceed the client's timeout: gRPC rounds it up on the wire.

tests/support/deadlines.py explains the encoding; every test that bounds what a
server saw of a timeout uses its bound, so none fails when the rounding lands
above the timeout (``assert 5.008678436279297 <= 5`` was such a failure).
"""

from __future__ import annotations

import pytest

from protoreq import NO_RETRY, GrpcClient
from tests.runtime.conftest import Send
from tests.runtime.requests import GetUser
from tests.support.call_log import CallLog
from tests.support.deadlines import encoding_step_ms, server_time_remaining_bound


@pytest.mark.parametrize(
    ("milliseconds", "step"),
    [(1, 1), (999, 1), (1000, 10), (9999, 10), (10_000, 100), (99_999, 100), (100_000, 1000)],
)
def test_encoding_keeps_three_significant_digits(milliseconds: int, step: int) -> None:
    assert encoding_step_ms(milliseconds) == step


def test_bound_covers_one_step_and_the_millisecond_rounding() -> None:
    assert server_time_remaining_bound(0.4) == pytest.approx(0.402)
    assert server_time_remaining_bound(5) == pytest.approx(5.011)
    assert server_time_remaining_bound(60) == pytest.approx(60.101)


# Just under a whole unit, the encoding rounds up the most: 4.991 s goes out as "5S",
# 59.95 s as "60S", 0.3995 s as "400m". The server then sees more than the timeout.
@pytest.mark.parametrize("timeout", [0.3995, 4.991, 59.95])
def test_server_sees_at_most_the_bound(
    target: str, send: Send, call_log: CallLog, timeout: float
) -> None:
    with GrpcClient(target, retry=NO_RETRY) as client:
        assert send(client, GetUser("1", timeout=timeout)).is_success()

    remaining = call_log.last().time_remaining
    assert remaining is not None
    assert timeout - 1 < remaining <= server_time_remaining_bound(timeout)
