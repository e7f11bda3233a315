-- Battle teams (SQLite). Keep in step with migrations/postgres/0005_pokemon_teams.sql.
-- Up to six Pokémon per trainer, sent out in slot order. Releasing or trading a Pokémon
-- deletes its row in the same transaction; reads also join on the current owner, so a team
-- saved while a trade of one of its members was under way never fights with it.
CREATE TABLE pokemon_teams (
    user_id     INTEGER NOT NULL,
    slot        INTEGER NOT NULL CHECK (slot BETWEEN 0 AND 5),
    pokemon_id  INTEGER NOT NULL UNIQUE,      -- in one team at most
    PRIMARY KEY (user_id, slot)
);
