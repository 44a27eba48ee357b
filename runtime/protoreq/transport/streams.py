"""Starting streaming calls on grpcio: the only streaming code that differs between sync and async.

``GrpcClient`` picks the channel and the multicallable; these functions start
the call, wire the outgoing messages to it and hand the result to the shared
:class:`~protoreq.stream_state.StreamCore`. Streams are sent once, never
retried: their outgoing messages are a one-shot iterable and their answers
may already have reached the consumer.
"""

from __future__ import annotations

import asyncio
from typing import Any

import grpc

from protoreq.metadata import received_metadata
from protoreq.preparation import PreparedCall
from protoreq.response import GrpcResponse
from protoreq.scripted_calls import AsyncScriptedCall, KnownStatus, ScriptedCall
from protoreq.status import undecodable_reply
from protoreq.stream_state import CANCELLED_WITH_TASK, StreamCore, task_is_cancelled
from protoreq.streaming import AsyncGrpcStream, GrpcStream
from protoreq.transport.aio_status import FirstStatus
from protoreq.transport.fast_paths import compression_in_metadata
from protoreq.transport.outgoing import (
    OutgoingMessages,
    async_sender,
    async_source,
    send_all,
    sync_sender,
    sync_source,
)

CallOptions = dict[str, Any]

_CANCELLED_UNDER_US = "the call was cancelled on the client side (its client was closed?)"


def _ended_core(response: GrpcResponse[Any]) -> StreamCore:
    core = StreamCore(method_path=response.method_path(), trace_id=response.trace_id())
    core.settle(response)  # no prepared call: prepare() has logged it already
    return core


_NEVER_READ = KnownStatus(grpc.StatusCode.OK, "", (), ())


def ended_stream(response: GrpcResponse[Any]) -> GrpcStream[Any]:
    """A stream that ended before it started: the enclosing deadline was already spent."""
    return GrpcStream(_ended_core(response), ScriptedCall((), _NEVER_READ))


def ended_stream_async(response: GrpcResponse[Any]) -> AsyncGrpcStream[Any]:
    """:func:`ended_stream` for ``stream_async()``."""
    return AsyncGrpcStream(_ended_core(response), AsyncScriptedCall((), _NEVER_READ))


def open_stream(
    multicallable: Any, prepared: PreparedCall, options: CallOptions
) -> GrpcStream[Any]:
    """Start a server-streaming or bidi call on a sync channel.

    grpcio raises (rather than returning a failed call) when it cannot even
    start one, e.g. a request it cannot serialize: that is a failed stream too.
    """
    if prepared.message is not None:
        try:
            call = multicallable(
                prepared.message,
                timeout=prepared.remaining(),
                metadata=prepared.metadata,
                **options,
            )
        except grpc.RpcError as error:
            prepared.attempt = 1
            return ended_stream(prepared.failed(error))
        return GrpcStream(StreamCore.for_call(prepared, None), call)
    outgoing = OutgoingMessages(prepared)
    source = sync_source(prepared)
    call = multicallable(
        sync_sender(source, outgoing),
        timeout=prepared.remaining(),
        metadata=prepared.metadata,
        **options,
    )
    outgoing.attach(call.cancel)
    return GrpcStream(StreamCore.for_call(prepared, outgoing), call)


def open_stream_async(
    multicallable: Any, prepared: PreparedCall, options: CallOptions
) -> AsyncGrpcStream[Any]:
    """Start a server-streaming or bidi call on the running loop's channel."""
    if prepared.message is not None:
        call = multicallable(
            prepared.message, timeout=prepared.remaining(), metadata=prepared.metadata, **options
        )
        return AsyncGrpcStream(StreamCore.for_call(prepared, None), call)
    outgoing = OutgoingMessages(prepared)
    source = async_source(prepared)
    call = multicallable(timeout=prepared.remaining(), metadata=prepared.metadata, **options)
    first_status = FirstStatus(call, prepared.deadline)
    outgoing.attach(call.cancel)
    sender = asyncio.get_running_loop().create_task(send_all(call, source, outgoing))
    return AsyncGrpcStream(StreamCore.for_call(prepared, outgoing), call, sender, first_status)


def call_client_streaming(
    multicallable: Any, prepared: PreparedCall, options: CallOptions
) -> GrpcResponse[Any]:
    """Send a client-streaming request on a sync channel and wait for its one answer."""
    outgoing = OutgoingMessages(prepared)
    source = sync_source(prepared)
    core = StreamCore.for_call(prepared, outgoing)
    metadata, keywords = compression_in_metadata(prepared.metadata, options)
    future = multicallable.future(
        sync_sender(source, outgoing), timeout=prepared.remaining(), metadata=metadata, **keywords
    )
    outgoing.attach(future.cancel)
    try:
        reply = future.result()
    except grpc.FutureCancelledError:
        core.finish_cancelled(_CANCELLED_UNDER_US)  # by our outgoing error, re-raised below
    except grpc.RpcError as error:
        core.finish_error(error)
    except BaseException:
        future.cancel()  # interrupted while waiting: do not leave the call running
        core.finish_cancelled()
        raise
    else:
        core.received_message(reply)
        core.finish_ok(
            received_metadata(future.initial_metadata()),
            received_metadata(future.trailing_metadata()),
            message=reply,
        )
    core.raise_outgoing_error()
    return core.outcome()


async def call_client_streaming_async(
    multicallable: Any, prepared: PreparedCall, options: CallOptions
) -> GrpcResponse[Any]:
    """Send a client-streaming request on the running loop's channel; await its answer."""
    outgoing = OutgoingMessages(prepared)
    source = async_source(prepared)
    core = StreamCore.for_call(prepared, outgoing)
    call = multicallable(
        async_sender(source, outgoing),
        timeout=prepared.remaining(),
        metadata=prepared.metadata,
        **options,
    )
    first_status = FirstStatus(call, prepared.deadline)
    outgoing.attach(call.cancel)
    try:
        reply = await call
        initial = await call.initial_metadata()
        trailing = await call.trailing_metadata()
    except grpc.RpcError as error:
        core.finish_error(first_status.correct(error))
    except asyncio.CancelledError:
        if task_is_cancelled():
            core.finish_cancelled(CANCELLED_WITH_TASK)
            raise  # our caller cancelled us: grpc.aio has cancelled the call with it
        core.finish_cancelled(_CANCELLED_UNDER_US)
    else:
        if reply is None:  # grpc.aio's answer to a reply that did not parse: as sync grpcio does
            core.finish_error(undecodable_reply(initial, trailing))
        else:
            core.received_message(reply)
            core.finish_ok(received_metadata(initial), received_metadata(trailing), message=reply)
    core.raise_outgoing_error()
    return core.outcome()
