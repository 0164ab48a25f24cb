-- One-time links with which a customer whom staff booked without a
-- password (at the desk, on the phone) sets one and signs in. Only a hash
-- of a link's secret is kept; a link is used once, before it expires.
CREATE TABLE claim_links (
    token_hash TEXT PRIMARY KEY,
    user_id BIGINT NOT NULL REFERENCES users (id),
    created_by BIGINT NOT NULL REFERENCES users (id),
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
