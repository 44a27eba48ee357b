# mypy: ignore-errors
# The project's mypy run cannot see the generated corpus; test_corpus.py drops the line above.
"""What mypy --strict must accept (and reject) in code that uses generated classes.

Not imported at run time: ``tests/generator/test_corpus.py`` copies this file
beside the generated test corpus (``tests/generator/protos``) and runs
``mypy --strict --enable-error-code deprecated`` over both. Each
``# type: ignore[code]`` marks an error that must happen: strict mode's
``warn_unused_ignores`` fails the run if it stops happening.
"""

from __future__ import annotations

from collections.abc import AsyncIterable, AsyncIterator, Iterable
from typing import assert_type

from corpus import (
    deprecation_pb2,
    deprecation_protoreq,
    editions_implicit_pb2,
    editions_pb2,
    paging_pb2,
    proto2_pb2,
    streaming_pb2,
)
from corpus.editions_implicit_protoreq import (
    EnrollGrpcRequest,
    MigratedClient,
    UpdateGrpcRequest,
)
from corpus.editions_protoreq import CheckGrpcRequest as EditionCheck
from corpus.names import names_pb2
from corpus.names.names_protoreq import (
    BaseGrpcRequest_,
    CallGrpcRequest,
    ClassGrpcRequest,
    GrpcClient_,
    MatchGrpcRequest,
)
from corpus.orders import orders_pb2
from corpus.orders.orders_protoreq import (
    AsyncOrderDeskClient,
    OrderDeskClient,
    PingGrpcRequest,
    PlaceOrderGrpcRequest,
)
from corpus.paging_protoreq import (
    AsyncShelfClient,
    ListItemsGrpcRequest,
    ListMisorderedGrpcRequest,
    ShelfClient,
)
from corpus.proto2_protoreq import CheckGrpcRequest as Proto2Check
from corpus.proto2_protoreq import Proto2ServiceClient, RegisterGrpcRequest
from corpus.shared_protoreq import AdminServiceGetGrpcRequest, UserServiceGetGrpcRequest
from corpus.streaming_protoreq import (
    AsyncStreamerClient,
    ChatGrpcRequest,
    CollectGrpcRequest,
    StreamerClient,
    UnaryGrpcRequest,
    WatchGrpcRequest,
)
from corpus.types import common_pb2
from google.protobuf import empty_pb2, timestamp_pb2
from nopackage_protoreq import HelloGrpcRequest

from protoreq import (
    AsyncGrpcStream,
    AsyncPager,
    BaseGrpcRequest,
    GrpcCaller,
    GrpcClient,
    GrpcResponse,
    GrpcStream,
    Pager,
    RpcMethod,
    ServiceDiscoveryGrpcClient,
)
from protoreq.testing import FakeGrpcClient

Item = streaming_pb2.Item


def constructors() -> None:
    request = PlaceOrderGrpcRequest(
        customer="ada",
        payload=b"\x00",
        total=9.5,
        rush=True,
        priority=common_pb2.PRIORITY_HIGH,
        state=orders_pb2.Order.STATE_OPEN,
        budget=common_pb2.Money(currency="EUR", units=5),
        deliver_at=timestamp_pb2.Timestamp(seconds=1),
        lines=[orders_pb2.Order.Line(sku="a")],
        labels=("x", "y"),
        priorities=[common_pb2.PRIORITY_LOW],
        counters={"a": 1},
        lines_by_number={1: orders_pb2.Order.Line(sku="b")},
        by_flag={True: common_pb2.PRIORITY_LOW},
        card_token="tok",
        max_wait=None,
        optional_priority=common_pb2.PRIORITY_LOW,
        metadata={"x-tenant": "t", "blob-bin": b"\x01"},
        timeout=None,
    )
    assert_type(request, PlaceOrderGrpcRequest)
    assert_type(request.message(), orders_pb2.PlaceOrderRequest)
    assert_type(request.rpc, RpcMethod[orders_pb2.PlaceOrderRequest, orders_pb2.Order])
    assert_type(request.service_name(), str)
    base: BaseGrpcRequest[orders_pb2.PlaceOrderRequest, orders_pb2.Order] = request
    assert_type(base.message(), orders_pb2.PlaceOrderRequest)
    ready = PlaceOrderGrpcRequest.from_message(orders_pb2.PlaceOrderRequest(), timeout=2.0)
    assert_type(ready, PlaceOrderGrpcRequest)
    assert_type(PingGrpcRequest().message(), empty_pb2.Empty)
    assert_type(HelloGrpcRequest(text="hi").message().text, str)

    PlaceOrderGrpcRequest(customer=1)  # type: ignore[arg-type]
    PlaceOrderGrpcRequest(priority=1)  # type: ignore[arg-type]
    PlaceOrderGrpcRequest(state=common_pb2.PRIORITY_LOW)  # type: ignore[arg-type]
    PlaceOrderGrpcRequest(budget=orders_pb2.Order())  # type: ignore[arg-type]
    PlaceOrderGrpcRequest(counters={"a": "b"})  # type: ignore[dict-item]
    PlaceOrderGrpcRequest(nonexistent=1)  # type: ignore[call-arg]
    PlaceOrderGrpcRequest("ada")  # type: ignore[call-arg]
    PlaceOrderGrpcRequest(metadata={"k": 1})  # type: ignore[dict-item]
    PlaceOrderGrpcRequest.from_message(orders_pb2.Order())  # type: ignore[arg-type]


