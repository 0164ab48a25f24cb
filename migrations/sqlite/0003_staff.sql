-- Staff work for venues; admins run them all. Every staff change leaves an
-- audit row; booking activity is counted per venue and hour.

-- Which venues a staff member runs. Admins need no rows here.
CREATE TABLE staff_venues (
    user_id INTEGER NOT NULL REFERENCES users (id),
    venue_id INTEGER NOT NULL REFERENCES venues (id),
    PRIMARY KEY (user_id, venue_id)
);

-- One row per change staff made to a schedule, a resource, a service, the
-- venue's settings or a booking, written in the change's own transaction.
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at INTEGER NOT NULL,
    actor_id INTEGER NOT NULL REFERENCES users (id),
    venue_id INTEGER NOT NULL REFERENCES venues (id),
    -- The resource, service or booking the change was about, when one.
    resource_id INTEGER REFERENCES resources (id),
    service_id INTEGER REFERENCES services (id),
    booking_id INTEGER REFERENCES bookings (id),
    -- What was done, e.g. 'booking.move', 'closure.add', 'venue.settings'.
    action TEXT NOT NULL CHECK (length(action) BETWEEN 1 AND 50),
    -- Readable summaries of the thing before and after (JSON objects).
    before TEXT,
    after TEXT
);
CREATE INDEX audit_log_venue_at ON audit_log (venue_id, at);
CREATE INDEX audit_log_booking ON audit_log (booking_id);

-- Booking activity per venue and hour: bookings made, conflicts answered
-- ("slot taken"), holds placed, confirmed and expired. Every app instance
-- adds its counts, so the figures cover them all.
CREATE TABLE venue_hourly_stats (
    venue_id INTEGER NOT NULL REFERENCES venues (id),
    -- The hour's first second, UTC.
    hour_start INTEGER NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('booked', 'conflict', 'hold_placed', 'hold_confirmed', 'hold_expired')),
    count INTEGER NOT NULL CHECK (count >= 0),
    PRIMARY KEY (venue_id, hour_start, kind)
);

-- Closures are listed and removed by staff.
CREATE INDEX closures_resource ON closures (resource_id);
