-- Battle teams (PostgreSQL). Keep in step with migrations/sqlite/0005_pokemon_teams.sql.
-- Up to six Pokémon per trainer, sent out in slot order. Releasing or trading a Pokémon
-- deletes its row in the same transaction; reads also join on the current owner, so a team
-- saved while a trade of one of its members was under way never fights with it.
CREATE TABLE pokemon_teams (
    user_id     BIGINT  NOT NULL,
    slot        BIGINT  NOT NULL CHECK (slot BETWEEN 0 AND 5),
    pokemon_id  BIGINT  NOT NULL UNIQUE,      -- in one team at most
    PRIMARY KEY (user_id, slot)
);
