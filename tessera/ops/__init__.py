"""The operator's view: consumer lag, business metrics, dead letters, booking journeys.

`tessera.ops.app:main` is the `ops` process (dashboard, JSON API and /metrics on the ops
port); `tessera.ops.trace_cli` is `tessera trace BOOKING_ID`.
"""
