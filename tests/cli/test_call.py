"""``protoreq call`` against real servers: all four kinds, metadata, errors, bad input, TLS."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.cli.conftest import run_cli, run_protoreq
from tests.cli.servers import RunningServer, cli_server
from tests.resilience.certs import Pki, make_pki
from tests.support.protos import REPO_ROOT

COMMAND = (sys.executable, "-m", "protoreq_generator")


def documents(text: str) -> list[object]:
    decoder = json.JSONDecoder()
    found, position = [], 0
    text = text.strip()
    while position < len(text):
        value, position = decoder.raw_decode(text, position)
        found.append(value)
        while position < len(text) and text[position].isspace():
            position += 1
    return found


def test_unary_from_json(target: str) -> None:
    ran = run_protoreq("call", target, "chat.ChatService/Send", "-d", '{"seq": 4, "text": "hi"}')
    assert ran.exit_code == 0, ran.stderr
    assert documents(ran.stdout) == [{"seq": "5", "text": "re: hi"}]
    assert ran.stderr == ""


def test_service_dot_method_and_default_empty_request(target: str) -> None:
    ran = run_cli("call", target, "chat.ChatService.Send")
    assert ran.exit_code == 0, ran.stderr
    assert documents(ran.stdout) == [{"seq": "1", "text": "re: "}]


def test_server_stream_prints_one_document_per_message(target: str) -> None:
    ran = run_cli("call", target, "chat.ChatService/Subscribe", "-d", '{"room": "r", "count": 3}')
    assert ran.exit_code == 0, ran.stderr
    assert documents(ran.stdout) == [
        {"text": "r 0"},
        {"seq": "1", "text": "r 1"},
        {"seq": "2", "text": "r 2"},
    ]


def test_client_stream_reads_concatenated_objects_from_a_file(target: str, tmp_path: Path) -> None:
    body = tmp_path / "messages.json"
    body.write_text('{"seq": 1, "text": "a"}\n{"seq": 2, "text": "b"}{"seq": 3, "text": "c"}')
    ran = run_cli("call", target, "chat.ChatService/Upload", "-d", f"@{body}")
    assert ran.exit_code == 0, ran.stderr
    assert documents(ran.stdout) == [{"count": "3", "lastSeq": "3", "joined": "a,b,c"}]


def test_emit_defaults(target: str) -> None:
    plain = run_cli("call", target, "chat.ChatService/Upload", "-d", "")
    full = run_cli("call", target, "chat.ChatService/Upload", "--emit-defaults")
    assert documents(plain.stdout) == [{}]
    assert documents(full.stdout) == [{"count": "0", "lastSeq": "0", "joined": ""}]


def test_bidi_from_stdin_answers_as_messages_arrive(target: str) -> None:
    """Each answer is printed before the next request is even written."""
    process = subprocess.Popen(
        [*COMMAND, "call", target, "chat.ChatService/Converse", "-d", "@-"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=REPO_ROOT,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        answers = []
        for text in ("one", "two"):
            process.stdin.write(json.dumps({"text": text}) + "\n")
            process.stdin.flush()
            lines = [process.stdout.readline() for _ in range(4)]  # a 4-line JSON document
            answers.append(json.loads("".join(lines)))
        process.stdin.close()
        assert process.wait(timeout=30) == 0
    finally:
        process.kill()
        process.wait()
    assert answers == [{"seq": "1", "text": "re: one"}, {"seq": "1", "text": "re: two"}]


def test_bidi_from_stdin_through_cli_runner(target: str) -> None:
    ran = run_cli(
        "call",
        target,
        "chat.ChatService/Converse",
        "-d",
        "@-",
        input='{"text": "x"}\n{"text": "y"}',
    )
    assert ran.exit_code == 0, ran.stderr
    assert [d["text"] for d in documents(ran.stdout)] == ["re: x", "re: y"]  # type: ignore[index]


def test_metadata_and_trace_id_reach_the_server(server: RunningServer) -> None:
    ran = run_cli(
        "call",
        server.target,
        "chat.ChatService/Send",
        "-H",
        "x-team: blue",
        "-H",
        "x-blob-bin: AAEC",
        "--trace-id",
        "trace-from-cli",
    )
    assert ran.exit_code == 0, ran.stderr
    seen = server.chat.progress.metadata[-1]
    assert seen["x-team"] == "blue"
    assert seen["x-blob-bin"] == b"\x00\x01\x02"
    assert seen["x-trace-id"] == "trace-from-cli"


def test_verbose_prints_metadata_redacted_and_timing(target: str) -> None:
    ran = run_cli(
        "call",
        target,
        "user.UserService/GetUser",
        "-d",
        '{"user_id": "metadata"}',
        "-H",
        "authorization: Bearer s3cret",
        "--trace-id",
        "t-1",
        "-v",
    )
    assert ran.exit_code == 0, ran.stderr
    assert "s3cret" not in ran.stderr
    lines = ran.stderr.splitlines()
    assert lines[0] == "> /user.UserService/GetUser"
    sent = json.loads(lines[1].removeprefix("> metadata: "))
    assert sent == {"x-trace-id": "t-1", "authorization": "[REDACTED]"}
    assert json.loads(lines[2].removeprefix("< headers: "))["x-initial"] == "first"
    assert json.loads(lines[3].removeprefix("< trailers: "))["x-trailing"] == "last"
    assert lines[4].startswith("< OK in ")
    assert lines[4].endswith(" ms (trace id t-1, 1 attempt)")


def test_rich_error_is_json_on_stderr_with_its_exit_code(target: str) -> None:
    ran = run_protoreq("call", target, "user.UserService/GetUser", "-d", '{"user_id": "rich"}')
    assert ran.exit_code == 4  # NOT_FOUND
    assert ran.stdout == ""
    assert json.loads(ran.stderr) == {
        "code": "NOT_FOUND",
        "number": 5,
        "details": "user rich not found",
        "error_details": [
            {
                "@type": "type.googleapis.com/google.rpc.BadRequest",
                "fieldViolations": [{"field": "user_id", "description": "no such user"}],
            }
        ],
    }


@pytest.mark.parametrize(
    ("code", "exit_code"),
    [("INVALID_ARGUMENT", 3), ("PERMISSION_DENIED", 5), ("UNAVAILABLE", 6), ("INTERNAL", 9)],
)
def test_exit_code_by_status_class(target: str, code: str, exit_code: int) -> None:
    ran = run_cli(
        "call",
        target,
        "chat.ChatService/Send",
        "-H",
        "x-fail-after: 0",
        "-H",
        f"x-fail-code: {code}",
    )
    assert ran.exit_code == exit_code
    assert json.loads(ran.stderr)["code"] == code


def test_stream_failure_after_messages(target: str) -> None:
    ran = run_cli(
        "call",
        target,
        "chat.ChatService/Subscribe",
        "-d",
        '{"room": "r", "count": 5}',
        "-H",
        "x-fail-after: 2",
    )
    assert ran.exit_code == 6  # ABORTED
    assert len(documents(ran.stdout)) == 2
    assert json.loads(ran.stderr)["details"] == "failed after 2 messages"


def test_timeout_is_the_deadline(target: str) -> None:
    ran = run_cli("call", target, "chat.ChatService/Send", "-H", "x-delay: 3", "--timeout", "0.3")
    assert ran.exit_code == 7
    assert json.loads(ran.stderr)["code"] == "DEADLINE_EXCEEDED"


def test_retries_only_with_retry(server: RunningServer) -> None:
    fail = ["-H", "x-fail-after: 0", "-H", "x-fail-code: UNAVAILABLE"]
    before = len(server.chat.progress.metadata)
    assert run_cli("call", server.target, "chat.ChatService/Send", *fail).exit_code == 6
    assert len(server.chat.progress.metadata) == before + 1
    ran = run_cli("call", server.target, "chat.ChatService/Send", *fail, "--retry", "-v")
    assert ran.exit_code == 6
    assert len(server.chat.progress.metadata) == before + 1 + 3
    assert "3 attempts)" in ran.stderr


def test_bad_field_is_one_line_naming_it(target: str) -> None:
    ran = run_cli("call", target, "chat.ChatService/Send", "-d", '{"sq": 4}')
    assert ran.exit_code == 1
    assert ran.stderr.count("\n") == 1
    assert ran.stderr.startswith("protoreq: request 1 (chat.ChatMessage): ")
    assert 'no field named "sq"' in ran.stderr


def test_bad_value_names_the_field(target: str) -> None:
    ran = run_cli("call", target, "chat.ChatService/Upload", "-d", '{"seq": 1} {"seq": "x"}')
    assert ran.exit_code == 1
    assert ran.stderr.startswith(
        "protoreq: request 2 (chat.ChatMessage): Failed to parse seq field"
    )


def test_not_json(target: str) -> None:
    ran = run_cli("call", target, "chat.ChatService/Send", "-d", '{"seq": ')
    assert ran.exit_code == 1
    assert (
        ran.stderr
        == "protoreq: request body is not JSON: Expecting value: line 1 column 9 (char 8)\n"
    )


def test_two_messages_for_a_unary_method(target: str) -> None:
    ran = run_cli("call", target, "chat.ChatService/Send", "-d", "{} {}")
    assert ran.exit_code == 1
    assert ran.stderr == (
        "protoreq: chat.ChatService.Send takes one request message, got 2 JSON objects\n"
    )


def test_unknown_method_lists_the_methods(target: str) -> None:
    ran = run_cli("call", target, "chat.ChatService/Nope")
    assert ran.exit_code == 1
    assert ran.stderr == (
        "protoreq: service 'chat.ChatService' has no method 'Nope' "
        "(methods: Send, Subscribe, Upload, Converse)\n"
    )


def test_unknown_service_lists_the_services(target: str) -> None:
    ran = run_cli("call", target, "chat.Nope/Send")
    assert ran.exit_code == 1
    assert ran.stderr.startswith(
        "protoreq: unknown service 'chat.Nope' (services: chat.ChatService,"
    )


@pytest.fixture(scope="module")
def pki() -> Pki:
    return make_pki()


@pytest.fixture(scope="module")
def pem_files(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("pki")
    files = {
        "ca": pki.ca,
        "cert": pki.client.certificate,
        "key": pki.client.private_key,
        "other": pki.other_ca,
    }
    for name, pem in files.items():
        (folder / f"{name}.pem").write_bytes(pem)
    return {name: str(folder / f"{name}.pem") for name in files}


def test_tls_with_cacert_and_servername(pki: Pki, pem_files: dict[str, str]) -> None:
    with cli_server(pki=pki) as running:
        ran = run_protoreq(
            "call", running.target, "chat.ChatService/Send", "--cacert", pem_files["ca"]
        )
        named = run_cli(
            "call",
            running.target,
            "chat.ChatService/Send",
            "--cacert",
            pem_files["ca"],
            "--servername",
            "localhost",
        )
    assert ran.exit_code == 0, ran.stderr
    assert named.exit_code == 0, named.stderr


def test_tls_untrusted_server_fails(pki: Pki, pem_files: dict[str, str]) -> None:
    with cli_server(pki=pki) as running:
        plaintext = run_cli("call", running.target, "chat.ChatService/Send", "--timeout", "5")
        wrong_ca = run_cli(
            "call", running.target, "chat.ChatService/Send", "--cacert", pem_files["other"]
        )
    assert plaintext.exit_code == 1  # reflection over plaintext to a TLS port fails
    assert wrong_ca.exit_code == 1
    assert "server reflection failed (UNAVAILABLE" in wrong_ca.stderr


def test_insecure_trusts_what_the_server_presents(pki: Pki) -> None:
    with cli_server(pki=pki) as running:
        ran = run_cli("call", running.target, "chat.ChatService/Send", "--insecure")
    assert ran.exit_code == 0, ran.stderr


def test_mutual_tls(pki: Pki, pem_files: dict[str, str]) -> None:
    with cli_server(pki=pki, mutual=True) as running:
        tls = ["--cacert", pem_files["ca"]]
        without = run_cli("call", running.target, "chat.ChatService/Send", *tls)
        mutual = run_cli(
            "call",
            running.target,
            "chat.ChatService/Send",
            *tls,
            "--cert",
            pem_files["cert"],
            "--key",
            pem_files["key"],
        )
    assert without.exit_code == 1
    assert mutual.exit_code == 0, mutual.stderr


def test_plaintext_with_tls_options_is_a_usage_error(
    target: str, pem_files: dict[str, str]
) -> None:
    ran = run_cli(
        "call", target, "chat.ChatService/Send", "--plaintext", "--cacert", pem_files["ca"]
    )
    assert ran.exit_code == 2
    assert "--plaintext cannot be combined with TLS options" in ran.stderr
