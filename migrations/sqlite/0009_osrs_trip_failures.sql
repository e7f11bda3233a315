-- What a trip took from the bank when it started, kept apart from its outcome so the supplies
-- can be given back when the outcome can no longer be read.
ALTER TABLE osrs_trips ADD COLUMN consumed TEXT;
-- Set when a trip could not be paid because its stored outcome no longer decodes: the trip is
-- over, its supplies went back to the bank, and its owner is told instead of shown a result.
ALTER TABLE osrs_trips ADD COLUMN failure TEXT;
