// Generates the engine's embedded data tables in ../data/ from @pkmn/dex (MIT) plus
// pokeapi-species.csv (a checked-in extract of PokeAPI's BSD-3-Clause species table, for the
// catch rate, base friendship and growth rate that @pkmn/dex does not carry).
//
// Rerun: cd games/pokemon/gen && npm ci && node generate.mjs
//
// Output is tab-separated text, one record per line, parsed once at run time by src/data.rs.
import { Dex } from '@pkmn/dex';
import { readFileSync, writeFileSync } from 'node:fs';
import { IMPLEMENTED, PLAIN_HERE, calcNamed } from './subset.mjs';

const OUT = new URL('../data/', import.meta.url);
const gen = Dex.forGen(9);

// The engine's type order (src/types.rs); the chart rows and columns follow it.
const TYPES = ['Normal', 'Fire', 'Water', 'Electric', 'Grass', 'Ice', 'Fighting', 'Poison',
  'Ground', 'Flying', 'Psychic', 'Bug', 'Rock', 'Ghost', 'Dragon', 'Dark', 'Steel', 'Fairy'];
// PokeAPI growth_rate_id -> the engine's GrowthRate names.
const GROWTH = { 1: 'Slow', 2: 'MediumFast', 3: 'Fast', 4: 'MediumSlow', 5: 'Erratic', 6: 'Fluctuating' };

const extra = new Map();
for (const line of readFileSync(new URL('pokeapi-species.csv', import.meta.url), 'utf8').trim().split('\n').slice(1)) {
  const [id, ident, capture, happiness, growth] = line.split(',');
  extra.set(Number(id), { ident, capture: Number(capture), happiness: Number(happiness), growth: GROWTH[growth] });
}

// Type chart: effectiveness of attacking type (row) on defending type (column), in halves
// (0 immune, 1 resisted, 2 neutral, 4 super effective).
const chart = TYPES.map((atk) => TYPES.map((def) => {
  const e = gen.types.get(def).damageTaken[atk];
  return e === 3 ? 0 : e === 2 ? 1 : e === 1 ? 4 : 2;
}).join(''));
writeFileSync(new URL('types.txt', OUT), chart.join('\n') + '\n');

const natures = gen.natures.all().sort((a, b) => a.num - b.num)
  .map((n) => [n.name, n.plus ?? '', n.minus ?? ''].join('\t'));
writeFileSync(new URL('natures.tsv', OUT), natures.join('\n') + '\n');

// Base species only: Mega, Gigantamax and regional formes are not modelled (see README).
const species = gen.species.all()
  .filter((s) => s.num >= 1 && s.num <= 1025 && !s.forme && s.isNonstandard !== 'CAP')
  .sort((a, b) => a.num - b.num);
if (species.length !== 1025) throw new Error(`expected 1025 species, got ${species.length}`);
const byName = new Map(species.map((s) => [s.name, s]));

const timeOf = (cond) => !cond ? '' : /night/.test(cond) ? 'night' : /dusk/.test(cond) ? 'dusk'
  : /day/.test(cond) ? 'day' : '';
const speciesRows = species.map((s) => {
  const x = extra.get(s.num);
  if (!x || x.ident.replace(/-/g, '') !== s.id.replace(/-/g, '') && !x.ident.startsWith(s.id.slice(0, 4))) {
    throw new Error(`PokeAPI row mismatch for ${s.num} ${s.id}: ${x?.ident}`);
  }
  const gr = s.gender === 'N' ? -1 : s.gender === 'F' ? 8 : s.gender === 'M' ? 0 : Math.round(s.genderRatio.F * 8);
  const prevo = s.prevo ? gen.species.get(s.prevo) : null;
  const evos = (s.evos ?? []).map((e) => byName.get(e)?.num).filter((n) => n);
  return [s.num, s.name, s.types[0], s.types[1] ?? '',
    s.baseStats.hp, s.baseStats.atk, s.baseStats.def, s.baseStats.spa, s.baseStats.spd, s.baseStats.spe,
    s.abilities['0'] ?? '', s.abilities['1'] ?? '', s.abilities.H ?? '',
    x.growth, x.capture, gr, x.happiness, s.weighthg, s.nfe ? 1 : 0,
    prevo ? prevo.num : 0, evos.join(','),
    prevo ? (s.evoType ?? 'level') : '', s.evoLevel ?? 0, s.evoItem ?? '', timeOf(s.evoCondition),
    s.evoMove ? gen.moves.get(s.evoMove).num : 0, s.evoCondition ?? ''].join('\t');
});
writeFileSync(new URL('species.tsv', OUT), speciesRows.join('\n') + '\n');

