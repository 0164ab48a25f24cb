-- The transactional outbox: one row per thing a customer must be told
-- (a booking made, confirmed, cancelled, moved; a reminder), written in the same
-- transaction as the change it tells of, so that a change that rolls back
-- leaves no message and one that commits always has its message. A
-- dispatcher sends the due rows afterwards, never inside a booking
-- transaction; delivery is at least once (a crash between sending and
-- marking sends again, under the same Message-ID).
CREATE TABLE outbox (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    booking_id BIGINT NOT NULL REFERENCES bookings (id),
    kind TEXT NOT NULL CHECK (kind IN
        ('booked', 'confirmed', 'cancelled', 'venue_cancelled', 'rescheduled', 'moved',
         'reminder')),
    -- The time the message tells of, as it was when the change committed.
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    -- What else it tells: the earlier time of a move, the reason of a
    -- venue's cancellation.
    detail TEXT CHECK (detail IS NULL OR char_length(detail) <= 500),
    created_at BIGINT NOT NULL,
    -- When it may be sent next (later after each failed attempt).
    due_at BIGINT NOT NULL,
    -- 'dropped': a reminder whose booking was cancelled or moved first.
    state TEXT NOT NULL DEFAULT 'pending' CHECK (state IN ('pending', 'sent', 'dead', 'dropped')),
    attempts BIGINT NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- A dispatcher that took the row sends it before then; after, another
    -- may take it again.
    claimed_until BIGINT,
    last_error TEXT CHECK (last_error IS NULL OR char_length(last_error) <= 1000),
    sent_at BIGINT,
    CHECK (state <> 'sent' OR sent_at IS NOT NULL)
);
CREATE INDEX outbox_pending ON outbox (due_at) WHERE state = 'pending';
CREATE INDEX outbox_booking ON outbox (booking_id);
-- One reminder a booking, however many dispatchers look for due ones.
CREATE UNIQUE INDEX outbox_one_reminder ON outbox (booking_id)
    WHERE kind = 'reminder' AND state <> 'dropped';

-- How long before a booking its customer is reminded of it (0: never).
-- A booking made later than that gets no reminder: its confirmation is
-- the reminder.
ALTER TABLE venues ADD COLUMN reminder_minutes BIGINT NOT NULL DEFAULT 1440
    CHECK (reminder_minutes BETWEEN 0 AND 20160);
