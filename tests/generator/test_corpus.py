"""The test corpus (``tests/generator/protos``): generated, imported, used, type-checked, linted.

The corpus covers every naming, field and RPC case of the generator. Its output
is built once per session by ``protoreq``'s own compile step (real protoc from
grpcio-tools, mypy-protobuf stubs, ``--package-init``); then one mypy run and
one ruff run cover all of it, together with the typing test of the generated
API in ``tests/typing/generated/``.
"""

from __future__ import annotations

import importlib
import inspect
import os
import re
import shutil
import sys
import warnings
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from protoreq import Cardinality, Idempotency, RpcMethod
from protoreq.errors import InvalidRequestError
from protoreq.testing import FakeGrpcClient
from protoreq_generator.protoc import Invocation, ProtocError, compile_into
from tests.generator.support import PYPROJECT, REPO_ROOT, TYPING_DIR, run

EXPECTED = [
    "corpus/deep/nested/folder/deep_protoreq.py",
    "corpus/deprecation_protoreq.py",
    "corpus/edition2024_protoreq.py",
    "corpus/editions_implicit_protoreq.py",
    "corpus/editions_protoreq.py",
    "corpus/names/long_protoreq.py",
    "corpus/names/names_protoreq.py",
    "corpus/no_rpcs_protoreq.py",
    "corpus/orders/orders_protoreq.py",
    "corpus/paging_protoreq.py",
    "corpus/proto2_protoreq.py",
    "corpus/shared_protoreq.py",
    "corpus/streaming_protoreq.py",
    "corpus/upper_case_protoreq.py",
    "corpus/with_dash_protoreq.py",
    "nopackage_protoreq.py",
]

IGNORE_PRAGMA = "# mypy: ignore-errors\n"

# Names the corpus keeps on purpose although pep8-naming dislikes them: fields named
# `None`, `Any`, `CallGrpcRequest`, and classes escaped as `GrpcClient_`.
RUFF_CONFIG = f"""
extend = "{PYPROJECT.as_posix()}"

[lint.per-file-ignores]
"corpus/names/names_protoreq.py" = ["N801"]
"""


def load(name: str) -> ModuleType:
    return importlib.import_module(name)


def generated(corpus_out: Path) -> list[str]:
    return sorted(
        path.relative_to(corpus_out).as_posix() for path in corpus_out.rglob("*_protoreq.py")
    )


def test_every_file_with_services_and_only_those(corpus_out: Path) -> None:
    assert generated(corpus_out) == EXPECTED
    assert (corpus_out / "corpus/types/common_pb2.py").is_file()
    assert (corpus_out / "corpus/__init__.py").is_file()
    assert (corpus_out / "corpus/deep/nested/__init__.py").is_file()
    assert not (corpus_out / "__init__.py").exists()


@pytest.mark.parametrize("path", EXPECTED)
def test_generated_module_imports(corpus_out: Path, path: str) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # importing must not warn, even with deprecated RPCs
        module = load(path.removesuffix(".py").replace("/", "."))
    assert module.__doc__


def test_every_field_kind_builds_the_message(corpus_out: Path) -> None:
    orders = load("corpus.orders.orders_pb2")
    common = load("corpus.types.common_pb2")
    from google.protobuf import timestamp_pb2, wrappers_pb2  # noqa: PLC0415

    generated_module = load("corpus.orders.orders_protoreq")
    request = generated_module.PlaceOrderGrpcRequest(
        customer="ada",
        payload=b"\x00\x01",
        total=2.5,
        rush=True,
        priority=common.PRIORITY_HIGH,
        state=orders.Order.STATE_OPEN,
        first_line=orders.Order.Line(sku="a", quantity=1),
        budget=common.Money(currency="EUR", units=3),
        deliver_at=timestamp_pb2.Timestamp(seconds=5),
        note=wrappers_pb2.StringValue(value="n"),
        lines=(orders.Order.Line(sku=s) for s in "bc"),
        labels=["x"],
        priorities=[common.PRIORITY_LOW],
        counters={"k": 7},
        lines_by_number={3: orders.Order.Line(sku="d")},
        by_flag={True: common.PRIORITY_HIGH},
        card_token="tok",
        max_wait=0,
        metadata={"x-tenant": "t"},
        timeout=4.0,
    )
    message = request.message()
    assert message is request.message()  # built once, in the constructor
    assert (message.customer, message.payload, message.total, message.rush) == (
        "ada",
        b"\x00\x01",
        2.5,
        True,
    )
    assert (message.priority, message.state) == (common.PRIORITY_HIGH, orders.Order.STATE_OPEN)
    assert message.first_line.sku == "a"
    assert message.deliver_at.seconds == 5
    assert message.note.value == "n"
    assert [line.sku for line in message.lines] == ["b", "c"]
    assert list(message.labels) == ["x"]
    assert dict(message.counters) == {"k": 7}
    assert message.lines_by_number[3].sku == "d"
    assert dict(message.by_flag) == {True: common.PRIORITY_HIGH}
    assert message.WhichOneof("payment") == "card_token"
    # presence: a zero that was given is kept, what was not given stays unset
    assert message.HasField("max_wait")
    assert not message.HasField("coupon")
    assert not message.HasField("optional_priority")
    assert not message.HasField("window")
    assert request.timeout() == 4.0
    assert request.metadata()["x-tenant"] == "t"


