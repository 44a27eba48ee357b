"""Everything about a call except its I/O, shared by the sync and async paths.

``GrpcClient.call`` and ``call_async`` (and the streaming methods) differ only
in how they wait on grpcio; checking the request, building metadata, computing
the deadline, deciding on retries, building the response and logging all live
here, once.

Speed: :func:`prepare` runs for every call, so whatever depends only on the
request's class is worked out once per class (:class:`CallPlan`), and the
common case — a generated request with the default ``metadata()``,
``timeout()``, ``retry_policy()`` and ``compression()`` — reads its settings
straight from the instance instead of calling those methods. Subclasses that
override any of them take the general road, which calls them as before.
"""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Final

import grpc
from google.protobuf.message import Message

from protoreq._defaults import USE_CLIENT_DEFAULT
from protoreq._timeouts import UNBOUNDED_SECONDS, is_unbounded
from protoreq.context import current_scope, new_trace_id
from protoreq.errors import InvalidRequestError
from protoreq.field_labels import is_required
from protoreq.generated import GeneratedGrpcRequest, GeneratedServerStreamingGrpcRequest
from protoreq.logs import log_call_outcome, log_payload, outcome_logged
from protoreq.logs import logger as _logger
from protoreq.metadata import Metadata, MetadataPairs, MetadataValue, outgoing_metadata
from protoreq.method import Cardinality, RpcMethod, resolve_method
from protoreq.request import (
    REQUEST_BASES,
    AnyRequest,
    BidiStreamingGrpcRequest,
    ClientStreamingGrpcRequest,
    GrpcRequest,
    ServerStreamingGrpcRequest,
    _RequestDefaults,
    _RequestSettings,
)
from protoreq.response import GrpcResponse, ReceivedMetadata
from protoreq.retry import RetryPolicy
from protoreq.status import LocalRpcError, response_from_error
from protoreq.tracing import OTEL_MODULE, TRACE_ID_KEY, with_trace_headers, with_w3c_headers

if TYPE_CHECKING:
    from protoreq.hedging import HedgingPolicy

_INFO: Final = logging.INFO
_new_object: Final = object.__new__


@dataclass(frozen=True, slots=True)
class CallDefaults:
    """The client-wide settings a request falls back on."""

    target: str
    timeout: float | None
    retry: RetryPolicy | None
    log_payloads: bool = True
    """Whether this client's messages may be logged at DEBUG (``protoreq.payloads``)."""
    explain: Callable[[str], str] | None = None
    """Adds a hint to the details of an UNAVAILABLE status (secure channels: TLS trouble)."""
    hedging: HedgingPolicy | None = None
    """Hedges the RPCs the client's default retry would cover, instead of retrying them."""
    idempotent_retry: RetryPolicy | None = dataclasses.field(init=False, default=None)
    """The retry policy of calls the defaults cover: ``retry``, unless the client hedges them."""

    def __post_init__(self) -> None:
        object.__setattr__(self, "idempotent_retry", self.retry if self.hedging is None else None)


