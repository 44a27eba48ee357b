"""Hedged calls against a real server whose answers are slow, failing or fast, sync and async.

GetUser is NO_SIDE_EFFECTS in user.proto (a client's hedging policy covers it);
CreateUser is not (hedged only when the request asks). Times are asserted with
the tolerance a busy 2-core machine needs: a hedge that works answers in about
``hedging_delay`` + one round trip, against a slow answer of seconds.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import grpc
import pytest

from protoreq import (
    USE_CLIENT_DEFAULT,
    GrpcClient,
    GrpcResponse,
    HedgingPolicy,
    Interceptor,
    RetryPolicy,
    RetryThrottle,
    UseClientDefault,
)
from protoreq.interceptors import ClientCall
from tests.hedging.slow_server import Answer, ScriptedUsers, serving
from tests.resilience.requests import CreateUser, GetUser
from tests.runtime.conftest import send

__all__ = ["send"]

Send = Callable[[GrpcClient, Any], GrpcResponse[Any]]
SLOW = 3.0  # seconds: a hedged call must never wait for this
HEDGE = HedgingPolicy(max_attempts=2, hedging_delay=0.1)  # exactly two: a slow connect adds none


class HedgedCreateUser(CreateUser):
    """A non-idempotent request that opts into hedging itself."""

    def __init__(self, policy: HedgingPolicy | UseClientDefault | None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._hedging = policy

    def hedging_policy(self) -> HedgingPolicy | UseClientDefault | None:
        return self._hedging


@pytest.fixture
def users() -> ScriptedUsers:
    return ScriptedUsers()


@pytest.fixture
def target(users: ScriptedUsers) -> Iterator[str]:
    with serving(users) as target:
        yield target


def wait_for(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    until = time.monotonic() + seconds
    while time.monotonic() < until:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


def test_a_slow_first_answer_is_overtaken_by_a_hedge_and_cancelled_at_the_server(
    users: ScriptedUsers, target: str, send: Send
) -> None:
    users.script = [Answer(sleep=SLOW)]
    with GrpcClient(target, hedging=HEDGE) as client:
        started = time.monotonic()
        response = send(client, GetUser())
        elapsed = time.monotonic() - started
    assert response.is_success(), response
    assert response.message().id == "arrival-1"  # the hedge's answer
    assert response.attempts() == 2
    assert elapsed < 1.5  # 0.1 s delay + a fast answer; the slow one would take 3 s
    assert wait_for(users.arrivals[0].cancelled.is_set)  # the loser was cancelled at the server
    assert users.arrivals[0].attempt_header is None
    assert users.arrivals[1].attempt_header == "1"  # A6's grpc-previous-rpc-attempts


def test_a_fast_answer_sends_no_hedge(users: ScriptedUsers, target: str, send: Send) -> None:
    with GrpcClient(target, hedging=HedgingPolicy(max_attempts=3, hedging_delay=1.0)) as client:
        response = send(client, GetUser())
    assert response.is_success()
    assert response.attempts() == 1
    time.sleep(0.2)
    assert users.count() == 1


def test_non_idempotent_rpcs_are_not_hedged_by_the_client_default(
    users: ScriptedUsers, target: str, send: Send
) -> None:
    users.script = [Answer(sleep=0.6)]
    with GrpcClient(target, hedging=HedgingPolicy(hedging_delay=0.05)) as client:
        response = send(client, CreateUser())
    assert response.is_success()
    assert response.attempts() == 1
    assert users.count() == 1


def test_a_request_can_opt_into_hedging_or_out_of_it(
    users: ScriptedUsers, target: str, send: Send
) -> None:
    users.script = [Answer(sleep=SLOW)]
    with GrpcClient(target) as client:  # no client default
        response = send(client, HedgedCreateUser(HedgingPolicy(max_attempts=2, hedging_delay=0.05)))
        assert response.is_success()
        assert response.attempts() == 2
        users.script = [*users.script, *users.script, Answer(sleep=0.4)]
    with GrpcClient(target, hedging=HedgingPolicy(hedging_delay=0.05)) as client:
        response = send(client, HedgedCreateUser(None))  # None: never hedged
    assert response.is_success()
    assert response.attempts() == 1


def test_a_request_with_its_own_retry_policy_is_retried_not_hedged(
    users: ScriptedUsers, target: str, send: Send
) -> None:
    users.script = [Answer(code=grpc.StatusCode.UNAVAILABLE)]
    retry = RetryPolicy(max_attempts=2, initial_backoff=0.01)
    with GrpcClient(target, hedging=HedgingPolicy(hedging_delay=5.0)) as client:
        response = send(client, GetUser(retry=retry))
    assert response.is_success()
    assert response.attempts() == 2
    assert users.arrivals[1].attempt_header is None  # a retry, not a hedge


def test_a_fatal_status_is_the_answer_and_cancels_the_other_attempts(
    users: ScriptedUsers, target: str, send: Send
) -> None:
    users.script = [Answer(sleep=SLOW), Answer(sleep=0.1, code=grpc.StatusCode.NOT_FOUND)]
    with GrpcClient(target, hedging=HedgingPolicy(max_attempts=2, hedging_delay=0.05)) as client:
        response = send(client, GetUser())
    assert response.status_code() is grpc.StatusCode.NOT_FOUND
    assert response.attempts() == 2
    assert wait_for(users.arrivals[0].cancelled.is_set)


def test_a_non_fatal_failure_sends_the_next_hedge_at_once(
    users: ScriptedUsers, target: str, send: Send
) -> None:
    users.script = [Answer(code=grpc.StatusCode.UNAVAILABLE)] * 2
    policy = HedgingPolicy(max_attempts=3, hedging_delay=SLOW)
    with GrpcClient(target, hedging=policy) as client:
        started = time.monotonic()
        response = send(client, GetUser())
    assert response.is_success()
    assert response.attempts() == 3
    assert time.monotonic() - started < 1.5  # not three hedging delays


def test_when_every_attempt_fails_non_fatally_the_last_failure_is_the_answer(
    users: ScriptedUsers, target: str, send: Send
) -> None:
    users.default = Answer(code=grpc.StatusCode.UNAVAILABLE)
    with GrpcClient(target, hedging=HedgingPolicy(max_attempts=3, hedging_delay=0.01)) as client:
        response = send(client, GetUser())
    assert response.status_code() is grpc.StatusCode.UNAVAILABLE
    assert response.attempts() == 3
    assert users.count() == 3


def test_server_pushback_stops_or_delays_hedges(
    users: ScriptedUsers, target: str, send: Send
) -> None:
    users.script = [Answer(code=grpc.StatusCode.UNAVAILABLE, pushback_ms="-1")]
    with GrpcClient(target, hedging=HedgingPolicy(max_attempts=3, hedging_delay=SLOW)) as client:
        stopped = send(client, GetUser())
        assert stopped.status_code() is grpc.StatusCode.UNAVAILABLE
        assert stopped.attempts() == 1
        users.script = [
            *users.script,
            Answer(code=grpc.StatusCode.UNAVAILABLE, pushback_ms="400"),
        ]
        response = send(client, GetUser())
    assert response.is_success()
    assert response.attempts() == 2
    assert users.arrivals[2].at - users.arrivals[1].at >= 0.35  # waited as the server asked


def test_the_deadline_bounds_every_hedge(users: ScriptedUsers, target: str, send: Send) -> None:
    users.default = Answer(sleep=SLOW)
    policy = HedgingPolicy(max_attempts=3, hedging_delay=0.05)
    with GrpcClient(target, hedging=policy, timeout=0.5) as client:
        started = time.monotonic()
        response = send(client, GetUser())
        elapsed = time.monotonic() - started
    assert response.status_code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert response.attempts() == 3
    assert 0.4 < elapsed < 2.0


def test_an_exhausted_retry_budget_stops_hedging(
    users: ScriptedUsers, target: str, send: Send
) -> None:
    users.default = Answer(code=grpc.StatusCode.UNAVAILABLE)
    throttle = RetryThrottle(max_tokens=4, token_ratio=0.1)  # hedges stop at 2 tokens or fewer
    policy = HedgingPolicy(max_attempts=3, hedging_delay=SLOW)  # hedges follow failures only
    with GrpcClient(target, hedging=policy, retry_throttle=throttle) as client:
        first = send(client, GetUser())  # 4 -> 3 tokens: a hedge; 3 -> 2: no more
        later = send(client, GetUser())  # 2 -> 1: no hedge
    assert first.attempts() == 2
    assert later.attempts() == 1
    assert client.retry_budget is not None
    assert client.retry_budget.tokens == 1


def test_hedges_spread_over_the_pool(users: ScriptedUsers, target: str, send: Send) -> None:
    users.script = [Answer(sleep=SLOW)]
    with GrpcClient(target, hedging=HEDGE, pool_size=2) as client:
        response = send(client, GetUser())
    assert response.is_success()
    assert users.arrivals[0].peer != users.arrivals[1].peer  # two connections


class AttemptLog(Interceptor):
    def __init__(self) -> None:
        self.started: list[int] = []
        self.ended: list[tuple[int, grpc.StatusCode]] = []
        self.calls: list[tuple[grpc.StatusCode, int]] = []

    def on_attempt_start(self, call: ClientCall) -> None:
        self.started.append(call.attempt)

    def on_attempt_end(self, call: ClientCall, outcome: GrpcResponse[Any]) -> None:
        self.ended.append((call.attempt, outcome.status_code()))

    def on_end(self, call: ClientCall, outcome: GrpcResponse[Any]) -> None:
        self.calls.append((outcome.status_code(), outcome.attempts()))


def test_interceptors_see_the_call_once_and_every_hedge_as_an_attempt(
    users: ScriptedUsers, target: str, send: Send
) -> None:
    users.script = [Answer(sleep=SLOW)]
    log = AttemptLog()
    with GrpcClient(target, hedging=HEDGE, interceptors=[log]) as client:
        response = send(client, GetUser())
    assert response.is_success()
    assert log.started == [1, 2]
    assert sorted(log.ended) == [(1, grpc.StatusCode.CANCELLED), (2, grpc.StatusCode.OK)]
    assert log.calls == [(grpc.StatusCode.OK, 2)]


class CountingGrpcInterceptor(grpc.UnaryUnaryClientInterceptor):
    """grpcio's own sync interceptor: hedges go through ``future()`` on the channel."""

    def __init__(self) -> None:
        self.calls = 0

    def intercept_unary_unary(self, continuation: Any, details: Any, request: Any) -> Any:
        self.calls += 1
        return continuation(details, request)


