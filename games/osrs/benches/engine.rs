//! Trip throughput. Target: a 100,000-kill trip in under 10 ms.
//!
//! cargo bench -p lounge-osrs --bench engine -- --warm-up-time 1 --measurement-time 3

use criterion::{Criterion, criterion_group, criterion_main};
use lounge_osrs::{Amount, Character, CombatStyle, Skills, TripRequest, data, simulate};
use rand::{RngCore, SeedableRng};
use rand_chacha::ChaCha8Rng;
use std::hint::black_box;

fn trips(c: &mut Criterion) {
    let d = data();
    let shark = d.item_by_name("Shark").unwrap().id;
    let mut character = Character {
        skills: Skills::all_at(99),
        ..Character::default()
    };
    character.inventory.add(shark, 100_000);
    // Goblin: small table, 4 tertiaries. Hill giant: rare drop table and gem table.
    for monster in ["goblin", "hill giant"] {
        let request = TripRequest::Combat {
            monster: monster.into(),
            amount: Amount::Count(100_000),
            style: CombatStyle::Melee,
            food: Some(shark),
            on_task: true,
        };
        let mut rng = ChaCha8Rng::seed_from_u64(1);
        // A trip cut short by a death would make the timing meaningless.
        let out = simulate(d, &character, &request, &mut rng).unwrap();
        assert_eq!(out.completed, 100_000, "{monster}: {:?}", out.events);
        c.bench_function(&format!("100k kills {monster}"), |b| {
            b.iter(|| simulate(d, &character, black_box(&request), &mut rng).unwrap());
        });
    }
    // The floor: the RNG draws alone that a goblin trip makes (6 per kill).
    let mut rng = ChaCha8Rng::seed_from_u64(3);
    c.bench_function("600k ChaCha8 next_u64", |b| {
        b.iter(|| (0..600_000).fold(0u64, |a, _| a ^ rng.next_u64()));
    });
    let skilling = TripRequest::Skilling {
        activity: "Magic tree".into(),
        amount: Amount::Minutes(600),
    };
    let mut woodcutter = character.clone();
    woodcutter
        .equipment
        .push(d.item_by_name("Dragon axe").unwrap().id);
    let mut rng = ChaCha8Rng::seed_from_u64(2);
    c.bench_function("10h woodcutting", |b| {
        b.iter(|| simulate(d, &woodcutter, black_box(&skilling), &mut rng).unwrap());
    });
}

criterion_group!(benches, trips);
criterion_main!(benches);
