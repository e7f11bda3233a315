//! Prints a simulated trip's loot and XP as JSON.
//!
//! cargo run -p lounge-osrs --example simulate -- --monster goblin --kills 1000 --seed 7
//! cargo run -p lounge-osrs --example simulate -- --activity "yew tree" --minutes 60 --seed 7
//!
//! The character is maxed (99s, a whip and rune armour, a dragon axe and pickaxe, 10,000
//! sharks eaten as needed) so every activity is allowed and most monsters can be fought.

use std::io::Write;
use std::process::ExitCode;

use lounge_osrs::{Amount, Character, CombatStyle, Skills, TripRequest, data, simulate};
use rand::SeedableRng;
use rand_chacha::ChaCha8Rng;

fn main() -> ExitCode {
    match run(std::env::args().skip(1).collect()) {
        Ok(json) => {
            // A closed pipe (`| head`) is the reader's choice, not a failure.
            let _ = writeln!(std::io::stdout(), "{json}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: Vec<String>) -> Result<String, String> {
    let mut monster = None;
    let mut activity = None;
    let mut kills = None;
    let mut minutes = None;
    let mut seed = 0u64;
    let mut it = args.into_iter();
    while let Some(flag) = it.next() {
        let mut value = || it.next().ok_or_else(|| format!("{flag} needs a value"));
        let number = |v: String| v.parse::<u64>().map_err(|e| format!("{flag}: {e}"));
        match flag.as_str() {
            "--monster" => monster = Some(value()?),
            "--activity" => activity = Some(value()?),
            "--kills" => kills = Some(number(value()?)?),
            "--minutes" => minutes = Some(number(value()?)?),
            "--seed" => seed = number(value()?)?,
            _ => return Err(format!("unknown argument {flag}")),
        }
    }
    let amount = match (kills, minutes) {
        (Some(k), None) => Amount::Count(k),
        (None, Some(m)) => Amount::Minutes(m),
        _ => return Err("give exactly one of --kills N or --minutes M".into()),
    };
    let data = data();
    let item = |name: &str| {
        data.item_by_name(name)
            .map(|i| i.id)
            .map_err(|e| e.to_string())
    };
    let shark = item("Shark")?;
    let request = match (monster, activity) {
        (Some(monster), None) => TripRequest::Combat {
            monster,
            amount,
            style: CombatStyle::Melee,
            food: Some(shark),
            on_task: true,
        },
        (None, Some(activity)) => TripRequest::Skilling { activity, amount },
        _ => return Err("give exactly one of --monster NAME or --activity NAME".into()),
    };
    let mut character = Character {
        skills: Skills::all_at(99),
        ..Character::default()
    };
    character.inventory.add(shark, 10_000);
    for worn in [
        "Abyssal whip",
        "Rune full helm",
        "Rune platebody",
        "Rune platelegs",
        "Rune kiteshield",
    ] {
        character.equipment.push(item(worn)?);
    }
    for tool in ["Dragon axe", "Dragon pickaxe"] {
        character.inventory.add(item(tool)?, 1);
    }
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    let out = simulate(data, &character, &request, &mut rng).map_err(|e| e.to_string())?;
    let json = serde_json::json!({
        "seed": seed,
        "duration_secs": out.duration_secs,
        "completed": out.completed,
        "xp": out.xp,
        "loot": out.loot.named(data),
        "loot_value": out.loot.value(data),
        "consumed": out.consumed.named(data),
        "events": out.events,
    });
    serde_json::to_string_pretty(&json).map_err(|e| e.to_string())
}
