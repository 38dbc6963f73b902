-- The conventional baseline's own database (tessera_baseline): the seed's booking, inventory
-- and payment tables in one PostgreSQL, guarded by row locks and CHECK constraints.
-- Idempotent: `load.baselines.db.ensure_schema` runs it on every start.

CREATE TABLE IF NOT EXISTS inventory (
    item_id     text        PRIMARY KEY,
    capacity    integer     NOT NULL CHECK (capacity >= 0),
    held        integer     NOT NULL DEFAULT 0,
    sold        integer     NOT NULL DEFAULT 0,
    price_minor bigint      NOT NULL CHECK (price_minor >= 0),
    currency    char(3)     NOT NULL DEFAULT 'USD',
    version     bigint      NOT NULL DEFAULT 0,
    CONSTRAINT baseline_no_oversell CHECK (held >= 0 AND sold >= 0 AND held + sold <= capacity)
);

CREATE TABLE IF NOT EXISTS inventory_reservations (
    booking_id text        PRIMARY KEY,
    item_id    text        NOT NULL,
    quantity   integer     NOT NULL CHECK (quantity > 0),
    status     text        NOT NULL CHECK (status IN ('HELD', 'CONFIRMED', 'RELEASED')),
    updated_at timestamptz NOT NULL
);

CREATE TABLE IF NOT EXISTS bookings (
    booking_id   text        PRIMARY KEY,
    user_id      text        NOT NULL,
    item_id      text        NOT NULL,
    quantity     integer     NOT NULL CHECK (quantity > 0),
    amount_minor bigint,
    currency     char(3),
    status       text        NOT NULL
        CHECK (status IN ('PENDING', 'CONFIRMED', 'COMPLETED', 'CANCELLED', 'FAILED')),
    reason       text,
    payment_id   text,
    version      integer     NOT NULL,
    created_at   timestamptz NOT NULL,
    updated_at   timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS baseline_bookings_user_idx ON bookings (user_id, created_at DESC);
CREATE INDEX IF NOT EXISTS baseline_bookings_item_idx ON bookings (item_id);

CREATE TABLE IF NOT EXISTS booking_history (
    booking_id  text        NOT NULL,
    version     integer     NOT NULL,
    status      text        NOT NULL,
    reason      text,
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (booking_id, version)
);

CREATE TABLE IF NOT EXISTS payments (
    booking_id     text        PRIMARY KEY,
    payment_id     text,
    amount_minor   bigint      NOT NULL,
    currency       char(3)     NOT NULL,
    status         text        NOT NULL,
    captured_count integer     NOT NULL DEFAULT 0 CHECK (captured_count BETWEEN 0 AND 1),
    updated_at     timestamptz NOT NULL
);

-- One row per gateway call that moved (or refused to move) money, keyed by its idempotency key.
CREATE TABLE IF NOT EXISTS payment_transactions (
    transaction_id text        PRIMARY KEY,
    booking_id     text        NOT NULL,
    operation      text        NOT NULL,
    outcome        text        NOT NULL,
    amount_minor   bigint,
    gateway_ref    text,
    occurred_at    timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS baseline_payment_tx_booking_idx ON payment_transactions (booking_id);
CREATE UNIQUE INDEX IF NOT EXISTS baseline_one_capture_idx
    ON payment_transactions (booking_id) WHERE operation = 'CAPTURE' AND outcome = 'SUCCEEDED';

-- Step 1, reserve: create the booking (idempotent on booking_id) and hold inventory with a
-- conditional UPDATE, in one round trip and one short transaction (the hot row's lock is held
-- from the UPDATE to the commit only). A repeated booking_id returns the stored booking.
CREATE OR REPLACE FUNCTION baseline_reserve(
    p_booking text, p_user text, p_item text, p_qty integer
) RETURNS TABLE (created boolean, status text, reason text, amount_minor bigint, currency text)
LANGUAGE plpgsql AS $$
DECLARE
    v_amount bigint;
    v_currency text;
    v_reason text;
BEGIN
    INSERT INTO bookings (booking_id, user_id, item_id, quantity, status, version,
                          created_at, updated_at)
    VALUES (p_booking, p_user, p_item, p_qty, 'PENDING', 1, now(), now())
    ON CONFLICT (booking_id) DO NOTHING;
    IF NOT FOUND THEN
        RETURN QUERY SELECT false, b.status, b.reason, b.amount_minor, b.currency::text
                     FROM bookings b WHERE b.booking_id = p_booking;
        RETURN;
    END IF;
    UPDATE inventory i SET held = i.held + p_qty, version = i.version + 1
     WHERE i.item_id = p_item AND i.capacity - i.sold - i.held >= p_qty
    RETURNING i.price_minor * p_qty, i.currency INTO v_amount, v_currency;
    IF NOT FOUND THEN
        v_reason := CASE WHEN EXISTS (SELECT 1 FROM inventory i WHERE i.item_id = p_item)
                         THEN 'SOLD_OUT' ELSE 'UNKNOWN_ITEM' END;
        UPDATE bookings b SET status = 'FAILED', reason = v_reason, version = 2,
                              updated_at = now()
         WHERE b.booking_id = p_booking;
        INSERT INTO booking_history VALUES (p_booking, 1, 'PENDING', NULL, now()),
                                           (p_booking, 2, 'FAILED', v_reason, now());
        RETURN QUERY SELECT true, 'FAILED'::text, v_reason, NULL::bigint, NULL::text;
        RETURN;
    END IF;
    INSERT INTO inventory_reservations VALUES (p_booking, p_item, p_qty, 'HELD', now());
    UPDATE bookings b SET amount_minor = v_amount, currency = v_currency
     WHERE b.booking_id = p_booking;
    INSERT INTO booking_history VALUES (p_booking, 1, 'PENDING', NULL, now());
    RETURN QUERY SELECT true, 'PENDING'::text, NULL::text, v_amount, v_currency;
END $$;

-- Step 2, confirm (payment authorized): the hold becomes a sale, the booking CONFIRMED.
CREATE OR REPLACE FUNCTION baseline_confirm(
    p_booking text, p_payment text, p_tx text, p_amount bigint, p_currency text
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_item text;
    v_qty integer;
BEGIN
    UPDATE inventory_reservations r SET status = 'CONFIRMED', updated_at = now()
     WHERE r.booking_id = p_booking AND r.status = 'HELD'
    RETURNING r.item_id, r.quantity INTO v_item, v_qty;
    IF NOT FOUND THEN
        RAISE EXCEPTION 'booking % holds nothing to confirm', p_booking;
    END IF;
    UPDATE inventory i SET held = i.held - v_qty, sold = i.sold + v_qty, version = i.version + 1
     WHERE i.item_id = v_item;
    UPDATE bookings b SET status = 'CONFIRMED', payment_id = p_payment, version = 2,
                          updated_at = now()
     WHERE b.booking_id = p_booking;
    INSERT INTO booking_history VALUES (p_booking, 2, 'CONFIRMED', NULL, now());
    INSERT INTO payments VALUES (p_booking, p_payment, p_amount, p_currency, 'AUTHORIZED', 0, now());
    INSERT INTO payment_transactions
    VALUES (p_tx, p_booking, 'AUTHORIZE', 'SUCCEEDED', p_amount, p_payment, now());
END $$;

-- Step 3, complete (payment captured).
CREATE OR REPLACE FUNCTION baseline_complete(
    p_booking text, p_payment text, p_tx text, p_amount bigint
) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    UPDATE bookings b SET status = 'COMPLETED', version = 3, updated_at = now()
     WHERE b.booking_id = p_booking AND b.status = 'CONFIRMED';
    INSERT INTO booking_history VALUES (p_booking, 3, 'COMPLETED', NULL, now());
    UPDATE payments p SET status = 'CAPTURED', captured_count = 1, updated_at = now()
     WHERE p.booking_id = p_booking;
    INSERT INTO payment_transactions
    VALUES (p_tx, p_booking, 'CAPTURE', 'SUCCEEDED', p_amount, p_payment, now());
END $$;

-- Compensation: release what the booking holds or bought, and end it with `p_status`.
CREATE OR REPLACE FUNCTION baseline_fail(
    p_booking text, p_status text, p_reason text, p_payment_status text
) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_item text;
    v_qty integer;
    v_was text;
    v_version integer;
BEGIN
    SELECT r.status INTO v_was FROM inventory_reservations r WHERE r.booking_id = p_booking;
    UPDATE inventory_reservations r SET status = 'RELEASED', updated_at = now()
     WHERE r.booking_id = p_booking AND r.status IN ('HELD', 'CONFIRMED')
    RETURNING r.item_id, r.quantity INTO v_item, v_qty;
    IF FOUND THEN
        IF v_was = 'HELD' THEN
            UPDATE inventory i SET held = i.held - v_qty, version = i.version + 1
             WHERE i.item_id = v_item;
        ELSE
            UPDATE inventory i SET sold = i.sold - v_qty, version = i.version + 1
             WHERE i.item_id = v_item;
        END IF;
    END IF;
    UPDATE bookings b SET status = p_status, reason = p_reason, version = b.version + 1,
                          updated_at = now()
     WHERE b.booking_id = p_booking
    RETURNING b.version INTO v_version;
    INSERT INTO booking_history VALUES (p_booking, v_version, p_status, p_reason, now());
    IF p_payment_status IS NOT NULL THEN
        UPDATE payments p SET status = p_payment_status, updated_at = now()
         WHERE p.booking_id = p_booking;
    END IF;
END $$;
