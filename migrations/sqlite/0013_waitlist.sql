-- The waitlist: a customer's wish for a day that had no time for them (a
-- treatment or a table, perhaps one therapist or table, perhaps a range of
-- start times). When a time that fits frees up, the transaction that frees
-- it holds that time for the first customer waiting (the lowest id) and
-- tells them (an outbox 'waitlist_offer'); a hold that lapses passes the
-- time on to the next in the same way. An offer is an ordinary hold: the
-- claims' guards keep it from ever double-booking.
CREATE TABLE waitlist (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES users (id),
    venue_id INTEGER NOT NULL REFERENCES venues (id),
    service_id INTEGER REFERENCES services (id),
    party_size INTEGER CHECK (party_size IS NULL OR party_size BETWEEN 1 AND 50),
    -- None: anyone who can do it.
    resource_id INTEGER REFERENCES resources (id),
    -- The venue's local date, YYYY-MM-DD.
    day TEXT NOT NULL CHECK (length(day) = 10 AND day GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]'),
    -- The earliest and latest start wanted, in minutes from the day's midnight.
    from_minute INTEGER NOT NULL DEFAULT 0 CHECK (from_minute BETWEEN 0 AND 1440),
    to_minute INTEGER NOT NULL DEFAULT 1440 CHECK (to_minute BETWEEN 0 AND 1440),
    -- waiting: in line; offered: a hold is theirs to confirm; booked: they
    -- confirmed it; lapsed: the offer ran out or was let go; left: they
    -- took themselves off.
    state TEXT NOT NULL DEFAULT 'waiting'
        CHECK (state IN ('waiting', 'offered', 'booked', 'lapsed', 'left')),
    -- The hold offered, once there is one.
    hold_id INTEGER REFERENCES bookings (id),
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL,
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
ALTER TABLE venues ADD COLUMN offer_minutes INTEGER NOT NULL DEFAULT 60
    CHECK (offer_minutes BETWEEN 5 AND 1440);

-- The outbox learns the offer. SQLite cannot change a CHECK in place: the
-- table is built again with the new one and its rows copied over.
CREATE TABLE outbox_next (
    id INTEGER PRIMARY KEY,
    booking_id INTEGER NOT NULL REFERENCES bookings (id),
    kind TEXT NOT NULL CHECK (kind IN
        ('booked', 'confirmed', 'cancelled', 'venue_cancelled', 'rescheduled', 'moved',
         'reminder', 'waitlist_offer')),
    starts_at INTEGER NOT NULL,
    ends_at INTEGER NOT NULL,
    detail TEXT CHECK (detail IS NULL OR length(detail) <= 500),
    created_at INTEGER NOT NULL,
    due_at INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead', 'dropped')),
    attempts INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    claimed_until INTEGER,
    last_error TEXT CHECK (last_error IS NULL OR length(last_error) <= 1000),
    sent_at INTEGER,
    CHECK (state <> 'sent' OR sent_at IS NOT NULL)
);
INSERT INTO outbox_next (id, booking_id, kind, starts_at, ends_at, detail, created_at, due_at,
    state, attempts, claimed_until, last_error, sent_at)
SELECT id, booking_id, kind, starts_at, ends_at, detail, created_at, due_at,
    state, attempts, claimed_until, last_error, sent_at FROM outbox;
DROP TABLE outbox;
ALTER TABLE outbox_next RENAME TO outbox;
CREATE INDEX outbox_pending ON outbox (due_at) WHERE state = 'pending';
CREATE INDEX outbox_booking ON outbox (booking_id);
CREATE UNIQUE INDEX outbox_one_reminder ON outbox (booking_id)
    WHERE kind = 'reminder' AND state <> 'dropped';
