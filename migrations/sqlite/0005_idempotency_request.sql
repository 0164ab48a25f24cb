-- What an idempotency key was first used for, so that the same key sent
-- with another request is refused instead of answered with an unrelated
-- booking: the mode (hold or book), who booked (customer or staff), the
-- venue, the treatment or party size, the resource asked for (or "any")
-- and the start, as the engine writes them. A later move does not change
-- it: it records the request, not the booking. NULL on bookings made
-- before it was recorded; those are compared by venue, offer and start.
ALTER TABLE bookings ADD COLUMN request TEXT CHECK (request IS NULL OR length(request) <= 200);
