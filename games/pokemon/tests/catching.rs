//! The capture formula and its random checks, with scripted rolls.

use lounge_pokemon::catch::{Ball, CatchRules, Throw, capture_value, throw_ball};
use lounge_pokemon::data::{Status, TimeOfDay, dex};
use lounge_pokemon::rng::scripted;

use crate::util::ScriptedRng;

fn throw(species: &str, ball: Ball) -> Throw<'static> {
    Throw {
        rules: CatchRules::Gen9,
        ball,
        species: dex().species_named(species).unwrap(),
        level: 30,
        max_hp: 100,
        hp: 100,
        status: None,
        turn: 3,
        time: TimeOfDay::Day,
        dark_place: false,
        underwater: false,
        already_caught_species: false,
        own_level: 30,
        dex_caught: 0,
        catching_charm: false,
    }
}

#[test]
fn capture_value_follows_the_formula() {
    // Bulbasaur: catch rate 45. Full HP gives a third of it: X = 15.
    let t = throw("Bulbasaur", Ball::Poke);
    assert_eq!(capture_value(&t), 15 * 4096);
    // 1 HP of 100: (300 - 2) / 300 of 45.
    let low = Throw { hp: 1, ..t.clone() };
    assert_eq!(capture_value(&low), 298 * 45 * 4096 / 300);
    let ultra = Throw {
        ball: Ball::Ultra,
        ..t.clone()
    };
    assert_eq!(capture_value(&ultra), 30 * 4096);
    let asleep = Throw {
        status: Some(Status::Sleep),
        ..t.clone()
    };
    assert_eq!(capture_value(&asleep), 15 * 4096 * 5 / 2);
    let burned = Throw {
        status: Some(Status::Burn),
        ..t.clone()
    };
    assert_eq!(capture_value(&burned), 15 * 4096 * 3 / 2);
    // Gen 9 low-level bonus: level 5 gives x(36 - 10)/10.
    let tiny = Throw {
        level: 5,
        ..t.clone()
    };
    assert_eq!(capture_value(&tiny), 15 * 4096 * 26 / 10);
    let gen8 = Throw {
        level: 5,
        rules: CatchRules::Gen8,
        ..t.clone()
    };
    assert_eq!(capture_value(&gen8), 15 * 4096 * 25 / 10);
    // Net Ball only on Water and Bug types.
    assert_eq!(
        capture_value(&Throw {
            ball: Ball::Net,
            ..t.clone()
        }),
        15 * 4096
    );
    let magikarp = throw("Magikarp", Ball::Net);
    assert_eq!(capture_value(&magikarp), 255 * 4096 * 35 / 10 / 3);
}

#[test]
fn four_passed_shake_checks_catch() {
    let t = throw("Bulbasaur", Ball::Poke);
    // X = 15 gives Y = floor(65536 / 17^(3/16)) = 38527.
    let pass = scripted(38526, 65536);
    let mut rng = ScriptedRng::new(&[pass, pass, pass, pass]);
    let out = throw_ball(&t, &mut rng);
    rng.assert_consumed();
    assert!(out.caught);
    assert_eq!((out.shakes, out.critical), (4, false));
}

#[test]
fn a_failed_check_breaks_out_and_stops_rolling() {
    let t = throw("Bulbasaur", Ball::Poke);
    let pass = scripted(0, 65536);
    let fail = scripted(38527, 65536);
    let mut rng = ScriptedRng::new(&[pass, fail]);
    let out = throw_ball(&t, &mut rng);
    rng.assert_consumed();
    assert!(!out.caught);
    assert_eq!(out.shakes, 1);
}

#[test]
fn critical_capture_needs_one_check() {
    // 700 species caught: multiplier 2.5, so the critical threshold is 15 * 2.5 / 6 = 6.
    let t = Throw {
        dex_caught: 700,
        ..throw("Bulbasaur", Ball::Poke)
    };
    let mut rng = ScriptedRng::new(&[scripted(5, 256), scripted(0, 65536)]);
    let out = throw_ball(&t, &mut rng);
    rng.assert_consumed();
    assert!(out.caught && out.critical);
    assert_eq!(out.shakes, 1);
    // A roll of 6 is not below the threshold: an ordinary throw with four checks.
    let mut rng = ScriptedRng::new(&[scripted(6, 256), scripted(40_000, 65536)]);
    let out = throw_ball(&t, &mut rng);
    rng.assert_consumed();
    assert!(!out.caught && !out.critical);
}

#[test]
fn master_ball_and_sure_catches_draw_nothing() {
    let mut rng = ScriptedRng::new(&[]);
    assert!(throw_ball(&throw("Mewtwo", Ball::Master), &mut rng).caught);
    // Catch rate 255 at 1 HP, asleep: X is far above 255.
    let easy = Throw {
        hp: 1,
        status: Some(Status::Sleep),
        ..throw("Caterpie", Ball::Ultra)
    };
    assert!(throw_ball(&easy, &mut rng).caught);
    rng.assert_consumed();
}
