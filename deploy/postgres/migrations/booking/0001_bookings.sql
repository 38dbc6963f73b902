-- Booking read model, materialized from booking-events by an idempotent sink.
-- `version` is the saga's per-booking version: the sink upserts only when the incoming
-- version is newer, so a replayed or reordered event never overwrites a newer state.
CREATE TABLE bookings (
    booking_id   text        PRIMARY KEY,
    user_id      text        NOT NULL,
    item_id      text        NOT NULL,
    quantity     integer     NOT NULL CHECK (quantity > 0),
    amount_minor bigint      NOT NULL CHECK (amount_minor >= 0),
    currency     char(3)     NOT NULL,
    status       text        NOT NULL
        CHECK (status IN ('PENDING', 'CONFIRMED', 'COMPLETED', 'CANCELLED', 'FAILED')),
    reason       text,
    payment_id   text,
    version      bigint      NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);

-- "My bookings, newest first": keyset pagination on (created_at, booking_id) per user.
CREATE INDEX bookings_user_cursor_idx ON bookings (user_id, created_at DESC, booking_id);

-- One row per status change. No foreign key to bookings: sinks are at-least-once and may
-- write history before (or without) the bookings row, and a FK would make that fail.
CREATE TABLE booking_history (
    booking_id  text        NOT NULL,
    version     bigint      NOT NULL,
    status      text        NOT NULL
        CHECK (status IN ('PENDING', 'CONFIRMED', 'COMPLETED', 'CANCELLED', 'FAILED')),
    reason      text,
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (booking_id, version)
);
