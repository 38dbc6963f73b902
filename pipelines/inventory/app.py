"""The inventory process: inventory-commands (key itemId) through the item ledger.

Exactly-once: the ledger change (RocksDB changelog), the replies to the saga
(inventory-events), the snapshots and the hold-expiry timers commit in one transaction
with the input offset, so a reserve is never applied twice nor answered twice.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from schemas.topics import INVENTORY_COMMANDS
from state_stores.base import KeyValueStore
from state_stores.inventory import handle_inventory_command
from tessera.config import Settings

from ..runtime import metrics
from ..runtime.application import run_processor

ROLE = "inventory"


def handle(store: KeyValueStore, command: Any, now_ms: int) -> Iterable[Any]:
    return handle_inventory_command(store, command, now_ms)


def main(settings: Settings, metrics_port: int | None = None) -> None:
    if metrics_port is not None:
        metrics.serve(metrics_port, ROLE)
    run_processor(settings, ROLE, [INVENTORY_COMMANDS], handle)
