//! OSRS (Old School `RuneScape`) simulation engine: pure and synchronous.
//!
//! Data (items, monsters and where they are, drop tables, skilling activities, worlds, Slayer
//! masters) is generated once by `gen/generate.mjs` into `data/osrs.json` and embedded;
//! nothing touches the network.
//! Every random decision takes a caller-supplied `&mut impl RngCore`, so a seed replays a
//! trip exactly.
//!
//! ```
//! use lounge_osrs::{Amount, Character, CombatStyle, Skills, TripRequest, data, simulate};
//! use rand::SeedableRng;
//!
//! let request = TripRequest::Combat {
//!     monster: "goblin".into(),
//!     amount: Amount::Count(10),
//!     style: CombatStyle::Melee,
//!     food: None,
//!     on_task: false,
//! };
//! let mut rng = rand::rngs::StdRng::seed_from_u64(1);
//! let fighter = Character { skills: Skills::all_at(20), ..Character::default() };
//! let out = simulate(data(), &fighter, &request, &mut rng).unwrap();
//! assert_eq!(out.completed, 10);
//! ```
//!
#![doc = include_str!("../README.md")]

mod data;
mod error;
mod loot;
mod skills;
mod slayer;
mod suggest;
mod trip;

pub use data::{
    Activity, Equipment, GameData, Item, Location, Monster, SlayerMaster, SlayerTask, Slot, Stat,
    World, data,
};
pub use error::{MissingLevel, OsrsError};
pub use loot::{Bank, expected_loot, starter_kit, unit};
pub use skills::{
    MAX_LEVEL, MAX_XP, SKILL_COUNT, Skill, Skills, XP_TABLE, combat_level, level_for_xp,
    xp_for_level,
};
pub use slayer::{
    Assignment, SKIP_COST, UNPAID_TASKS, assign_task, best_master, check_master, counts_for,
    eligible_tasks, task_name, task_points,
};
pub use suggest::suggestions;
pub use trip::{
    AMMO_LOSS, Amount, Character, CombatStyle, Event, MAX_MINUTES, MAX_QUANTITY, REGEN_TICKS,
    RESPAWN_TICKS, Spell, SpellFacts, TICK_SECONDS, TripOutcome, TripRequest, base_rate,
    check_requirements, hit_chance, max_hit, roll_kills, simulate,
};