@dataclass(slots=True)
class PreparedCall:
    """A checked request, ready to send (possibly several times)."""

    rpc: RpcMethod[Any, Any]
    request: AnyRequest
    message: Message | None  # None for client-streaming and bidi: they send request.messages()
    metadata: MetadataPairs
    deadline: float | None  # time.monotonic() timestamp
    trace_id: str
    retry: RetryPolicy | None
    defaults: CallDefaults  # the client's: its target, and whether payloads may be logged
    started: float
    attempt: int = 0
    retries_since_pushback: int = 0  # the backoff grows with it; server pushback resets it
    compression: grpc.Compression | None = None  # the request's own choice; None: the client's
    backoff: float = 0.0
    """Seconds the retry layer waited before this attempt (0 before the first); for hooks.
    A hedge's is the time since the attempt before it went out."""
    hedging: HedgingPolicy | None = None
    """Set: the call is hedged (and ``retry`` is not used)."""
    _state: dict[object, Any] | None = None
    _when_done: list[Callable[[GrpcResponse[Any]], object]] | None = None

    # -- what interceptors see and change (protoreq.interceptors.ClientCall) -------------------

    @property
    def state(self) -> dict[object, Any]:
        """Per-call storage for interceptors: key it by the interceptor (``call.state[self]``)."""
        if self._state is None:
            self._state = {}
        return self._state

    def timeout(self) -> float | None:
        """Seconds left before the call's deadline (``None``: no deadline)."""
        return self.remaining()

    def set_metadata(self, key: str, value: MetadataValue) -> None:
        """Send ``key: value`` instead of any value ``key`` had; checked as the request's are."""
        (pair,) = outgoing_metadata(((key, value),))
        self.metadata = (*(p for p in self.metadata if p[0] != key), pair)

    def add_metadata(self, key: str, value: MetadataValue) -> None:
        """Send ``key: value`` besides the values ``key`` already has."""
        self.metadata = (*self.metadata, *outgoing_metadata(((key, value),)))

    def set_trace_id(self, trace_id: str) -> None:
        """Make ``trace_id`` the call's: sent as ``x-trace-id``, in its log records and response."""
        self.set_metadata(TRACE_ID_KEY, trace_id)
        self.trace_id = trace_id

    def reject(self, code: grpc.StatusCode, details: str) -> GrpcResponse[Any]:
        """A failed response decided here, without sending: return it from ``on_start``."""
        return self.failed(LocalRpcError(code, details))

    def add_done_callback(self, callback: Callable[[GrpcResponse[Any]], object]) -> None:
        """Run ``callback(outcome)`` when a stream ends; the last added runs first."""
        if self._when_done is None:
            self._when_done = []
        self._when_done.append(callback)

    def done(self, outcome: GrpcResponse[Any]) -> None:
        """The stream has ended with ``outcome``: run the done callbacks, once."""
        callbacks = self._when_done
        if callbacks:
            self._when_done = None
            for callback in reversed(callbacks):
                callback(outcome)

    # -- the call path's own ------------------------------------------------------------------

    @property
    def target(self) -> str:
        return self.defaults.target

    @property
    def explain(self) -> Callable[[str], str] | None:
        """The client's hint for UNAVAILABLE details (see :class:`CallDefaults`)."""
        return self.defaults.explain

    def remaining(self) -> float | None:
        """The timeout for the next attempt: what is left of the overall deadline."""
        return None if self.deadline is None else self.deadline - time.monotonic()

    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def answered(self, reply: Message, received: ReceivedMetadata) -> GrpcResponse[Any]:
        """The OK response to a call made by the client; metadata is converted only if asked for."""
        response: GrpcResponse[Any] = GrpcResponse.received(
            self.rpc.path,
            reply,
            received,
            time.monotonic() - self.started,
            self.trace_id,
            self.attempt,
        )
        if _logger.isEnabledFor(_INFO):  # else nothing is logged, payloads included
            self.log(response, reply=reply)
        return response

    def succeeded(
        self, message: Message, initial: Metadata, trailing: Metadata
    ) -> GrpcResponse[Any]:
        """The OK response, from metadata already at hand (the testing fakes have it so)."""
        response: GrpcResponse[Any] = GrpcResponse(
            method_path=self.rpc.path,
            code=grpc.StatusCode.OK,
            message=message,
            initial_metadata=initial,
            trailing_metadata=trailing,
            elapsed=self.elapsed(),
            trace_id=self.trace_id,
            attempts=self.attempt,
        )
        if _logger.isEnabledFor(logging.INFO):
            self.log(response, reply=message)
        return response

    def cancelled_locally(self) -> GrpcResponse[Any]:
        """grpc.aio reports a call cut off by closing its channel as ``CancelledError``."""
        return self.failed(
            LocalRpcError(grpc.StatusCode.CANCELLED, "the call was cancelled: its channel closed")
        )

    def failed(self, error: BaseException) -> GrpcResponse[Any]:
        response = response_from_error(
            error,
            method_path=self.rpc.path,
            elapsed=self.elapsed(),
            trace_id=self.trace_id,
            attempts=self.attempt,
            explain=self.explain,
        )
        if outcome_logged(ok=False):
            self.log(response)
        return response

    def log(
        self,
        response: GrpcResponse[Any],
        extra: dict[str, object] | None = None,
        reply: Message | None = None,
    ) -> None:
        """The call's record (and its payloads at DEBUG), formatted only if a logger wants it."""
        if self.defaults.log_payloads:
            if self.message is not None:
                log_payload("sent", self.rpc.path, self.message, self.trace_id)
            if reply is not None:
                log_payload("received", self.rpc.path, reply, self.trace_id)
        log_call_outcome(
            target=self.target,
            service=self.rpc.service,
            method=self.rpc.method,
            code_name=response.status_code().name,
            elapsed=response.elapsed(),
            attempt=self.attempt,
            trace_id=self.trace_id,
            metadata=self.metadata,
            details=response.details(),
            extra=extra,
        )


