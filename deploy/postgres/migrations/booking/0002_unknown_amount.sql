-- A booking has no price until the inventory reserved it (PENDING), and never gets one when
-- it fails before that (SOLD_OUT, UNKNOWN_ITEM): booking-events then carry no amount. NULL
-- says "not priced" instead of inventing 0 in some currency.
ALTER TABLE bookings ALTER COLUMN amount_minor DROP NOT NULL;
ALTER TABLE bookings ALTER COLUMN currency DROP NOT NULL;
