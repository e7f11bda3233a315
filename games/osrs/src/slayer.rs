//! Slayer tasks: which master a character may use, the task a master gives, and the points a
//! completed task is worth. Pure, like the rest of the engine: the caller stores the task and
//! counts kills against it.
//!
//! Rules (Old School `RuneScape` Wiki, <https://oldschool.runescape.wiki/w/Slayer_task> and
//! <https://oldschool.runescape.wiki/w/Slayer_reward_points>): a master gives a task only to
//! characters with their combat (and for Duradel, Slayer) level; the task is drawn by weight
//! from the master's list, leaving out tasks whose combat or Slayer level the character lacks;
//! the amount is uniform in the task's range. Points come from the fifth completed task on,
//! with a bonus on every 10th, 50th, 100th, 250th and 1000th; cancelling a task costs 30.

use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::data::{GameData, Monster, SlayerMaster, SlayerTask};
use crate::error::OsrsError;
use crate::loot::unit;
use crate::skills::{Skill, Skills};

/// Slayer points a cancelled ("skipped") task costs.
pub const SKIP_COST: u32 = 30;

/// Completed tasks that earn no points: points start with the task after these.
pub const UNPAID_TASKS: u64 = 4;

/// A task given to a character.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Assignment {
    /// The master's name.
    pub master: String,
    /// The Slayer category to kill, e.g. "goblins".
    pub category: String,
    /// How many to kill.
    pub quantity: u32,
}

/// Checks that the character may be given tasks by `master`.
pub fn check_master(master: &SlayerMaster, skills: &Skills) -> Result<(), OsrsError> {
    if skills.combat_level() < master.combat || skills.level(Skill::Slayer) < master.slayer {
        return Err(OsrsError::MasterTooHigh {
            master: master.name.clone(),
            combat: master.combat,
            slayer: master.slayer,
        });
    }
    Ok(())
}

/// The tasks `master` can give this character.
pub fn eligible_tasks<'a>(master: &'a SlayerMaster, skills: &Skills) -> Vec<&'a SlayerTask> {
    master
        .tasks
        .iter()
        .filter(|t| skills.combat_level() >= t.combat && skills.level(Skill::Slayer) >= t.slayer)
        .collect()
}

/// The most demanding master this character may use (the one whose tasks pay best).
pub fn best_master<'a>(data: &'a GameData, skills: &Skills) -> Option<&'a SlayerMaster> {
    data.slayer_masters
        .iter()
        .filter(|m| check_master(m, skills).is_ok() && !eligible_tasks(m, skills).is_empty())
        .max_by_key(|m| (m.combat, m.slayer))
}

/// Gives a task from `master`: one roll picks the task by weight, one the amount. Nothing is
/// rolled when the character can't use the master.
pub fn assign_task(
    master: &SlayerMaster,
    skills: &Skills,
    rng: &mut impl RngCore,
) -> Result<Assignment, OsrsError> {
    check_master(master, skills)?;
    let tasks = eligible_tasks(master, skills);
    let total: u64 = tasks.iter().map(|t| u64::from(t.weight)).sum();
    if total == 0 {
        return Err(OsrsError::NoSlayerTask {
            master: master.name.clone(),
        });
    }
    let mut left = unit(rng) * total as f64;
    // The last task also takes a roll that rounding pushed to the very top.
    let mut task = tasks[tasks.len() - 1];
    for &t in &tasks {
        if left < f64::from(t.weight) {
            task = t;
            break;
        }
        left -= f64::from(t.weight);
    }
    let span = f64::from(task.max - task.min + 1);
    let quantity = task.min + ((unit(rng) * span) as u32).min(task.max - task.min);
    Ok(Assignment {
        master: master.name.clone(),
        category: task.category.clone(),
        quantity,
    })
}

/// Points for completing a task from `master` when it is the character's `nth` completed task
/// (1 for the first): nothing for the first [`UNPAID_TASKS`], then the master's points, or
/// their bonus on every 10th, 50th, 100th, 250th and 1000th task.
pub fn task_points(master: &SlayerMaster, nth: u64) -> u32 {
    if nth <= UNPAID_TASKS {
        return 0;
    }
    let bonus = [(1000, 5), (250, 4), (100, 3), (50, 2), (10, 1)]
        .into_iter()
        .find(|(every, _)| nth.is_multiple_of(*every));
    master.points[bonus.map_or(0, |(_, i)| i)]
}

/// True if killing `monster` counts for a task of `category`.
pub fn counts_for(monster: &Monster, category: &str) -> bool {
    monster.categories.iter().any(|c| c == category)
}

/// "abyssal demons" → "Abyssal demons", for messages.
pub fn task_name(category: &str) -> String {
    let mut c = category.chars();
    c.next().map_or_else(String::new, |f| {
        f.to_uppercase().collect::<String>() + c.as_str()
    })
}
