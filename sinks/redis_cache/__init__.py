"""The Redis read model (sinks/cache_contract.py), written through from the stream.

booking-events -> booking views (VERSIONED_SET, 5-minute TTL), open-holds cleanup and a
push on every status change; inventory-snapshots -> item availability (write-through on
every snapshot, so an admin SetCapacity replaces the entry; invalidate_item for the rest).
"""
