"""`tessera`: run, inspect and stop the local Tessera stack."""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
import time
import warnings
from pathlib import Path

from tessera.config import PROJECT_ROOT, load_settings
from tessera.runtime.exceptions import RuntimeSetupError


def cmd_up(args: argparse.Namespace) -> int:
    from tessera.runtime.stack import endpoints_of_all, start_all, start_infrastructure

    settings = load_settings()
    started = time.monotonic()
    if args.infra_only:
        start_infrastructure(settings)
    else:
        start_all(settings)
    print(f"Tessera is up ({time.monotonic() - started:.1f}s).")
    for name, url in endpoints_of_all(settings).items():
        print(f"  {name:28} {url}")
    return 0


def cmd_install(_: argparse.Namespace) -> int:
    from tessera.runtime.stack import infrastructure

    for component in infrastructure(load_settings()):
        component.ensure_installed()
        print(f"{component.name}: installed")
    return 0


def cmd_down(_: argparse.Namespace) -> int:
    from tessera.runtime.stack import stop_all

    stopped = stop_all(load_settings())
    print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))
    return 0


def cmd_status(args: argparse.Namespace) -> int:
    from tessera.runtime.stack import endpoints_of_all, health_of_all

    settings = load_settings()
    health = health_of_all(settings)
    if args.json:
        print(
            json.dumps(
                {
                    "components": {h.name: {"state": h.state, "detail": h.detail} for h in health},
                    "endpoints": endpoints_of_all(settings),
                    "healthy": all(h.state == "healthy" for h in health),
                },
                indent=2,
            )
        )
    else:
        for h in health:
            print(f"{h.name:16} {h.state:10} {h.detail}")
    return 0 if all(h.state == "healthy" for h in health) else 1


def cmd_logs(args: argparse.Namespace) -> int:
    log_dir = load_settings().log_dir
    files = sorted(log_dir.glob(f"{args.component or '*'}.log"))
    if not files:
        print(f"no logs in {log_dir}", file=sys.stderr)
        return 1
    argv = ["tail", "-n", str(args.lines), *(["-F"] if args.follow else []), *map(str, files)]
    return subprocess.call(argv)  # noqa: S603 - tail with our own file names


def cmd_topics(args: argparse.Namespace) -> int:
    from tessera.runtime.topics import apply_topics

    settings = load_settings()
    report = apply_topics(
        settings.kafka_bootstrap, settings.topic_partitions, prefix=settings.topic_prefix
    )
    for change in report.changes:
        print(f"{change.kind:16} {change.topic}: {change.detail}")
    if not report.changed_anything:
        print(f"no changes: {len(report.unchanged)} topics already match the registry")
    return 0


def cmd_schemas(args: argparse.Namespace) -> int:
    from schemas.export import export_all

    for path in export_all(Path(args.out)):
        print(path)
    return 0


def cmd_run(args: argparse.Namespace) -> int:
    # quixstreams imports the schema-registry client, whose authlib import warns about
    # its own httpx integration at import time: third-party noise in every process log.
    # authlib installs an "always" filter for its warnings on import, so ours goes after.
    import authlib.deprecate

    from tessera.runtime.processes import find_role, metrics_port_of
    from tessera.telemetry import configure_logging

    warnings.filterwarnings("ignore", category=authlib.deprecate.AuthlibDeprecationWarning)
    settings = load_settings()
    role = find_role(args.role)
    configure_logging(role.name)
    module_name, _, func = role.entry.partition(":")
    entry = getattr(importlib.import_module(module_name), func)
    entry(settings, metrics_port=metrics_port_of(settings, role))
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="tessera", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("up", help="start Kafka, Postgres, Redis and every Tessera process")
    up.add_argument("--infra-only", action="store_true", help="only Kafka, Postgres, Redis")
    up.set_defaults(func=cmd_up)
    sub.add_parser(
        "install", help="install Java, Kafka jars, Postgres, Redis if missing"
    ).set_defaults(func=cmd_install)
    sub.add_parser("down", help="stop everything `up` started").set_defaults(func=cmd_down)
    status = sub.add_parser("status", help="health of each component")
    status.add_argument("--json", action="store_true", help="also print every endpoint")
    status.set_defaults(func=cmd_status)
    logs = sub.add_parser("logs", help="tail the logs of one or all components")
    logs.add_argument("component", nargs="?")
    logs.add_argument("-n", "--lines", type=int, default=50)
    logs.add_argument("-f", "--follow", action="store_true")
    logs.set_defaults(func=cmd_logs)
    topics = sub.add_parser("topics", help="manage topics")
    topics_sub = topics.add_subparsers(dest="action", required=True)
    topics_sub.add_parser("apply", help="create or reconcile every declared topic").set_defaults(
        func=cmd_topics
    )
    schemas = sub.add_parser("schemas", help="topic contracts")
    schemas_sub = schemas.add_subparsers(dest="action", required=True)
    export = schemas_sub.add_parser("export", help="write JSON Schema for every topic")
    export.add_argument("--out", default=str(PROJECT_ROOT / "schemas" / "json"))
    export.set_defaults(func=cmd_schemas)
    from ingress.auth.token_cli import add_token_command
    from tessera.ops.trace_cli import add_trace_command

    add_token_command(sub)
    add_trace_command(sub)
    run = sub.add_parser("run", help="run one Tessera process in the foreground")
    run.add_argument("role")
    run.set_defaults(func=cmd_run)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return int(args.func(args))
    except RuntimeSetupError as exc:
        print(f"tessera: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
