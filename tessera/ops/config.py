"""Settings of the ops process that are not in tessera.config.Settings (all optional)."""

from __future__ import annotations

import os
from dataclasses import dataclass


def _float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


@dataclass(frozen=True)
class OpsConfig:
    lag_interval_s: float = 2.0  # how often the lag exporter asks the broker
    lag_window_s: float = 600.0  # how much lag history the charts keep (ring buffer)
    business_interval_s: float = 5.0  # how often the business gauges are recomputed
    stuck_after_s: float = 60.0  # a non-terminal booking untouched this long is "stuck"
    kafka_timeout_s: float = 5.0
    pg_timeout_s: float = 3.0

    @classmethod
    def from_env(cls) -> OpsConfig:
        return cls(
            lag_interval_s=_float("TESSERA_OPS_LAG_INTERVAL_S", 2.0),
            lag_window_s=_float("TESSERA_OPS_LAG_WINDOW_S", 600.0),
            business_interval_s=_float("TESSERA_OPS_BUSINESS_INTERVAL_S", 5.0),
            stuck_after_s=_float("TESSERA_OPS_STUCK_AFTER_S", 60.0),
        )
