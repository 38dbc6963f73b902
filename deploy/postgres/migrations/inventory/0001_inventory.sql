-- Inventory read model. The authoritative ledger lives in the inventory pipeline's state
-- store; this table mirrors it, and the CHECK states invariant 1 (no oversell) in the schema
-- so a buggy sink or a manual edit cannot record an oversold item.
CREATE TABLE inventory (
    item_id     text        PRIMARY KEY,
    capacity    integer     NOT NULL CHECK (capacity >= 0),
    held        integer     NOT NULL DEFAULT 0,
    sold        integer     NOT NULL DEFAULT 0,
    price_minor bigint      NOT NULL CHECK (price_minor >= 0),
    currency    char(3)     NOT NULL,
    version     bigint      NOT NULL,
    updated_at  timestamptz NOT NULL,
    CONSTRAINT inventory_no_oversell
        CHECK (held >= 0 AND sold >= 0 AND held + sold <= capacity)
);

-- One hold per booking. No FK to inventory, for the same sink-ordering reason as bookings.
CREATE TABLE inventory_reservations (
    booking_id text        PRIMARY KEY,
    item_id    text        NOT NULL,
    quantity   integer     NOT NULL CHECK (quantity > 0),
    status     text        NOT NULL CHECK (status IN ('HELD', 'CONFIRMED', 'RELEASED', 'EXPIRED')),
    expires_at timestamptz,
    version    bigint      NOT NULL,
    updated_at timestamptz NOT NULL
);

CREATE INDEX inventory_reservations_item_idx ON inventory_reservations (item_id, status);
-- The audit looks for holds past their expiry that were never released.
CREATE INDEX inventory_reservations_held_expiry_idx
    ON inventory_reservations (expires_at) WHERE status = 'HELD';
