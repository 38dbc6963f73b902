-- saga_instances is fed by two streams with two version sequences: saga-events (the step
-- sequence: state, version) and booking-events (the booking version: status, reason). Each
-- column group needs its own guard so neither stream can overwrite the other's newer value.
ALTER TABLE saga_instances ADD COLUMN status_version bigint NOT NULL DEFAULT 0;

-- The saga records a SKIPPED step with attempt 0 (it never ran).
ALTER TABLE saga_steps DROP CONSTRAINT saga_steps_attempt_check;
ALTER TABLE saga_steps ADD CONSTRAINT saga_steps_attempt_check CHECK (attempt >= 0);
