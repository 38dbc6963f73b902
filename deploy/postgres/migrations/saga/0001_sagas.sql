-- Saga read model, materialized from saga-events. `state` is the orchestrator's internal
-- state name (free text, it evolves with the pipeline); `status` is what the client polls.
CREATE TABLE saga_instances (
    booking_id text        PRIMARY KEY,
    state      text        NOT NULL,
    status     text        NOT NULL
        CHECK (status IN ('PENDING', 'CONFIRMED', 'COMPLETED', 'CANCELLED', 'FAILED')),
    reason     text,
    version    bigint      NOT NULL,
    started_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);

-- Invariant 4 audit: sagas still PENDING long after they started.
CREATE INDEX saga_instances_status_idx ON saga_instances (status, updated_at);

-- Latest status of each step and its compensation; status values mirror schemas/saga_events.py.
CREATE TABLE saga_steps (
    booking_id  text        NOT NULL,
    step        text        NOT NULL,
    action      text        NOT NULL CHECK (action IN ('ACTION', 'COMPENSATION')),
    status      text        NOT NULL
        CHECK (status IN ('STARTED', 'SUCCEEDED', 'FAILED', 'RETRYING', 'SKIPPED')),
    attempt     integer     NOT NULL DEFAULT 1 CHECK (attempt >= 1),
    version     bigint      NOT NULL,
    occurred_at timestamptz NOT NULL,
    PRIMARY KEY (booking_id, step, action)
);
