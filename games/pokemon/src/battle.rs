//! Gen 9 singles battles: turn order, moves, damage, accuracy, PP, major status, switching,
//! fainting and the result. Pure and deterministic: the same teams, actions and RNG give the
//! same battle. Every random decision draws exactly one `u32` (see [`crate::rng`]).
//!
//! Modelled: priority and speed order with random speed ties; accuracy and evasion stages;
//! critical hits by stage; the full damage formula ([`crate::damage`]); multi-hit moves; PP and
//! Struggle; burn, freeze, paralysis, poison, toxic and sleep; flinch; stat stages; drain,
//! recoil, healing moves; five turns of weather from entry abilities (Drizzle, Drought, Sand
//! Stream, Snow Warning) with sandstorm damage; Leftovers, Life Orb, Focus Sash, Rocky Helmet, Choice
//! items (lock and Scarf speed); Intimidate, Static, Flame Body, Poison Point, Regenerator,
//! Natural Cure, Speed Boost, Sturdy; must-recharge moves; switching and fainting.
//! Not modelled (such moves are refused by [`move_supported`]): two-turn moves, moves the damage
//! formula refuses ([`crate::damage::is_variable_power`]), and status moves whose effect is not a
//! status, a stat change or healing (weather moves, hazards, Protect, Substitute...). Damaging moves with an extra scripted effect (U-turn's switch, Knock Off's item
//! removal, Fake Out's first-turn rule, confusion) deal their damage and listed secondaries only.

use rand::Rng;

use crate::damage::{Combatant, Conditions, Prepared, is_variable_power, prepare};
use crate::data::{BoostChange, Category, Move, Nature, Special, Species, Status, dex, flags};
use crate::effects::{Ability, Item, Weather};
use crate::error::Error;
use crate::rng::{below, chance};
use crate::stats::{Spread, StatTable, boosted, calc_stats};
use crate::types::Type;

/// A Pokémon as a trainer brings it to battle.
#[derive(Debug, Clone)]
pub struct PokemonSet {
    pub species: &'static Species,
    pub level: u8,
    pub nature: Nature,
    pub spread: Spread,
    pub ability: Ability,
    pub item: Item,
    /// Move numbers, 1 to 4.
    pub moves: Vec<u16>,
}

/// Whether the battle engine can run this move faithfully.
pub fn move_supported(m: &Move) -> bool {
    match m.category {
        Category::Status => {
            m.volatile.is_empty()
                && (m.status.is_some()
                    || m.target_boosts.is_some()
                    || m.self_boosts.is_some()
                    || m.heal.is_some())
        }
        _ => !is_variable_power(m) && !m.has(flags::CHARGE),
    }
}

/// What a side does this turn.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// Use the move in this slot (0..4).
    Move(u8),
    /// Switch to the team member at this index.
    Switch(u8),
    /// The only choice when no move has PP left.
    Struggle,
}

/// A side's legal actions, listed as [`Battle::legal_actions`] gives them: the usable move
/// slots in order (or Struggle), then the team members it may switch to in order.
struct Legal {
    /// Usable move slots as bits.
    moves: u8,
    /// Team members it may switch to, as bits.
    switches: u8,
    /// How many of the listed actions are moves or Struggle: 0 when the side cannot act.
    move_count: usize,
}

impl Legal {
    fn len(&self) -> usize {
        if self.move_count == 0 {
            0
        } else {
            self.move_count + self.switches.count_ones() as usize
        }
    }

    /// The action at `i` in the list (`i < len()`).
    fn get(&self, i: usize) -> Action {
        if i >= self.move_count {
            Action::Switch(nth_bit(self.switches, i - self.move_count))
        } else if self.moves == 0 {
            Action::Struggle
        } else {
            Action::Move(nth_bit(self.moves, i))
        }
    }
}

/// The index of the `n`th set bit of `bits`, counting from the lowest.
fn nth_bit(mut bits: u8, n: usize) -> u8 {
    for _ in 0..n {
        bits &= bits - 1;
    }
    bits.trailing_zeros() as u8
}

/// Which side: 0 or 1.
pub type SideId = u8;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CantReason {
    Asleep,
    Frozen,
    Paralyzed,
    Flinched,
    Recharging,
}

/// One thing that happened, in order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Event {
    Turn(u32),
    SwitchIn {
        side: SideId,
        slot: u8,
        species: u16,
    },
    UseMove {
        side: SideId,
        move_num: u16,
    },
    Cant {
        side: SideId,
        reason: CantReason,
    },
    Miss {
        side: SideId,
    },
    NoEffect {
        side: SideId,
    },
    Crit {
        side: SideId,
    },
    /// Effectiveness in quarters (4 neutral) of a hit on `side`.
    Effectiveness {
        side: SideId,
        quarters: u8,
    },
    Damage {
        side: SideId,
        amount: u16,
        hp: u16,
    },
    Heal {
        side: SideId,
        amount: u16,
        hp: u16,
    },
    Hits {
        side: SideId,
        count: u8,
    },
    Status {
        side: SideId,
        status: Status,
    },
    Cured {
        side: SideId,
    },
    Boost {
        side: SideId,
        stat: u8,
        by: i8,
    },
    Endured {
        side: SideId,
    },
    Weather(Option<Weather>),
    Faint {
        side: SideId,
    },
    Win {
        side: SideId,
    },
    Tie,
}