def _inherits(cls: type, name: str, owner: type) -> bool:
    """Whether ``cls`` uses ``owner``'s own ``name`` method, not an override."""
    return getattr(cls, name, None) is getattr(owner, name)


class CallPlan:
    """What sending requests of one class needs that depends only on the class.

    Worked out on the first call with a class and stored on the class itself
    (see :func:`plan_for`), so later calls do no isinstance checks against the
    abstract bases, no cardinality checks and, for generated classes, no
    descriptor lookups. Storing it on the class rather than in a registry
    keeps classes made at run time collectable.
    """

    __slots__ = (
        "checks_required",
        "client_retry",
        "owner",
        "reads_message",
        "reads_settings",
        "rpc",
        "sends_message",
    )

    def __init__(self, cls: type, request: object, streaming_response: bool) -> None:
        self.owner = cls  # a subclass inherits the attribute: it must not use its parent's plan
        rpc: RpcMethod[Any, Any] | None = getattr(cls, "rpc", None)
        if rpc is not None:
            _check_kind(request, rpc, streaming_response=streaming_response)  # type: ignore[arg-type]
        self.rpc = rpc
        """The class's static ``rpc``, already checked against the call kind; ``None`` for
        hand-written requests, which name their RPC per instance: resolved per call."""
        self.sends_message = isinstance(request, GrpcRequest | ServerStreamingGrpcRequest)
        """``message()`` (unary and server-streaming) rather than ``messages()``."""
        self.reads_message = self.sends_message and (
            _inherits(cls, "message", GeneratedGrpcRequest)
            or _inherits(cls, "message", GeneratedServerStreamingGrpcRequest)
        )
        """``message()`` is the generated bases' own: read the stored message."""
        self.reads_settings = (
            isinstance(request, _RequestDefaults)
            and _inherits(cls, "metadata", _RequestDefaults)
            and _inherits(cls, "timeout", _RequestDefaults)
            and _inherits(cls, "retry_policy", _RequestSettings)
            and _inherits(cls, "compression", _RequestSettings)
            and _inherits(cls, "hedging_policy", _RequestSettings)
        )
        """The five settings are ``BaseGrpcRequest``'s own: read the instance's fields."""
        self.client_retry = (
            rpc is not None
            and rpc.cardinality is Cardinality.UNARY_UNARY
            and rpc.idempotency.safe_to_retry
        )
        """With ``reads_settings`` and a static ``rpc``: whether the client's default retry
        policy applies (only to RPCs the proto marks safe to repeat)."""
        self.checks_required = self.sends_message and (
            rpc is None or has_required_fields(rpc.request_type.DESCRIPTOR)
        )
        """The message may miss a proto2 ``required`` field: check before sending, since
        grpc.aio would send such a message empty (sync grpcio answers INTERNAL). Hand-written
        requests name their RPC per call, so theirs are always checked."""


_PLAN_ATTRIBUTES: Final = ("_protoreq_call_plan", "_protoreq_stream_plan")
"""Where :func:`plan_for` keeps a class's plans: one for ``call()``, one for ``stream()``."""


def plan_for(request: object, streaming_response: bool) -> CallPlan:
    """The :class:`CallPlan` of ``type(request)``; misuse raises here, before anything is sent."""
    cls = type(request)
    attribute = _PLAN_ATTRIBUTES[streaming_response]
    plan: CallPlan | None = getattr(cls, attribute, None)
    if plan is not None and plan.owner is cls:
        return plan
    if not isinstance(request, REQUEST_BASES):
        # A bare protobuf message is named by its type only: its text may hold secrets.
        shown = "" if isinstance(request, Message) else f": {request!r:.80}"
        raise InvalidRequestError(
            f"expected a protoreq request (a GrpcRequest/BaseGrpcRequest subclass or a generated "
            f"*GrpcRequest), got {cls.__name__}{shown}"
        )
    plan = CallPlan(cls, request, streaming_response)
    with contextlib.suppress(AttributeError, TypeError):  # else: a fresh plan per call
        setattr(cls, attribute, plan)
    return plan


