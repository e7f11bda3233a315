// Generates tests/fixtures/calc-cases.jsonl: random damage calculations within the engine's
// supported subset, each with the 16 damage rolls @smogon/calc (MIT) gives for it. The Rust
// test tests/differential.rs replays them, so CI never needs npm.
//
// Rerun: cd games/pokemon/gen && npm ci && node calc-cases.mjs [count] [seed]
import { calculate, Generations, Pokemon, Move, Field } from '@smogon/calc';
import { Dex } from '@pkmn/dex';
import { writeFileSync } from 'node:fs';
import { IMPLEMENTED, PLAIN_HERE, calcNamed } from './subset.mjs';

const COUNT = Number(process.argv[2] ?? 3000);
let seed = Number(process.argv[3] ?? 20261124) >>> 0;
// mulberry32: small, seedable, so the fixture is reproducible.
const rand = () => {
  seed = (seed + 0x6D2B79F5) >>> 0;
  let t = seed;
  t = Math.imul(t ^ (t >>> 15), t | 1);
  t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};
const int = (lo, hi) => lo + Math.floor(rand() * (hi - lo + 1));
const pick = (xs) => xs[Math.floor(rand() * xs.length)];
const chance = (p) => rand() < p;

const gen = Generations.get(9);
const dex = Dex.forGen(9);

// Moves @smogon/calc treats specially are named in its source; only those the engine models
// (subset.mjs) are tested.
const named = calcNamed();
const moves = dex.moves.all().filter((m) => {
  if (m.num <= 0 || m.isZ || m.isMax || m.category === 'Status') return false;
  if (!m.basePower && !IMPLEMENTED.has(m.name)) return false;
  if (m.multihit || m.ohko) return false;
  if (named.has(m.name) && !IMPLEMENTED.has(m.name) && !PLAIN_HERE.has(m.name)) return false;
  if (['CAP', 'Custom', 'LGPE', 'Future'].includes(m.isNonstandard)) return false;
  const c = gen.moves.get(m.id);
  return c && c.basePower === m.basePower && c.type === m.type && c.category === m.category;
}).map((m) => m.name);

const special = moves.filter((m) => IMPLEMENTED.has(m));

const species = dex.species.all().filter((s) => {
  if (s.num < 1 || s.num > 1025 || s.forme) return false;
  const c = gen.species.get(s.id);
  return c && JSON.stringify(c.baseStats) === JSON.stringify(s.baseStats) &&
    c.types.join() === s.types.join() && !!c.nfe === !!s.nfe;
}).map((s) => s.name);

const ABILITIES = ['Adaptability', 'Huge Power', 'Pure Power', 'Guts', 'Hustle', 'Technician',
  'Tough Claws', 'Iron Fist', 'Strong Jaw', 'Mega Launcher', 'Sharpness', 'Reckless', 'Sand Force',
  'Sniper', 'Tinted Lens', 'Solar Power', 'Gorilla Tactics', 'Blaze', 'Overgrow', 'Torrent',
  'Swarm', 'Steelworker', "Dragon's Maw", 'Rocky Payload', 'Transistor', 'Water Bubble', 'Scrappy',
  'Mold Breaker', 'Unaware', 'Thick Fat', 'Heatproof', 'Fur Coat', 'Ice Scales', 'Multiscale',
  'Shadow Shield', 'Filter', 'Solid Rock', 'Prism Armor', 'Levitate', 'Water Absorb',
  'Volt Absorb', 'Flash Fire', 'Sap Sipper', 'Lightning Rod', 'Storm Drain', 'Motor Drive',
  'Dry Skin', 'Earth Eater', 'Bulletproof', 'Soundproof', 'Wonder Guard', 'Marvel Scale', 'Fluffy',
  'Purifying Salt', 'Battle Armor', 'Shell Armor', 'Pressure', 'Run Away', 'Keen Eye', 'Static'];