def test_defaults_leave_every_field_unset(corpus_out: Path) -> None:
    generated_module = load("corpus.orders.orders_protoreq")
    orders = load("corpus.orders.orders_pb2")
    assert generated_module.PlaceOrderGrpcRequest().message() == orders.PlaceOrderRequest()
    assert generated_module.PlaceOrderGrpcRequest().message().ByteSize() == 0


def test_rpc_attributes_are_static(corpus_out: Path) -> None:
    generated_module = load("corpus.orders.orders_protoreq")
    orders = load("corpus.orders.orders_pb2")
    rpc = generated_module.PlaceOrderGrpcRequest.rpc
    assert isinstance(rpc, RpcMethod)
    assert rpc.path == "/corpus.orders.v1.OrderDesk/PlaceOrder"
    assert (rpc.request_type, rpc.response_type) == (orders.PlaceOrderRequest, orders.Order)
    assert (rpc.cardinality, rpc.idempotency) == (Cardinality.UNARY_UNARY, Idempotency.IDEMPOTENT)
    assert generated_module.GetOrderGrpcRequest.rpc.idempotency is Idempotency.NO_SIDE_EFFECTS
    assert generated_module.PriceGrpcRequest.rpc.idempotency is Idempotency.UNKNOWN
    request = generated_module.GetOrderGrpcRequest(id="1")
    assert (request.service_name(), request.method_name()) == (
        "corpus.orders.v1.OrderDesk",
        "GetOrder",
    )
    lonely = load("nopackage_protoreq").HelloGrpcRequest
    assert lonely.rpc.path == "/Lonely/Hello"
    deep = load("corpus.deep.nested.folder.deep_protoreq").DiveGrpcRequest
    assert deep.rpc.path == "/corpus.deep.nested.pkg.v1.DeepService/Dive"
    assert load("corpus.with_dash_protoreq").GoGrpcRequest.rpc.path == "/corpus.dash.Dashed/Go"


def test_from_message_sends_the_message_as_is(corpus_out: Path) -> None:
    generated_module = load("corpus.orders.orders_protoreq")
    orders = load("corpus.orders.orders_pb2")
    message = orders.GetOrderRequest(id="9")
    request = generated_module.GetOrderGrpcRequest.from_message(message, metadata={"a": "b"})
    assert request.message() is message
    assert request.metadata()["a"] == "b"

    class Custom(generated_module.GetOrderGrpcRequest):  # type: ignore[misc,name-defined]
        def timeout(self) -> float:
            return 1.0

    custom = Custom.from_message(message)
    assert isinstance(custom, Custom)
    assert custom.timeout() == 1.0


