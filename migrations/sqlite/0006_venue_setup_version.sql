-- Moves on with every staff change to a venue's set-up (settings, hours,
-- closures, resources, offers, treatments), in that change's transaction:
-- the set-up lock (lock_venue) bumps it. A booking that read the venue's
-- needs before taking its resource locks compares it under the locks: the
-- same number means nothing it read has changed since, so it need not read
-- it all again while others queue behind its locks.
ALTER TABLE venues ADD COLUMN setup_version INTEGER NOT NULL DEFAULT 1;
