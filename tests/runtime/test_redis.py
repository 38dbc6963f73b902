from __future__ import annotations

import socket
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis

from tessera.config import Settings
from tessera.runtime.base import pid_alive, read_pid
from tessera.runtime.exceptions import PortInUseError
from tessera.runtime.redis import RedisComponent


@pytest.fixture(scope="module")
def component(runtime_settings: Settings) -> Iterator[RedisComponent]:
    component = RedisComponent(runtime_settings)
    component.start()
    yield component
    component.stop()


def client(component: RedisComponent) -> redis.Redis:
    return redis.Redis.from_url(component.endpoints()["redis"], socket_timeout=2)


def test_start_is_healthy_and_idempotent(component: RedisComponent) -> None:
    assert component.health().state == "healthy"
    pid = read_pid(component.pid_file)
    assert pid is not None
    component.start()
    assert read_pid(component.pid_file) == pid


def test_durable_private_config(component: RedisComponent) -> None:
    with client(component) as r:
        config = r.config_get("*")
    assert config["bind"] == "127.0.0.1"
    assert config["appendonly"] == "yes"
    assert config["appendfsync"] == "everysec"
    assert config["save"] == ""
    assert config["dir"] == str(component.data_dir)


def test_port_taken_by_a_stranger_is_refused(tmp_path: Path) -> None:
    with socket.socket() as stranger:
        stranger.bind(("127.0.0.1", 0))
        stranger.listen()
        settings = Settings(home=tmp_path, redis_port=stranger.getsockname()[1])
        with pytest.raises(PortInUseError, match="TESSERA_REDIS_PORT"):
            RedisComponent(settings).start()


def test_stop_leaves_no_process_and_keys_survive_restart(component: RedisComponent) -> None:
    with client(component) as r:
        r.set("idem:key-1", "response-1")
    pid = read_pid(component.pid_file)
    assert pid is not None
    component.stop()
    assert not pid_alive(pid)
    assert not component.pid_file.exists()
    assert component.health().state == "stopped"

    component.start()
    with client(component) as r:
        assert r.get("idem:key-1") == b"response-1"