def test_names_escaped_everywhere(corpus_out: Path) -> None:
    names = load("corpus.names.names_protoreq")
    request = names.CallGrpcRequest(
        class__="c",
        class_="c_",
        None_=True,
        __="u",
        metadata_="m",
        timeout_=1.5,
        self_="s",
        dunder_="d",
        import_="i",
        for_=["f"],
        in_={"k": 1},
        names_pb2_="n",
        metadata={"x": "y"},
        timeout=2.0,
    )
    message = request.message()
    assert getattr(message, "class") == "c"
    assert message.class_ == "c_"
    assert getattr(message, "None") is True
    assert message._ == "u"
    assert (message.metadata, message.timeout, message.self) == ("m", 1.5, "s")
    assert getattr(message, "__dunder") == "d"
    assert message.WhichOneof("pick") == "import"
    assert list(getattr(message, "for")) == ["f"]
    assert dict(getattr(message, "in")) == {"k": 1}
    assert message.names_pb2 == "n"
    assert (request.metadata()["x"], request.timeout()) == ("y", 2.0)
    keyword_type = names.ClassGrpcRequest(def_="d").message()
    assert type(keyword_type).DESCRIPTOR.full_name == "corpus.names.class"
    assert names.ClassGrpcRequest.rpc.path == "/corpus.names.Grpc/class"
    assert names.BaseGrpcRequest_.rpc.path == "/corpus.names.Grpc/Base"
    assert names.GetUserGrpcRequest.rpc.method == "get_user"
    assert names.GetUserGrpcRequest_.rpc.method == "GetUser"
    assert hasattr(names.GrpcClient_, "call_")
    assert hasattr(names.GrpcClient_, "get_http_status")
    # Service AsyncGrpc's sync facade keeps its name; Grpc's async facade is escaped.
    assert hasattr(names.AsyncGrpcClient, "nothing")
    assert not inspect.iscoroutinefunction(names.AsyncGrpcClient.nothing)
    assert inspect.iscoroutinefunction(names.AsyncGrpcClient_.call_)
    assert hasattr(names.AsyncAsyncGrpcClient, "nothing")
    shared = load("corpus.shared_protoreq")
    assert shared.UserServiceGetGrpcRequest.rpc.path == "/corpus.shared.UserService/Get"
    assert shared.AdminServiceGetGrpcRequest.rpc.path == "/corpus.shared.AdminService/Get"
    assert shared.AdminServiceListGrpcRequest.rpc.path == "/corpus.shared.AdminService/list"
    commentary = names.SayGrpcRequest.__doc__
    assert commentary == 'Ends with a quote "'
    assert names.QuoteGrpcRequest.__doc__ == 'Ends with triple quotes """'
    assert names.SlashGrpcRequest.__doc__ == '"Starts with a quote, ends with a backslash \\'
    assert (
        names.EscapesGrpcRequest.__doc__
        == (
            'Escapes stay text: \\n \\t \\x41 \\u0041 \\N{DASH} \\" \\\\""" ""\'\'\' and a tab:\t.'
        ).expandtabs()
    )  # the generator expands tabs, as Python 3.13's compiler does in docstrings
    assert names.CommentaryClient.say.__doc__ == 'Ends with a quote "'
    words = " ".join((names.CommentaryClient.__doc__ or "").split())
    assert 'backslash \\d, "triple" """quotes""", unicode \u2013 \u201ccurly\u201d' in words
    assert "\xe9 \u4e16\u754c \U0001f600, and a very long line" in words
    assert 'Tab: here. Ends with a quote: "quoted"' in words


def test_presence_in_editions_and_proto2(corpus_out: Path) -> None:
    editions = load("corpus.editions_protoreq")
    message = editions.CheckGrpcRequest(explicit_number=0, a="x").message()
    assert message.HasField("explicit_number")  # explicit presence: a given zero is kept
    assert not message.HasField("mode")
    assert message.defaulted == "hello"
    assert message.WhichOneof("choice") == "a"
    assert editions.CheckGrpcRequest(implicit_text="t").message().implicit_text == "t"
    proto2 = load("corpus.proto2_protoreq")
    unset = proto2.CheckGrpcRequest().message()
    assert (unset.HasField("number"), unset.number) == (False, 7)
    assert proto2.CheckGrpcRequest(number=0).message().HasField("number")
    assert load("corpus.edition2024_protoreq").CheckGrpcRequest(number=3).message().number == 3


def test_deprecated_rpcs_warn(corpus_out: Path) -> None:
    module = load("corpus.deprecation_protoreq")
    with pytest.warns(DeprecationWarning, match=r"corpus.deprecation.Legacy/OldCall is deprecated"):
        module.OldCallGrpcRequest(times=1)
    with pytest.warns(DeprecationWarning, match="Retired/Anything"):
        module.AnythingGrpcRequest()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        module.NewCallGrpcRequest(times=1)
    assert "Deprecated" in (module.OldCallGrpcRequest.__doc__ or "")


