"""The Redis read model shared by the sinks (writers) and the ingress (reader).

Keys carry the deployment's topic prefix so test runs never see each other's data.
Values are JSON. Writers go through VERSIONED_SET so an older event never overwrites a
newer one, whatever order at-least-once delivery brings them in.
"""

from __future__ import annotations

CACHE_TTL_S = 300  # hot availability and booking status: 5 minutes, write-through
ACCEPTED_TTL_S = 24 * 3600  # the ingress's record that a booking was accepted


def booking_key(prefix: str, booking_id: str) -> str:
    """JSON booking view: booking_id, user_id, item_id, quantity, status, reason,
    amount_minor, currency, payment_id, version, created_at, updated_at (epoch ms)."""
    return f"{prefix}tessera:booking:{booking_id}"


def accepted_key(prefix: str, booking_id: str) -> str:
    """Written by the ingress when Kafka acknowledged the command (version 0, PENDING):
    the last resort that keeps an accepted booking from ever answering 404."""
    return f"{prefix}tessera:accepted:{booking_id}"


def availability_key(prefix: str, item_id: str) -> str:
    """JSON: item_id, capacity, held, sold, available, price_minor, currency, version."""
    return f"{prefix}tessera:item:{item_id}"


def open_holds_key(prefix: str, user_id: str) -> str:
    """Sorted set of the user's bookings still PENDING (score: accepted at, epoch ms).
    The ingress adds on accept and caps its size; the booking cache sink removes a
    booking once it leaves PENDING."""
    return f"{prefix}tessera:open-holds:{user_id}"


def push_channel(prefix: str, booking_id: str) -> str:
    """Pub/sub channel of live status changes for one booking (JSON booking view)."""
    return f"{prefix}tessera:push:{booking_id}"


# KEYS[1] = key, ARGV[1] = version, ARGV[2] = JSON value, ARGV[3] = ttl seconds.
# Sets only when the stored version is lower; returns 1 if written, 0 if stale.
VERSIONED_SET = """
local current = redis.call('GET', KEYS[1])
if current then
  local stored = cjson.decode(current)['version']
  if stored and tonumber(stored) >= tonumber(ARGV[1]) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[2], 'EX', tonumber(ARGV[3]))
return 1
"""
