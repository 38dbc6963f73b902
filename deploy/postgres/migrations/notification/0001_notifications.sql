-- Notifications and their delivery attempts. Only a masked recipient is stored: the raw
-- email or phone number is PII and stays in the message that carried it.
CREATE TABLE notifications (
    notification_id  text        PRIMARY KEY,
    booking_id       text        NOT NULL,
    channel          text        NOT NULL CHECK (channel IN ('EMAIL', 'SMS', 'WEBHOOK', 'PUSH')),
    recipient_masked text        NOT NULL,
    template         text        NOT NULL,
    status           text        NOT NULL
        CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED', 'DEAD')),
    attempts         integer     NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    version          bigint      NOT NULL,
    updated_at       timestamptz NOT NULL
);

CREATE INDEX notifications_booking_idx ON notifications (booking_id);

-- One row per delivery attempt; the PK makes a replayed attempt record a no-op (ON CONFLICT).
CREATE TABLE notification_log (
    notification_id text        NOT NULL,
    attempt         integer     NOT NULL CHECK (attempt >= 1),
    outcome         text        NOT NULL,
    detail          text,
    occurred_at     timestamptz NOT NULL,
    PRIMARY KEY (notification_id, attempt)
);
