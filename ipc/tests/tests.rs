//! One test binary for the crate, so helpers compile once (see `autotests = false`).

mod fuzz;
mod plex;
mod socket;
mod util;
mod wire;