/// A Pokémon during battle. Plain data with no heap parts (`Copy`), so cloning a battle copies
/// each team in one block.
#[derive(Debug, Clone, Copy)]
pub struct BattlePokemon {
    pub species: &'static Species,
    pub level: u8,
    pub ability: Ability,
    pub item: Item,
    pub moves: [u16; 4],
    /// `moves` resolved once, so a turn reads priority and the move itself without a dex
    /// lookup; slots past `move_count` hold Struggle and are never used.
    move_data: [&'static Move; 4],
    pub move_count: u8,
    pub stats: StatTable<u16>,
    pub hp: u16,
    pub status: Option<Status>,
    sleep_turns: u8,
    toxic_count: u8,
    /// atk, def, spa, spd, spe, accuracy, evasion.
    pub boosts: [i8; 7],
    pub pp: [u8; 4],
    flinched: bool,
    recharge: bool,
    choice_lock: Option<u8>,
    sash_used: bool,
}

impl BattlePokemon {
    /// The set's moves must exist (checked by [`Battle::new`]).
    fn new(set: PokemonSet) -> BattlePokemon {
        let stats = calc_stats(set.species, set.level, &set.spread, set.nature);
        let d = dex();
        let struggle = d.move_by_num(STRUGGLE).expect("Struggle is in the dex");
        let mut pp = [0; 4];
        let mut moves = [0; 4];
        let mut move_data = [struggle; 4];
        for (i, &m) in set.moves.iter().take(4).enumerate() {
            let mv = d.move_by_num(m).expect("moves are validated");
            // Full PP Ups, as competitive play assumes.
            pp[i] = mv.pp.saturating_mul(8) / 5;
            moves[i] = m;
            move_data[i] = mv;
        }
        BattlePokemon {
            hp: stats.0[0],
            stats,
            species: set.species,
            level: set.level,
            ability: set.ability,
            item: set.item,
            moves,
            move_data,
            move_count: set.moves.len().min(4) as u8,
            status: None,
            sleep_turns: 0,
            toxic_count: 0,
            boosts: [0; 7],
            pp,
            flinched: false,
            recharge: false,
            choice_lock: None,
            sash_used: false,
        }
    }

    pub fn fainted(&self) -> bool {
        self.hp == 0
    }

    fn max_hp(&self) -> u16 {
        self.stats.0[0]
    }

    pub(crate) fn combatant(&self) -> Combatant {
        Combatant {
            species: self.species,
            level: self.level,
            stats: self.stats,
            boosts: [
                self.boosts[0],
                self.boosts[1],
                self.boosts[2],
                self.boosts[3],
                self.boosts[4],
            ],
            ability: self.ability,
            item: self.item,
            status: self.status,
            hp: self.hp,
        }
    }

    fn speed(&self) -> u32 {
        let mut s = u32::from(boosted(self.stats.0[5], self.boosts[4]));
        if self.item == Item::ChoiceScarf {
            s = s * 3 / 2;
        }
        if self.status == Some(Status::Paralysis) {
            s /= 2;
        }
        s
    }

    /// Whether anything happens to this Pokémon at the end of a turn (besides weather).
    fn has_residual(&self) -> bool {
        !self.fainted()
            && (self.item == Item::Leftovers
                || matches!(
                    self.status,
                    Some(Status::Burn | Status::Poison | Status::Toxic)
                )
                || self.ability == Ability::SpeedBoost)
    }

