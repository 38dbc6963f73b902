"""Sinks: what makes the stream visible to people and other systems.

- `sinks.postgres`: per-service read models, idempotent version-guarded upserts.
- `sinks.redis_cache`: the Redis read model the ingress serves (cache_contract.py).
- `sinks.notifications`: email, SMS, partner webhooks and live push, deduplicated by id.

Every sink is at-least-once (sinks sit outside the pipelines' Kafka transactions), so
every write is idempotent: a redelivered record changes nothing.
"""
