"""deploy/prometheus scrapes every process on its Role's port; deploy/grafana charts only
metrics that some process exports (names checked against the code)."""

from __future__ import annotations

import dataclasses
import json
import re

from tessera.config import PROJECT_ROOT, Settings
from tessera.runtime.processes import ROLES, metrics_port_of

KNOWN_PREFIXES = ("tessera_pipeline_", "tessera_sink_", "tessera_ingress_", "tessera_ops_")
OPS_GAUGES = {
    "tessera_consumer_lag",
    "tessera_saga_funnel",
    "tessera_bookings",
    "tessera_saga_compensations",
    "tessera_payment_conversion_ratio",
    "tessera_oldest_pending_booking_age_seconds",
    "tessera_stuck_bookings",
    "tessera_dead_letter_depth",
}


def test_prometheus_scrapes_every_role_on_its_metrics_port(monkeypatch) -> None:
    # The scrape config is written for the default ports, whatever this shell overrides.
    for field in dataclasses.fields(Settings):
        monkeypatch.delenv(field.metadata.get("env", "_"), raising=False)
    text = (PROJECT_ROOT / "deploy" / "prometheus" / "prometheus.yml").read_text()
    targets = dict(re.findall(r'127\.0\.0\.1:(\d+)"\]\s*\n\s*labels: \{role: ([\w-]+)\}', text))
    by_role = {role: int(port) for port, role in targets.items()}
    defaults = Settings()
    for role in ROLES:
        port = metrics_port_of(defaults, role)
        expected = defaults.ingress_port if role.name == "ingress" else port
        assert by_role.get(role.name) == expected, role.name
    assert by_role["ops"] == defaults.ops_port


def test_grafana_panels_use_exported_metric_names() -> None:
    dashboard = json.loads((PROJECT_ROOT / "deploy" / "grafana" / "tessera.json").read_text())
    exprs = [t["expr"] for p in dashboard["panels"] for t in p["targets"]]
    names = {n for e in exprs for n in re.findall(r"\btessera_[a-z_]+", e)}
    names = {re.sub(r"_(bucket|count|sum)$", "", n) for n in names}
    assert OPS_GAUGES <= names
    assert all(n in OPS_GAUGES or n.startswith(KNOWN_PREFIXES) for n in names), names
