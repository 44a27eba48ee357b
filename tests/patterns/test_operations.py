"""Long-running operations against a real ``google.longrunning.Operations`` server."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import grpc
import pytest
from google.rpc import error_details_pb2

from protoreq import GrpcClient, InvalidRequestError, OperationWaiter, PollPolicy, RequestContext
from tests.patterns.library import library, operations_server
from tests.support.call_log import CallLog

FAST = PollPolicy(initial=0.01, multiplier=2.0, maximum=0.05)


@pytest.fixture
def server() -> Iterator[tuple[str, CallLog]]:
    with operations_server() as found:
        yield found


def export(shelf: str) -> Any:
    return library().export.ExportShelfGrpcRequest(shelf=shelf)


def types() -> Any:
    return library().export.ExportShelfGrpcRequest.operation_types


def methods(log: CallLog) -> list[str]:
    return [call.method for call in log.calls]


def test_done_with_a_result(server: tuple[str, CallLog]) -> None:
    address, log = server
    with GrpcClient(address) as client:
        started = client.call(export("ok:3"))
        assert started.is_success()
        assert not started.message().done
        result = client.wait(started, types(), timeout=20, poll=FAST)
    assert result.is_success()
    assert result.message() == library().export_pb2.ExportShelfResponse(
        uri=f"gs://exports/{started.message().name}", books=3
    )
    assert methods(log) == ["ExportShelf"] + ["GetOperation"] * 3
    assert {call.metadata["x-trace-id"] for call in log.calls} == {started.trace_id()}


def test_done_at_once_needs_no_poll(server: tuple[str, CallLog]) -> None:
    address, log = server
    with GrpcClient(address) as client:
        result = client.wait(client.call(export("instant")), types(), poll=FAST)
    assert result.message().books == 1
    assert methods(log) == ["ExportShelf"]


def test_done_with_an_error_is_a_failed_response_with_details(
    server: tuple[str, CallLog],
) -> None:
    address, _ = server
    with GrpcClient(address) as client:
        result = client.wait(client.call(export("error")), types(), timeout=20, poll=FAST)
    assert not result.is_success()
    assert result.status_code() is grpc.StatusCode.NOT_FOUND
    assert result.details() == "shelf gone"
    [detail] = result.error_details()
    assert isinstance(detail, error_details_pb2.BadRequest)
    assert detail.field_violations[0].field == "shelf"
    assert result.to_dict()["code"] == "NOT_FOUND"


def test_cancelled(server: tuple[str, CallLog]) -> None:
    address, log = server
    with GrpcClient(address) as client:
        waiter = OperationWaiter(client, client.call(export("forever")), types())
        assert waiter.cancel().is_success()
        result = waiter.wait(timeout=20, poll=FAST)
    assert result.status_code() is grpc.StatusCode.CANCELLED
    assert result.details() == "cancelled by the caller"
    assert methods(log) == ["ExportShelf", "CancelOperation", "GetOperation"]


def test_deadline_while_waiting(server: tuple[str, CallLog]) -> None:
    address, log = server
    with GrpcClient(address) as client:
        waiter = OperationWaiter(client, client.call(export("forever")), types())
        result = waiter.wait(timeout=0.3, poll=FAST)
    assert result.status_code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert "not done after 0.3s" in result.details()
    assert methods(log).count("GetOperation") >= 2
    assert not waiter.done()
    metadata = waiter.metadata()  # typed: the method's metadata type
    assert metadata is not None
    # the server counts polls; the last one may have run out of time before its answer came
    assert 1 <= metadata.percent_done <= methods(log).count("GetOperation")


def test_latest_metadata_while_waiting(server: tuple[str, CallLog]) -> None:
    address, _ = server
    seen: list[int] = []
    with GrpcClient(address) as client:
        waiter = OperationWaiter(
            client,
            client.call(export("ok:4")),
            types(),
            on_metadata=lambda metadata: seen.append(metadata.percent_done),
        )
        assert waiter.metadata() is None
        assert waiter.wait(timeout=20, poll=FAST).is_success()
    assert seen == [1, 2, 3, 4]  # each poll, the last one (done) included


def test_a_result_of_the_wrong_type_is_a_clear_failure(server: tuple[str, CallLog]) -> None:
    address, _ = server
    with GrpcClient(address) as client:
        result = client.wait(client.call(export("wrong")), types(), timeout=20, poll=FAST)
    assert result.status_code() is grpc.StatusCode.INTERNAL
    assert "library.ExportShelfResponse" in result.details()


def test_a_failed_start_is_answered_as_it_is() -> None:
    with GrpcClient("127.0.0.1:1", timeout=2) as client:
        started = client.call(export("ok:1"))
        result = client.wait(started, types(), poll=FAST)
    assert result is started
    assert result.status_code() is grpc.StatusCode.UNAVAILABLE


def test_a_failed_poll_ends_the_wait(server: tuple[str, CallLog]) -> None:
    address, _ = server
    from google.longrunning import operations_pb2  # noqa: PLC0415

    with GrpcClient(address) as client:
        result = client.wait(operations_pb2.Operation(name="operations/nope"), types(), poll=FAST)
    assert result.status_code() is grpc.StatusCode.NOT_FOUND


def test_wait_refuses_what_is_not_an_operation(server: tuple[str, CallLog]) -> None:
    with GrpcClient(server[0]) as client, pytest.raises(InvalidRequestError, match="Operation"):
        client.wait(library().export_pb2.ExportShelfResponse(), types())


async def test_wait_async_result_and_error(server: tuple[str, CallLog]) -> None:
    address, log = server
    async with GrpcClient(address) as client:
        with RequestContext.scope(trace_id="lro-trace"):
            started = await client.call_async(export("ok:2"))
            result = await client.wait_async(started, types(), timeout=20, poll=FAST)
        failed = await client.wait_async(
            await client.call_async(export("error")), types(), timeout=20, poll=FAST
        )
    assert result.message().books == 2
    assert failed.status_code() is grpc.StatusCode.NOT_FOUND
    assert [call.metadata["x-trace-id"] for call in log.calls[:3]] == ["lro-trace"] * 3


async def test_cancel_async_and_deadline(server: tuple[str, CallLog]) -> None:
    address, _ = server
    async with GrpcClient(address) as client:
        waiter = OperationWaiter(client, await client.call_async(export("forever")), types())
        timed_out = await waiter.wait_async(timeout=0.2, poll=FAST)
        assert (await waiter.cancel_async()).is_success()
        cancelled = await waiter.wait_async(timeout=20, poll=FAST)
    assert timed_out.status_code() is grpc.StatusCode.DEADLINE_EXCEEDED
    assert cancelled.status_code() is grpc.StatusCode.CANCELLED


def test_methods_without_operation_info_answer_a_plain_operation() -> None:
    untyped = library().export.ExportUntypedGrpcRequest
    assert not hasattr(untyped, "operation_types")
    assert untyped.rpc.response_type.DESCRIPTOR.full_name == "google.longrunning.Operation"
