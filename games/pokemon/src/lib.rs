//! Pokémon engine: pure and synchronous. Filled in by the Pokémon issue.