def presence() -> None:
    EditionCheck(explicit_number=None, implicit_text="x", mode=editions_pb2.MODE_FAST, a="a")
    EditionCheck(implicit_text=None)  # type: ignore[arg-type]
    Proto2Check(number=None, text="t", level=proto2_pb2.LEVEL_TWO, child=None, b=3)


def editions_implicit_presence() -> None:
    """A file-level IMPLICIT file keeps proto3's keyword arguments: None means "not set"."""
    change = editions_implicit_pb2.Change
    UpdateGrpcRequest(
        id="i",
        version=1,
        kind=editions_implicit_pb2.KIND_FULL,
        parent=None,
        paths=None,
        counts=None,
        user_name=None,
        nested_change=change(),
        target_kind=None,
        explicit_number=None,
        explicit_parent=None,
    )
    assert_type(
        UpdateGrpcRequest(parent=change(), paths=["p"]).message(), editions_implicit_pb2.Change
    )
    UpdateGrpcRequest(id=None)  # type: ignore[arg-type]
    UpdateGrpcRequest(parent="p")  # type: ignore[arg-type]
    UpdateGrpcRequest(counts={"k": "v"})  # type: ignore[dict-item]


def required_fields(client: GrpcClient) -> None:
    """proto2 `required` and editions LEGACY_REQUIRED: keyword arguments without a default."""
    owner = proto2_pb2.Proto2Request()
    register = RegisterGrpcRequest(name="n", level=proto2_pb2.LEVEL_ONE, owner=owner)
    assert_type(register.message(), proto2_pb2.RegisterRequest)
    RegisterGrpcRequest(level=proto2_pb2.LEVEL_ONE, owner=owner)  # type: ignore[call-arg]
    RegisterGrpcRequest(name=None, level=proto2_pb2.LEVEL_ONE, owner=owner)  # type: ignore[arg-type]
    RegisterGrpcRequest.from_message(proto2_pb2.RegisterRequest())
    Proto2ServiceClient(client).register(note="n")  # type: ignore[call-arg]
    EnrollGrpcRequest(student="s", first_change=editions_implicit_pb2.Change())
    EnrollGrpcRequest(student="s")  # type: ignore[call-arg]
    MigratedClient(client).enroll(comment="c")  # type: ignore[call-arg]


def names() -> None:
    request = CallGrpcRequest(
        class__="c",
        class_="c_",
        from_="f",
        None_=True,
        match_="m",
        type_="t",
        __="u",
        metadata_="md",
        timeout_=1.5,
        message_="m",
        self_="s",
        bytes_=b"b",
        names_pb2_="n",
        CallGrpcRequest_="c",
        dunder_="d",
        id="i",
        import_="i",
        while_=None,
        for_=["f"],
        in_={"k": 1},
        metadata={"k": "v"},
        timeout=3.0,
    )
    assert_type(request.message(), names_pb2.Everything)
    assert_type(ClassGrpcRequest(def_="d").message(), names_pb2._r_class)
    assert_type(MatchGrpcRequest(case_="c").message(), names_pb2.match)
    assert_type(BaseGrpcRequest_().message(), names_pb2.Metadata)
    CallGrpcRequest(metadata="md")  # type: ignore[arg-type]
    UserServiceGetGrpcRequest(id="u")
    AdminServiceGetGrpcRequest(id="a")


def facades(client: GrpcClient) -> None:
    desk = OrderDeskClient(client)
    assert_type(desk.place_order(customer="ada", rush=True), GrpcResponse[orders_pb2.Order])
    assert_type(desk.ping(), GrpcResponse[timestamp_pb2.Timestamp])
    assert_type(desk.price(currency="EUR"), GrpcResponse[common_pb2.Money])
    desk.place_order(customer=1)  # type: ignore[arg-type]
    assert_type(GrpcClient_(client).call_(class__="v"), GrpcResponse[names_pb2.Metadata])


