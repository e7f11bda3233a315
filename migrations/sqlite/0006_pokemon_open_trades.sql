-- Trades in progress. Both members add Pokémon and coins over several commands and then
-- confirm; any change clears both confirmations, and the swap happens in the transaction of
-- the second confirmation. While a trade is open, what it offers is held: a Pokémon can be
-- in one open trade only (`pokemon_trade_offers` is keyed by it), a member in one open trade
-- only (`pokemon_trade_members` likewise), and release and item evolution refuse an offered
-- Pokémon.
CREATE TABLE pokemon_open_trades (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    guild_id     INTEGER  NOT NULL,
    user_a       INTEGER  NOT NULL,             -- who proposed it
    user_b       INTEGER  NOT NULL,
    coins_a      INTEGER  NOT NULL DEFAULT 0 CHECK (coins_a >= 0),
    coins_b      INTEGER  NOT NULL DEFAULT 0 CHECK (coins_b >= 0),
    confirmed_a  INTEGER  NOT NULL DEFAULT 0 CHECK (confirmed_a IN (0, 1)),
    confirmed_b  INTEGER  NOT NULL DEFAULT 0 CHECK (confirmed_b IN (0, 1)),
    state        TEXT    NOT NULL CHECK (state IN ('open', 'done', 'cancelled', 'expired')),
    opened_at    INTEGER  NOT NULL,
    updated_at   INTEGER  NOT NULL,             -- last change; idle trades expire from it
    trade_id     INTEGER  REFERENCES pokemon_trades (id) -- the swap, once done
);
CREATE INDEX pokemon_open_trades_idle ON pokemon_open_trades (updated_at) WHERE state = 'open';

CREATE TABLE pokemon_trade_members (
    user_id   INTEGER PRIMARY KEY,
    trade     INTEGER NOT NULL REFERENCES pokemon_open_trades (id) ON DELETE CASCADE
);

CREATE TABLE pokemon_trade_offers (
    pokemon_id INTEGER PRIMARY KEY REFERENCES pokemon (id) ON DELETE CASCADE,
    trade      INTEGER NOT NULL REFERENCES pokemon_open_trades (id) ON DELETE CASCADE,
    user_id    INTEGER NOT NULL,                -- the side offering it (its owner then)
    added_at   INTEGER NOT NULL
);
CREATE INDEX pokemon_trade_offers_by_trade ON pokemon_trade_offers (trade);
