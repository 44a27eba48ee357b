"""``protoreq list`` and ``describe`` on reflection (v1 and v1alpha), --proto and --protoset."""

from __future__ import annotations

from pathlib import Path

from grpc_tools import protoc

from protoreq import GrpcClient
from protoreq_generator.reflection import ReflectionClient
from protoreq_generator.schema import from_reflection
from tests.cli.conftest import run_cli, run_protoreq
from tests.cli.servers import cli_server
from tests.support.protos import REPO_ROOT

CHAT_METHODS = """\
chat.ChatService/Send  unary_unary
chat.ChatService/Subscribe  unary_stream
chat.ChatService/Upload  stream_unary
chat.ChatService/Converse  stream_stream
"""


def test_list_services_through_v1alpha_reflection(target: str) -> None:
    ran = run_protoreq("list", target)
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout.split() == [
        "chat.ChatService",
        "grpc.health.v1.Health",
        "grpc.reflection.v1alpha.ServerReflection",
        "user.UserService",
    ]


def test_list_methods_with_their_kinds(target: str) -> None:
    ran = run_cli("list", target, "chat.ChatService")
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout == CHAT_METHODS


def test_v1_is_asked_first_when_the_server_has_it() -> None:
    with cli_server(v1=True) as running, GrpcClient(running.target) as client:
        reflection = ReflectionClient(client)
        assert "chat.ChatService" in reflection.services()
        assert running.reflection_paths == [
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo"
        ]


def test_v1alpha_is_the_fallback() -> None:
    with cli_server() as running, GrpcClient(running.target) as client:
        reflection = ReflectionClient(client)
        assert reflection.services()
        reflection.files(["chat.ChatService"])  # the second question goes to v1alpha at once
        v1alpha = "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo"
        assert running.reflection_paths == [
            "/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",  # UNIMPLEMENTED
            v1alpha,
            v1alpha,
        ]


def test_reflection_fetches_dependencies() -> None:
    with cli_server(with_imports=True) as running, GrpcClient(running.target) as client:
        schema = from_reflection(client, ["stamped.Clock"])
        names = [file.name for file in schema.files]
        assert names == ["google/protobuf/timestamp.proto", "stamped/clock.proto"]
        message = schema.pool.FindMessageTypeByName("stamped.Tick")
        stamp = message.fields_by_name["at"].message_type
        assert stamp is not None
        assert stamp.full_name == "google.protobuf.Timestamp"


def test_server_without_reflection_is_one_clear_line() -> None:
    with cli_server(reflect=False) as running:
        ran = run_cli("list", running.target)
    assert ran.exit_code == 1
    assert ran.stderr.startswith("protoreq: server reflection failed (UNIMPLEMENTED")
    assert len(ran.stderr.strip().splitlines()) == 1


def test_local_protos_need_no_reflection() -> None:
    with cli_server(reflect=False) as running:
        ran = run_cli(
            "list",
            running.target,
            "chat.ChatService",
            "--proto",
            str(REPO_ROOT / "protos/chat.proto"),
            "-I",
            str(REPO_ROOT),
        )
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout == CHAT_METHODS


def test_protoset(tmp_path: Path) -> None:
    protoset = tmp_path / "chat.protoset"
    assert (
        protoc.main(
            [
                "protoc",
                f"-I{REPO_ROOT}",
                f"--descriptor_set_out={protoset}",
                "--include_imports",
                str(REPO_ROOT / "protos/chat.proto"),
            ]
        )
        == 0
    )
    ran = run_cli("describe", "127.0.0.1:1", "chat.SubscribeRequest", "--protoset", str(protoset))
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout == (
        "// message chat.SubscribeRequest (protos/chat.proto)\n"
        "message SubscribeRequest {\n"
        "  string room = 1;\n"
        "  int64 count = 2;\n"
        "}\n"
    )


def test_describe_service_and_method(target: str) -> None:
    ran = run_cli("describe", target, "chat.ChatService")
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout == (
        "// service chat.ChatService (protos/chat.proto)\n"
        "service ChatService {\n"
        "  rpc Send(.chat.ChatMessage) returns (.chat.ChatMessage);\n"
        "  rpc Subscribe(.chat.SubscribeRequest) returns (stream .chat.ChatMessage);\n"
        "  rpc Upload(stream .chat.ChatMessage) returns (.chat.UploadSummary);\n"
        "  rpc Converse(stream .chat.ChatMessage) returns (stream .chat.ChatMessage);\n"
        "}\n"
    )
    method = run_cli("describe", target, "chat.ChatService/Converse")
    assert method.stdout == (
        "// method chat.ChatService.Converse\n"
        "rpc Converse(stream .chat.ChatMessage) returns (stream .chat.ChatMessage);\n"
    )


def test_describe_message_with_oneof_map_optional_enum_and_nesting() -> None:
    with cli_server(with_imports=True) as running:
        ran = run_cli("describe", running.target, "stamped.Tick")
        enum = run_cli("describe", running.target, "stamped.Tick.Phase")
    assert ran.exit_code == 0, ran.stderr
    assert ran.stdout == (
        "// message stamped.Tick (stamped/clock.proto)\n"
        "message Tick {\n"
        "  message Note {\n"
        "    string text = 1;\n"
        "  }\n"
        "  enum Phase {\n"
        "    PHASE_UNSPECIFIED = 0;\n"
        "    PHASE_DAY = 1;\n"
        "  }\n"
        "  .google.protobuf.Timestamp at = 1;\n"
        "  map<string, int64> counts = 2;\n"
        "  optional string label = 3;\n"
        "  oneof payload {\n"
        "    string text = 4;\n"
        "    .stamped.Tick.Note note = 5;\n"
        "  }\n"
        "  repeated .stamped.Tick.Phase phases = 6;\n"
        "}\n"
    )
    assert enum.stdout == (
        "// enum stamped.Tick.Phase (stamped/clock.proto)\n"
        "enum Phase {\n  PHASE_UNSPECIFIED = 0;\n  PHASE_DAY = 1;\n}\n"
    )


def test_describe_unknown_symbol_lists_services(target: str) -> None:
    ran = run_cli("describe", target, "chat.Nope")
    assert ran.exit_code == 1
    assert ran.stderr == (
        "protoreq: symbol 'chat.Nope' not found (services: chat.ChatService, "
        "grpc.health.v1.Health, grpc.reflection.v1alpha.ServerReflection, user.UserService)\n"
    )
