//! Damage calculations per second and full random battles per second.
//!
//! Run: `cargo bench -p lounge-pokemon --bench engine -- --warm-up-time 1 --measurement-time 3`

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use lounge_pokemon::battle::{play_random, random_battles};
use lounge_pokemon::calc::{CalcRequest, run};
use lounge_pokemon::damage::{Conditions, damage_rolls};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn damage(c: &mut Criterion) {
    let req: CalcRequest = serde_json::from_str(
        r#"{"attacker":{"species":"Garchomp","nature":"Jolly","evs":{"atk":252,"spe":252},
            "ability":"Rough Skin","item":"Choice Band"},
            "defender":{"species":"Gholdengo","nature":"Bold","evs":{"hp":252,"def":252},
            "ability":"Good as Gold","item":"Leftovers"},"move":"Earthquake",
            "field":{"weather":"Sand"}}"#,
    )
    .expect("bench request parses");
    let att = req.attacker.build().expect("attacker");
    let def = req.defender.build().expect("defender");
    let mv = lounge_pokemon::data::dex()
        .move_named("Earthquake")
        .expect("move");
    let cond = Conditions::default();
    let mut g = c.benchmark_group("damage");
    g.throughput(Throughput::Elements(1));
    g.bench_function("16 rolls", |b| {
        b.iter(|| damage_rolls(black_box(&att), black_box(&def), mv, &cond));
    });
    g.bench_function("from JSON request", |b| b.iter(|| run(black_box(&req))));
    g.finish();
}

fn battles(c: &mut Criterion) {
    let mut g = c.benchmark_group("battle");
    g.throughput(Throughput::Elements(1));
    for size in [1usize, 6] {
        let mut rng = ChaCha8Rng::seed_from_u64(7);
        let pool = random_battles(size, 64, 100, &mut rng);
        // Context for the numbers: how long these battles are.
        let turns: u32 = (0..1000)
            .map(|i| {
                let mut b = pool[i % pool.len()].clone();
                play_random(&mut b, &mut rng);
                b.turn
            })
            .sum();
        eprintln!(
            "random {size}v{size}: {:.1} turns per battle",
            f64::from(turns) / 1000.0
        );
        let mut i = 0;
        g.bench_function(format!("random {size}v{size}"), |b| {
            b.iter(|| {
                let mut battle = pool[i % pool.len()].clone();
                i += 1;
                black_box(play_random(&mut battle, &mut rng))
            });
        });
    }
    g.finish();
}

criterion_group!(benches, damage, battles);
criterion_main!(benches);