def test_hedges_go_through_grpcio_interceptors_on_the_channel(
    users: ScriptedUsers, target: str
) -> None:
    users.script = [Answer(sleep=SLOW)]
    counting = CountingGrpcInterceptor()
    with GrpcClient(target, hedging=HEDGE, interceptors=[counting]) as client:
        response = client.call(GetUser())
    assert response.is_success()
    assert response.attempts() == 2
    assert counting.calls == 2


def test_each_attempt_is_logged(
    users: ScriptedUsers, target: str, send: Send, caplog: pytest.LogCaptureFixture
) -> None:
    users.script = [Answer(sleep=SLOW)]
    with caplog.at_level(logging.DEBUG, logger="protoreq"), GrpcClient(target, hedging=HEDGE) as c:
        send(c, GetUser())
    messages = [record.getMessage() for record in caplog.records]
    assert any("attempt 1 cancelled, attempt 2 answered first" in m for m in messages), messages


def test_a_cancelled_async_caller_cancels_every_hedge(users: ScriptedUsers, target: str) -> None:
    users.default = Answer(sleep=SLOW)

    async def main() -> None:
        policy = HedgingPolicy(max_attempts=3, hedging_delay=0.1)
        async with GrpcClient(target, hedging=policy) as client:
            task = asyncio.ensure_future(client.call_async(GetUser()))
            for _ in range(500):  # until all three attempts have reached the server
                if users.count() == 3:
                    break
                await asyncio.sleep(0.01)
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(main())
    assert users.count() == 3
    assert all(wait_for(arrival.cancelled.is_set) for arrival in users.arrivals)


