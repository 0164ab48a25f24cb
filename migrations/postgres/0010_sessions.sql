-- The session table, made here rather than by the session store at
-- start-up: migrations run on a direct connection under the migration
-- lock, also when the app reaches Postgres through a transaction pooler.
-- The same table the store made before, so existing sessions stay.
CREATE SCHEMA IF NOT EXISTS tower_sessions;
CREATE TABLE IF NOT EXISTS tower_sessions.session (
    id text PRIMARY KEY NOT NULL,
    data bytea NOT NULL,
    expiry_date timestamptz NOT NULL
);
CREATE INDEX IF NOT EXISTS session_expiry ON tower_sessions.session (expiry_date);
