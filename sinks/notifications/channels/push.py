"""Live push: publish the booking's current view on its push channel (the ingress streams
it to connected clients as server-sent events, dropping versions it already sent)."""

from __future__ import annotations

import redis

from schemas.notifications import NotificationRequest, PushRequested
from sinks.cache_contract import booking_key, push_channel

from ...exceptions import DeliveryError
from ...redis_cache.client import UNAVAILABLE


class PushChannel:
    name = "PUSH"

    def __init__(self, client: redis.Redis, prefix: str) -> None:
        self.client = client
        self.prefix = prefix

    def deliver(self, request: NotificationRequest) -> str:
        if not isinstance(request, PushRequested):
            raise TypeError(type(request).__name__)
        try:
            view = self.client.get(booking_key(self.prefix, request.booking_id))
            if view is None:
                # The cache sink publishes every status change when it writes the view;
                # without a view there is nothing the ingress could decode.
                return "no cached view: published by the cache sink on write"
            receivers = self.client.publish(push_channel(self.prefix, request.booking_id), view)
        except UNAVAILABLE as exc:
            raise DeliveryError(f"Redis unavailable: {type(exc).__name__}") from exc
        return f"published to {receivers} subscribers"
