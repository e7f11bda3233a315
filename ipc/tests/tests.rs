//! One test binary for the crate, so helpers compile once (see `autotests = false`).

mod fuzz;
mod socket;
mod util;
mod wire;
