-- Slotkeeper schema, Postgres edition. The SQLite edition in
-- ../sqlite/0001_schema.sql has the same tables, columns and constraints.
--
-- Instants are BIGINT seconds since the Unix epoch, in UTC: exact, cheap to
-- compare, the same on both engines, and the claims' unique index needs an
-- exact key. The venue's IANA zone is used only to build its grid and to
-- display. Times of day (weekly hours) are minutes after local midnight.
-- Numbers are BIGINT throughout so both engines read them as one type.

-- A spa or a restaurant.
CREATE TABLE venues (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Customers tell venues apart by name; demo seeding is keyed by it too.
    name TEXT NOT NULL UNIQUE CHECK (length(name) BETWEEN 1 AND 100),
    timezone TEXT NOT NULL,
    -- Bookings start on this grid and claim whole units of it. It divides
    -- an hour so that the grid, anchored at the epoch, falls on local
    -- quarter hours in every zone whose offset is whole quarter hours.
    grid_minutes BIGINT NOT NULL DEFAULT 15 CHECK (grid_minutes IN (5, 10, 15, 20, 30, 60)),
    -- How long a hold keeps a slot while the customer confirms.
    hold_minutes BIGINT NOT NULL DEFAULT 10 CHECK (hold_minutes BETWEEN 1 AND 120),
    -- Customers may cancel until this long before the start.
    cancellation_window_minutes BIGINT NOT NULL DEFAULT 1440 CHECK (cancellation_window_minutes >= 0),
    -- The earliest bookable start is this long after now.
    min_notice_minutes BIGINT NOT NULL DEFAULT 60 CHECK (min_notice_minutes >= 0),
    -- The latest bookable start is this many days after now.
    advance_days BIGINT NOT NULL DEFAULT 60 CHECK (advance_days BETWEEN 1 AND 730),
    -- The length of a table booking; NULL for venues that take no tables.
    seating_minutes BIGINT CHECK (seating_minutes IS NULL OR seating_minutes BETWEEN 15 AND 720),
    -- Optimistic concurrency for staff edits.
    version BIGINT NOT NULL DEFAULT 1
);

-- A therapist, a treatment room or a table. Booking transactions lock these
-- rows (FOR UPDATE, in id order) so that bookers of one resource queue.
CREATE TABLE resources (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    venue_id BIGINT NOT NULL REFERENCES venues (id),
    kind TEXT NOT NULL CHECK (kind IN ('therapist', 'room', 'table')),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    -- Tables, and only tables, seat a number of guests.
    capacity BIGINT CHECK (capacity IS NULL OR capacity BETWEEN 1 AND 100),
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version BIGINT NOT NULL DEFAULT 1,
    CHECK ((kind = 'table') = (capacity IS NOT NULL)),
    -- Two resources of one venue with one name could not be told apart.
    UNIQUE (venue_id, name)
);

-- A treatment on a spa's menu.
CREATE TABLE services (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    venue_id BIGINT NOT NULL REFERENCES venues (id),
    name TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 100),
    duration_minutes BIGINT NOT NULL CHECK (duration_minutes BETWEEN 5 AND 720),
    -- Time after the treatment that the therapist and room stay claimed.
    cleanup_minutes BIGINT NOT NULL DEFAULT 0 CHECK (cleanup_minutes BETWEEN 0 AND 240),
    -- A free room is claimed with the therapist, in the same transaction.
    needs_room BOOLEAN NOT NULL DEFAULT FALSE,
    active BOOLEAN NOT NULL DEFAULT TRUE,
    version BIGINT NOT NULL DEFAULT 1,
    UNIQUE (venue_id, name)
);

-- Which therapist offers which service.
CREATE TABLE therapist_services (
    resource_id BIGINT NOT NULL REFERENCES resources (id),
    service_id BIGINT NOT NULL REFERENCES services (id),
    PRIMARY KEY (resource_id, service_id)
);

-- Weekly opening hours of a resource: one row per window (weekday 0 is
-- Monday). Windows may not run past midnight; split them instead.
CREATE TABLE weekly_hours (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    resource_id BIGINT NOT NULL REFERENCES resources (id),
    weekday BIGINT NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    opens_minute BIGINT NOT NULL CHECK (opens_minute BETWEEN 0 AND 1439),
    closes_minute BIGINT NOT NULL CHECK (closes_minute BETWEEN 1 AND 1440),
    CHECK (opens_minute < closes_minute)
);
CREATE INDEX weekly_hours_resource ON weekly_hours (resource_id, weekday);

