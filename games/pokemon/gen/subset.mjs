// Which of the moves that @smogon/calc treats specially (by name, in its source) the engine
// models. Shared by generate.mjs (which flags the rest so the engine refuses them) and
// calc-cases.mjs (which tests the modelled ones against @smogon/calc).
import { readFileSync, readdirSync } from 'node:fs';

// Special cases implemented in src/damage.rs.
export const IMPLEMENTED = new Set([
  'Acrobatics', 'Barb Barrage', 'Hex', 'Infernal Parade', 'Wake-Up Slap', 'Smelling Salts',
  'Weather Ball', 'Eruption', 'Water Spout', 'Dragon Energy', 'Flail', 'Reversal', 'Stored Power',
  'Power Trip', 'Low Kick', 'Grass Knot', 'Heavy Slam', 'Heat Crash', 'Facade', 'Brine',
  'Venoshock', 'Knock Off', 'Solar Beam', 'Solar Blade', 'Collision Course', 'Electro Drift',
  'Brick Break', 'Psychic Fangs', 'Raging Bull', 'Freeze-Dry', 'Flying Press', 'Dream Eater',
  'Poltergeist', 'Steel Roller', 'Sky Drop', 'Synchronoise', 'Thousand Arrows', 'Body Press',
  'Foul Play', 'Hydro Steam', 'Moongeist Beam', 'Sunsteel Strike', 'Seismic Toss', 'Night Shade',
  'Dragon Rage', 'Sonic Boom', 'Darkest Lariat',
]);

// Named by @smogon/calc only for conditions the engine does not model (terrain, gravity,
// Dynamax, Z-moves, switching, multi-turn use) or for text: plain moves here.
export const PLAIN_HERE = new Set([
  'Earthquake', 'Bulldoze', 'Energy Ball', 'Moonblast', 'Psychic', 'Thunderbolt', 'Tri Attack',
  'Stone Edge', 'Giga Impact', 'Play Rough', 'Volt Tackle', 'Fire Fang', 'Explosion',
  'Self-Destruct', 'Swift', 'Expanding Force', 'Grav Apple', 'Misty Explosion', 'Psyblade',
  'Rising Voltage', 'Terrain Pulse', 'Pursuit', 'Assurance', 'Magma Storm', 'Clanging Scales',
  'Sparkling Aria', 'Relic Song', 'Spirit Shackle', 'Thunder Cage', 'Bind', 'Wrap', 'Clamp',
  'Fire Spin', 'Sand Tomb', 'Whirlpool', 'Infestation', 'Salt Cure', 'Dragon Ascent',
  'Power-Up Punch', 'Future Sight', 'Doom Desire', 'Psychic Noise', 'Dynamax Cannon',
  'Behemoth Blade', 'Behemoth Bash', 'Lash Out',
]);

// Every quoted string in @smogon/calc's non-minified sources.
export function calcNamed() {
  const dir = new URL('node_modules/@smogon/calc/dist/', import.meta.url);
  let src = '';
  for (const sub of ['', 'mechanics/']) {
    for (const f of readdirSync(new URL(sub, dir))) {
      if (f.endsWith('.js') && !f.endsWith('.min.js')) src += readFileSync(new URL(sub + f, dir), 'utf8');
    }
  }
  return new Set([...src.matchAll(/'([^'\n]+)'/g)].map((m) => m[1]));
}
