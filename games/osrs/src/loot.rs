//! Banks of items and drop-table rolling.
//!
//! Rolling follows oldschooljs's `LootTable.roll` so the generated tables mean what they
//! meant there: per roll, every "always" entry is given, each tertiary entry is rolled
//! independently, the "one in" entries are tried in order and the first hit replaces the
//! main roll, and otherwise one weighted main entry is picked (nothing, if the roll lands
//! in the gap between the entries' total weight and the table's limit).

use std::collections::BTreeMap;

use rand::RngCore;
use serde::{Deserialize, Serialize};

use crate::data::{GameData, Item, RawEntry, RawTable};

/// Items and their quantities, keyed by item id.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Bank(BTreeMap<u32, u64>);

impl Bank {
    /// An empty bank.
    pub fn new() -> Self {
        Bank::default()
    }

    /// Adds `qty` of `item`.
    pub fn add(&mut self, item: u32, qty: u64) {
        if qty > 0 {
            let slot = self.0.entry(item).or_insert(0);
            *slot = slot.saturating_add(qty);
        }
    }

    /// Removes up to `qty` of `item`; returns how many were removed.
    pub fn remove(&mut self, item: u32, qty: u64) -> u64 {
        let Some(have) = self.0.get_mut(&item) else {
            return 0;
        };
        let taken = qty.min(*have);
        *have -= taken;
        if *have == 0 {
            self.0.remove(&item);
        }
        taken
    }

    /// Quantity of `item`.
    pub fn amount(&self, item: u32) -> u64 {
        self.0.get(&item).copied().unwrap_or(0)
    }

    /// (item id, quantity) pairs by id.
    pub fn iter(&self) -> impl Iterator<Item = (u32, u64)> + '_ {
        self.0.iter().map(|(&k, &v)| (k, v))
    }

    /// True if the bank holds nothing.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Guide-price value of everything in it.
    pub fn value(&self, data: &GameData) -> u64 {
        self.iter()
            .map(|(id, q)| data.item(id).map_or(0, |i| i.price.saturating_mul(q)))
            .fold(0, u64::saturating_add)
    }

    /// Item names and quantities, for display.
    pub fn named(&self, data: &GameData) -> BTreeMap<String, u64> {
        let mut out = BTreeMap::new();
        for (id, q) in self.iter() {
            let name = data
                .item(id)
                .map_or_else(|| format!("item {id}"), |i| i.name.clone());
            *out.entry(name).or_insert(0) += q;
        }
        out
    }
}