    fn switch_out(&mut self) {
        self.boosts = [0; 7];
        self.flinched = false;
        self.recharge = false;
        self.choice_lock = None;
        if self.status == Some(Status::Toxic) {
            self.toxic_count = 0;
        }
        if !self.fainted() {
            match self.ability {
                Ability::Regenerator => {
                    self.hp = self.hp.saturating_add(self.max_hp() / 3).min(self.max_hp());
                }
                Ability::NaturalCure => self.status = None,
                _ => {}
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Side {
    pub team: Vec<BattlePokemon>,
    pub active: u8,
    /// Bit `i` set while team member `i` can battle: switch choices are read from this instead
    /// of walking the team every turn.
    alive: u8,
}

impl Side {
    pub fn active(&self) -> &BattlePokemon {
        &self.team[usize::from(self.active)]
    }

    fn active_mut(&mut self) -> &mut BattlePokemon {
        &mut self.team[usize::from(self.active)]
    }

    /// Healthy team members other than the active one, as a bit set.
    fn reserves(&self) -> u8 {
        self.alive & !(1 << self.active)
    }

    fn has_reserves(&self) -> bool {
        self.reserves() != 0
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    Win(SideId),
    Tie,
}

/// A singles battle between two teams.
#[derive(Debug, Clone)]
pub struct Battle {
    pub sides: [Side; 2],
    pub turn: u32,
    pub weather: Option<Weather>,
    weather_turns: u8,
    outcome: Option<Outcome>,
    /// Sides whose active Pokémon fainted and must be replaced with [`Battle::replace`].
    pub needs_replacement: [bool; 2],
    /// Sides whose Pokémon came in and whose entry abilities have not run yet.
    entered: [bool; 2],
    log: Vec<Event>,
}

/// Struggle's move number.
const STRUGGLE: u16 = 165;

/// Turns after which a battle is declared a tie, so random play always ends.
pub const TURN_LIMIT: u32 = 1000;

impl Battle {
    /// Validates both teams (1 to 6 Pokémon, 1 to 4 supported moves each) and sends out the
    /// first Pokémon of each.
    pub fn new(teams: [Vec<PokemonSet>; 2]) -> Result<Battle, Error> {
        let d = dex();
        for team in &teams {
            if team.is_empty() || team.len() > 6 {
                return Err(Error::Invalid(format!(
                    "a team has {} Pokémon; 1 to 6 allowed",
                    team.len()
                )));
            }
            for p in team {
                if p.moves.is_empty() || p.moves.len() > 4 {
                    return Err(Error::Invalid(format!(
                        "{} has {} moves; 1 to 4 allowed",
                        p.species.name,
                        p.moves.len()
                    )));
                }
                for &m in &p.moves {
                    let mv = d
                        .move_by_num(m)
                        .ok_or_else(|| Error::UnknownMove(m.to_string()))?;
                    if !move_supported(mv) {
                        return Err(Error::Invalid(format!(
                            "{} is not supported in battles",
                            mv.name
                        )));
                    }
                }
                if !(1..=100).contains(&p.level) {
                    return Err(Error::BadLevel(u32::from(p.level)));
                }
            }
        }
        let [a, b] = teams;
        let side = |team: Vec<PokemonSet>| Side {
            alive: ((1u16 << team.len()) - 1) as u8,
            team: team.into_iter().map(BattlePokemon::new).collect(),
            active: 0,
        };
        let mut battle = Battle {
            sides: [side(a), side(b)],
            turn: 0,
            weather: None,
            weather_turns: 0,
            outcome: None,
            needs_replacement: [false; 2],
            entered: [true; 2],
            log: Vec::with_capacity(64),
        };
        for s in 0..2 {
            battle.log.push(Event::SwitchIn {
                side: s,
                slot: 0,
                species: battle.sides[usize::from(s)].active().species.num,
            });
        }
        battle.on_entry(battle.speed_order());
        Ok(battle)
    }

    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    /// Events since the last call.
    pub fn take_log(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.log)
    }

    /// Events since the last [`Battle::clear_log`], without giving them up.
    pub fn log(&self) -> &[Event] {
        &self.log
    }

    pub fn clear_log(&mut self) {
        self.log.clear();
    }

    /// The actions `side` may choose now, written into `out` (cleared first).
    pub fn legal_actions(&self, side: SideId, out: &mut Vec<Action>) {
        let legal = self.legal_set(side);
        out.clear();
        out.extend((0..legal.len()).map(|i| legal.get(i)));
    }

    /// Legal actions as bit sets, without building a list.
    fn legal_set(&self, side: SideId) -> Legal {
        let s = &self.sides[usize::from(side)];
        let p = s.active();
        if self.outcome.is_some() || p.fainted() {
            return Legal {
                moves: 0,
                switches: 0,
                move_count: 0,
            };
        }
        let mut moves = 0;
        for i in 0..usize::from(p.move_count) {
            if p.pp[i] > 0 && p.choice_lock.is_none_or(|l| usize::from(l) == i) {
                moves |= 1 << i;
            }
        }
        Legal {
            moves,
            switches: s.reserves(),
            // Struggle stands in for the moves when none is usable.
            move_count: (moves.count_ones() as usize).max(1),
        }
    }

    /// Sends in `slot` for a side whose active Pokémon fainted.
    pub fn replace(&mut self, side: SideId, slot: u8) -> Result<(), Error> {
        let s = &self.sides[usize::from(side)];
        if !self.needs_replacement[usize::from(side)] {
            return Err(Error::Invalid("no replacement is needed".into()));
        }
        match s.team.get(usize::from(slot)) {
            Some(p) if !p.fainted() => {}
            _ => return Err(Error::Invalid(format!("slot {slot} cannot battle"))),
        }
        self.needs_replacement[usize::from(side)] = false;
        self.do_switch(side, slot);
        if !self.needs_replacement.iter().any(|&n| n) {
            self.on_entry(self.speed_order());
        }
        Ok(())
    }

    /// The same rules as [`Battle::legal_actions`], without building the list.
    fn check_action(&self, side: SideId, a: Action) -> Result<(), Error> {
        let s = &self.sides[usize::from(side)];
        let p = s.active();
        let usable = |i: usize| {
            i < usize::from(p.move_count)
                && p.pp[i] > 0
                && p.choice_lock.is_none_or(|l| usize::from(l) == i)
        };
        let ok = !p.fainted()
            && match a {
                Action::Move(i) => usable(usize::from(i)),
                Action::Struggle => !(0..4).any(usable),
                Action::Switch(i) => {
                    i != s.active && s.team.get(usize::from(i)).is_some_and(|q| !q.fainted())
                }
            };
        if ok {
            Ok(())
        } else {
            Err(Error::Invalid(format!("side {side} cannot {a:?} now")))
        }
    }

    /// Plays one turn and returns its events (they also stay in [`Battle::log`] until cleared).
    /// Both actions must be legal and no replacement may be pending.
    pub fn step<R: Rng + ?Sized>(
        &mut self,
        actions: [Action; 2],
        rng: &mut R,
    ) -> Result<&[Event], Error> {
        let start = self.log.len();
        self.check_turn(actions)?;
        self.play_turn(actions, rng);
        Ok(&self.log[start..])
    }

    fn check_turn(&self, actions: [Action; 2]) -> Result<(), Error> {
        if self.outcome.is_some() {
            return Err(Error::Invalid("the battle is over".into()));
        }
        if self.needs_replacement.iter().any(|&n| n) {
            return Err(Error::Invalid(
                "a fainted Pokémon must be replaced first".into(),
            ));
        }
        self.check_action(0, actions[0])?;
        self.check_action(1, actions[1])
    }

    /// One turn of actions already known to be legal.
    fn play_turn<R: Rng + ?Sized>(&mut self, actions: [Action; 2], rng: &mut R) {
        self.turn += 1;
        self.log.push(Event::Turn(self.turn));

        // Switches go first, faster side first.
        let order = self.action_order(actions, rng);
        for &s in &order {
            if let Action::Switch(slot) = actions[usize::from(s)] {
                self.do_switch(s, slot);
            }
        }
        if order
            .iter()
            .any(|&s| matches!(actions[usize::from(s)], Action::Switch(_)))
        {
            self.on_entry(order);
        }
        for (i, &s) in order.iter().enumerate() {
            let mv = match actions[usize::from(s)] {
                Action::Move(slot) => Some(slot),
                Action::Struggle => None,
                Action::Switch(_) => continue,
            };
            if self.sides[usize::from(s)].active().fainted() {
                continue;
            }
            let foe_moves_later = i == 0;
            self.use_move(s, mv, foe_moves_later, rng);
            if self.check_end() {
                return;
            }
        }
        self.end_of_turn();
        self.check_end();
    }

    fn speed_order(&self) -> [SideId; 2] {
        if self.sides[1].active().speed() > self.sides[0].active().speed() {
            [1, 0]
        } else {
            [0, 1]
        }
    }

    fn priority(&self, side: SideId, a: Action) -> i8 {
        match a {
            Action::Switch(_) => 7,
            Action::Struggle => 0,
            Action::Move(slot) => {
                self.sides[usize::from(side)].active().move_data[usize::from(slot)].priority
            }
        }
    }

    fn action_order<R: Rng + ?Sized>(&self, actions: [Action; 2], rng: &mut R) -> [SideId; 2] {
        let (p0, p1) = (self.priority(0, actions[0]), self.priority(1, actions[1]));
        if p0 != p1 {
            return if p0 > p1 { [0, 1] } else { [1, 0] };
        }
        let (s0, s1) = (
            self.sides[0].active().speed(),
            self.sides[1].active().speed(),
        );
        if s0 != s1 {
            return if s0 > s1 { [0, 1] } else { [1, 0] };
        }
        // Speed tie: a coin flip.
        if below(rng, 2) == 0 { [0, 1] } else { [1, 0] }
    }

    fn do_switch(&mut self, side: SideId, slot: u8) {
        let s = &mut self.sides[usize::from(side)];
        s.active_mut().switch_out();
        s.active = slot;
        let species = s.active().species.num;
        self.entered[usize::from(side)] = true;
        self.log.push(Event::SwitchIn {
            side,
            slot,
            species,
        });
    }

    /// Entry abilities of the Pokémon that just came in, in speed order.
    fn on_entry(&mut self, order: [SideId; 2]) {
        for s in order {
            if !std::mem::take(&mut self.entered[usize::from(s)]) {
                continue;
            }
            let foe = 1 - s;
            let p = self.sides[usize::from(s)].active();
            if p.fainted() {
                continue;
            }
            let weather = match p.ability {
                Ability::Drizzle => Some(Weather::Rain),
                Ability::Drought => Some(Weather::Sun),
                Ability::SandStream => Some(Weather::Sand),
                Ability::SnowWarning => Some(Weather::Snow),
                Ability::Intimidate => {
                    if !self.sides[usize::from(foe)].active().fainted() {
                        self.boost(foe, 0, -1);
                    }
                    None
                }
                _ => None,
            };
            if let Some(w) = weather
                && self.weather != Some(w)
            {
                self.weather = Some(w);
                self.weather_turns = 5;
                self.log.push(Event::Weather(Some(w)));
            }
        }
    }

    fn boost(&mut self, side: SideId, stat: u8, by: i8) {
        let p = self.sides[usize::from(side)].active_mut();
        let cur = p.boosts[usize::from(stat)];
        let new = (cur + by).clamp(-6, 6);
        if new != cur {
            p.boosts[usize::from(stat)] = new;
            self.log.push(Event::Boost {
                side,
                stat,
                by: new - cur,
            });
        }
    }

    fn apply_boosts(&mut self, side: SideId, b: BoostChange) {
        for (stat, &by) in b.iter().enumerate() {
            if by != 0 {
                self.boost(side, stat as u8, by);
            }
        }
    }

    fn damage(&mut self, side: SideId, amount: u16) {
        let p = self.sides[usize::from(side)].active_mut();
        let amount = amount.min(p.hp);
        p.hp -= amount;
        let hp = p.hp;
        self.log.push(Event::Damage { side, amount, hp });
        if hp == 0 {
            let s = &mut self.sides[usize::from(side)];
            s.alive &= !(1 << s.active);
            self.log.push(Event::Faint { side });
        }
    }

    fn heal(&mut self, side: SideId, amount: u16) {
        let p = self.sides[usize::from(side)].active_mut();
        if p.fainted() {
            return;
        }
        let amount = amount.min(p.max_hp() - p.hp);
        if amount > 0 {
            p.hp += amount;
            let hp = p.hp;
            self.log.push(Event::Heal { side, amount, hp });
        }
    }

    fn can_have_status(&self, side: SideId, status: Status) -> bool {
        let p = self.sides[usize::from(side)].active();
        if p.status.is_some() || p.fainted() {
            return false;
        }
        let t = p.species;
        !match status {
            Status::Burn => t.has_type(Type::Fire),
            Status::Freeze => t.has_type(Type::Ice) || self.weather == Some(Weather::Sun),
            Status::Paralysis => t.has_type(Type::Electric),
            Status::Poison | Status::Toxic => t.has_type(Type::Poison) || t.has_type(Type::Steel),
            Status::Sleep => false,
        }
    }

    fn inflict<R: Rng + ?Sized>(&mut self, side: SideId, status: Status, rng: &mut R) -> bool {
        if !self.can_have_status(side, status) {
            return false;
        }
        let p = self.sides[usize::from(side)].active_mut();
        p.status = Some(status);
        match status {
            // Gen 5+: a counter of 2 to 4, so 1 to 3 turns asleep before waking to move.
            Status::Sleep => p.sleep_turns = 2 + below(rng, 3) as u8,
            Status::Toxic => p.toxic_count = 0,
            _ => {}
        }
        self.log.push(Event::Status { side, status });
        true
    }

    /// Checks that stop a Pokémon from moving; each random one draws one roll.
    fn cant_move<R: Rng + ?Sized>(&mut self, side: SideId, rng: &mut R) -> Option<CantReason> {
        let p = self.sides[usize::from(side)].active_mut();
        if p.recharge {
            p.recharge = false;
            return Some(CantReason::Recharging);
        }
        match p.status {
            Some(Status::Sleep) => {
                p.sleep_turns = p.sleep_turns.saturating_sub(1);
                if p.sleep_turns > 0 {
                    return Some(CantReason::Asleep);
                }
                p.status = None;
                self.log.push(Event::Cured { side });
            }
            Some(Status::Freeze) => {
                if chance(rng, 1, 5) {
                    p.status = None;
                    self.log.push(Event::Cured { side });
                } else {
                    return Some(CantReason::Frozen);
                }
            }
            _ => {}
        }
        let p = self.sides[usize::from(side)].active_mut();
        if p.flinched {
            return Some(CantReason::Flinched);
        }
        if p.status == Some(Status::Paralysis) && chance(rng, 1, 4) {
            return Some(CantReason::Paralyzed);
        }
        None
    }

    fn use_move<R: Rng + ?Sized>(
        &mut self,
        side: SideId,
        slot: Option<u8>,
        foe_moves_later: bool,
        rng: &mut R,
    ) {
        if let Some(reason) = self.cant_move(side, rng) {
            self.log.push(Event::Cant { side, reason });
            return;
        }
        let user = self.sides[usize::from(side)].active_mut();
        let mv = match slot {
            Some(i) => {
                user.pp[usize::from(i)] -= 1;
                if matches!(
                    user.item,
                    Item::ChoiceBand | Item::ChoiceScarf | Item::ChoiceSpecs
                ) {
                    user.choice_lock = Some(i);
                }
                user.move_data[usize::from(i)]
            }
            None => dex().move_by_num(STRUGGLE).expect("Struggle is in the dex"),
        };
        self.log.push(Event::UseMove {
            side,
            move_num: mv.num,
        });
        let foe = 1 - side;
        if mv.category == Category::Status {
            self.status_move(side, mv, rng);
        } else {
            self.attack(side, foe, mv, foe_moves_later, rng);
        }
    }

    fn accuracy_hits<R: Rng + ?Sized>(&mut self, side: SideId, mv: &Move, rng: &mut R) -> bool {
        let Some(acc) = mv.accuracy else { return true };
        let user = self.sides[usize::from(side)].active();
        let target = self.sides[usize::from(1 - side)].active();
        let stage = (user.boosts[5] - target.boosts[6]).clamp(-6, 6);
        let mut acc = u32::from(acc);
        if stage > 0 {
            acc = acc * (3 + stage as u32) / 3;
        } else if stage < 0 {
            acc = acc * 3 / (3 + u32::from(stage.unsigned_abs()));
        }
        if user.ability == Ability::Hustle && mv.category == Category::Physical {
            acc = acc * 4 / 5;
        }
        if acc >= 100 {
            return true;
        }
        below(rng, 100) < acc
    }

    fn status_move<R: Rng + ?Sized>(&mut self, side: SideId, mv: &Move, rng: &mut R) {
        let foe = 1 - side;
        let targets_foe = matches!(
            mv.target,
            "normal" | "any" | "adjacentFoe" | "allAdjacentFoes" | "allAdjacent" | "randomNormal"
        );
        if targets_foe {
            // Type immunity applies to status moves too (Thunder Wave on Ground types).
            let target = self.sides[usize::from(foe)].active();
            if mv.move_type.quarters_against(target.species.types()) == 0 {
                self.log.push(Event::NoEffect { side: foe });
                return;
            }
            if !self.accuracy_hits(side, mv, rng) {
                self.log.push(Event::Miss { side });
                return;
            }
        }
        let mut did = false;
        if let Some(st) = mv.status {
            did |= self.inflict(foe, st, rng);
        }
        if let Some(b) = &mv.target_boosts {
            // Moves aimed at allies (Howl, Acupressure) land on the user in singles.
            self.apply_boosts(if targets_foe { foe } else { side }, *b);
            did = true;
        }
        if let Some(b) = &mv.self_boosts {
            self.apply_boosts(side, *b);
            did = true;
        }
        if let Some((n, dd)) = mv.heal {
            let max = self.sides[usize::from(side)].active().max_hp();
            let amount = (u32::from(max) * u32::from(n)).div_ceil(u32::from(dd)) as u16;
            self.heal(side, amount);
            did = true;
        }
        if !did {
            self.log.push(Event::NoEffect { side: foe });
        }
    }

    fn crit_roll<R: Rng + ?Sized>(mv: &Move, rng: &mut R) -> bool {
        if mv.has(flags::ALWAYS_CRIT) {
            return true;
        }
        // Gen 7+ stages: 1/24, 1/8, 1/2, always.
        match mv.crit_ratio {
            0 | 1 => chance(rng, 1, 24),
            2 => chance(rng, 1, 8),
            3 => chance(rng, 1, 2),
            _ => true,
        }
    }

    fn attack<R: Rng + ?Sized>(
        &mut self,
        side: SideId,
        foe: SideId,
        mv: &Move,
        foe_moves_later: bool,
        rng: &mut R,
    ) {
        let cond = Conditions {
            weather: self.weather,
            ..Conditions::default()
        };
        let struggle = mv.special == Special::Struggle;
        // Immunities first: an immune target costs no accuracy roll. The non-critical result
        // is kept for the first hit, the usual case, so the formula runs once per attack.
        let first = if struggle {
            None
        } else {
            let a = self.sides[usize::from(side)].active().combatant();
            let d = self.sides[usize::from(foe)].active().combatant();
            match prepare(&a, &d, mv, &cond) {
                Ok(Prepared::NoEffect) | Err(_) => {
                    self.log.push(Event::NoEffect { side: foe });
                    return;
                }
                Ok(p) => Some(p),
            }
        };
        if !self.accuracy_hits(side, mv, rng) {
            self.log.push(Event::Miss { side });
            if mv.has(flags::CRASH) {
                let max = self.sides[usize::from(side)].active().max_hp();
                self.damage(side, max / 2);
            }
            return;
        }
        let hits = match mv.multihit {
            None => 1,
            Some((a, b)) if a == b => a,
            // 2-5 hits: 35 %, 35 %, 15 %, 15 %.
            Some(_) => match below(rng, 20) {
                0..=6 => 2,
                7..=13 => 3,
                14..=16 => 4,
                _ => 5,
            },
        };
        let mut total: u32 = 0;
        let mut landed = 0;
        for _ in 0..hits {
            let crit = Self::crit_roll(mv, rng);
            let mut dmg = if struggle {
                let attacker = self.sides[usize::from(side)].active().combatant();
                let defender = self.sides[usize::from(foe)].active().combatant();
                let p = Prepared::Formula {
                    base: struggle_base(&attacker, &defender, crit),
                    eff_quarters: 4,
                    stab: 4096,
                    burn: attacker.status == Some(Status::Burn),
                    final_mod: 4096,
                    crit,
                };
                if crit {
                    self.log.push(Event::Crit { side: foe });
                }
                p.roll(below(rng, 16) as u8)
            } else {
                let reuse = first.filter(|p| landed == 0 && p.is_crit() == crit);
                let p = if let Some(p) = reuse {
                    p
                } else {
                    let attacker = self.sides[usize::from(side)].active().combatant();
                    let defender = self.sides[usize::from(foe)].active().combatant();
                    let cond = Conditions { crit, ..cond };
                    let Ok(p) = prepare(&attacker, &defender, mv, &cond) else {
                        return;
                    };
                    p
                };
                let dmg = p.roll(below(rng, 16) as u8);
                if p.is_crit() {
                    self.log.push(Event::Crit { side: foe });
                }
                if landed == 0 {
                    self.log.push(Event::Effectiveness {
                        side: foe,
                        quarters: p.effectiveness_quarters(),
                    });
                }
                dmg
            };
            // Focus Sash and Sturdy: a full-HP Pokémon survives one knockout blow at 1 HP.
            let target = self.sides[usize::from(foe)].active_mut();
            if dmg >= target.hp && target.hp == target.max_hp() && target.hp > 1 {
                let sash = target.item == Item::FocusSash && !target.sash_used;
                if sash || target.ability == Ability::Sturdy {
                    if sash {
                        target.sash_used = true;
                    }
                    dmg = target.hp - 1;
                    self.log.push(Event::Endured { side: foe });
                }
            }
            let before = self.sides[usize::from(foe)].active().hp;
            self.damage(foe, dmg);
            total += u32::from(before - self.sides[usize::from(foe)].active().hp);
            landed += 1;
            self.after_hit(side, foe, mv, rng);
            if self.sides[usize::from(foe)].active().fainted()
                || self.sides[usize::from(side)].active().fainted()
            {
                break;
            }
        }
        if hits > 1 {
            self.log.push(Event::Hits {
                side: foe,
                count: landed,
            });
        }
        let user_max = u32::from(self.sides[usize::from(side)].active().max_hp());
        if let Some((n, d)) = mv.drain {
            let amount = round_div(total * u32::from(n), u32::from(d)).max(1);
            self.heal(side, amount as u16);
        }
        if struggle {
            self.damage(side, round_div(user_max, 4).max(1) as u16);
        } else if let Some((n, d)) = mv.recoil {
            let amount = round_div(total * u32::from(n), u32::from(d)).max(1);
            self.damage(side, amount as u16);
        }
        if mv.has(flags::RECHARGE) {
            self.sides[usize::from(side)].active_mut().recharge = true;
        }
        if let Some(b) = &mv.self_boosts
            && !self.sides[usize::from(side)].active().fainted()
        {
            self.apply_boosts(side, *b);
        }
        if self.sides[usize::from(side)].active().item == Item::LifeOrb && total > 0 {
            self.damage(side, (user_max / 10).max(1) as u16);
        }
        if let Some(sec) = &mv.secondary
            && !self.sides[usize::from(foe)].active().fainted()
            && total > 0
        {
            let roll = sec.chance >= 100 || below(rng, 100) < u32::from(sec.chance);
            if roll {
                if let Some(st) = sec.status {
                    self.inflict(foe, st, rng);
                }
                if sec.flinch && foe_moves_later {
                    self.sides[usize::from(foe)].active_mut().flinched = true;
                }
                if let Some(b) = &sec.target_boosts {
                    self.apply_boosts(foe, *b);
                }
                if let Some(b) = &sec.self_boosts
                    && !self.sides[usize::from(side)].active().fainted()
                {
                    self.apply_boosts(side, *b);
                }
            }
        }
    }

    /// Contact effects of the defender's ability and item.
    fn after_hit<R: Rng + ?Sized>(&mut self, side: SideId, foe: SideId, mv: &Move, rng: &mut R) {
        if !mv.has(flags::CONTACT) || self.sides[usize::from(side)].active().fainted() {
            return;
        }
        let target = self.sides[usize::from(foe)].active();
        let status = match target.ability {
            Ability::Static => Some(Status::Paralysis),
            Ability::FlameBody => Some(Status::Burn),
            Ability::PoisonPoint => Some(Status::Poison),
            _ => None,
        };
        let helmet = target.item == Item::RockyHelmet;
        if let Some(st) = status
            && self.can_have_status(side, st)
            && chance(rng, 3, 10)
        {
            self.inflict(side, st, rng);
        }
        if helmet {
            let max = self.sides[usize::from(side)].active().max_hp();
            self.damage(side, (max / 6).max(1));
        }
    }

    fn end_of_turn(&mut self) {
        if let Some(w) = self.weather {
            self.weather_turns = self.weather_turns.saturating_sub(1);
            if self.weather_turns == 0 {
                self.weather = None;
                self.log.push(Event::Weather(None));
            } else if w == Weather::Sand {
                for s in self.speed_order() {
                    let p = self.sides[usize::from(s)].active();
                    let t = p.species;
                    if !p.fainted()
                        && !t.has_type(Type::Rock)
                        && !t.has_type(Type::Ground)
                        && !t.has_type(Type::Steel)
                    {
                        let dmg = (p.max_hp() / 16).max(1);
                        self.damage(s, dmg);
                    }
                }
            }
        }
        for side in &mut self.sides {
            side.active_mut().flinched = false;
        }
        // Nothing here touches the other side, so the order only shows when both sides have
        // something to do.
        let busy = [0, 1].map(|s| self.sides[s].active().has_residual());
        let order = match busy {
            [false, false] => return,
            [true, true] => self.speed_order(),
            _ => [0, 1],
        };
        for s in order {
            if !busy[usize::from(s)] {
                continue;
            }
            let p = self.sides[usize::from(s)].active_mut();
            let max = p.max_hp();
            if p.item == Item::Leftovers {
                self.heal(s, (max / 16).max(1));
            }
            let p = self.sides[usize::from(s)].active_mut();
            let dmg = match p.status {
                Some(Status::Burn) => Some((max / 16).max(1)),
                Some(Status::Poison) => Some((max / 8).max(1)),
                Some(Status::Toxic) => {
                    p.toxic_count = (p.toxic_count + 1).min(15);
                    Some((max / 16).max(1) * u16::from(p.toxic_count))
                }
                _ => None,
            };
            if let Some(d) = dmg {
                self.damage(s, d);
            }
            let p = self.sides[usize::from(s)].active();
            if p.ability == Ability::SpeedBoost && !p.fainted() {
                self.boost(s, 4, 1);
            }
        }
    }

    /// Marks fainted sides for replacement and decides the battle when a side is out.
    // Inlined so the usual case after a move (both standing, inside the turn limit) costs a
    // few compares rather than a call to the whole decision.
    #[inline]
    fn check_end(&mut self) -> bool {
        if !self.sides[0].active().fainted()
            && !self.sides[1].active().fainted()
            && self.turn < TURN_LIMIT
        {
            return false;
        }
        self.decide_end()
    }

    fn decide_end(&mut self) -> bool {
        let out = [0, 1].map(|s: usize| {
            let side = &self.sides[s];
            side.active().fainted() && !side.has_reserves()
        });
        let outcome = match out {
            [true, true] => Some(Outcome::Tie),
            [true, false] => Some(Outcome::Win(1)),
            [false, true] => Some(Outcome::Win(0)),
            [false, false] if self.turn >= TURN_LIMIT => Some(Outcome::Tie),
            [false, false] => None,
        };
        if let Some(o) = outcome {
            self.outcome = Some(o);
            self.log.push(match o {
                Outcome::Win(side) => Event::Win { side },
                Outcome::Tie => Event::Tie,
            });
            return true;
        }
        for s in 0..2 {
            if self.sides[s].active().fainted() {
                self.needs_replacement[s] = true;
            }
        }
        false
    }
}

/// `a / b` rounded half up, as Showdown's `Math.round` does for drain, recoil and Struggle.
fn round_div(a: u32, b: u32) -> u32 {
    (2 * a + b) / (2 * b)
}

/// Struggle's damage before the roll: 50 power, typeless (no STAB, always neutral).
fn struggle_base(a: &Combatant, d: &Combatant, crit: bool) -> u32 {
    let (atk, def) = (u64::from(a.stats.0[1]), u64::from(d.stats.0[2]).max(1));
    let base = (2 * u64::from(a.level) / 5 + 2) * 50 * atk / def / 50 + 2;
    (if crit { base * 3 / 2 } else { base }) as u32
}

/// Plays a whole battle with both sides choosing uniformly among their legal actions, and
/// replacing fainted Pokémon with a random healthy one. For benchmarks and fuzzing.
pub fn play_random<R: Rng + ?Sized>(battle: &mut Battle, rng: &mut R) -> Outcome {
    // The log is cleared every turn, but a cloned battle's log starts with no spare room.
    battle.log.reserve(32);
    loop {
        if let Some(o) = battle.outcome() {
            return o;
        }
        for s in 0..2u8 {
            if battle.needs_replacement[usize::from(s)] {
                let side = &battle.sides[usize::from(s)];
                let mut healthy = side.alive;
                for _ in 0..below(rng, healthy.count_ones()) {
                    healthy &= healthy - 1;
                }
                let pick = healthy.trailing_zeros() as u8;
                battle
                    .replace(s, pick)
                    .expect("a healthy Pokémon can always be sent in");
            }
        }
        let mut actions = [Action::Struggle; 2];
        for (s, a) in actions.iter_mut().enumerate() {
            let legal = battle.legal_set(s as u8);
            let (moves, len) = (legal.move_count, legal.len());
            // Prefer moves three times out of four so random battles end in reasonable time.
            let pick = if moves < len && below(rng, 4) == 0 {
                moves + below(rng, (len - moves) as u32) as usize
            } else {
                below(rng, moves as u32) as usize
            };
            *a = legal.get(pick);
        }
        // Both actions come from the legal list, so the checks `step` makes are skipped.
        debug_assert!(battle.check_turn(actions).is_ok());
        battle.play_turn(actions, rng);
        battle.clear_log();
    }
}

/// `count` prepared battles of two random teams of `size` at `level` (see [`random_team`]):
/// benchmarks and fuzzing clone these so what they measure is the battle, not team building.
pub fn random_battles<R: Rng + ?Sized>(
    size: usize,
    count: usize,
    level: u8,
    rng: &mut R,
) -> Vec<Battle> {
    (0..count)
        .map(|_| {
            Battle::new([random_team(size, level, rng), random_team(size, level, rng)])
                .expect("random teams are valid")
        })
        .collect()
}

/// A random team of `size` species (any evolution stage) with up to four supported moves each
/// from their level-up learnsets, at `level`. For benchmarks and fuzzing.
pub fn random_team<R: Rng + ?Sized>(size: usize, level: u8, rng: &mut R) -> Vec<PokemonSet> {
    let d = dex();
    let natures = d.natures();
    let mut team = Vec::with_capacity(size);
    while team.len() < size {
        let species = &d.species()[below(rng, d.species().len() as u32) as usize];
        let pool: Vec<u16> = d
            .learnset(species.num)
            .iter()
            .map(|m| m.move_num)
            .filter(|&m| d.move_by_num(m).is_some_and(move_supported))
            .collect();
        if pool.is_empty() {
            continue;
        }
        let mut moves: Vec<u16> = Vec::with_capacity(4);
        for _ in 0..8 {
            let m = pool[below(rng, pool.len() as u32) as usize];
            if !moves.contains(&m) {
                moves.push(m);
            }
            if moves.len() == 4 {
                break;
            }
        }
        let ability = Ability::of_species(species);
        team.push(PokemonSet {
            species,
            level,
            nature: natures[below(rng, natures.len() as u32) as usize],
            spread: Spread::perfect_ivs(),
            ability,
            item: Item::None,
            moves,
        });
    }
    team
}