def prepare(  # noqa: PLR0915  # one function on purpose: it runs for every call
    request: object, defaults: CallDefaults, *, streaming_response: bool
) -> PreparedCall | GrpcResponse[Any]:
    """Check ``request`` and compute what sending it needs.

    Misuse raises :class:`InvalidRequestError` (or ``InvalidMetadataError``)
    before anything is sent; a deadline already spent by the enclosing
    :class:`RequestContext` answers DEADLINE_EXCEEDED without sending.
    """
    plan: CallPlan | None = getattr(type(request), _PLAN_ATTRIBUTES[streaming_response], None)
    if plan is None or plan.owner is not type(request):
        plan = plan_for(request, streaming_response)
    checked: Any = request  # plan_for checked that it is a request
    message: Message | None = None
    if plan.reads_message:
        message = checked._message
    elif plan.sends_message:
        # First: a hand-written message() imports its _pb2 module, which resolving needs.
        message = checked.message()
    rpc = plan.rpc
    if rpc is None:
        rpc = resolve_method(checked.service_name(), checked.method_name())
        _check_kind(checked, rpc, streaming_response=streaming_response)
    if plan.sends_message and type(message) is not rpc.request_type:
        _check_message_type(checked, rpc, message)

    scope = current_scope()
    now = time.monotonic()
    timeout = checked._timeout if plan.reads_settings else checked.timeout()
    if timeout is USE_CLIENT_DEFAULT:
        timeout = defaults.timeout
    elif timeout is not None and not 0 <= timeout < UNBOUNDED_SECONDS:
        timeout = _unusual_timeout(checked, timeout)
    deadline = None if timeout is None else now + timeout
    inherited = scope.deadline
    if inherited is not None and (deadline is None or inherited < deadline):
        deadline = inherited
    if plan.reads_settings:
        if plan.rpc is None:  # resolved per call: the default policy depends on it
            retry, hedging = _resilience(checked, rpc, defaults)
        elif plan.client_retry:
            retry, hedging = defaults.idempotent_retry, defaults.hedging
        else:
            retry = hedging = None
        compression = None
        trace_id = scope.trace_id  # RequestContext.scope() made it usable as metadata
        if checked._extra_metadata:
            metadata, trace_id = with_trace_headers(outgoing_metadata(checked.metadata()))
        else:
            if not trace_id:
                trace_id = new_trace_id()
            metadata = ((TRACE_ID_KEY, trace_id),)
            if OTEL_MODULE in sys.modules:
                metadata = with_w3c_headers(metadata)
    else:
        metadata, trace_id = with_trace_headers(outgoing_metadata(checked.metadata()))
        retry, hedging = _resilience(checked, rpc, defaults)
        chosen = checked.compression()
        compression = None if chosen is USE_CLIENT_DEFAULT else chosen

    # Filled in place rather than through the dataclass's __init__: calling a class with
    # a Python __init__ costs more than every field's store together (about 2,500 CPU
    # instructions per call). Every field is stored here, in declaration order.
    prepared: PreparedCall = _new_object(PreparedCall)
    prepared.rpc = rpc
    prepared.request = checked
    prepared.message = message
    prepared.metadata = metadata
    prepared.deadline = deadline
    prepared.trace_id = trace_id
    prepared.retry = retry
    prepared.defaults = defaults
    prepared.started = now
    prepared.attempt = 0
    prepared.retries_since_pushback = 0
    prepared.compression = compression
    prepared.backoff = 0.0
    prepared.hedging = hedging
    prepared._state = None
    prepared._when_done = None
    if plan.checks_required and message is not None and not message.IsInitialized():
        return prepared.failed(_unserializable(checked, message))
    if deadline is not None and deadline <= now:
        return prepared.failed(
            LocalRpcError(grpc.StatusCode.DEADLINE_EXCEEDED, _what_expired(deadline, inherited))
        )
    return prepared


