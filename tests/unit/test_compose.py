"""compose.yaml is for users with a Docker engine; here we check it parses as Compose.

`config` needs no engine, only the Compose CLI (the plugin or Debian's `docker-compose`).
Without one it skips on a developer's machine; under CI it fails (`.ci/run` installs it).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from server.settings import load_settings
from tests.ci import IN_CI

REPO = Path(__file__).resolve().parents[2]


def compose_command() -> list[str] | None:
    if shutil.which("docker"):
        probe = subprocess.run(["docker", "compose", "version"], capture_output=True, timeout=20, check=False)
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
                            capture_output=True, text=True, timeout=60, cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr
    for expected in ("qdrant:", "api:", "indexer:", "QDRANT_URL: http://qdrant:6333",
                     "127.0.0.1:8000:8000"):
        assert expected in result.stdout or expected.replace(": ", ": '") in result.stdout


def test_the_cluster_profile_runs_three_peers_and_an_api_with_replicated_shards() -> None:
    """`docker compose --profile cluster config`: three Qdrant peers in cluster mode, the
    second and third bootstrapping from the first, and the API's collections laid out on
    2 shards x 2 replicas, each setting one the settings table knows (a typo'd variable
    would be ignored silently by the container, so it is checked here)."""
    command = compose_command()
    if command is None:
        missing = "neither `docker compose` nor `docker-compose` is installed"
        if IN_CI:
            pytest.fail(f"{missing}: .ci/run installs it (apt-get install docker-compose)")
        pytest.skip(missing)
    result = subprocess.run([*command, "-f", str(REPO / "compose.yaml"), "--profile", "cluster",
                             "config"], capture_output=True, text=True, timeout=60, cwd=REPO, check=False)
    assert result.returncode == 0, result.stderr
    services = yaml.safe_load(result.stdout)["services"]
    peers = [services[f"qdrant-{i}"] for i in (1, 2, 3)]
    assert all(p["environment"]["QDRANT__CLUSTER__ENABLED"] == "true" for p in peers)
    assert "--uri" in peers[0]["command"] and "--bootstrap" not in peers[0]["command"]
    assert all("http://qdrant-1:6335" in p["command"] for p in peers[1:])
    env = services["api-cluster"]["environment"]
    assert env["QDRANT_URL"] == "http://qdrant-1:6333"
    settings = load_settings({k: str(v) for k, v in env.items() if k.startswith("TRENDSEARCH_")})
    layout = settings.layout
    assert (layout.shards, layout.replicas, layout.write_consistency) == (2, 2, 2)
    assert layout.read_consistency == "majority"
    assert services["watcher-cluster"]["command"] == ["watch"]
