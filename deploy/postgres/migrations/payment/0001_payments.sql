-- Payment read model: one payment per booking (the primary key), so at most one capture per
-- booking holds at this level; captured_count makes it explicit for invariant 2.
CREATE TABLE payments (
    booking_id     text        PRIMARY KEY,
    payment_id     text        UNIQUE,
    amount_minor   bigint      NOT NULL CHECK (amount_minor >= 0),
    currency       char(3)     NOT NULL,
    status         text        NOT NULL CHECK (status IN (
        'AUTHORIZING', 'AUTHORIZED', 'DECLINED', 'CAPTURED', 'VOIDED', 'REFUNDED', 'FAILED')),
    captured_count integer     NOT NULL DEFAULT 0 CHECK (captured_count BETWEEN 0 AND 1),
    version        bigint      NOT NULL,
    updated_at     timestamptz NOT NULL
);

-- Every gateway call, keyed by the idempotency key sent to the gateway, so a retried call
-- records one row. outcome is the gateway's answer (SUCCEEDED, DECLINED, FAILED, ...).
CREATE TABLE payment_transactions (
    transaction_id text        PRIMARY KEY,
    booking_id     text        NOT NULL,
    operation      text        NOT NULL
        CHECK (operation IN ('AUTHORIZE', 'CAPTURE', 'VOID', 'REFUND')),
    outcome        text        NOT NULL,
    amount_minor   bigint      NOT NULL CHECK (amount_minor >= 0),
    currency       char(3)     NOT NULL,
    gateway_ref    text,
    occurred_at    timestamptz NOT NULL
);

CREATE INDEX payment_transactions_booking_idx ON payment_transactions (booking_id, occurred_at);

-- No double charge (invariant 2), stated in the schema: at most one successful capture per
-- booking, whatever transaction ids the attempts carried.
CREATE UNIQUE INDEX payment_transactions_one_capture_idx
    ON payment_transactions (booking_id) WHERE operation = 'CAPTURE' AND outcome = 'SUCCEEDED';
