"""``protoreq --help`` and each command's ``--help`` name every command and option."""

from __future__ import annotations

import subprocess
import sys

import pytest

from protoreq import TlsConfig
from protoreq_generator.cli import cli
from protoreq_generator.connection import Connection
from tests.cli.conftest import run_cli, run_protoreq
from tests.cli.servers import cli_server
from tests.support.protos import REPO_ROOT

COMMANDS = ("call", "check", "describe", "generate", "health", "list")


def test_top_level_help_lists_every_command() -> None:
    ran = run_protoreq("--help")
    assert ran.exit_code == 0
    listed = ran.stdout.split("Commands:")[1].split()
    assert [word for word in listed if word in COMMANDS] == list(COMMANDS)
    assert "protoreq generate --from-server" in ran.stdout


def test_top_level_help_loads_neither_jinja_nor_the_client() -> None:
    """``--help`` only prints: rendering and the client load when a command runs."""
    code = (
        "import sys\n"
        "from protoreq_generator.cli import main\n"
        "sys.argv = ['protoreq', '--help']\n"
        "try:\n"
        "    main()\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = ('jinja2', 'protoreq.client', 'protoreq.transport')\n"
        "print('LOADED', *[name for name in heavy if name in sys.modules])\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert result.stdout.splitlines()[-1] == "LOADED"


@pytest.mark.parametrize("name", COMMANDS)
def test_each_command_help_shows_all_its_options(name: str) -> None:
    ran = run_cli(name, "--help")
    assert ran.exit_code == 0
    command = cli.commands[name]
    for parameter in command.params:
        for option in getattr(parameter, "opts", []):
            if option.startswith("-"):
                assert option in ran.stdout, (name, option)
    if name in ("call", "describe", "list", "health"):
        assert "Exit codes:" in ran.stdout
        assert "Examples:" in ran.stdout


@pytest.mark.parametrize(
    ("target", "plaintext"),
    [
        ("127.0.0.1:50051", True),
        ("localhost:1", True),
        ("[::1]:1", True),
        ("api.example.com:443", False),
    ],
)
def test_plaintext_by_default_only_for_loopback(target: str, plaintext: bool) -> None:
    tls = Connection.for_target(target).tls()
    assert (tls is None) is plaintext
    if not plaintext:
        assert tls == TlsConfig()  # the system's roots


def test_call_on_local_protos_without_reflection() -> None:
    with cli_server(reflect=False) as running:
        ran = run_cli(
            "call",
            running.target,
            "chat.ChatService/Send",
            "--proto",
            str(REPO_ROOT / "protos/chat.proto"),
            "-I",
            str(REPO_ROOT),
            "-d",
            '{"text": "local"}',
        )
    assert ran.exit_code == 0, ran.stderr
    assert '"text": "re: local"' in ran.stdout