def test_streaming_classes(corpus_out: Path) -> None:
    module = load("corpus.streaming_protoreq")
    pb2 = load("corpus.streaming_pb2")
    items = [pb2.Item(seq=1)]
    kinds = {
        name: getattr(module, name).rpc.cardinality
        for name in (
            "UnaryGrpcRequest",
            "WatchGrpcRequest",
            "CollectGrpcRequest",
            "ChatGrpcRequest",
        )
    }
    assert kinds == {
        "UnaryGrpcRequest": Cardinality.UNARY_UNARY,
        "WatchGrpcRequest": Cardinality.UNARY_STREAM,
        "CollectGrpcRequest": Cardinality.STREAM_UNARY,
        "ChatGrpcRequest": Cardinality.STREAM_STREAM,
    }
    assert module.CollectGrpcRequest(messages=items).messages() is items
    assert module.ChatGrpcRequest(messages=items, timeout=None).timeout() is None
    assert list(module.WatchGrpcRequest(topic="t", filters=["a"]).message().filters) == ["a"]


def test_facades_send_through_the_client(corpus_out: Path) -> None:
    orders = load("corpus.orders.orders_pb2")
    module = load("corpus.orders.orders_protoreq")
    fake = FakeGrpcClient(strict=True)
    fake.respond(module.GetOrderGrpcRequest, lambda request: orders.Order(id=request.message().id))
    response = module.OrderDeskClient(fake).get_order(id="42", metadata={"k": "v"}, timeout=3.0)
    assert response.is_success()
    assert response.message().id == "42"
    (sent,) = fake.requests
    assert isinstance(sent, module.GetOrderGrpcRequest)
    assert (sent.metadata()["k"], sent.timeout()) == ("v", 3.0)


async def test_async_facades_send_through_the_client(corpus_out: Path) -> None:
    orders = load("corpus.orders.orders_pb2")
    module = load("corpus.orders.orders_protoreq")
    streaming = load("corpus.streaming_protoreq")
    pb2 = load("corpus.streaming_pb2")
    fake = FakeGrpcClient(strict=True)
    fake.respond(module.PlaceOrderGrpcRequest, orders.Order(id="1"))
    fake.respond(streaming.WatchGrpcRequest, [pb2.Item(seq=1), pb2.Item(seq=2)])
    response = await module.AsyncOrderDeskClient(fake).place_order(customer="ada")
    assert response.message().id == "1"
    stream = streaming.AsyncStreamerClient(fake).watch(topic="t")
    assert [item.seq async for item in stream] == [1, 2]


def test_mypy_strict_and_ruff_accept_the_output(
    corpus_out: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    """One mypy and one ruff run over every generated module plus the typing test file."""
    check = tmp_path / "check"
    shutil.copytree(corpus_out, check, ignore=shutil.ignore_patterns("__pycache__"))
    # The typing test opts out of the project's mypy run (which has no corpus); not here.
    source = (TYPING_DIR / "check_generated_api.py").read_text(encoding="utf-8")
    assert source.startswith(IGNORE_PRAGMA)
    (check / "check_generated_api.py").write_text(source.removeprefix(IGNORE_PRAGMA))
    modules = sorted(str(path.relative_to(check)) for path in check.rglob("*_protoreq.py"))
    cache: Any = getattr(request.config, "cache", None)
    cache_dir = cache.mkdir("protoreq-generator-mypy") if cache else tmp_path / "mypy-cache"
    mypy = run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file=",
            "--strict",
            "--enable-error-code=deprecated",
            "--python-version=3.11",
            f"--cache-dir={cache_dir}",
            "--no-error-summary",
            "check_generated_api.py",
            *modules,
        ],
        cwd=check,
        env={**os.environ, "MYPYPATH": f"{check}:{REPO_ROOT / 'runtime'}"},
    )
    assert mypy.returncode == 0, mypy.stdout.decode() + mypy.stderr.decode()

    (check / "ruff.toml").write_text(RUFF_CONFIG)
    ruff = run([sys.executable, "-m", "ruff", "check", "--no-cache", *modules], cwd=check)
    assert ruff.returncode == 0, ruff.stdout.decode() + ruff.stderr.decode()
    fmt = run(
        [sys.executable, "-m", "ruff", "format", "--check", "--no-cache", *modules], cwd=check
    )
    assert fmt.returncode == 0, fmt.stdout.decode() + fmt.stderr.decode()
    assert all(path.read_bytes().isascii() for path in check.rglob("*_protoreq.py"))


