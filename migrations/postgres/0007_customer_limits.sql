-- The most a customer may have at a venue at once: live holds, and
-- upcoming bookings (live holds included, since a hold becomes a booking
-- on confirming). Checked in the booking transaction, under a lock on the
-- customer, so that many requests at once from one customer cannot pass
-- together. Bookings that staff make for a customer are not held to them.
ALTER TABLE venues ADD COLUMN max_holds_per_customer BIGINT NOT NULL DEFAULT 3
    CHECK (max_holds_per_customer BETWEEN 1 AND 100);
ALTER TABLE venues ADD COLUMN max_upcoming_per_customer BIGINT NOT NULL DEFAULT 10
    CHECK (max_upcoming_per_customer BETWEEN 1 AND 1000);