/// One uniform draw in [0, 1) from exactly one `next_u64`, so every roll costs one RNG
/// call: scripted tests can then say which value each roll sees.
pub fn unit(rng: &mut impl RngCore) -> f64 {
    // 53 random bits, the precision of an f64 mantissa.
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

#[derive(Clone, Copy, Debug)]
pub(crate) enum Target {
    /// Dense index into `GameData::items`.
    Item(u32),
    /// Roll the sub-table `qty` times.
    Table(u32),
    /// Roll the sub-table once and multiply its loot by `qty`.
    TableMultiply(u32),
}

#[derive(Clone, Copy, Debug)]
pub(crate) struct Entry {
    target: Target,
    min: u32,
    max: u32,
}

#[derive(Clone, Debug)]
pub(crate) struct CompiledTable {
    every: Vec<Entry>,
    /// (probability, entry).
    tertiary: Vec<(f64, Entry)>,
    one_in: Vec<(f64, Entry)>,
    /// (cumulative weight, entry).
    main: Vec<(f64, Entry)>,
    /// Cumulative weights alone, densely packed for the hot search.
    cum: Vec<f64>,
    /// Guide table: `guide[k]` is an index at or before the entry hit by any roll in the
    /// k-th of `guide.len()` equal slices of the roll range, so a pick is a short forward
    /// scan instead of a binary search (which dominated the profile).
    guide: Vec<u32>,
    /// The main roll's range: the limit if set, else the total weight.
    roll_range: f64,
}

pub(crate) fn compile_tables(
    raw: &[RawTable],
    items: &[Item],
) -> Result<Vec<CompiledTable>, String> {
    let entry = |&(kind, target, min, max): &RawEntry| -> Result<Entry, String> {
        let target = match kind {
            0 => Target::Item(
                items
                    .binary_search_by_key(&target, |i| i.id)
                    .map_err(|_| format!("drop table names unknown item {target}"))?
                    as u32,
            ),
            1 | 2 if (target as usize) < raw.len() => {
                if kind == 1 {
                    Target::Table(target)
                } else {
                    Target::TableMultiply(target)
                }
            }
            _ => return Err(format!("bad loot entry kind {kind} target {target}")),
        };
        if min > max {
            return Err(format!("quantity range {min}..{max} is empty"));
        }
        Ok(Entry { target, min, max })
    };
    let chance = |&(c, ref e): &(f64, RawEntry)| -> Result<(f64, Entry), String> {
        if c < 1.0 {
            return Err(format!("chance 1 in {c} is not a probability"));
        }
        Ok((1.0 / c, entry(e)?))
    };
    raw.iter()
        .map(|t| {
            let mut total = 0.0;
            let main = t
                .main
                .iter()
                .map(|(w, e)| {
                    total += w;
                    Ok((total, entry(e)?))
                })
                .collect::<Result<Vec<_>, String>>()?;
            let roll_range = if t.limit > 0.0 { t.limit } else { total };
            let cum: Vec<f64> = main.iter().map(|(c, _)| *c).collect();
            let slices = cum.len().max(1) * 4;
            let guide = (0..slices)
                .map(|k| {
                    let start = k as f64 * roll_range / slices as f64;
                    // One step back absorbs rounding between `start` and a roll's value.
                    cum.partition_point(|&c| c <= start).saturating_sub(1) as u32
                })
                .collect();
            Ok(CompiledTable {
                every: t.every.iter().map(entry).collect::<Result<_, _>>()?,
                tertiary: t.tertiary.iter().map(chance).collect::<Result<_, _>>()?,
                one_in: t.one_in.iter().map(chance).collect::<Result<_, _>>()?,
                main,
                cum,
                guide,
                roll_range,
            })
        })
        .collect()
}

/// Loot accumulated by dense item index: much faster than a map on the hot path.
pub(crate) struct LootAcc {
    counts: Vec<u64>,
}

impl LootAcc {
    pub(crate) fn new(data: &GameData) -> Self {
        LootAcc {
            counts: vec![0; data.items.len()],
        }
    }

    pub(crate) fn into_bank(self, data: &GameData) -> Bank {
        let mut bank = Bank::new();
        for (i, &q) in self.counts.iter().enumerate() {
            bank.add(data.items[i].id, q);
        }
        bank
    }
}

/// Rolls table `index` once, adding its loot times `factor` to `acc`.
pub(crate) fn roll_table(
    data: &GameData,
    index: u32,
    factor: u64,
    acc: &mut LootAcc,
    rng: &mut impl RngCore,
) {
    let table = &data.tables[index as usize];
    for e in &table.every {
        give(data, e, factor, acc, rng);
    }
    for (p, e) in &table.tertiary {
        if unit(rng) < *p {
            give(data, e, factor, acc, rng);
        }
    }
    for (p, e) in &table.one_in {
        if unit(rng) < *p {
            give(data, e, factor, acc, rng);
            return;
        }
    }
    if table.main.is_empty() {
        return;
    }
    if let Some((_, e)) = table.main.get(pick_main(table, unit(rng))) {
        give(data, e, factor, acc, rng);
    }
}

/// Index of the main entry a roll of `u` in [0, 1) picks; `main.len()` means nothing.
fn pick_main(table: &CompiledTable, u: f64) -> usize {
    let r = u * table.roll_range;
    // The pick is the first entry whose cumulative weight exceeds r.
    let slice = ((u * table.guide.len() as f64) as usize).min(table.guide.len() - 1);
    let mut i = table.guide[slice] as usize;
    while i < table.cum.len() && table.cum[i] <= r {
        i += 1;
    }
    i
}

fn give(data: &GameData, e: &Entry, factor: u64, acc: &mut LootAcc, rng: &mut impl RngCore) {
    let qty = if e.min == e.max {
        u64::from(e.min)
    } else {
        let span = f64::from(e.max - e.min + 1);
        u64::from(e.min) + ((unit(rng) * span) as u64).min(u64::from(e.max - e.min))
    };
    match e.target {
        Target::Item(i) => acc.counts[i as usize] += qty * factor,
        Target::Table(t) => {
            for _ in 0..qty {
                roll_table(data, t, factor, acc, rng);
            }
        }
        Target::TableMultiply(t) => roll_table(data, t, factor * qty, acc, rng),
    }
}

/// Exact per-roll expected quantity of every item from table `index`, by dense item index.
pub fn expected_loot(data: &GameData, index: u32) -> BTreeMap<u32, f64> {
    let mut dense = vec![0.0; data.items.len()];
    expect_table(data, index, 1.0, &mut dense);
    dense
        .iter()
        .enumerate()
        .filter(|(_, q)| **q > 0.0)
        .map(|(i, q)| (data.items[i].id, *q))
        .collect()
}

fn expect_table(data: &GameData, index: u32, weight: f64, out: &mut [f64]) {
    let table = &data.tables[index as usize];
    for e in &table.every {
        expect_entry(data, e, weight, out);
    }
    for (p, e) in &table.tertiary {
        expect_entry(data, e, weight * p, out);
    }
    let mut reach = weight;
    for (p, e) in &table.one_in {
        expect_entry(data, e, reach * p, out);
        reach *= 1.0 - p;
    }
    let mut prev = 0.0;
    for (cum, e) in &table.main {
        expect_entry(data, e, reach * (cum - prev) / table.roll_range, out);
        prev = *cum;
    }
}

fn expect_entry(data: &GameData, e: &Entry, weight: f64, out: &mut [f64]) {
    let mean_qty = f64::midpoint(f64::from(e.min), f64::from(e.max));
    match e.target {
        Target::Item(i) => out[i as usize] += weight * mean_qty,
        Target::Table(t) | Target::TableMultiply(t) => {
            expect_table(data, t, weight * mean_qty, out);
        }
    }
}

/// What a fresh account carries, roughly what Tutorial Island hands out (items the engine's
/// data has): the bank, and the items worn.
pub fn starter_kit(data: &GameData) -> (Bank, Vec<(&'static str, u32)>) {
    let id = |name: &str| data.item_by_name(name).map(|i| i.id).ok();
    let mut bank = Bank::new();
    for (name, qty) in [
        ("Coins", 25),
        ("Bronze axe", 1),
        ("Bronze pickaxe", 1),
        ("Tinderbox", 1),
        ("Shrimps", 20),
        ("Bronze dagger", 1),
        ("Shortbow", 1),
        ("Bronze arrow", 50),
        ("Air rune", 50),
        ("Mind rune", 30),
    ] {
        if let Some(item) = id(name) {
            bank.add(item, qty);
        }
    }
    let worn = [("weapon", "Bronze sword"), ("shield", "Wooden shield")]
        .into_iter()
        .filter_map(|(slot, name)| Some((slot, id(name)?)))
        .collect();
    (bank, worn)
}

#[cfg(test)]
mod tests {
    use super::pick_main;
    use crate::data::data;

    #[test]
    fn guide_table_picks_what_a_binary_search_picks() {
        for table in data().tables.iter().filter(|t| !t.main.is_empty()) {
            let n = 997;
            for k in 0..=n {
                // Include values just below each slice edge and just below 1.
                let u = (f64::from(k) / f64::from(n + 1) - 1e-15).clamp(0.0, 1.0 - 1e-16);
                let r = u * table.roll_range;
                let expected = table.cum.partition_point(|&c| c <= r);
                assert_eq!(pick_main(table, u), expected, "u = {u}");
            }
        }
    }
}