def test_required_fields_are_required_keyword_arguments(corpus_out: Path) -> None:
    module = load("corpus.proto2_protoreq")
    pb2 = load("corpus.proto2_pb2")
    owner = pb2.Proto2Request(text="o")
    with pytest.raises(TypeError, match="missing 3 required keyword-only arguments"):
        module.RegisterGrpcRequest(note="n")
    message = module.RegisterGrpcRequest(name="ada", level=pb2.LEVEL_TWO, owner=owner).message()
    assert message.IsInitialized()
    assert (message.name, message.level, message.owner.text) == ("ada", pb2.LEVEL_TWO, "o")
    assert (message.HasField("note"), message.count) == (False, 1)
    # from_message needs no field values: the message is given.
    given = pb2.RegisterRequest(name="b")
    request = module.RegisterGrpcRequest.from_message(given, timeout=2.0)
    assert (request.message(), request.timeout()) == (given, 2.0)
    implicit = load("corpus.editions_implicit_protoreq")
    with pytest.raises(TypeError, match="'student' and 'first_change'"):
        implicit.EnrollGrpcRequest(comment="c")


def test_editions_implicit_presence_builds_like_proto3(corpus_out: Path) -> None:
    """The keyword arguments of a migrated file keep their proto3 shapes and meaning."""
    module = load("corpus.editions_implicit_protoreq")
    pb2 = load("corpus.editions_implicit_pb2")
    unset = module.UpdateGrpcRequest().message()
    assert unset == pb2.Change()
    assert not unset.HasField("parent")
    assert unset.WhichOneof("target") is None
    message = module.UpdateGrpcRequest(
        id="1",
        parent=pb2.Change(id="p"),
        paths=["a"],
        counts={"k": 2},
        target_kind=pb2.KIND_FULL,
        explicit_number=0,
    ).message()
    assert (message.id, message.parent.id, list(message.paths)) == ("1", "p", ["a"])
    assert (dict(message.counts), message.WhichOneof("target")) == ({"k": 2}, "target_kind")
    assert message.HasField("explicit_number")


def test_two_members_of_one_oneof_are_refused(corpus_out: Path) -> None:
    orders = load("corpus.orders.orders_protoreq")
    common = load("corpus.types.common_pb2")
    with pytest.raises(
        InvalidRequestError,
        match=r"PlaceOrderGrpcRequest: card_token and cash are members of oneof 'payment'",
    ):
        orders.PlaceOrderGrpcRequest(card_token="t", cash=common.Money(units=1))
    with pytest.raises(InvalidRequestError, match="card_token and cash are"):
        orders.OrderDeskClient(FakeGrpcClient()).place_order(card_token="", cash=common.Money())
    zero = orders.PlaceOrderGrpcRequest(card_token="").message()  # a zero is a value
    assert zero.WhichOneof("payment") == "card_token"
    implicit = load("corpus.editions_implicit_protoreq")
    with pytest.raises(
        InvalidRequestError,
        match="destination_bucket_with_a_long_name, destination_table_with_a_long_name and "
        "destination_topic_with_a_long_name are members of oneof 'destination_with_a_long_name'",
    ):
        implicit.UpdateGrpcRequest(
            destination_bucket_with_a_long_name="b",
            destination_table_with_a_long_name="t",
            destination_topic_with_a_long_name="",
        )
    one_each = implicit.UpdateGrpcRequest(user_name="u", destination_table_with_a_long_name="t")
    assert one_each.message().WhichOneof("destination_with_a_long_name") == (
        "destination_table_with_a_long_name"
    )


