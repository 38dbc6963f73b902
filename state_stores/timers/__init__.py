"""Wall-clock timers on top of per-key state: one key per due-second bucket, fired by ticks."""

from .buckets import FiredTimer, on_schedule, on_tick

__all__ = ["FiredTimer", "on_schedule", "on_tick"]
