"""Validation before sending: ``buf.validate`` rules checked by ``protovalidate`` (opt-in).

``pip install 'protoreq[validate]'`` installs protovalidate; then
``GrpcClient(..., interceptors=[ValidatingInterceptor()])`` checks every
outgoing request message against the ``buf.validate`` rules of its
descriptor. A message that breaks a rule is answered locally, nothing sent:
INVALID_ARGUMENT with a ``google.rpc.BadRequest`` listing each field violation
(``rich_status()`` / ``error_details()`` read it as for a server's answer).
Messages without rules pass at the cost of one lookup (protovalidate caches
each message type's compiled rules in the validator).

Checked: the message of unary and server-streaming requests. Messages a
client-streaming or bidi request streams out are not (they are produced
while the call runs).
"""

from __future__ import annotations

from typing import Any

import grpc
from google.rpc import code_pb2, error_details_pb2, status_pb2

from protoreq.errors import ProtoreqError
from protoreq.interceptors import ClientCall, Interceptor
from protoreq.response import STATUS_DETAILS_KEY, GrpcResponse
from protoreq.status import LocalRpcError

__all__ = ["ValidatingInterceptor"]


class ValidatingInterceptor(Interceptor):
    """Answer INVALID_ARGUMENT (with a ``BadRequest``) for messages breaking their rules.

    ``fail_fast=True`` stops at the first violation; ``validator`` is a
    ``protovalidate.Validator`` of your own (one is made otherwise; reuse it:
    it caches compiled rules).
    """

    def __init__(self, *, fail_fast: bool = False, validator: Any = None) -> None:
        if validator is None:
            try:
                import protovalidate  # noqa: PLC0415  # an optional extra
            except ImportError:
                raise ProtoreqError(
                    "ValidatingInterceptor needs protovalidate: pip install 'protoreq[validate]'"
                ) from None
            validator = protovalidate.Validator()
        self._validator = validator
        self._fail_fast = fail_fast

    def on_start(self, call: ClientCall) -> GrpcResponse[Any] | None:
        message = call.message
        if message is None:
            return None
        violations = self._validator.collect_violations(message, fail_fast=self._fail_fast)
        if not violations:
            return None
        return _rejected(call, [violation.proto for violation in violations])

    def __repr__(self) -> str:
        return f"ValidatingInterceptor(fail_fast={self._fail_fast})"


def _rejected(call: ClientCall, violations: list[Any]) -> GrpcResponse[Any]:
    """The local INVALID_ARGUMENT answer, with the violations as a ``BadRequest``."""
    bad_request = error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(
                field=_field_path(violation), description=violation.message
            )
            for violation in violations
        ]
    )
    first = bad_request.field_violations[0]
    more = len(violations) - 1
    details = (
        f"{call.rpc.request_type.DESCRIPTOR.full_name} breaks its validation rules: "
        f"{first.field}: {first.description}" + (f" (and {more} more)" if more else "")
    )
    status = status_pb2.Status(code=code_pb2.INVALID_ARGUMENT, message=details)
    status.details.add().Pack(bad_request)
    trailing = ((STATUS_DETAILS_KEY, status.SerializeToString()),)
    return call.failed(LocalRpcError(grpc.StatusCode.INVALID_ARGUMENT, details, (), trailing))


def _field_path(violation: Any) -> str:
    """``items[2].name`` from a violation's field path (AIP-193's ``field`` spelling)."""
    parts: list[str] = []
    for element in violation.field.elements:
        part = element.field_name
        subscript = element.subscript  # a oneof: None, or (field, value)
        if subscript is not None:
            value = subscript.value
            part += f'["{value}"]' if subscript.field == "string_key" else f"[{value}]"
        parts.append(part)
    return ".".join(parts)
