-- What people read before they book: a treatment's price (in the venue's
-- currency, in minor units: 6500 is 65.00; none when the venue shows no
-- price) and description, and where the venue is.
ALTER TABLE services ADD COLUMN price_cents BIGINT
    CHECK (price_cents IS NULL OR price_cents BETWEEN 0 AND 100000000);
ALTER TABLE services ADD COLUMN description TEXT NOT NULL DEFAULT ''
    CHECK (char_length(description) <= 500);
ALTER TABLE venues ADD COLUMN currency TEXT NOT NULL DEFAULT 'EUR'
    CHECK (currency ~ '^[A-Z]{3}$');
ALTER TABLE venues ADD COLUMN address TEXT NOT NULL DEFAULT ''
    CHECK (char_length(address) <= 200);
-- A booking keeps the price it was made at (a later price change does not
-- alter it), and what the customer told the venue when confirming.
ALTER TABLE bookings ADD COLUMN price_cents BIGINT;
ALTER TABLE bookings ADD COLUMN currency TEXT;
ALTER TABLE bookings ADD COLUMN note TEXT CHECK (note IS NULL OR char_length(note) <= 500);
ALTER TABLE bookings ADD COLUMN phone TEXT CHECK (phone IS NULL OR char_length(phone) <= 40);
