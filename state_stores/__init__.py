"""Pure state machines kept in per-key state: the inventory ledger, the booking saga, timers.

Nothing here imports Kafka, HTTP or SQL, and nothing reads a clock: every function takes
the current time as `now_ms` and returns the messages to produce. The pipelines adapt
their per-key state to `base.KeyValueStore` and route outputs with `routing.route`.
"""