def test_hedging_policy_checks_its_settings() -> None:
    with pytest.raises(ValueError, match="between 1 and 5"):
        HedgingPolicy(max_attempts=6)
    with pytest.raises(ValueError, match="hedging_delay"):
        HedgingPolicy(hedging_delay=-1)
    with pytest.raises(ValueError, match="OK cannot"):
        HedgingPolicy(non_fatal_status_codes=[grpc.StatusCode.OK])
    with pytest.raises(TypeError, match="HedgingPolicy"):
        GrpcClient("127.0.0.1:1", hedging=RetryPolicy())  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="hedged or retried"):
        GrpcClient(
            "127.0.0.1:1", hedging=HedgingPolicy(), retry=None, options=[("grpc.enable_retries", 1)]
        )
    assert "hedging=HedgingPolicy(max_attempts=2" in repr(GrpcClient("127.0.0.1:1", hedging=HEDGE))
    assert USE_CLIENT_DEFAULT is GetUser().hedging_policy()


def test_generated_requests_take_the_client_default(
    users: ScriptedUsers, target: str, send: Send
) -> None:
    from protos.user_protoreq import CreateUserGrpcRequest, GetUserGrpcRequest  # noqa: PLC0415

    users.script = [Answer(sleep=SLOW), Answer(), Answer(sleep=0.5)]
    with GrpcClient(target, hedging=HEDGE) as client:
        hedged = send(client, GetUserGrpcRequest(user_id="1"))
        alone = send(client, CreateUserGrpcRequest(name="Ana"))
    assert hedged.is_success()
    assert hedged.attempts() == 2
    assert alone.is_success()
    assert alone.attempts() == 1
