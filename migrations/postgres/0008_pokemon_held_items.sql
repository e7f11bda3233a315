-- Held items and computer opponents (PostgreSQL). Keep in step with
-- migrations/sqlite/0008_pokemon_held_items.sql.

-- The item a Pokémon holds, as the games spell it ('Metal Coat'); NULL: nothing. An item moves
-- between a member's bag (pokemon_items) and a Pokémon, or is used up by an evolution, only
-- inside one transaction with conditional updates, so it is never doubled or lost; it travels
-- with the Pokémon in a trade and goes back to the bag when the Pokémon is released.
ALTER TABLE pokemon ADD COLUMN held_item TEXT;

-- Whom the computer played, for battles against it: 'Hiker Clarence' or 'wild Pidgey'. NULL in
-- a battle between members (and for wild battles stored before this migration).
ALTER TABLE pokemon_battles ADD COLUMN npc TEXT;