def _unusual_timeout(request: AnyRequest, timeout: float) -> float | None:
    """A timeout outside ``[0, UNBOUNDED_SECONDS)``: no deadline if unbounded, else misuse."""
    if is_unbounded(timeout):
        return None  # inf, or so far away that grpcio's clock would overflow: no deadline
    problem = "is negative" if timeout < 0 else "is not a number"
    raise InvalidRequestError(
        f"{type(request).__name__}.timeout() {problem}: {timeout!r} "
        "(give seconds >= 0, or None for no deadline)"
    )


def _unserializable(request: AnyRequest, message: Message) -> LocalRpcError:
    """INTERNAL, as grpcio answers a request it cannot serialize, naming what is missing."""
    missing = ", ".join(message.FindInitializationErrors())  # type: ignore[attr-defined]
    return LocalRpcError(
        grpc.StatusCode.INTERNAL,
        f"Exception serializing request! {type(request).__name__}.message() is a "
        f"{message.DESCRIPTOR.full_name} missing required fields: {missing}",
    )


def has_required_fields(descriptor: Any, seen: set[str] | None = None) -> bool:
    """Whether messages of ``descriptor`` can lack a proto2 ``required`` field (at any depth)."""
    seen = set() if seen is None else seen
    if descriptor.full_name in seen:
        return False
    seen.add(descriptor.full_name)
    for field in descriptor.fields:
        if is_required(field):
            return True
        if field.message_type is not None and has_required_fields(field.message_type, seen):
            return True
    return False


def _what_expired(deadline: float, inherited: float | None) -> str:
    """The details of a call answered DEADLINE_EXCEEDED before it was sent: whose deadline."""
    if deadline is inherited:
        return "deadline of the enclosing RequestContext expired before the call was sent"
    return "the request's timeout (0 s) expired before the call was sent"


def _resilience(
    request: AnyRequest, rpc: RpcMethod[Any, Any], defaults: CallDefaults
) -> tuple[RetryPolicy | None, HedgingPolicy | None]:
    """The call's retry policy or hedging policy (one of them at most, as gRFC A6 has it).

    The request's own choice wins over the client's defaults, hedging first; the
    defaults cover only unary RPCs the proto declares safe to repeat, which the
    client hedges if it has a hedging policy and retries otherwise.
    """
    if rpc.cardinality is not Cardinality.UNARY_UNARY:
        # A stream is sent once: its outgoing messages are a one-shot iterable and
        # its answers may already be in the consumer's hands.
        return None, None
    hedging = request.hedging_policy()
    if hedging is not USE_CLIENT_DEFAULT:
        return None, hedging
    chosen = request.retry_policy()
    if chosen is not USE_CLIENT_DEFAULT:
        return chosen, None
    if not rpc.idempotency.safe_to_retry:
        return None, None
    return defaults.idempotent_retry, defaults.hedging


def _check_kind(request: AnyRequest, rpc: RpcMethod[Any, Any], *, streaming_response: bool) -> None:
    kind = rpc.cardinality
    name = type(request).__name__
    if kind.streams_responses and not streaming_response:
        raise InvalidRequestError(
            f"{name} is a {kind.value} RPC ({rpc.path}): its answers are a stream, "
            "send it with client.stream() or stream_async()"
        )
    if not kind.streams_responses and streaming_response:
        raise InvalidRequestError(
            f"{name} is a {kind.value} RPC ({rpc.path}) with a single answer: "
            "send it with client.call() or call_async()"
        )
    streams_requests = isinstance(request, ClientStreamingGrpcRequest | BidiStreamingGrpcRequest)
    if kind.streams_requests != streams_requests:
        needed = "messages()" if kind.streams_requests else "message()"
        raise InvalidRequestError(
            f"{name} does not fit {rpc.path}: a {kind.value} RPC needs a request with {needed}"
        )


def _check_message_type(
    request: AnyRequest, rpc: RpcMethod[Any, Any], message: Message | None
) -> None:
    expected = rpc.request_type.DESCRIPTOR.full_name
    if message is None:
        raise InvalidRequestError(
            f"{type(request).__name__}.message() returned None: it must return the "
            f"{expected} to send to {rpc.path}"
        )
    actual = getattr(getattr(message, "DESCRIPTOR", None), "full_name", type(message).__name__)
    if actual != expected:
        raise InvalidRequestError(
            f"{type(request).__name__}.message() returned {actual}, but {rpc.path} takes {expected}"
        )
