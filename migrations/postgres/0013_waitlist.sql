-- The waitlist: a customer's wish for a day that had no time for them (a
-- treatment or a table, perhaps one therapist or table, perhaps a range of
-- start times). When a time that fits frees up, the transaction that frees
-- it holds that time for the first customer waiting (the lowest id) and
-- tells them (an outbox 'waitlist_offer'); a hold that lapses passes the
-- time on to the next in the same way. An offer is an ordinary hold: the
-- claims' guards keep it from ever double-booking.
CREATE TABLE waitlist (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES users (id),
    venue_id BIGINT NOT NULL REFERENCES venues (id),
    service_id BIGINT REFERENCES services (id),
    party_size BIGINT CHECK (party_size IS NULL OR party_size BETWEEN 1 AND 50),
    -- None: anyone who can do it.
    resource_id BIGINT REFERENCES resources (id),
    -- The venue's local date, YYYY-MM-DD.
    day TEXT NOT NULL CHECK (day ~ '^[0-9]{4}-[0-9]{2}-[0-9]{2}$'),
    -- The earliest and latest start wanted, in minutes from the day's midnight.
    from_minute BIGINT NOT NULL DEFAULT 0 CHECK (from_minute BETWEEN 0 AND 1440),
    to_minute BIGINT NOT NULL DEFAULT 1440 CHECK (to_minute BETWEEN 0 AND 1440),
    -- waiting: in line; offered: a hold is theirs to confirm; booked: they
    -- confirmed it; lapsed: the offer ran out or was let go; left: they
    -- took themselves off.
    state TEXT NOT NULL DEFAULT 'waiting'
        CHECK (state IN ('waiting', 'offered', 'booked', 'lapsed', 'left')),
    -- The hold offered, once there is one.
    hold_id BIGINT REFERENCES bookings (id),
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    CHECK ((service_id IS NULL) <> (party_size IS NULL)),
    CHECK (from_minute <= to_minute),
    CHECK (state <> 'waiting' OR hold_id IS NULL),
    CHECK (state NOT IN ('offered', 'booked') OR hold_id IS NOT NULL)
);
-- The line of a day, in order.
CREATE INDEX waitlist_line ON waitlist (venue_id, day, id) WHERE state = 'waiting';
CREATE INDEX waitlist_customer ON waitlist (customer_id, id);
-- One entry per hold.
CREATE UNIQUE INDEX waitlist_one_offer ON waitlist (hold_id) WHERE hold_id IS NOT NULL;
-- One live entry per wish.
CREATE UNIQUE INDEX waitlist_one_wish ON waitlist
    (customer_id, venue_id, day, COALESCE(service_id, 0), COALESCE(party_size, 0),
     COALESCE(resource_id, 0), from_minute, to_minute)
    WHERE state IN ('waiting', 'offered');

-- How long a waitlist offer is held for its customer to confirm.
ALTER TABLE venues ADD COLUMN offer_minutes BIGINT NOT NULL DEFAULT 60
    CHECK (offer_minutes BETWEEN 5 AND 1440);

-- The outbox learns the offer.
ALTER TABLE outbox DROP CONSTRAINT outbox_kind_check;
ALTER TABLE outbox ADD CONSTRAINT outbox_kind_check CHECK (kind IN
    ('booked', 'confirmed', 'cancelled', 'venue_cancelled', 'rescheduled', 'moved',
     'reminder', 'waitlist_offer'));