// Moves: everything that is a real Gen 9-era move (no Z/Max/CAP).
const FLAGS = { contact: 'c', punch: 'p', bite: 'b', pulse: 'u', slicing: 's', sound: 'o', bullet: 'l', wind: 'w' };
const BOOSTS = ['atk', 'def', 'spa', 'spd', 'spe', 'accuracy', 'evasion'];
const boostStr = (b) => b ? BOOSTS.map((k) => b[k] ?? 0).join(',') : '';
// Mechanics flags the engine reads: d = hits Defense, i = ignores defensive boosts,
// k = always crits, x = crash damage, t = two-turn charge, r = must recharge, f = fixed damage or
// OHKO, n = power or type depends on something the engine does not model (it refuses these).
const named = calcNamed();
const unmodelled = (m) => m.category !== 'Status' && named.has(m.name) && !IMPLEMENTED.has(m.name) &&
  !PLAIN_HERE.has(m.name);
const special = (m) => [m.overrideDefensiveStat === 'def' && 'd', m.ignoreDefensive && 'i', m.willCrit && 'k',
  m.hasCrashDamage && 'x', m.flags.charge && 't', m.flags.recharge && 'r', (m.damage || m.ohko) && 'f',
  unmodelled(m) && 'n'].filter(Boolean).join('');
const moves = gen.moves.all()
  .filter((m) => m.num > 0 && !m.isZ && !m.isMax && !['CAP', 'Custom', 'LGPE', 'Future'].includes(m.isNonstandard))
  .sort((a, b) => a.num - b.num);
const moveRows = moves.map((m) => {
  const sec = m.secondaries?.[0];
  const flags = Object.entries(FLAGS).filter(([k]) => m.flags[k]).map(([, v]) => v).join('');
  const hits = Array.isArray(m.multihit) ? m.multihit.join('-') : (m.multihit ?? '');
  return [m.num, m.name, m.type, m.category, m.basePower, m.accuracy === true ? 0 : m.accuracy,
    m.pp, m.priority, flags, m.critRatio ?? 1, m.target,
    sec ? sec.chance ?? 100 : 0, sec?.status ?? '', sec?.volatileStatus ?? '', boostStr(sec?.boosts),
    boostStr(sec?.self?.boosts),
    m.status ?? '', m.category === 'Status' && m.target !== 'self' ? boostStr(m.boosts) : '',
    m.category === 'Status' && m.target === 'self' ? boostStr(m.boosts) : boostStr(m.self?.boosts),
    m.drain ? m.drain.join('/') : '', m.recoil ? m.recoil.join('/') : '',
    m.heal ? m.heal.join('/') : '', hits, m.volatileStatus ?? '', special(m)].join('\t');
});
writeFileSync(new URL('moves.tsv', OUT), moveRows.join('\n') + '\n');

// Level-up learnsets: Gen 9's where the species is in Gen 9, else the newest generation's
// level-up list it has (Showdown keeps those for species cut from Scarlet/Violet).
const moveNum = new Map(moves.map((m) => [m.id, m.num]));
const learnRows = [];
for (const s of species) {
  const ls = (await gen.learnsets.get(s.id))?.learnset ?? {};
  let best = 0;
  for (const srcs of Object.values(ls)) for (const src of srcs) {
    if (src[1] === 'L') best = Math.max(best, Number(src[0]));
  }
  const entries = [];
  for (const [id, srcs] of Object.entries(ls)) {
    if (!moveNum.has(id)) continue;
    for (const src of srcs) {
      const m = /^(\d)L(\d+)$/.exec(src);
      if (m && Number(m[1]) === best) entries.push([Number(m[2]), moveNum.get(id)]);
    }
  }
  entries.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  learnRows.push([s.num, best, entries.map(([l, n]) => `${l}:${n}`).join(',')].join('\t'));
}
writeFileSync(new URL('learnsets.tsv', OUT), learnRows.join('\n') + '\n');
console.log(`species ${species.length}, moves ${moves.length}, learnsets ${learnRows.length}`);
