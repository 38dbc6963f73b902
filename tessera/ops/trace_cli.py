"""`tessera trace BOOKING_ID [--json]`: a booking's whole journey, time-ordered.

Wire into the CLI with `add_trace_command(subparsers)`; it sets `func` like every command.
"""

from __future__ import annotations

import argparse
import json
import sys

from tessera.config import Settings, load_settings

from .db import Databases
from .exceptions import OpsError
from .journey import format_text, journey


def trace_command(settings: Settings, booking_id: str, as_json: bool = False) -> int:
    """Print the journey; 0 if anything of the booking was found, 1 if nothing, 2 on error."""
    db = Databases(settings)
    try:
        trip = journey(settings, db, booking_id)
    except OpsError as exc:
        print(f"tessera trace: {exc}", file=sys.stderr)
        return 2
    finally:
        db.close()
    print(json.dumps(trip, indent=2, default=str) if as_json else format_text(trip))
    return 0 if trip["entries"] else 1


def _cmd_trace(args: argparse.Namespace) -> int:
    return trace_command(load_settings(), args.booking_id, as_json=args.json)


def add_trace_command(subparsers: argparse._SubParsersAction) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "trace", help="a booking's journey: every command, event and table row, time-ordered"
    )
    parser.add_argument("booking_id")
    parser.add_argument("--json", action="store_true", help="machine-readable output")
    parser.set_defaults(func=_cmd_trace)
    return parser


if __name__ == "__main__":  # `python -m tessera.ops.trace_cli BOOKING_ID` until the CLI has it
    _parser = argparse.ArgumentParser(prog="tessera")
    add_trace_command(_parser.add_subparsers(dest="command", required=True))
    sys.exit(_cmd_trace(_parser.parse_args(["trace", *sys.argv[1:]])))
