"""Apache Kafka in KRaft mode (broker + controller in one JVM), jars from Maven Central.

Steps of `start()`:
1. Make sure Java 17+ and the broker jars are here (fetched once by deploy/kafka/pom.xml).
2. Render server.properties from the template with our ports and data directory.
3. Format the storage once (KRaft needs a cluster id in meta.properties).
4. Start `kafka.Kafka` in the background and wait until the admin API answers.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import uuid
from pathlib import Path
from string import Template

from confluent_kafka.admin import AdminClient

from tessera.config import PROJECT_ROOT

from .base import Component, Health, port_in_use, read_pid, spawn, terminate
from .exceptions import PortInUseError, RuntimeSetupError
from .packages import apt_install

KAFKA_DIR = PROJECT_ROOT / "deploy" / "kafka"
LIBS_DIR = KAFKA_DIR / "libs"
# The broker cannot start without any of these; a partial copy is fetched again.
REQUIRED_JARS = ("kafka_2.13-*.jar", "slf4j-api-2*.jar", "log4j-core-*.jar", "log4j-slf4j2-impl-*")


def jars_complete() -> bool:
    return all(any(LIBS_DIR.glob(pattern)) for pattern in REQUIRED_JARS)


class KafkaComponent(Component):
    name = "kafka"

    @property
    def data_dir(self) -> Path:
        return self.settings.data_dir / "kafka"

    @property
    def config_file(self) -> Path:
        return self.settings.home / "kafka" / "server.properties"

    def ensure_installed(self) -> None:
        self._ensure_java()
        if not jars_complete():
            self._fetch_jars()

    def _ensure_java(self) -> None:
        if shutil.which("java") is None:
            apt_install(["openjdk-17-jre-headless"], why="Kafka needs Java 17")
        out = subprocess.run(  # noqa: S603, S607 - fixed argv
            ["java", "-version"],  # noqa: S607 - java from PATH, like the distribution's scripts
            capture_output=True,
            text=True,
            check=False,
        )
        match = re.search(r'version "(\d+)', out.stderr + out.stdout)
        if not match or int(match.group(1)) < 17:
            raise RuntimeSetupError(
                "Kafka 4 needs Java 17 or newer; install it with "
                "`apt-get install openjdk-17-jre-headless` and put it first on PATH."
            )

    def _fetch_jars(self) -> None:
        if shutil.which("mvn") is None:
            apt_install(["maven"], why="Maven fetches the Kafka jars")
        result = subprocess.run(  # noqa: S603, S607 - fixed argv
            ["mvn", "-q", "-B", "-f", str(KAFKA_DIR / "pom.xml"), "package"],  # noqa: S607
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0 or not jars_complete():
            raise RuntimeSetupError(
                "Could not download the Kafka jars from Maven Central "
                f"(mvn exit {result.returncode}). Check that Maven Central is reachable "
                f"(proxy settings in ~/.m2/settings.xml), then retry.\n{result.stdout[-2000:]}"
            )

    def _render_config(self) -> None:
        template = Template((KAFKA_DIR / "server.properties.template").read_text())
        self.config_file.parent.mkdir(parents=True, exist_ok=True)
        self.config_file.write_text(
            template.substitute(
                broker_port=self.settings.kafka_port,
                controller_port=self.settings.kafka_controller_port,
                log_dir=self.data_dir,
                partitions=self.settings.topic_partitions,
            )
        )

    def _java(self, main_class: str, *args: str) -> list[str]:
        return [
            "java",
            f"-Xms{self.settings.kafka_heap}",
            f"-Xmx{self.settings.kafka_heap}",
            "-XX:+UseG1GC",
            "-XX:MaxGCPauseMillis=20",
            "-Djava.awt.headless=true",
            f"-Dlog4j2.configurationFile={KAFKA_DIR / 'log4j2.properties'}",
            "-cp",
            f"{LIBS_DIR}/*",
            main_class,
            *args,
        ]

    def _format_storage(self) -> None:
        if (self.data_dir / "meta.properties").exists():
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        cluster_id = _kafka_uuid()
        result = subprocess.run(  # noqa: S603 - argv built here
            self._java(
                "kafka.tools.StorageTool", "format", "-t", cluster_id, "-c", str(self.config_file)
            ),
            capture_output=True,
            text=True,
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeSetupError(
                f"Formatting Kafka storage failed:\n{result.stdout}{result.stderr}"
            )

    def start(self) -> None:
        if self.health().state == "healthy":
            return
        if read_pid(self.pid_file) is None:
            for port in (self.settings.kafka_port, self.settings.kafka_controller_port):
                if port_in_use(port):
                    raise PortInUseError(
                        f"Port {port} is taken by a process Tessera did not start; "
                        "set TESSERA_KAFKA_PORT / TESSERA_KAFKA_CONTROLLER_PORT to free ports."
                    )
            self.ensure_installed()
            self._render_config()
            self._format_storage()
            spawn(self._java("kafka.Kafka", str(self.config_file)), self.log_file, self.pid_file)
        self.wait_healthy(timeout_s=120)

    def stop(self) -> None:
        terminate(self.pid_file, timeout_s=30)

    def health(self) -> Health:
        if read_pid(self.pid_file) is None and not port_in_use(self.settings.kafka_port):
            return Health(self.name, "stopped", "not running")
        try:
            admin = AdminClient(
                {
                    "bootstrap.servers": self.settings.kafka_bootstrap,
                    "socket.timeout.ms": 2000,
                    "log_level": 0,
                }
            )
            cluster = admin.describe_cluster(request_timeout=3).result(timeout=4)
        except Exception as exc:  # noqa: BLE001 - any failure means "not healthy yet"
            return Health(self.name, "unhealthy", f"admin API not answering: {exc}")
        return Health(
            self.name, "healthy", f"cluster {cluster.cluster_id}, {len(cluster.nodes)} node"
        )

    def endpoints(self) -> dict[str, str]:
        return {"kafka": self.settings.kafka_bootstrap}


def _kafka_uuid() -> str:
    """A Kafka cluster id: 16 random bytes, URL-safe base64 without padding."""
    import base64

    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
