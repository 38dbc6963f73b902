"""Run the ingress under granian (uvloop) in the foreground: `main(settings)`.

The process supervisor calls `main(settings, metrics_port=...)`; metrics are served on
the ingress port itself at /metrics, so metrics_port is accepted and ignored. Workers are
forked (or spawned) with a picklable loader that builds the app from the given Settings.
"""

from __future__ import annotations

import functools
import logging

from granian.constants import Interfaces, Loops
from granian.log import LogLevels
from granian.server import Server

from tessera.config import Settings

from .app import IngressApp, create_app
from .config import IngressConfig

log = logging.getLogger("tessera.ingress")


def _load(settings: Settings, config: IngressConfig, _target: str | None = None) -> IngressApp:
    return create_app(settings, config)


def build_server(settings: Settings, config: IngressConfig) -> Server:
    server = Server(
        target="ingress.app:create_app",  # informational: the loader below builds the app
        address=config.host,
        port=settings.ingress_port,
        interface=Interfaces.ASGI,
        workers=config.workers,
        loop=Loops.uvloop,
        log_enabled=True,
        log_level=LogLevels.warning,
        # granian's own records go to the root logger (tessera's JSON lines)
        log_dictconfig={"loggers": {"_granian": {"handlers": [], "propagate": True}}},
        log_access=False,
        backlog=2048,
    )
    return server


def main(settings: Settings, metrics_port: int | None = None) -> None:
    """Serve until SIGINT/SIGTERM. `metrics_port` is unused: /metrics is on the ingress port."""
    config = IngressConfig.from_env(settings)
    log.info(
        "ingress starting",
        extra={
            "port": settings.ingress_port,
            "workers": config.workers,
            "topic_prefix": settings.topic_prefix,
        },
    )
    server = build_server(settings, config)
    server.serve(target_loader=functools.partial(_load, settings, config), wrap_loader=False)


if __name__ == "__main__":
    from tessera.config import load_settings
    from tessera.telemetry import configure_logging

    configure_logging("ingress")
    main(load_settings())
