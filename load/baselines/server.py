"""Serve the baseline booking service under granian (ASGI, uvloop), like Tessera's ingress.

    uv run tessera up --infra-only
    uv run python -m load.baselines.server --port 18180 --workers 2

It creates `tessera_baseline` (settings.postgres_dsn("baseline")) and its schema if
missing. Gateway latency and policy come from the same variables as Tessera's payment
worker: TESSERA_SIM_*, TESSERA_GATEWAY_TIMEOUT_S, _ATTEMPTS, _BULKHEAD. Tokens: the
JWKS at TESSERA_JWKS (default $TESSERA_HOME/keys/jwks.json), as the ingress.
"""

from __future__ import annotations

import argparse
import functools
import logging

from granian.constants import Interfaces, Loops
from granian.log import LogLevels
from granian.server import Server

from tessera.config import Settings, load_settings

from .booking_service import BaselineApp, create_app
from .db import ensure_database


def _load(settings: Settings, _target: str | None = None) -> BaselineApp:
    return create_app(settings)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=18180)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    settings = load_settings()
    ensure_database(settings)
    server = Server(
        target="load.baselines.booking_service:create_app",  # informational: loader below
        address=args.host,
        port=args.port,
        interface=Interfaces.ASGI,
        workers=args.workers,
        loop=Loops.uvloop,
        log_enabled=True,
        log_level=LogLevels.warning,
        log_access=False,
        backlog=2048,
    )
    server.serve(target_loader=functools.partial(_load, settings), wrap_loader=False)


if __name__ == "__main__":
    main()
