"""`tessera up`, `status --json`, `down`, `schemas export`, as a user runs them."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import msgspec

from load.system_harness import free_port_block
from schemas.topics import ALL_TOPICS


def tessera(env: dict[str, str], *args: str, timeout: float = 240) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "tessera.cli", *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def test_up_status_down_on_a_private_home() -> None:
    home = Path(tempfile.mkdtemp(prefix="tessera-up-"))
    home.chmod(0o755)  # postgres runs as its own OS user and must reach its data dir
    base = free_port_block(100)
    env = {
        "TESSERA_HOME": str(home),
        "TESSERA_KAFKA_PORT": str(base),
        "TESSERA_KAFKA_CONTROLLER_PORT": str(base + 1),
        "TESSERA_POSTGRES_PORT": str(base + 2),
        "TESSERA_REDIS_PORT": str(base + 3),
        "TESSERA_INGRESS_PORT": str(base + 4),
        "TESSERA_OPS_PORT": str(base + 10),
        "TESSERA_KAFKA_HEAP": "512m",
        "TESSERA_TOPIC_PARTITIONS": "2",
    }
    try:
        up = tessera(env, "up")
        assert up.returncode == 0, up.stdout + up.stderr
        status = tessera(env, "status", "--json")
        report = json.loads(status.stdout)
        assert status.returncode == 0 and report["healthy"], status.stdout
        endpoints = report["endpoints"]
        assert endpoints["kafka"] == f"127.0.0.1:{base}"
        assert endpoints["redis"] == f"redis://127.0.0.1:{base + 3}/0"
        assert endpoints["postgres.booking"].endswith(f":{base + 2}/tessera_booking")
        assert endpoints["ingress"] == f"http://127.0.0.1:{base + 4}"
        assert set(report["components"]) >= {"kafka", "postgres", "redis", "saga", "ingress"}
        again = tessera(env, "topics", "apply")
        assert "no changes" in again.stdout, again.stdout
    finally:
        down = tessera(env, "down")
        leftovers = subprocess.run(["pgrep", "-f", str(home)], capture_output=True, text=True)
        shutil.rmtree(home, ignore_errors=True)
    assert down.returncode == 0, down.stderr
    assert leftovers.stdout.strip() == "", f"processes left behind: {leftovers.stdout}"


def test_up_names_a_port_taken_by_someone_else() -> None:
    import socket

    home = Path(tempfile.mkdtemp(prefix="tessera-port-"))
    with socket.socket() as squatter:
        squatter.bind(("127.0.0.1", 0))
        squatter.listen()
        port = squatter.getsockname()[1]
        result = tessera({"TESSERA_HOME": str(home), "TESSERA_KAFKA_PORT": str(port)}, "up")
    shutil.rmtree(home, ignore_errors=True)
    assert result.returncode == 2
    assert f"Port {port} is taken" in result.stderr and "TESSERA_KAFKA_PORT" in result.stderr


def test_schemas_export_writes_a_json_schema_per_topic(tmp_path: Path) -> None:
    result = tessera({}, "schemas", "export", "--out", str(tmp_path))
    assert result.returncode == 0, result.stderr
    written = {p.name for p in tmp_path.glob("*.schema.json")}
    assert written == {f"{s.name}.schema.json" for s in ALL_TOPICS if s.payload is not None}
    schema = json.loads((tmp_path / "booking-commands.schema.json").read_text())
    create = schema["$defs"]["CreateBooking"]
    assert {"booking_id", "user_id", "item_id", "quantity"} <= set(create["required"])
    assert create["properties"]["quantity"]["minimum"] == 1
    msgspec.json.decode((tmp_path / "payment-events.schema.json").read_bytes())
