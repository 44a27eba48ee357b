"""prepare() fills a PreparedCall field by field: it must set every field the dataclass has."""

from __future__ import annotations

import dataclasses

from protoreq import GrpcClient
from protoreq.preparation import PreparedCall, prepare
from tests.resilience.requests import GetUser


def test_prepare_sets_every_field_of_the_prepared_call() -> None:
    with GrpcClient("127.0.0.1:1") as client:
        prepared = prepare(GetUser(), client._defaults, streaming_response=False)
    assert isinstance(prepared, PreparedCall)
    for field in dataclasses.fields(PreparedCall):
        getattr(prepared, field.name)  # an unset slot raises AttributeError
    assert dataclasses.replace(prepared) == prepared  # and equals one made by the constructor