def test_a_deprecated_facade_call_warns_once_at_the_callers_line(corpus_out: Path) -> None:
    module = load("corpus.deprecation_protoreq")
    pb2 = load("corpus.deprecation_pb2")
    fake = FakeGrpcClient()
    fake.respond(module.OldCallGrpcRequest, pb2.Knock(times=2))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = module.LegacyClient(fake).old_call(times=1)
    assert response.message().times == 2
    assert [(w.category, Path(w.filename).name) for w in caught] == [
        (DeprecationWarning, "test_corpus.py")
    ]
    (sent,) = fake.requests
    assert isinstance(sent, module.OldCallGrpcRequest)
    assert sent.message().times == 1


async def test_a_deprecated_async_facade_call_warns_once(corpus_out: Path) -> None:
    module = load("corpus.deprecation_protoreq")
    pb2 = load("corpus.deprecation_pb2")
    fake = FakeGrpcClient()
    fake.respond(module.AnythingGrpcRequest, pb2.Knock())
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        response = await module.AsyncRetiredClient(fake).anything(times=3)
    assert response.is_success()
    assert [w.category for w in caught] == [DeprecationWarning]


def test_a_service_without_rpcs_gives_a_facade_and_nothing_unused(corpus_out: Path) -> None:
    module = load("corpus.no_rpcs_protoreq")
    assert module.PlaceholderClient(FakeGrpcClient())._client is not None
    source = (corpus_out / "corpus/no_rpcs_protoreq.py").read_text()
    assert "Mapping" not in source
    assert "ClassVar" not in source  # the ruff run of the mypy test checks F401 for all


@pytest.mark.parametrize(
    ("path", "message"),
    [
        ("2fa/code.proto", "2fa/code.proto: its Python module would be 2fa.code_pb2"),
        ("my file.proto", "my file.proto: its Python module would be my file_pb2"),
        ("v1.2/code.proto", "'2' is not an identifier"),
    ],
)
def test_paths_no_import_can_name_fail_with_a_clear_error(
    tmp_path: Path, path: str, message: str
) -> None:
    """A real protoc run: protoc's own _pb2 would not be importable there either."""
    source = tmp_path / "src" / path
    source.parent.mkdir(parents=True)
    source.write_text(
        'syntax = "proto3";\npackage p;\nmessage Code { string value = 1; }\n'
        "service Verify { rpc Check(Code) returns (Code); }\n"
    )
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(ProtocError, match=re.escape(message)):
        compile_into(Invocation(includes=(tmp_path / "src",), sources=(source,)), out)
    cli = run(
        [
            sys.executable,
            "-m",
            "protoreq_generator",
            "generate",
            "-I",
            "src",
            f"src/{path}",
            "-o",
            "out",
        ],
        cwd=tmp_path,
    )
    assert cli.returncode != 0
    assert message in cli.stderr.decode()
    assert "Traceback" not in cli.stderr.decode()
    assert not list(out.rglob("*_protoreq.py"))


def test_aip_158_list_methods_and_only_those_get_pagers(corpus_out: Path) -> None:
    from protoreq import GeneratedPaginatedGrpcRequest  # noqa: PLC0415

    module = load("corpus.paging_protoreq")
    paginated = {
        name: cls.items_field
        for name, cls in vars(module).items()
        if isinstance(cls, type)
        and issubclass(cls, GeneratedPaginatedGrpcRequest)
        and cls.__module__ == module.__name__
    }
    assert paginated == {
        "ListItemsGrpcRequest": "items",  # the first repeated message field, not `also`
        "ListLongItemsWithAVeryLongMethodNameGrpcRequest": "results",
        "ListOldGrpcRequest": "items",
    }
    pagers = {name for name in vars(module.ShelfClient) if name.endswith("_pager")}
    assert pagers == {
        "list_items_pager",
        "list_long_items_with_a_very_long_method_name_pager",
        "list_old_pager",
    }
    assert pagers == {name for name in vars(module.AsyncShelfClient) if name.endswith("_pager")}


def test_a_deprecated_list_methods_pager_warns_once(corpus_out: Path) -> None:
    module = load("corpus.paging_protoreq")
    fake = FakeGrpcClient()
    fake.respond_pages(module.ListOldGrpcRequest, [load("corpus.paging_pb2").ListItemsResponse()])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        pager = module.ShelfClient(fake).list_old_pager(page_size=1)
        assert list(pager) == []
    assert [type(warning.message) for warning in caught] == [DeprecationWarning]
