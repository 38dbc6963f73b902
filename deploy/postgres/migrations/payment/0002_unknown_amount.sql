-- Declines, voids and failed calls carry no amount in payment-events, and the payments row
-- may be created by such an event before the AuthorizePayment command (which has the amount)
-- is read: NULL says "not known yet" instead of inventing 0 in some currency.
ALTER TABLE payments ALTER COLUMN amount_minor DROP NOT NULL;
ALTER TABLE payments ALTER COLUMN currency DROP NOT NULL;
ALTER TABLE payment_transactions ALTER COLUMN amount_minor DROP NOT NULL;
ALTER TABLE payment_transactions ALTER COLUMN currency DROP NOT NULL;
