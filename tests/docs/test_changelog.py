"""The version is one number: the package's, the CLI's, the plugin's and the CHANGELOG's latest."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import protoreq
from tests.docs.markdown import REPO_ROOT

BIN = Path(sys.executable).parent
SECTIONS = {"Added", "Changed", "Deprecated", "Removed", "Fixed", "Security"}
RELEASE = re.compile(r"^## \[(?P<version>[^\]]+)\](?: - (?P<date>\d{4}-\d{2}-\d{2}))?$")


def _version_line(program: str) -> str:
    result = subprocess.run(
        [str(BIN / program), "--version"], capture_output=True, text=True, timeout=60, check=True
    )
    return result.stdout.strip()


def test_cli_and_plugin_print_the_package_version() -> None:
    assert _version_line("protoreq") == f"protoreq {protoreq.__version__}"
    assert _version_line("protoc-gen-protoreq") == f"protoc-gen-protoreq {protoreq.__version__}"


def test_changelog_keeps_a_changelog_and_names_the_current_version() -> None:
    lines = (REPO_ROOT / "CHANGELOG.md").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# Changelog"
    releases = [match for line in lines if (match := RELEASE.match(line))]
    assert releases[0]["version"] == "Unreleased", "keep an [Unreleased] section on top"
    latest = releases[1]
    assert latest["version"] == protoreq.__version__
    assert latest["date"] is not None, "a released version needs its date: ## [x.y.z] - YYYY-MM-DD"
    sections = {line.removeprefix("### ") for line in lines if line.startswith("### ")}
    assert sections <= SECTIONS, f"Keep a Changelog sections only, not {sections - SECTIONS}"