const ITEMS = ['Choice Band', 'Choice Specs', 'Life Orb', 'Expert Belt', 'Muscle Band', 'Wise Glasses',
  'Assault Vest', 'Eviolite', 'Light Ball', 'Thick Club', 'Air Balloon', 'Leftovers', 'Charcoal',
  'Mystic Water', 'Magnet', 'Miracle Seed', 'Never-Melt Ice', 'Black Belt', 'Poison Barb',
  'Soft Sand', 'Sharp Beak', 'Twisted Spoon', 'Silver Powder', 'Hard Stone', 'Spell Tag',
  'Dragon Fang', 'Black Glasses', 'Metal Coat', 'Silk Scarf', 'Fairy Feather', 'Flame Plate',
  'Pixie Plate', 'Sea Incense'];
const NATURES = dex.natures.all().map((n) => n.name);
const STATS = ['hp', 'atk', 'def', 'spa', 'spd', 'spe'];

function randomSet(name) {
  const set = { species: name, level: pick([100, 100, 50, int(1, 100)]), nature: pick(NATURES) };
  let budget = 510;
  set.evs = {};
  for (const s of STATS) {
    const v = Math.min(budget, pick([0, 0, 252, int(0, 252)]));
    budget -= v;
    set.evs[s] = v;
  }
  set.ivs = Object.fromEntries(STATS.map((s) => [s, chance(0.6) ? 31 : int(0, 31)]));
  // Always explicit: @smogon/calc gives an ability-less set the species' first ability.
  const own = dex.species.get(name).abilities['0'];
  set.ability = chance(0.4) && ABILITIES.includes(own) ? own : pick(ABILITIES);
  if (chance(0.6)) set.item = pick(ITEMS);
  if (chance(0.3)) {
    set.boosts = {};
    for (const s of ['atk', 'def', 'spa', 'spd']) set.boosts[s] = chance(0.5) ? int(-2, 3) : 0;
  }
  if (chance(0.2)) set.status = pick(['brn', 'brn', 'par', 'psn', 'tox', 'slp']);
  return set;
}

function toCalc(set) {
  const p = new Pokemon(gen, set.species, {
    level: set.level, nature: set.nature, evs: set.evs, ivs: set.ivs,
    ability: set.ability, item: set.item, boosts: set.boosts, status: set.status,
  });
  return p;
}

const lines = [];
while (lines.length < COUNT) {
  const attacker = randomSet(pick(species));
  const defender = randomSet(pick(species));
  const a = toCalc(attacker);
  const d = toCalc(defender);
  for (const [set, mon] of [[attacker, a], [defender, d]]) {
    if (chance(0.2)) {
      set.curHP = int(1, mon.maxHP());
      mon.originalCurHP = set.curHP;
    }
  }
  const isCrit = chance(0.1);
  // A third of the cases use a move with special handling, so each is exercised often.
  const mv = chance(0.33) ? pick(special) : pick(moves);
  const field = {};
  if (chance(0.4)) field.weather = pick(['Sun', 'Rain', 'Sand', 'Snow']);
  if (chance(0.1)) field.reflect = true;
  if (chance(0.1)) field.lightScreen = true;
  const result = calculate(gen, a, d, new Move(gen, mv, { isCrit }), new Field({
    gameType: 'Singles', weather: field.weather,
    defenderSide: { isReflect: !!field.reflect, isLightScreen: !!field.lightScreen },
  }));
  const dmg = result.damage;
  const rolls = typeof dmg === 'number' ? Array(16).fill(dmg) : dmg;
  if (!Array.isArray(rolls) || rolls.length !== 16 || rolls.some((x) => typeof x !== 'number')) continue;
  const input = { attacker, defender, move: isCrit ? { name: mv, isCrit } : mv, field };
  lines.push(JSON.stringify({ input, rolls }));
}
writeFileSync(new URL('../tests/fixtures/calc-cases.jsonl', import.meta.url), lines.join('\n') + '\n');
console.log(`${lines.length} cases from ${species.length} species and ${moves.length} moves (${special.length} special)`);
