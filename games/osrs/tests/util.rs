//! Shared test helpers.

use std::collections::VecDeque;

use rand::RngCore;

/// An RNG that returns a fixed script of draws and panics if asked for more; dropping it
/// with draws left over also panics, because an unused roll means the engine rolled less
/// than the test expects.
pub struct ScriptedRng {
    script: VecDeque<u64>,
}

impl ScriptedRng {
    /// Draws given as the uniform values in [0, 1) that `lounge_osrs::unit` should see.
    pub fn units(values: &[f64]) -> Self {
        ScriptedRng {
            script: values.iter().map(|&u| to_u64(u)).collect(),
        }
    }

    /// Asserts every scripted draw was used.
    pub fn assert_consumed(&self) {
        assert!(
            self.script.is_empty(),
            "{} scripted rolls unused",
            self.script.len()
        );
    }
}

/// The raw `next_u64` value for which `unit` returns (the f64 nearest below) `u`.
fn to_u64(u: f64) -> u64 {
    assert!((0.0..1.0).contains(&u), "scripted unit {u} outside [0, 1)");
    ((u * (1u64 << 53) as f64) as u64) << 11
}

impl RngCore for ScriptedRng {
    fn next_u32(&mut self) -> u32 {
        (self.next_u64() >> 32) as u32
    }

    fn next_u64(&mut self) -> u64 {
        self.script
            .pop_front()
            .expect("scripted RNG ran out: the engine rolled more than the test scripted")
    }

    fn fill_bytes(&mut self, _dst: &mut [u8]) {
        panic!("the engine should only draw whole u64s");
    }
}

impl Drop for ScriptedRng {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            self.assert_consumed();
        }
    }
}

/// Drop-table facts worked out straight from the generated JSON, sharing no code with the
/// engine, so a mistake in how the engine loads or rolls tables shows up as a mismatch.
pub mod raw {
    use std::collections::BTreeMap;
    use std::sync::OnceLock;

    use serde_json::Value;

    fn json() -> &'static Value {
        static JSON: OnceLock<Value> = OnceLock::new();
        JSON.get_or_init(|| serde_json::from_str(include_str!("../data/osrs.json")).unwrap())
    }

    fn table(index: u64) -> &'static Value {
        &json()["tables"][usize::try_from(index).unwrap()]
    }

    /// Root table index of a monster, by exact name.
    pub fn monster_table(name: &str) -> u64 {
        json()["monsters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["name"] == name)
            .unwrap_or_else(|| panic!("no monster {name}"))["table"]
            .as_u64()
            .unwrap()
    }

    /// (kind, target, min, max) of a JSON entry.
    fn entry(e: &Value) -> (u64, u64, u64, u64) {
        let n = |i: usize| e[i].as_u64().unwrap();
        (n(0), n(1), n(2), n(3))
    }

    /// Every entry of a table with its per-roll chance: always 1, tertiary 1/c, "one in"
    /// entries in order (each only if none before hit), then main weight / (limit or total)
    /// scaled by the chance that no "one in" entry hit.
    fn chances(t: &Value) -> Vec<(f64, &Value)> {
        let mut out = Vec::new();
        for e in t["every"].as_array().unwrap() {
            out.push((1.0, e));
        }
        for x in t["tertiary"].as_array().unwrap() {
            out.push((1.0 / x[0].as_f64().unwrap(), &x[1]));
        }
        let mut reach = 1.0;
        for x in t["one_in"].as_array().unwrap() {
            let p = 1.0 / x[0].as_f64().unwrap();
            out.push((reach * p, &x[1]));
            reach *= 1.0 - p;
        }
        let main = t["main"].as_array().unwrap();
        let total: f64 = main.iter().map(|x| x[0].as_f64().unwrap()).sum();
        let limit = t["limit"].as_f64().unwrap();
        let range = if limit > 0.0 { limit } else { total };
        for x in main {
            out.push((reach * x[0].as_f64().unwrap() / range, &x[1]));
        }
        out
    }

    /// Top-level item entries (item id, chance per kill, fixed quantity) whose item appears
    /// nowhere else in the monster's tables, so its hit count is exactly binomial.
    pub fn sole_fixed_drops(table_index: u64) -> Vec<(u32, f64, u64)> {
        let mut mentions: BTreeMap<u64, usize> = BTreeMap::new();
        let mut stack = vec![table_index];
        let mut seen = Vec::new();
        while let Some(t) = stack.pop() {
            if seen.contains(&t) {
                continue;
            }
            seen.push(t);
            for (_, e) in chances(table(t)) {
                let (kind, target, _, _) = entry(e);
                if kind == 0 {
                    *mentions.entry(target).or_default() += 1;
                } else {
                    stack.push(target);
                }
            }
        }
        chances(table(table_index))
            .into_iter()
            .filter_map(|(p, e)| {
                let (kind, item, min, max) = entry(e);
                (kind == 0 && min == max && min > 0 && p < 1.0 && mentions[&item] == 1)
                    .then(|| (u32::try_from(item).unwrap(), p, min))
            })
            .collect()
    }

    /// Expected quantity of each item per roll of a table, recursing into sub-tables.
    pub fn expected(table_index: u64) -> BTreeMap<u32, f64> {
        fn walk(t: u64, weight: f64, out: &mut BTreeMap<u32, f64>) {
            for (p, e) in chances(table(t)) {
                let (kind, target, min, max) = entry(e);
                let mean = (min + max) as f64 / 2.0;
                if kind == 0 {
                    *out.entry(u32::try_from(target).unwrap()).or_default() += weight * p * mean;
                } else {
                    walk(target, weight * p * mean, out);
                }
            }
        }
        let mut out = BTreeMap::new();
        walk(table_index, 1.0, &mut out);
        out
    }
}
