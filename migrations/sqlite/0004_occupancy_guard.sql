-- The second guard of the booking protocol, one that knows nothing of the
-- grid. The claims index (claims_one_booking_per_unit) stops two live
-- bookings sharing a unit of a resource, but only while both claim units
-- of one grid: a booking written on the 15-minute grid after the venue
-- moved to 30 minutes would not collide with its neighbours there. Each
-- live booking therefore also has one occupancy row per resource it uses,
-- [starts_at, occupied_until), and triggers refuse a row that overlaps
-- another of the same resource, whatever grid wrote them (race-free: SQLite
-- has one writer). The claims stay: they are the fast path and the
-- readable picture of a day; this is the backstop. The Postgres edition
-- uses an exclusion constraint for the same rule.

-- Only live bookings own claims. A staff move of a hold that had lapsed
-- (but was not yet swept) once wrote fresh claims for it after expiring
-- it: freed time that stayed claimed for ever. They are released here.
DELETE FROM claims
WHERE booking_id IN (SELECT id FROM bookings WHERE status NOT IN ('held', 'confirmed'));

-- One row per resource of each live booking: the time it occupies there,
-- cleanup included. Written and deleted with the booking's claims, in the
-- same transaction.
CREATE TABLE occupancies (
    booking_id INTEGER NOT NULL,
    resource_id INTEGER NOT NULL,
    starts_at INTEGER NOT NULL,
    occupied_until INTEGER NOT NULL,
    PRIMARY KEY (booking_id, resource_id),
    -- A booking occupies only resources it uses.
    FOREIGN KEY (booking_id, resource_id) REFERENCES booking_resources (booking_id, resource_id),
    -- At most a day (the longest treatment and cleanup are 16 hours): the
    -- triggers below then look only at rows starting in the day before.
    CHECK (starts_at < occupied_until AND occupied_until - starts_at <= 86400)
);
CREATE INDEX occupancies_resource_start ON occupancies (resource_id, starts_at);

-- THE grid-independent invariant: no two live bookings overlap in time on
-- one resource. RAISE(ABORT) fails the statement with
-- SQLITE_CONSTRAINT_TRIGGER and this name, which the engine answers as
-- "slot taken".
CREATE TRIGGER occupancies_never_overlap_on_insert
BEFORE INSERT ON occupancies
WHEN EXISTS (
    SELECT 1 FROM occupancies o
    WHERE o.resource_id = NEW.resource_id
      AND o.starts_at > NEW.starts_at - 86400
      AND o.starts_at < NEW.occupied_until
      AND NEW.starts_at < o.occupied_until
)
BEGIN
    SELECT RAISE(ABORT, 'occupancies_never_overlap');
END;

CREATE TRIGGER occupancies_never_overlap_on_update
BEFORE UPDATE OF resource_id, starts_at, occupied_until ON occupancies
WHEN EXISTS (
    SELECT 1 FROM occupancies o
    WHERE o.resource_id = NEW.resource_id
      AND NOT (o.booking_id = OLD.booking_id AND o.resource_id = OLD.resource_id)
      AND o.starts_at > NEW.starts_at - 86400
      AND o.starts_at < NEW.occupied_until
      AND NEW.starts_at < o.occupied_until
)
BEGIN
    SELECT RAISE(ABORT, 'occupancies_never_overlap');
END;

-- Existing live bookings are copied in; two that overlap stop this
-- migration with the trigger's name.
INSERT INTO occupancies (booking_id, resource_id, starts_at, occupied_until)
SELECT br.booking_id, br.resource_id, b.starts_at, b.occupied_until
FROM booking_resources br JOIN bookings b ON b.id = br.booking_id
WHERE b.status IN ('held', 'confirmed');
