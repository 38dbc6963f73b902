"""Dead letters: a record we cannot process goes to `<topic>.dlq` with the reason in headers.

The original key and bytes are kept untouched so an operator can fix and replay it.
"""

from __future__ import annotations

from schemas.base import now_ms

from .outputs import Headers, Outbound

REASON_HEADER = "x-dlq-reason"
ERROR_HEADER = "x-dlq-error"
SOURCE_HEADER = "x-dlq-source-topic"
FAILED_AT_HEADER = "x-dlq-failed-at"


def dead_letter(
    source_topic: str, key: str, value: bytes, reason: str, error: str, headers: Headers
) -> Outbound:
    dlq_headers = [
        (REASON_HEADER, reason.encode()),
        (ERROR_HEADER, error[:1000].encode()),
        (SOURCE_HEADER, source_topic.encode()),
        (FAILED_AT_HEADER, str(now_ms()).encode()),
        *headers,
    ]
    return Outbound(f"{source_topic}.dlq", key, value, dlq_headers)
