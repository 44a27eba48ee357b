"""scripts/floors.py: the constraints scripts/test-minimums installs, read from pyproject.toml."""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
FLOORS = REPO_ROOT / "scripts" / "floors.py"


def floors(pyproject: Path, *extras: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, FLOORS, pyproject, *extras],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def write_pyproject(tmp_path: Path, dependencies: str, generator: str = "") -> Path:
    pyproject = tmp_path / "pyproject.toml"
    pyproject.write_text(
        f"[project]\nname = 'x'\ndependencies = [{dependencies}]\n"
        f"[project.optional-dependencies]\ngenerator = [{generator}]\n"
    )
    return pyproject


def test_each_floor_becomes_an_exact_pin(tmp_path: Path) -> None:
    pyproject = write_pyproject(
        tmp_path,
        "'grpcio>=1.63.0', 'protobuf>=5.26.1,<8', \"tomli>=2.0.1; python_version < '3.11'\"",
        "'grpcio-tools>=1.63.0'",
    )
    result = floors(pyproject, "generator")
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines() == [
        "grpcio==1.63.0",
        "protobuf==5.26.1",
        'tomli==2.0.1; python_version < "3.11"',
        "grpcio-tools==1.63.0",
    ]


def test_a_dependency_without_a_floor_is_refused(tmp_path: Path) -> None:
    result = floors(write_pyproject(tmp_path, "'grpcio'"))
    assert result.returncode == 1
    assert result.stderr == "floors.py: 'grpcio' declares no single '>=' floor\n"


def test_the_projects_floors_cover_every_runtime_and_generator_dependency() -> None:
    result = floors(REPO_ROOT / "pyproject.toml", "generator", "otel")
    assert result.returncode == 0, result.stderr
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    declared = [*project["dependencies"], *project["optional-dependencies"]["generator"]]
    lines = result.stdout.splitlines()
    assert {"grpcio", "grpcio-status", "protobuf", "grpcio-tools"} <= {
        line.split("==")[0] for line in lines
    }
    assert len(lines) == len(declared) + len(project["optional-dependencies"]["otel"])
