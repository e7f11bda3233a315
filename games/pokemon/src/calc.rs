//! A JSON-friendly front end to the damage formula, in @smogon/calc's terms.

use serde::{Deserialize, Serialize};

use crate::damage::{Combatant, Conditions, damage_rolls};
use crate::data::{Status, dex};
use crate::effects::{Ability, Item, Weather};
use crate::error::Error;
use crate::stats::{Spread, StatSpread, calc_stats};

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Boosts {
    #[serde(default)]
    pub atk: i32,
    #[serde(default)]
    pub def: i32,
    #[serde(default)]
    pub spa: i32,
    #[serde(default)]
    pub spd: i32,
    #[serde(default)]
    pub spe: i32,
}

/// A Pokémon as the calculator takes it. Missing IVs are 31, missing EVs 0.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PokemonSpec {
    pub species: String,
    #[serde(default = "default_level")]
    pub level: u32,
    #[serde(default = "default_nature")]
    pub nature: String,
    #[serde(default)]
    pub evs: StatSpread,
    #[serde(default)]
    pub ivs: StatSpread,
    #[serde(default)]
    pub ability: Option<String>,
    #[serde(default)]
    pub item: Option<String>,
    #[serde(default)]
    pub boosts: Boosts,
    #[serde(default)]
    pub status: Option<String>,
    /// Current HP; full when absent.
    #[serde(default, rename = "curHP")]
    pub cur_hp: Option<u32>,
}

fn default_level() -> u32 {
    100
}

fn default_nature() -> String {
    "Hardy".to_owned()
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(untagged)]
pub enum MoveSpec {
    Name(String),
    Full {
        name: String,
        #[serde(default, rename = "isCrit")]
        is_crit: bool,
    },
}

#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FieldSpec {
    #[serde(default)]
    pub weather: Option<String>,
    /// Reflect on the defender's side.
    #[serde(default)]
    pub reflect: bool,
    #[serde(default, rename = "lightScreen")]
    pub light_screen: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CalcRequest {
    pub attacker: PokemonSpec,
    pub defender: PokemonSpec,
    #[serde(rename = "move")]
    pub mv: MoveSpec,
    #[serde(default)]
    pub field: FieldSpec,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CalcResult {
    pub min: u16,
    pub max: u16,
    pub rolls: Vec<u16>,
}

impl PokemonSpec {
    /// Validates the spec and builds the battle-ready Pokémon.
    pub fn build(&self) -> Result<Combatant, Error> {
        let d = dex();
        let species = d.species_named(&self.species)?;
        if !(1..=100).contains(&self.level) {
            return Err(Error::BadLevel(self.level));
        }
        let level = self.level as u8;
        let nature = d.nature_named(&self.nature)?;
        let spread = Spread::new(self.ivs.to_table(31), self.evs.to_table(0))?;
        let stats = calc_stats(species, level, &spread, nature);
        // Like @smogon/calc, a set without an ability gets the species' first one.
        let ability = match (&self.ability, species.abilities[0]) {
            (Some(a), _) => Ability::parse(a)?,
            (None, Some(a)) => Ability::parse(a)?,
            (None, None) => Ability::Other,
        };
        let item = match &self.item {
            Some(i) => Item::parse(i)?,
            None => Item::None,
        };
        let given = &self.boosts;
        let mut boosts = [0i8; 5];
        for (slot, (name, v)) in boosts.iter_mut().zip([
            ("atk", given.atk),
            ("def", given.def),
            ("spa", given.spa),
            ("spd", given.spd),
            ("spe", given.spe),
        ]) {
            if !(-6..=6).contains(&v) {
                return Err(Error::BadBoost {
                    stat: name,
                    value: v,
                });
            }
            *slot = v as i8;
        }
        let major_status = self
            .status
            .as_deref()
            .filter(|s| !s.is_empty())
            .map(Status::parse)
            .transpose()?;
        let hp = match self.cur_hp {
            None => stats.0[0],
            Some(h) if h >= 1 && h <= u32::from(stats.0[0]) => h as u16,
            Some(h) => {
                return Err(Error::Invalid(format!(
                    "curHP {h} outside 1..={}",
                    stats.0[0]
                )));
            }
        };
        Ok(Combatant {
            species,
            level,
            stats,
            boosts,
            ability,
            item,
            status: major_status,
            hp,
        })
    }
}

/// Runs one calculation request.
pub fn run(req: &CalcRequest) -> Result<CalcResult, Error> {
    let att = req.attacker.build()?;
    let def = req.defender.build()?;
    let (name, crit) = match &req.mv {
        MoveSpec::Name(n) => (n.as_str(), false),
        MoveSpec::Full { name, is_crit } => (name.as_str(), *is_crit),
    };
    let mv = dex().move_named(name)?;
    let weather = match &req.field.weather {
        Some(w) => Weather::parse(w)?,
        None => None,
    };
    let cond = Conditions {
        weather,
        reflect: req.field.reflect,
        light_screen: req.field.light_screen,
        crit,
    };
    let rolls = damage_rolls(&att, &def, mv, &cond)?;
    Ok(CalcResult {
        min: rolls[0],
        max: rolls[15],
        rolls: rolls.to_vec(),
    })
}
