"""``protoreq call``: one RPC from JSON, sent through ``GrpcClient``, answers printed as JSON.

Requests are protobuf's JSON mapping; several messages (client streams, bidi) are
JSON objects one after the other, as grpcurl reads them. Answers go to stdout,
one JSON document per message; a failure goes to stderr as one JSON object with
the status code, details and the decoded ``google.rpc.Status`` details, and
decides the exit code (:mod:`protoreq_generator.exit_codes`).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Any

import grpc
from google.protobuf import descriptor_pool, json_format
from google.protobuf.descriptor import MethodDescriptor
from google.protobuf.message import Message

from protoreq import USE_CLIENT_DEFAULT, RetryPolicy
from protoreq.redaction import redacted_metadata
from protoreq_generator import exit_codes
from protoreq_generator.dynamic import request_class, rpc_method

if TYPE_CHECKING:
    from protoreq import GrpcClient


class RequestJsonError(Exception):
    """A request body that is not JSON, or not the method's message; one line to print."""


@dataclass(frozen=True)
class Output:
    """Where answers, errors and verbose notes go, and how messages are written."""

    out: IO[str]
    err: IO[str]
    pool: descriptor_pool.DescriptorPool
    emit_defaults: bool = False
    verbose: bool = False

    def message(self, message: Message) -> None:
        self.out.write(
            json_format.MessageToJson(
                message,
                indent=2,
                descriptor_pool=self.pool,
                always_print_fields_with_no_presence=self.emit_defaults,
            )
            + "\n"
        )
        self.out.flush()

    def note(self, text: str) -> None:
        if self.verbose:
            self.err.write(text + "\n")
            self.err.flush()


def json_objects(text: str) -> Iterator[Any]:
    """The JSON values in ``text``, one after the other (whitespace between them or none)."""
    decoder = json.JSONDecoder()
    position = 0
    while True:
        while position < len(text) and text[position].isspace():
            position += 1
        if position == len(text):
            return
        try:
            value, position = decoder.raw_decode(text, position)
        except json.JSONDecodeError as error:
            raise RequestJsonError(f"request body is not JSON: {error}") from None
        yield value


def streamed_json_objects(lines: Iterable[str]) -> Iterator[Any]:
    """Like :func:`json_objects`, yielding each value as soon as its text is complete."""
    decoder = json.JSONDecoder()
    buffer = ""
    for line in lines:
        buffer += line
        while True:
            stripped = buffer.lstrip()
            if not stripped:
                buffer = ""
                break
            try:
                value, end = decoder.raw_decode(stripped)
            except json.JSONDecodeError:
                break  # incomplete so far: read on
            buffer = stripped[end:]
            yield value
    if buffer.strip():
        list(json_objects(buffer))  # raises the error that names the position
        raise RequestJsonError("request body ends inside a JSON value")


def to_message(value: Any, message_type: type[Message], number: int, pool: Any) -> Message:
    """One JSON value as ``message_type``; errors name the field, on one line."""
    if not isinstance(value, dict):
        raise RequestJsonError(
            f"request {number}: expected a JSON object for {message_type.DESCRIPTOR.full_name}, "
            f"got {type(value).__name__}"
        )
    try:
        return json_format.ParseDict(value, message_type(), descriptor_pool=pool)
    except json_format.ParseError as error:
        text = " ".join(str(error).split())
        raise RequestJsonError(
            f"request {number} ({message_type.DESCRIPTOR.full_name}): {text}"
        ) from None


def _messages(values: Iterable[Any], message_type: type[Message], pool: Any) -> Iterator[Message]:
    for number, value in enumerate(values, 1):
        yield to_message(value, message_type, number, pool)


@dataclass(frozen=True)
class CallSettings:
    metadata: Mapping[str, str | bytes]
    timeout: float | None
    retry: bool


def call(
    client: GrpcClient,
    method: MethodDescriptor,
    body: str | Iterable[str],
    settings: CallSettings,
    output: Output,
) -> int:
    """Send one RPC; print answers and status; return the exit code.

    ``body`` is the whole text, or (for a streamed stdin) its lines, read as
    the call goes so a bidi conversation can be typed.
    """
    rpc = rpc_method(method)
    pool = method.containing_service.file.pool
    values = json_objects(body) if isinstance(body, str) else streamed_json_objects(body)
    if rpc.cardinality.streams_requests:
        messages: Iterable[Message] = _messages(values, rpc.request_type, pool)
        if isinstance(body, str):
            messages = list(messages)  # bad input fails before anything is sent
    else:
        given = list(_messages(values, rpc.request_type, pool))
        if len(given) > 1:
            raise RequestJsonError(
                f"{method.full_name} takes one request message, got {len(given)} JSON objects"
            )
        messages = given or [rpc.request_type()]
    request = request_class(rpc)(
        messages,
        metadata=dict(settings.metadata),
        timeout=settings.timeout if settings.timeout is not None else USE_CLIENT_DEFAULT,
        retry=RetryPolicy() if settings.retry else USE_CLIENT_DEFAULT,
    )
    output.note(f"> {rpc.path}")
    output.note(f"> metadata: {json.dumps(redacted_metadata(request.metadata().items()))}")
    if rpc.cardinality.streams_responses:
        with client.stream(request) as stream:
            for answer in stream:
                output.message(answer)
        outcome: Any = stream
    else:
        outcome = client.call(request)
        if outcome.is_success():
            output.message(outcome.message())
    _report(outcome, output)
    return exit_codes.for_status(outcome.status_code())


def _report(outcome: Any, output: Output) -> None:
    """Verbose notes (metadata, timing) and, on failure, the JSON error on stderr."""
    output.note(f"< headers: {json.dumps(redacted_metadata(outcome.initial_metadata().pairs()))}")
    output.note(f"< trailers: {json.dumps(redacted_metadata(outcome.trailing_metadata().pairs()))}")
    attempts = getattr(outcome, "attempts", lambda: 1)()
    output.note(
        f"< {outcome.status_code().name} in {outcome.elapsed() * 1000:.1f} ms "
        f"(trace id {outcome.trace_id()}, {attempts} attempt{'s' if attempts != 1 else ''})"
    )
    if not outcome.is_success():
        output.err.write(json.dumps(error_document(outcome), indent=2) + "\n")


def error_document(outcome: Any) -> dict[str, Any]:
    """``code``, ``details`` and the rich status's details as JSON (``@type`` for each)."""
    code: grpc.StatusCode = outcome.status_code()
    document: dict[str, Any] = {
        "code": code.name,
        "number": code.value[0],
        "details": outcome.details(),
    }
    status = outcome.rich_status()
    if status is not None:
        from google.rpc import error_details_pb2  # noqa: F401, PLC0415  # registers the types

        details = []
        for detail in status.details:
            try:
                details.append(json_format.MessageToDict(detail))
            except (TypeError, KeyError, json_format.SerializeToJsonError):
                details.append(
                    {"@type": detail.type_url, "value": base64.b64encode(detail.value).decode()}
                )
        document["error_details"] = details
    return document