def facade_callers(
    client: GrpcClient, fake: FakeGrpcClient, discovery: ServiceDiscoveryGrpcClient
) -> None:
    """Facades take any GrpcCaller: the client, the test fake, the discovery client."""
    callers: list[GrpcCaller] = [client, fake, discovery]
    for caller in callers:
        assert_type(OrderDeskClient(caller).ping(), GrpcResponse[timestamp_pb2.Timestamp])
    assert_type(OrderDeskClient(fake).ping(), GrpcResponse[timestamp_pb2.Timestamp])
    assert_type(OrderDeskClient(discovery).ping(), GrpcResponse[timestamp_pb2.Timestamp])
    assert_type(StreamerClient(discovery).watch(topic="t"), GrpcStream[Item])
    assert_type(AsyncStreamerClient(fake).watch(topic="t"), AsyncGrpcStream[Item])
    AsyncOrderDeskClient(discovery)
    OrderDeskClient(object())  # type: ignore[arg-type]


async def async_facades(client: GrpcClient) -> None:
    desk = AsyncOrderDeskClient(client)
    assert_type(await desk.get_order(id="1"), GrpcResponse[orders_pb2.Order])


def streaming(client: GrpcClient, items: list[Item], more: AsyncIterable[Item]) -> None:
    assert_type(client.call(UnaryGrpcRequest(seq=1)), GrpcResponse[Item])
    watch = WatchGrpcRequest(topic="t", filters=["a"])
    assert_type(watch.message(), streaming_pb2.WatchRequest)
    assert_type(client.stream(watch), GrpcStream[Item])
    collect = CollectGrpcRequest(messages=items)
    assert_type(collect.messages(), Iterable[Item] | AsyncIterable[Item])
    assert_type(client.call(collect), GrpcResponse[streaming_pb2.Summary])
    assert_type(client.stream(ChatGrpcRequest(messages=more)), GrpcStream[Item])
    client.call(watch)  # type: ignore[arg-type]
    client.stream(collect)  # type: ignore[arg-type]
    CollectGrpcRequest(messages=[streaming_pb2.Summary()])  # type: ignore[list-item]
    CollectGrpcRequest(seq=1)  # type: ignore[call-arg]

    streamer = StreamerClient(client)
    assert_type(streamer.watch(topic="t"), GrpcStream[Item])
    assert_type(streamer.collect(messages=items), GrpcResponse[streaming_pb2.Summary])
    assert_type(streamer.chat(messages=iter(items)), GrpcStream[Item])
    streamer.collect(messages=more)  # type: ignore[arg-type]


async def async_streaming(client: GrpcClient, more: AsyncIterator[Item]) -> None:
    streamer = AsyncStreamerClient(client)
    assert_type(streamer.watch(topic="t"), AsyncGrpcStream[Item])
    assert_type(await streamer.collect(messages=more), GrpcResponse[streaming_pb2.Summary])
    assert_type(streamer.chat(messages=more), AsyncGrpcStream[Item])


def deprecation(client: GrpcClient) -> None:
    deprecation_protoreq.NewCallGrpcRequest(times=1)
    deprecation_protoreq.OldCallGrpcRequest(times=1)  # type: ignore[deprecated]
    legacy = deprecation_protoreq.LegacyClient(client)
    legacy.old_call(times=1)  # type: ignore[deprecated]
    assert_type(legacy.new_call(), GrpcResponse[deprecation_pb2.Knock])


def paging(client: GrpcClient, fake: FakeGrpcClient, discovery: ServiceDiscoveryGrpcClient) -> None:
    pager = client.paginate(ListItemsGrpcRequest(page_size=10))
    assert_type(pager, Pager[paging_pb2.ListItemsResponse, paging_pb2.Item])
    for item in pager:
        assert_type(item, paging_pb2.Item)
    for page in pager.pages():
        assert_type(page, GrpcResponse[paging_pb2.ListItemsResponse])
    assert_type(pager.response(), GrpcResponse[paging_pb2.ListItemsResponse])
    assert_type(
        fake.paginate(ListItemsGrpcRequest()), Pager[paging_pb2.ListItemsResponse, paging_pb2.Item]
    )
    assert_type(
        discovery.paginate(ListItemsGrpcRequest()),
        Pager[paging_pb2.ListItemsResponse, paging_pb2.Item],
    )
    assert_type(
        ShelfClient(client).list_items_pager(page_size=3),
        Pager[paging_pb2.ListItemsResponse, paging_pb2.Item],
    )
    assert_type(ListItemsGrpcRequest.from_json("{}"), ListItemsGrpcRequest)
    assert_type(ListItemsGrpcRequest.from_dict({}).with_page_token("2"), ListItemsGrpcRequest)
    client.paginate(ListMisorderedGrpcRequest())  # type: ignore[arg-type]
    ShelfClient(client).list_misordered_pager()  # type: ignore[attr-defined]


async def async_paging(client: GrpcClient) -> None:
    pager = client.paginate_async(ListItemsGrpcRequest())
    assert_type(pager, AsyncPager[paging_pb2.ListItemsResponse, paging_pb2.Item])
    async for item in pager:
        assert_type(item, paging_pb2.Item)
    async for page in AsyncShelfClient(client).list_items_pager().pages():
        assert_type(page, GrpcResponse[paging_pb2.ListItemsResponse])
