-- Sign-ups, for throttling: one address may create only so many accounts
-- in a while. In the database, so that every app instance counts the same.
CREATE TABLE signup_attempts (
    id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    -- The client's address.
    address TEXT NOT NULL,
    attempted_at BIGINT NOT NULL
);
CREATE INDEX signup_attempts_address ON signup_attempts (address, attempted_at);
