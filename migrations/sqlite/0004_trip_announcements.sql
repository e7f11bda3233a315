-- Trip results are owed to the channel until posted. The payout transaction takes a short
-- lease on the announcement; whoever holds it posts (with the trip's nonce, which Discord
-- de-duplicates) and then records `announced_at`. A process that dies in between leaves the
-- lease to expire, and any process posts it then: a result is never lost to a crash.
ALTER TABLE osrs_trips ADD COLUMN announced_at INTEGER;
ALTER TABLE osrs_trips ADD COLUMN announce_lease INTEGER NOT NULL DEFAULT 0;
-- Names of the achievements the trip earned (JSON array), fixed before the first post so a
-- re-post after a crash shows the same ones.
ALTER TABLE osrs_trips ADD COLUMN earned TEXT;

-- Trips paid before this migration were announced by the old worker.
UPDATE osrs_trips SET announced_at = finished_at WHERE state = 'done';

CREATE INDEX osrs_trips_unannounced ON osrs_trips (announce_lease)
    WHERE state = 'done' AND announced_at IS NULL;
