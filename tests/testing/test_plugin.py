"""The pytest plugin: registered by the ``pytest11`` entry point, fixtures torn down after use."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from protoreq import GrpcClient
from protoreq.testing import FakeGrpcClient, FakeGrpcServer


def test_the_plugin_is_registered_by_its_entry_point(pytestconfig: pytest.Config) -> None:
    plugin = pytestconfig.pluginmanager.get_plugin("protoreq")
    assert plugin is not None
    assert plugin.__name__ == "protoreq.testing.pytest_plugin"


def test_fixtures_in_a_project_without_conftest(tmp_path: Path) -> None:
    """A user's project: no conftest, no pytest_plugins line; only protoreq installed."""
    (tmp_path / "test_user_project.py").write_text(
        textwrap.dedent(
            """
            import grpc

            from protoreq import GrpcClient
            from protoreq.testing import FakeGrpcClient, FakeGrpcServer

            seen = {}


            def test_uses_every_fixture(fake_grpc_client, fake_grpc_server, grpc_server):
                assert isinstance(fake_grpc_client, FakeGrpcClient)
                assert isinstance(fake_grpc_server, FakeGrpcServer)
                seen["fake"] = fake_grpc_client
                seen["targets"] = [fake_grpc_server.target, grpc_server(FakeGrpcServer())]


            def test_after_the_test_the_fake_is_closed_and_the_servers_are_gone():
                assert seen["fake"].closed
                for target in seen["targets"]:
                    channel = grpc.insecure_channel(target)
                    ready = grpc.channel_ready_future(channel)
                    try:
                        ready.result(timeout=0.2)
                        raise AssertionError(f"{target} still serves")
                    except grpc.FutureTimeoutError:
                        pass
                    finally:
                        channel.close()
            """
        )
    )
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(tmp_path)],
        check=False,
        cwd=tmp_path,
        env={key: value for key, value in os.environ.items() if key != "PYTEST_ADDOPTS"},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "2 passed" in result.stdout


def test_fixture_types(fake_grpc_client: FakeGrpcClient, fake_grpc_server: FakeGrpcServer) -> None:
    assert isinstance(fake_grpc_client, GrpcClient)
    assert fake_grpc_server.target.startswith("127.0.0.1:")


def test_import_protoreq_leaves_the_testing_package_alone() -> None:
    code = "import sys, protoreq; print(any(m.startswith('protoreq.testing') for m in sys.modules))"
    result = subprocess.run(
        [sys.executable, "-c", code], check=True, capture_output=True, text=True, timeout=60
    )
    assert result.stdout.strip() == "False"
