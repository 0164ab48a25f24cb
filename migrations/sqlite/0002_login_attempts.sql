-- Log-in attempts, for throttling: repeated failures for one email or from
-- one address are refused for a while. Kept in the database, not in memory,
-- so that every app instance sees the same count.
CREATE TABLE login_attempts (
    id INTEGER PRIMARY KEY,
    -- The email as typed (normalised), whether or not an account has it.
    email TEXT NOT NULL,
    -- The client's address.
    address TEXT NOT NULL,
    attempted_at INTEGER NOT NULL,
    succeeded BOOLEAN NOT NULL
);
CREATE INDEX login_attempts_email ON login_attempts (email, attempted_at);
CREATE INDEX login_attempts_address ON login_attempts (address, attempted_at);
