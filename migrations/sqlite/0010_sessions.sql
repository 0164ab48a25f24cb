-- The session table, made here rather than by the session store at
-- start-up (as on Postgres). The same table the store made before, so
-- existing sessions stay.
CREATE TABLE IF NOT EXISTS tower_sessions (
    id text PRIMARY KEY NOT NULL,
    data blob NOT NULL,
    expiry_date integer NOT NULL
);
CREATE INDEX IF NOT EXISTS tower_sessions_expiry ON tower_sessions (expiry_date);