-- Breaks inside the weekly hours (lunch): nothing can be booked across one.
CREATE TABLE weekly_breaks (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    resource_id BIGINT NOT NULL REFERENCES resources (id),
    weekday BIGINT NOT NULL CHECK (weekday BETWEEN 0 AND 6),
    starts_minute BIGINT NOT NULL CHECK (starts_minute BETWEEN 0 AND 1439),
    ends_minute BIGINT NOT NULL CHECK (ends_minute BETWEEN 1 AND 1440),
    CHECK (starts_minute < ends_minute)
);
CREATE INDEX weekly_breaks_resource ON weekly_breaks (resource_id, weekday);

-- Closures and time off: one resource, or the whole venue when resource_id
-- is NULL, from starts_at to ends_at.
CREATE TABLE closures (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    venue_id BIGINT NOT NULL REFERENCES venues (id),
    resource_id BIGINT REFERENCES resources (id),
    starts_at BIGINT NOT NULL,
    ends_at BIGINT NOT NULL,
    reason TEXT NOT NULL DEFAULT '' CHECK (length(reason) <= 200),
    CHECK (starts_at < ends_at)
);
CREATE INDEX closures_venue_time ON closures (venue_id, starts_at);

CREATE TABLE users (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- Stored trimmed and lower-cased: one person, one account.
    email TEXT NOT NULL UNIQUE CHECK (length(email) BETWEEN 3 AND 254),
    -- An argon2id PHC string; never the password.
    password_hash TEXT NOT NULL,
    display_name TEXT NOT NULL CHECK (length(display_name) BETWEEN 1 AND 100),
    role TEXT NOT NULL DEFAULT 'customer' CHECK (role IN ('customer', 'staff', 'admin')),
    created_at BIGINT NOT NULL
);

-- A booking or a hold. The row stays after cancellation, for history; only
-- its claims go.
CREATE TABLE bookings (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    customer_id BIGINT NOT NULL REFERENCES users (id),
    venue_id BIGINT NOT NULL REFERENCES venues (id),
    service_id BIGINT REFERENCES services (id),
    party_size BIGINT CHECK (party_size IS NULL OR party_size BETWEEN 1 AND 100),
    starts_at BIGINT NOT NULL,
    -- The end of the treatment or seating.
    ends_at BIGINT NOT NULL,
    -- The end of the cleanup buffer, rounded up to the grid: the resources
    -- are claimed until then.
    occupied_until BIGINT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('held', 'confirmed', 'cancelled', 'completed', 'no_show', 'expired')),
    hold_expires_at BIGINT,
    -- Who cancelled: the customer, or the venue (shown to the customer).
    cancelled_by TEXT CHECK (cancelled_by IS NULL OR cancelled_by IN ('customer', 'venue')),
    idempotency_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    version BIGINT NOT NULL DEFAULT 1,
    -- A booking is for a treatment or for a party at a table, never both.
    CHECK ((service_id IS NULL) <> (party_size IS NULL)),
    CHECK (starts_at < ends_at AND ends_at <= occupied_until),
    -- A hold always knows when it lapses.
    CHECK (status <> 'held' OR hold_expires_at IS NOT NULL),
    -- A double click or a retried request finds the booking already made
    -- instead of making a second one.
    CONSTRAINT bookings_one_per_idempotency_key UNIQUE (customer_id, idempotency_key)
);
CREATE INDEX bookings_venue_start ON bookings (venue_id, starts_at);
CREATE INDEX bookings_customer_start ON bookings (customer_id, starts_at);
-- The sweeper looks for due holds.
CREATE INDEX bookings_due_holds ON bookings (hold_expires_at) WHERE status = 'held';

-- The resources each booking uses (a therapist and a room; a table).
CREATE TABLE booking_resources (
    booking_id BIGINT NOT NULL REFERENCES bookings (id),
    resource_id BIGINT NOT NULL REFERENCES resources (id),
    PRIMARY KEY (booking_id, resource_id)
);
CREATE INDEX booking_resources_resource ON booking_resources (resource_id, booking_id);

-- One row per grid unit that a live booking occupies on a resource.
CREATE TABLE claims (
    resource_id BIGINT NOT NULL,
    unit_start BIGINT NOT NULL,
    booking_id BIGINT NOT NULL,
    -- A booking claims only resources it uses.
    FOREIGN KEY (booking_id, resource_id) REFERENCES booking_resources (booking_id, resource_id),
    -- THE invariant: two live bookings never share a unit of a resource,
    -- whatever their lengths, buffers or the path that inserted them.
    CONSTRAINT claims_one_booking_per_unit UNIQUE (resource_id, unit_start)
);
CREATE INDEX claims_booking ON claims (booking_id);
