"""compose.yaml is for users with a Docker engine; here we check it parses as Compose.

`config` needs no engine, only the Compose CLI (the plugin or Debian's `docker-compose`).
Without one it skips on a developer's machine; under CI it fails (`.ci/run` installs it).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from tests.ci import IN_CI

REPO = Path(__file__).resolve().parents[2]


def compose_command() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=20)
        if probe.returncode == 0:
            return ["docker", "compose"]
    if shutil.which("docker-compose"):
        return ["docker-compose"]
    return None


def test_compose_file_is_valid_and_wires_the_services() -> None:
    command = compose_command()
    if command is None:
        missing = "neither `docker compose` nor `docker-compose` is installed"
        if IN_CI:
            pytest.fail(f"{missing}: .ci/run installs it (apt-get install docker-compose)")
        pytest.skip(missing)
    result = subprocess.run([*command, "-f", str(REPO / "compose.yaml"), "config"],
                            capture_output=True, text=True, timeout=60, cwd=REPO)
    assert result.returncode == 0, result.stderr
    for expected in ("qdrant:", "api:", "indexer:", "QDRANT_URL: http://qdrant:6333",
                     "127.0.0.1:8000:8000"):
        assert expected in result.stdout or expected.replace(": ", ": '") in result.stdout
