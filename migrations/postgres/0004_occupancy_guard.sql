-- The second guard of the booking protocol, one that knows nothing of the
-- grid. The claims index (claims_one_booking_per_unit) stops two live
-- bookings sharing a unit of a resource, but only while both claim units
-- of one grid: a booking written on the 15-minute grid after the venue
-- moved to 30 minutes would not collide with its neighbours there. Each
-- live booking therefore also has one occupancy row per resource it uses,
-- [starts_at, occupied_until), and an exclusion constraint refuses two
-- rows of one resource that overlap, whatever grid wrote them. The claims
-- stay: they are the fast path and the readable picture of a day; this is
-- the backstop.

-- int8range over BIGINT and equality over resource_id in one GiST index.
CREATE EXTENSION IF NOT EXISTS btree_gist;

-- Only live bookings own claims. A staff move of a hold that had lapsed
-- (but was not yet swept) once wrote fresh claims for it after expiring
-- it: freed time that stayed claimed for ever. They are released here.
DELETE FROM claims c USING bookings b
WHERE b.id = c.booking_id AND b.status NOT IN ('held', 'confirmed');

-- Existing live bookings must already be apart; if two are not, this
-- names them instead of failing on the constraint below.
DO $$
DECLARE
    o record;
BEGIN
    SELECT ra.resource_id, a.id AS first_booking, b.id AS second_booking INTO o
    FROM bookings a
    JOIN booking_resources ra ON ra.booking_id = a.id
    JOIN booking_resources rb ON rb.resource_id = ra.resource_id AND rb.booking_id > a.id
    JOIN bookings b ON b.id = rb.booking_id
    WHERE a.status IN ('held', 'confirmed') AND b.status IN ('held', 'confirmed')
      AND a.starts_at < b.occupied_until AND b.starts_at < a.occupied_until
    ORDER BY 1, 2, 3
    LIMIT 1;
    IF FOUND THEN
        RAISE EXCEPTION 'bookings % and % overlap on resource %: cancel or move one of them, then start the server again',
            o.first_booking, o.second_booking, o.resource_id;
    END IF;
END
$$;

-- One row per resource of each live booking: the time it occupies there,
-- cleanup included. Written and deleted with the booking's claims, in the
-- same transaction.
CREATE TABLE occupancies (
    booking_id BIGINT NOT NULL,
    resource_id BIGINT NOT NULL,
    starts_at BIGINT NOT NULL,
    occupied_until BIGINT NOT NULL,
    PRIMARY KEY (booking_id, resource_id),
    -- A booking occupies only resources it uses.
    FOREIGN KEY (booking_id, resource_id) REFERENCES booking_resources (booking_id, resource_id),
    -- At most a day (the longest treatment and cleanup are 16 hours), so
    -- that SQLite's trigger can look in a narrow range; the same rule here.
    CHECK (starts_at < occupied_until AND occupied_until - starts_at <= 86400),
    -- THE grid-independent invariant: no two live bookings overlap in time
    -- on one resource.
    CONSTRAINT occupancies_never_overlap
        EXCLUDE USING gist (resource_id WITH =, int8range(starts_at, occupied_until) WITH &&)
);

INSERT INTO occupancies (booking_id, resource_id, starts_at, occupied_until)
SELECT br.booking_id, br.resource_id, b.starts_at, b.occupied_until
FROM booking_resources br JOIN bookings b ON b.id = br.booking_id
WHERE b.status IN ('held', 'confirmed');
