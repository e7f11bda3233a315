//! Prints the fingerprint of many seeded random battles (see `tests/fingerprint.rs`), to show
//! that an engine change leaves every battle's result unchanged.
//!
//! ```text
//! cargo run --release -p lounge-pokemon --example fingerprint -- 100000
//! ```
//! (the argument is per half: bench-style battles and event-logged varied battles).

#[path = "../tests/fingerprint.rs"]
mod fingerprint;

fn main() {
    let n = std::env::args()
        .nth(1)
        .map_or(100_000, |s| s.parse().expect("a battle count"));
    println!("{:016x}", fingerprint::fingerprint(n));
}
