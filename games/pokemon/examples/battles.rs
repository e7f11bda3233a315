//! Plays a fixed number of seeded random battles exactly as the `battle` benchmark does, for
//! instruction counts that do not depend on machine load:
//!
//! ```text
//! cargo build --release -p lounge-pokemon --example battles
//! valgrind --tool=callgrind --callgrind-out-file=/dev/null target/release/examples/battles 6 2000
//! ```
//! Arguments: team size (default 6) and battle count (default 2,000). Comparing two counts
//! separates the per-battle cost from setup (parsing the dex, building the pool).

use std::hint::black_box;

use lounge_pokemon::battle::{play_random, random_battles};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn main() {
    let mut args = std::env::args().skip(1);
    let size: usize = args.next().map_or(6, |s| s.parse().expect("a team size"));
    let n: usize = args
        .next()
        .map_or(2_000, |s| s.parse().expect("a battle count"));
    let mut rng = ChaCha8Rng::seed_from_u64(7);
    let pool = random_battles(size, 64, 100, &mut rng);
    let mut turns = 0u64;
    for i in 0..n {
        let mut battle = pool[i % pool.len()].clone();
        black_box(play_random(&mut battle, &mut rng));
        turns += u64::from(battle.turn);
    }
    println!("{n} random {size}v{size} battles, {turns} turns");
}
