"""Notification delivery: email (SMTP), SMS (provider adapter), signed partner webhooks and
live push, from notification-queue, retried through notification-retry.

Guarantee: delivered once per notification id *as far as the provider allows*. The ledger
(PostgreSQL `notifications`, status DELIVERED) is checked before and written after every
send, under a per-id advisory lock, so a redelivered or concurrently retried request is not
sent again. What no ledger can close is the gap between "the provider accepted" and "we
recorded it" (a crash, a lost reply, a timeout after acceptance): SMTP and most SMS
providers cannot be made exactly-once, so every send carries the notification id for the
receiver to deduplicate -- the email's Message-ID, the SMS provider's Idempotency-Key, the
webhook's Tessera-Notification-Id header, the push's booking version.
"""
