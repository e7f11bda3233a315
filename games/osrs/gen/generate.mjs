// Generates ../data/osrs.json, the only data the lounge-osrs crate embeds.
//
// Rerun (needs the npm registry once, never at run time):
//   cd games/osrs/gen && npm install && node generate.mjs
//
// Sources:
// - Items, monsters and drop tables: the npm package `oldschooljs` (MIT licence,
//   https://github.com/oldschoolgg/oldschooljs), version pinned in package.json.
// - Skills, XP formula, skilling activities, worlds, locations, where monsters are, food and
//   Slayer masters: hand-made tables below (oldschooljs has none of them); each says where
//   its facts come from.
//
// Item subset: every item that any included drop table can give, every item a player can
// equip (for equipment stats), and the items the hand-made tables name (food, logs, ores...).
// Only the fields the engine reads are kept, so the file stays well under a few MB.

import { writeFileSync, mkdirSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(import.meta.url);
const { Monsters } = require("oldschooljs");
const LootTable = require("oldschooljs/dist/structures/LootTable").default;
const itemData = require("oldschooljs/dist/data/items/item_data.json");
const ojsVersion = require("oldschooljs/package.json").version;

const here = dirname(fileURLToPath(import.meta.url));

// ---------------------------------------------------------------- items by name
const idByName = new Map();
for (const it of Object.values(itemData)) {
	const key = it.name.toLowerCase();
	// Prefer the lowest id: later ids are usually noted/placeholder/variant copies.
	if (!idByName.has(key) || idByName.get(key) > it.id) idByName.set(key, it.id);
}
function itemId(name) {
	const id = idByName.get(name.toLowerCase());
	if (id === undefined) throw new Error(`unknown item name in hand-made table: ${name}`);
	return id;
}

// ---------------------------------------------------------------- drop tables
// Each distinct LootTable object (shared sub-tables such as the rare drop table appear
// once) becomes one entry of `tables`; entries point at items or at other tables.
const tableIndex = new Map();
const tables = [];
const usedItems = new Set();

function qty(q) {
	return Array.isArray(q) ? [q[0], q[1]] : [q, q];
}
function entry(e) {
	const [min, max] = qty(e.quantity);
	if (e.item instanceof LootTable) {
		// kind 1: roll the sub-table `quantity` times; kind 2: roll once, multiply the loot.
		return [e.options?.multiply ? 2 : 1, table(e.item), min, max];
	}
	if (typeof e.item !== "number") throw new Error(`unexpected loot entry ${JSON.stringify(e)}`);
	usedItems.add(e.item);
	return [0, e.item, min, max];
}
function table(t) {
	if (tableIndex.has(t)) return tableIndex.get(t);
	const idx = tables.length;
	tableIndex.set(t, idx);
	tables.push(null);
	tables[idx] = {
		// A limit above the total weight means "nothing" fills the rest of the roll.
		limit: t.limit ?? 0,
		every: t.everyItems.map(entry),
		tertiary: t.tertiaryItems.map((e) => [e.chance, entry(e)]),
		one_in: t.oneInItems.map((e) => [e.chance, entry(e)]),
		main: t.table.map((e) => [e.weight, entry(e)]),
	};
	return idx;
}

// ---------------------------------------------------------------- where monsters are
// oldschooljs says nothing about where a monster lives, so this is ours. A few families
// are placed by a rule from what oldschooljs does give (its Slayer category, or the name of
// the reanimated ensouled heads); every other monster is in MONSTER_LOCATIONS below, a
// table written from each monster's Old School RuneScape Wiki page ("Locations" section,
// https://oldschool.runescape.wiki/w/<monster>), keeping the main places players kill it
// (bosses: where their lair is entered). The table wins over the rules; a monster that
// neither places, or a place not in `locations`, stops the generator.
const CATEGORY_LOCATIONS = [
	["revenants", "Revenant Caves"],
	["spiritual creatures", "God Wars Dungeon"],
	["fossil island wyverns", "Fossil Island"],
	["shades", "Mort'ton"],
	["tzhaar", "TzHaar City"],
	["kalphite", "Kalphite Lair"],
	["dagannoth", "Waterbirth Island"],
	["lizardmen", "Lizardman Canyon"],
	["scabarites", "Sophanem"],
	["vampyres", "Darkmeyer"],
	["hydras", "Karuulm Slayer Dungeon"],
	["drakes", "Karuulm Slayer Dungeon"],
	["wyrms", "Karuulm Slayer Dungeon"],
	["smoke devils", "Smoke Devil Dungeon"],
	["cave kraken", "Kraken Cove"],
	["dust devils", "Smoke Dungeon"],
	["elves", "Isafdar"],
];
const MONSTER_LOCATIONS = {
	// Bosses
	"Corporeal Beast": ["Wilderness"],
	"Giant Mole": ["Falador"],
	"Obor": ["Edgeville Dungeon"],
	"Bryophyta": ["Varrock Sewers"],
	"Scurrius": ["Varrock Sewers"],
	"Sarachnis": ["Forthos Dungeon"],
	"Vorkath": ["Ungael"],
	"Zulrah": ["Zul-Andra"],
	"Commander Zilyana": ["God Wars Dungeon"],
	"General Graardor": ["God Wars Dungeon"],
	"Kree'arra": ["God Wars Dungeon"],
	"K'ril Tsutsaroth": ["God Wars Dungeon"],
	"Blood Reaver": ["God Wars Dungeon"],
	"Armadylian Guard": ["God Wars Dungeon"],
	"Aviansie": ["God Wars Dungeon"],
	"Skotizo": ["Catacombs of Kourend"],
	"Deranged Archaeologist": ["Fossil Island"],
	"Phantom Muspah": ["Ghorrock Dungeon"],
	"Abyssal Sire": ["Abyss"],
	"Cerberus": ["Taverley Dungeon"],
	"Grotesque Guardians": ["Slayer Tower"],
	"Tormented Demon": ["Lumbridge Swamp Caves"],
	// The Wilderness, its bosses and what only Krystilia assigns
	"Callisto": ["Wilderness"], "Artio": ["Wilderness"], "Venenatis": ["Wilderness"],
	"Spindel": ["Wilderness"], "Vet'ion": ["Wilderness"], "Calvar'ion": ["Wilderness"],
	"Chaos Elemental": ["Wilderness"], "Chaos Fanatic": ["Wilderness"],
	"Crazy Archaeologist": ["Wilderness"], "Scorpia": ["Wilderness"],
	"King Black Dragon": ["Wilderness"], "Porazdir": ["Wilderness"],
	"Bandit": ["Wilderness"], "Guard Bandit": ["Wilderness"], "Dark warrior": ["Wilderness"],
	"Elder Chaos druid": ["Wilderness"], "Ent": ["Wilderness"], "Mammoth": ["Wilderness"],
	"Lava dragon": ["Wilderness"], "Green dragon": ["Wilderness"], "Earth Warrior": ["Wilderness"],
	"Zombie pirate": ["Wilderness"], "King Scorpion": ["Wilderness"],
	"Baby green Dragon": ["Wilderness"],
	"Black Knight": ["Wilderness", "Taverley Dungeon"],
	"Magic axe": ["Wilderness", "Taverley Dungeon"],
	"Deadly red spider": ["Karamja", "Wilderness"],
	"Greater Demon": ["Wilderness", "Brimhaven Dungeon", "Catacombs of Kourend"],
	"Ice giant": ["Asgarnian Ice Dungeon", "Wilderness"],
	"Ice warrior": ["Asgarnian Ice Dungeon", "Wilderness"],
	"Skeleton": ["Edgeville Dungeon", "Wilderness"],
	"Black Dragon": ["Taverley Dungeon", "Wilderness"],
	// Misthalin and Asgarnia
	"Goblin": ["Lumbridge"], "Spider": ["Lumbridge"], "Rooster": ["Lumbridge"],
	"Chicken": ["Lumbridge", "Falador"], "Cow": ["Lumbridge", "Falador"],
	"Cow calf": ["Lumbridge", "Falador"], "Duck": ["Lumbridge", "Falador"],
	"Duckling": ["Lumbridge", "Falador"], "Imp": ["Lumbridge", "Falador"],
	"Man": ["Lumbridge", "Varrock", "Draynor Village"], "Woman": ["Varrock", "Ardougne"],
	"Rat": ["Lumbridge", "Varrock Sewers"], "Giant rat": ["Lumbridge Swamp", "Varrock Sewers"],
	"Giant frog": ["Lumbridge Swamp"],
	"Ghost": ["Draynor Village", "Taverley Dungeon"], "Zombie": ["Edgeville Dungeon", "Draynor Village"],
	"Killerwatt": ["Draynor Village"],
	"Black bear": ["Varrock", "Ardougne"],
	"Zombie rat": ["Varrock Sewers"],
	"Moss giant": ["Varrock Sewers", "Brimhaven Dungeon"],
	"Hill Giant": ["Edgeville Dungeon"],
	"Chaos druid": ["Edgeville Dungeon", "Taverley Dungeon"],
	"Unicorn": ["Barbarian Village"],
	"Minotaur": ["Stronghold of Security"], "Flesh Crawler": ["Stronghold of Security"],
	"Catablepon": ["Stronghold of Security"], "Giant spider": ["Stronghold of Security"],
	"Ankou": ["Stronghold of Security", "Catacombs of Kourend"],
	"Cave Bug": ["Lumbridge Swamp Caves"], "Cave Slime": ["Lumbridge Swamp Caves"],
	"Wall beast": ["Lumbridge Swamp Caves"], "Cave goblin guard": ["Lumbridge Swamp Caves"],
	"Guard": ["Lumbridge Swamp Caves"], "Dungeon rat": ["Lumbridge Swamp Caves"],
	"Molanisk": ["Lumbridge Swamp Caves"],
	"Otherworldly being": ["Zanaris"], "Zygomite": ["Zanaris"],
	"Dwarf": ["Dwarven Mine"], "Scorpion": ["Al Kharid", "Dwarven Mine"],
	"Chaos dwarf": ["Dwarven Mine", "Taverley Dungeon"],
	"Hobgoblin": ["Crafting Guild"],
	"Seagull": ["Port Sarim"], "Mogre": ["Port Sarim"],
	"Skeletal Wyvern": ["Asgarnian Ice Dungeon"],
	"Icefiend": ["Ice Mountain"],
	"Flawed Golem": ["Ruins of Camdozaal"], "Mind Golem": ["Ruins of Camdozaal"],
	"Body Golem": ["Ruins of Camdozaal"], "Chaos Golem": ["Ruins of Camdozaal"],
	"Baby blue Dragon": ["Taverley Dungeon"], "Blue Dragon": ["Taverley Dungeon"],
	"Baby black Dragon": ["Taverley Dungeon"], "Poison Scorpion": ["Taverley Dungeon"],
	"Giant Bat": ["Taverley Dungeon"], "Bat": ["Taverley Dungeon"],
	"Lesser demon": ["Karamja", "Taverley Dungeon"],
	"Hellhound": ["Taverley Dungeon", "Catacombs of Kourend"],
	"Black Demon": ["Taverley Dungeon", "Brimhaven Dungeon", "Catacombs of Kourend"],
	"Cyclops": ["Warriors' Guild"],
	"Wolf": ["White Wolf Mountain"], "White Wolf": ["White Wolf Mountain"],
	// Karamja
	"Monkey": ["Karamja"], "Bird": ["Karamja"], "Jungle Wolf": ["Karamja"],
	"Harpie Bug Swarm": ["Karamja"], "Undead one": ["Karamja"],
	"Wild dog": ["Brimhaven Dungeon"], "Baby red Dragon": ["Brimhaven Dungeon"],
	"Red Dragon": ["Brimhaven Dungeon"], "Bronze Dragon": ["Brimhaven Dungeon"],
	"Iron Dragon": ["Brimhaven Dungeon", "Catacombs of Kourend"],
	"Steel Dragon": ["Brimhaven Dungeon", "Catacombs of Kourend"],
	"Fire Giant": ["Brimhaven Dungeon", "Catacombs of Kourend"],
	"Monkey Archer": ["Ape Atoll"], "Monkey Guard": ["Ape Atoll"], "Monkey Zombie": ["Ape Atoll"],
	"Maniacal monkey": ["Ape Atoll"], "Demonic Gorilla": ["Ape Atoll"],
	"Tortured Gorilla": ["Ape Atoll"],
	// Kharidian Desert
	"Desert Lizard": ["Kharidian Desert"], "Small Lizard": ["Kharidian Desert"],
	"Lizard": ["Kharidian Desert"], "Desert Wolf": ["Kharidian Desert"],
	"Jackal": ["Kharidian Desert"], "Crocodile": ["Kharidian Desert"],
	"Pit Scorpion": ["Sophanem"],
	// Kandarin
	"Guard dog": ["Ardougne"], "Shadow warrior": ["Ardougne"], "Shadow spider": ["Ardougne"],
	"Death wing": ["Ardougne"], "Mourner": ["Ardougne"],
	"Dark Beast": ["Ardougne", "Prifddinas"], "Night beast": ["Ardougne", "Prifddinas"],
	// Tower of Life creatures
	"Unicow": ["Ardougne"], "Newtroost": ["Ardougne"], "Spidine": ["Ardougne"],
	"Swordchick": ["Ardougne"], "Jubster": ["Ardougne"], "Frogeel": ["Ardougne"],
	"Brutal green Dragon": ["Ancient Cavern"], "Mithril Dragon": ["Ancient Cavern"],
	"Waterfiend": ["Ancient Cavern"], "Skeleton Mage": ["Ancient Cavern"],
	"Terrorbird": ["Gnome Stronghold"], "Mounted terrorbird gnome": ["Gnome Stronghold"],
	"Ogre": ["Feldip Hills"], "Ogress Shaman": ["Feldip Hills"], "Ogress Warrior": ["Feldip Hills"],
	"Zogre": ["Feldip Hills"], "Skogre": ["Feldip Hills"], "Jogre": ["Feldip Hills"],
	"Chompy bird": ["Feldip Hills"], "Jubbly bird": ["Feldip Hills"], "Big Wolf": ["Feldip Hills"],
	// Morytania
	"Crawling Hand": ["Slayer Tower"], "Crushing hand": ["Slayer Tower"],
	"Banshee": ["Slayer Tower"], "Screaming banshee": ["Slayer Tower"],
	"Twisted Banshee": ["Slayer Tower"], "Screaming twisted banshee": ["Slayer Tower"],
	"Infernal Mage": ["Slayer Tower"], "Malevolent Mage": ["Slayer Tower"],
	"Bloodveld": ["Slayer Tower", "Catacombs of Kourend"], "Insatiable Bloodveld": ["Slayer Tower"],
	"Mutated Bloodveld": ["Slayer Tower", "Catacombs of Kourend"],
	"Insatiable mutated Bloodveld": ["Slayer Tower"],
	"Aberrant Spectre": ["Slayer Tower"], "Abhorrent spectre": ["Slayer Tower"],
	"Deviant Spectre": ["Slayer Tower"], "Repugnant spectre": ["Slayer Tower"],
	"Gargoyle": ["Slayer Tower"], "Marble gargoyle": ["Slayer Tower"],
	"Nechryael": ["Slayer Tower", "Catacombs of Kourend"], "Nechryarch": ["Slayer Tower"],
	"Abyssal Demon": ["Slayer Tower", "Catacombs of Kourend"],
	"Greater abyssal demon": ["Slayer Tower", "Catacombs of Kourend"],
	"Werewolf": ["Canifis"], "Ghoul": ["Canifis"], "Terror dog": ["Canifis"],
	"Crypt rat": ["Canifis"], "Giant crypt spider": ["Canifis"],
	"Undead chicken": ["Port Phasmatys"], "Undead cow": ["Port Phasmatys"],
	"Jungle horror": ["Mos Le'Harmless"], "Cave Horror": ["Mos Le'Harmless"],
	"Cave abomination": ["Mos Le'Harmless"], "Fever spider": ["Mos Le'Harmless"],
	// Fremennik Provinces
	"Cave Crawler": ["Fremennik Slayer Dungeon"], "Chasm Crawler": ["Fremennik Slayer Dungeon"],
	"Rockslug": ["Fremennik Slayer Dungeon"], "Giant rockslug": ["Fremennik Slayer Dungeon"],
	"Cockatrice": ["Fremennik Slayer Dungeon"], "Cockathrice": ["Fremennik Slayer Dungeon"],
	"Pyrefiend": ["Fremennik Slayer Dungeon"], "Flaming pyrelord": ["Fremennik Slayer Dungeon"],
	"Basilisk": ["Fremennik Slayer Dungeon"], "Monstrous basilisk": ["Fremennik Slayer Dungeon"],
	"Jelly": ["Fremennik Slayer Dungeon"], "Vitreous Jelly": ["Fremennik Slayer Dungeon"],
	"Turoth": ["Fremennik Slayer Dungeon"], "Spiked Turoth": ["Fremennik Slayer Dungeon"],
	"Kurask": ["Fremennik Slayer Dungeon"], "King kurask": ["Fremennik Slayer Dungeon"],
	"Basilisk Knight": ["Rellekka"], "Basilisk Sentinel": ["Rellekka"],
	"Brine Rat": ["Rellekka"], "Penguin": ["Rellekka"], "Lobstrosity": ["Rellekka"],
	"Ice Troll": ["Rellekka"], "Grizzly bear": ["Rellekka"], "Grizzly bear cub": ["Rellekka"],
	"Bear cub": ["Rellekka"],
	"Skeleton fremennik": ["Waterbirth Island"],
	"Mountain Troll": ["Trollheim"], "Troll general": ["Trollheim"], "Ice wolf": ["Trollheim"],
	"Goat": ["Trollheim"],
	"Giant Sea Snake": ["Miscellania"], "Sea Snake Young": ["Miscellania"],
	"Sea Snake Hatchling": ["Miscellania"],
	"Pirate": ["Lunar Isle"], "Suqah": ["Lunar Isle"],
	"Black Guard": ["Keldagrim"], "Dwarf gang member": ["Keldagrim"],
	// Great Kourend
	"Brutal black Dragon": ["Catacombs of Kourend"], "Brutal blue Dragon": ["Catacombs of Kourend"],
	"Brutal red Dragon": ["Catacombs of Kourend"], "Greater Nechryael": ["Catacombs of Kourend"],
	"Warped Jelly": ["Catacombs of Kourend"], "Vitreous warped Jelly": ["Catacombs of Kourend"],
	"Pyrelord": ["Catacombs of Kourend"], "Tortured soul": ["Catacombs of Kourend"],
	"Temple Spider": ["Forthos Dungeon"], "Undead Druid": ["Forthos Dungeon"],
	"Sulphur Lizard": ["Karuulm Slayer Dungeon"],
	// Fossil Island and beyond
	"Ancient Zygomite": ["Fossil Island"],
	"Rune Dragon": ["Lithkren Vault"], "Adamant Dragon": ["Lithkren Vault"],
	"Rabbit": ["Prifddinas"],
};
// Categories oldschooljs leaves out that Slayer masters count (a chicken is a bird).
const EXTRA_CATEGORIES = { "Chicken": ["birds"] };

function monsterLocations(m) {
	if (MONSTER_LOCATIONS[m.name]) return MONSTER_LOCATIONS[m.name];
	// Ensouled heads are reanimated with Arceuus magic at the Dark Altar.
	if (m.name.startsWith("Reanimated ")) return ["Dark Altar"];
	const cats = m.data.category ?? [];
	const found = CATEGORY_LOCATIONS.filter(([c]) => cats.includes(c)).map(([, l]) => l);
	return [...new Set(found)];
}

// ---------------------------------------------------------------- monsters
const monsters = [];
const skipped = [];
for (const m of Monsters.values()) {
	// Monsters without a plain table (ToA-style raids, Barrows, Jad...) need bespoke kill
	// logic that lives in JavaScript functions; they are left out.
	if (!m.table || !m.data) {
		skipped.push(m.name);
		continue;
	}
	const d = m.data;
	monsters.push({
		id: m.id,
		name: m.name,
		aliases: [...new Set(m.aliases.map((a) => a.toLowerCase()))].filter((a) => a !== m.name.toLowerCase()),
		members: d.members,
		combat_level: d.combatLevel,
		hitpoints: d.hitpoints,
		max_hit: typeof d.maxHit === "number" ? d.maxHit : 0,
		attack_type: (d.attackType ?? [])[0] ?? "crush",
		attack_speed: d.attackSpeed || 4,
		// attack, strength, defence, magic, ranged
		levels: [d.attackLevel, d.strengthLevel, d.defenceLevel, d.magicLevel, d.rangedLevel],
		// stab, slash, crush, magic, ranged
		defence: [d.defenceStab, d.defenceSlash, d.defenceCrush, d.defenceMagic, d.defenceRanged],
		attack_bonus: d.attackAccuracy ?? 0,
		slayer_level: d.slayerLevelRequired || 1,
		slayer_xp: d.slayerXP || 0,
		table: table(m.table),
		// Some slayer monsters drop from a different table while on a Slayer task.
		on_task_table: m.onTaskTable ? table(m.onTaskTable) : null,
		// custom kill logic (e.g. extra pet rolls) is JavaScript and is not carried over.
		has_custom_logic: Boolean(m.customKillLogic),
		// Slayer task categories it counts for ("goblins", "abyssal demons"...).
		categories: [...new Set([...(d.category ?? []), ...(EXTRA_CATEGORIES[m.name] ?? [])])],
		locations: monsterLocations(m),
	});
}

// ---------------------------------------------------------------- skills
// The 24 skills in the order of the in-game skills tab (Sailing added November 2025).
const skills = [
	"attack", "hitpoints", "mining", "strength", "agility", "smithing", "defence", "herblore",
	"fishing", "ranged", "thieving", "cooking", "prayer", "crafting", "firemaking", "magic",
	"fletching", "woodcutting", "runecraft", "slayer", "farming", "construction", "hunter", "sailing",
];

// ---------------------------------------------------------------- skilling activities
// Level requirements and XP per action: Old School RuneScape Wiki pages of each resource
// (e.g. https://oldschool.runescape.wiki/w/Woodcutting). Rates per hour are our own round
// estimates of actions/hour at the requirement level and at level 99 with the tool named
// in `tools`; the engine interpolates between them. Sailing figures are placeholders picked
// to sit between the gathering skills: the wiki had no settled rates when this was written.
const tree = (name, level, xp, log, lo, hi) => ({
	name, skill: "woodcutting", level, xp, lo, hi, product: itemId(log), consumes: null,
	tools: [["Bronze axe", 1.0], ["Iron axe", 1.1], ["Steel axe", 1.2], ["Mithril axe", 1.35], ["Adamant axe", 1.5], ["Rune axe", 1.65], ["Dragon axe", 1.8]],
	location: "Draynor Village",
});
const rock = (name, level, xp, ore, lo, hi, location) => ({
	name, skill: "mining", level, xp, lo, hi, product: itemId(ore), consumes: null,
	tools: [["Bronze pickaxe", 1.0], ["Iron pickaxe", 1.1], ["Steel pickaxe", 1.2], ["Mithril pickaxe", 1.35], ["Adamant pickaxe", 1.5], ["Rune pickaxe", 1.65], ["Dragon pickaxe", 1.8]],
	location,
});
const fish = (name, level, xp, raw, lo, hi, location) => ({
	name, skill: "fishing", level, xp, lo, hi, product: itemId(raw), consumes: null, tools: [], location,
});
const burn = (name, level, xp, log, lo, hi) => ({
	name, skill: "firemaking", level, xp, lo, hi, product: null, consumes: itemId(log), tools: [], location: "Grand Exchange",
});
const sail = (name, level, xp, lo, hi, location) => ({
	name, skill: "sailing", level, xp, lo, hi, product: null, consumes: null, tools: [], location,
});
const activities = [
	tree("Tree", 1, 25, "Logs", 300, 450),
	tree("Oak tree", 15, 37.5, "Oak logs", 150, 280),
	tree("Willow tree", 30, 67.5, "Willow logs", 120, 260),
	tree("Maple tree", 45, 100, "Maple logs", 80, 180),
	tree("Yew tree", 60, 175, "Yew logs", 45, 110),
	tree("Magic tree", 75, 250, "Magic logs", 25, 65),
	rock("Copper rock", 1, 17.5, "Copper ore", 400, 900, "Lumbridge Swamp"),
	rock("Tin rock", 1, 17.5, "Tin ore", 400, 900, "Lumbridge Swamp"),
	rock("Iron rock", 15, 35, "Iron ore", 500, 1500, "Al Kharid"),
	rock("Coal rock", 30, 50, "Coal", 150, 400, "Barbarian Village"),
	rock("Gold rock", 40, 65, "Gold ore", 100, 250, "Crafting Guild"),
	rock("Mithril rock", 55, 80, "Mithril ore", 60, 180, "Mining Guild"),
	rock("Adamantite rock", 70, 95, "Adamantite ore", 40, 120, "Mining Guild"),
	rock("Runite rock", 85, 125, "Runite ore", 8, 30, "Mining Guild"),
	fish("Shrimps", 1, 10, "Raw shrimps", 300, 600, "Lumbridge Swamp"),
	fish("Trout", 20, 50, "Raw trout", 250, 450, "Barbarian Village"),
	fish("Salmon", 30, 70, "Raw salmon", 200, 400, "Barbarian Village"),
	fish("Lobster", 40, 90, "Raw lobster", 120, 250, "Catherby"),
	fish("Swordfish", 50, 100, "Raw swordfish", 80, 200, "Catherby"),
	fish("Shark", 76, 110, "Raw shark", 60, 150, "Fishing Guild"),
	burn("Logs", 1, 40, "Logs", 1000, 1400),
	burn("Oak logs", 15, 60, "Oak logs", 1000, 1400),
	burn("Willow logs", 30, 90, "Willow logs", 1000, 1400),
	burn("Maple logs", 45, 135, "Maple logs", 1000, 1400),
	burn("Yew logs", 60, 202.5, "Yew logs", 1000, 1400),
	burn("Magic logs", 75, 303.8, "Magic logs", 1000, 1400),
	sail("Port task: Port Sarim", 1, 60, 60, 120, "Port Sarim"),
	sail("Port task: Catherby", 20, 150, 45, 100, "Catherby"),
	sail("Charting: Open sea", 40, 400, 20, 50, "Port Sarim"),
];
for (const a of activities) {
	a.tools = a.tools.map(([n, mult]) => [itemId(n), mult]);
	if (a.product) usedItems.add(a.product);
	if (a.consumes) usedItems.add(a.consumes);
	for (const [id] of a.tools) usedItems.add(id);
}

// ---------------------------------------------------------------- food
// Hitpoints healed per piece: Old School RuneScape Wiki, https://oldschool.runescape.wiki/w/Food
const food = [
	["Shrimps", 3], ["Trout", 7], ["Salmon", 9], ["Tuna", 10], ["Lobster", 12], ["Swordfish", 14],
	["Monkfish", 16], ["Shark", 20], ["Manta ray", 22], ["Dark crab", 22],
].map(([n, heal]) => {
	const id = itemId(n);
	usedItems.add(id);
	return [id, heal];
});

// ---------------------------------------------------------------- worlds and locations
// A sample of the in-game world switcher (numbers, members flag, host location and the
// activity label shown there), as listed on https://oldschool.runescape.wiki/w/Server.
const worlds = [
	[301, false, "United States", "Trade - Free"], [302, true, "United Kingdom", "Trade - Members"],
	[303, true, "Germany", ""], [304, true, "Germany", "Trouble Brewing"], [305, true, "United States", "Falador Party Room"],
	[308, false, "United Kingdom", "PvP - Free"], [309, true, "United Kingdom", "Wintertodt"], [316, false, "United Kingdom", ""],
	[319, true, "United Kingdom", "Wilderness Boss Hunting"], [320, true, "United States", "Soul Wars"],
	[327, true, "United States", "Wintertodt"], [330, true, "United States", "House Party, Gilded Altar"],
	[335, false, "United States", ""], [337, true, "United States", "Nightmare of Ashihama"],
	[345, true, "United States", "Deadman"], [361, true, "Australia", ""], [370, true, "Germany", ""],
	[382, false, "United Kingdom", ""], [390, true, "United Kingdom", "LMS Competitive"],
	[416, true, "United Kingdom", "Zalcano"], [420, true, "United States", "Group Iron"],
	[444, true, "Australia", "Guardians of the Rift"], [459, true, "United States", "Tempoross"],
	[474, true, "United States", "Clan Recruitment"],
].map(([number, members, location, activity]) => ({ number, members, location, activity }));

// Places named by activities and monsters, with their region (wiki "Kingdom" infobox field;
// dungeons take the region they are entered from). Travel time follows the region (see the
// bot's `rules::travel_secs`), so new places need only the right region.
const locations = [
	["Lumbridge", "Misthalin", false], ["Lumbridge Swamp", "Misthalin", false], ["Draynor Village", "Misthalin", false],
	["Varrock", "Misthalin", false], ["Barbarian Village", "Asgarnia", false], ["Grand Exchange", "Misthalin", false],
	["Al Kharid", "Kharidian Desert", false], ["Port Sarim", "Asgarnia", false], ["Falador", "Asgarnia", false],
	["Mining Guild", "Asgarnia", false], ["Crafting Guild", "Asgarnia", false], ["Catherby", "Kandarin", false],
	["Fishing Guild", "Kandarin", false], ["Edgeville", "Misthalin", false], ["Wilderness", "Wilderness", true],
	// Monster grounds.
	["Lumbridge Swamp Caves", "Misthalin", false], ["Varrock Sewers", "Misthalin", false],
	["Edgeville Dungeon", "Misthalin", false], ["Stronghold of Security", "Asgarnia", false],
	["Zanaris", "Misthalin", false], ["Dwarven Mine", "Asgarnia", false], ["Ice Mountain", "Asgarnia", false],
	["Ruins of Camdozaal", "Asgarnia", false], ["Asgarnian Ice Dungeon", "Asgarnia", false],
	["Taverley Dungeon", "Asgarnia", false], ["Warriors' Guild", "Asgarnia", false],
	["White Wolf Mountain", "Asgarnia", false], ["God Wars Dungeon", "Asgarnia", false],
	["Karamja", "Karamja", false], ["Brimhaven Dungeon", "Karamja", false], ["TzHaar City", "Karamja", false],
	["Ape Atoll", "Karamja", false],
	["Kharidian Desert", "Kharidian Desert", false], ["Kalphite Lair", "Kharidian Desert", false],
	["Smoke Dungeon", "Kharidian Desert", false], ["Sophanem", "Kharidian Desert", false],
	["Ardougne", "Kandarin", false], ["Ancient Cavern", "Kandarin", false], ["Gnome Stronghold", "Kandarin", false],
	["Feldip Hills", "Kandarin", false], ["Kraken Cove", "Kandarin", false], ["Smoke Devil Dungeon", "Kandarin", false],
	["Slayer Tower", "Morytania", false], ["Canifis", "Morytania", false], ["Mort'ton", "Morytania", false],
	["Darkmeyer", "Morytania", false], ["Port Phasmatys", "Morytania", false], ["Mos Le'Harmless", "Morytania", false],
	["Rellekka", "Fremennik Provinces", false], ["Fremennik Slayer Dungeon", "Fremennik Provinces", false],
	["Waterbirth Island", "Fremennik Provinces", false], ["Trollheim", "Fremennik Provinces", false],
	["Miscellania", "Fremennik Provinces", false], ["Lunar Isle", "Fremennik Provinces", false],
	["Keldagrim", "Fremennik Provinces", false], ["Ungael", "Fremennik Provinces", false],
	["Ghorrock Dungeon", "Fremennik Provinces", false],
	["Catacombs of Kourend", "Great Kourend", false], ["Karuulm Slayer Dungeon", "Great Kourend", false],
	["Lizardman Canyon", "Great Kourend", false], ["Forthos Dungeon", "Great Kourend", false],
	["Dark Altar", "Great Kourend", false],
	["Isafdar", "Tirannwn", false], ["Prifddinas", "Tirannwn", false], ["Zul-Andra", "Tirannwn", false],
	["Fossil Island", "Fossil Island", false], ["Lithkren Vault", "Fossil Island", false],
	["Abyss", "Abyss", false], ["Revenant Caves", "Wilderness", true],
	// Where Slayer masters live.
	["Burthorpe", "Asgarnia", false], ["Shilo Village", "Karamja", false],
].map(([name, region, wilderness]) => ({ name, region, wilderness }));

{
	const known = new Set(locations.map((l) => l.name));
	const names = new Set(monsters.map((m) => m.name));
	for (const name of Object.keys(MONSTER_LOCATIONS)) {
		if (!names.has(name)) throw new Error(`MONSTER_LOCATIONS names ${name}, which is not a kept monster`);
	}
	const homeless = monsters.filter((m) => m.locations.length === 0).map((m) => m.name);
	if (homeless.length) throw new Error(`no location for ${homeless.join(", ")}: add them to MONSTER_LOCATIONS`);
	for (const m of monsters) {
		for (const l of m.locations) {
			if (!known.has(l)) throw new Error(`${m.name} is placed in ${l}, which is not in locations`);
		}
	}
	for (const a of activities) {
		if (!known.has(a.location)) throw new Error(`${a.name} is placed in ${a.location}, which is not in locations`);
	}
}

// ---------------------------------------------------------------- Slayer masters
// oldschooljs only says which masters can assign a monster, not their task lists, so these
// are ours. Combat and Slayer level needed to use each master, their points per task and the
// bonus for every 10th, 50th, 100th, 250th and 1000th task: Old School RuneScape Wiki,
// https://oldschool.runescape.wiki/w/Slayer_master and /w/Slayer_reward_points. Task lists
// (weight, amount range, combat and Slayer level the task needs): each master's wiki page
// (/w/Turael, /w/Mazchna, /w/Vannaka, /w/Chaeldar, /w/Nieve, /w/Duradel), cross-checked with
// oldschoolbot's tables. A task is a Slayer category as oldschooljs spells it, and any
// monster of that category counts. Left out: tasks that must first be unlocked with points
// (lizardmen, TzHaar, aviansies, red and mithril dragons...), boss tasks, Konar's and
// Krystilia's location-bound tasks, and extended amounts.
// Row: [category, weight, min, max, combat level, Slayer level].
const master = (name, location, combat, slayer, points, tasks) => ({
	name, location, combat, slayer, points,
	tasks: tasks.map(([category, weight, min, max, combat_level, slayer_level]) =>
		({ category, weight, min, max, combat: combat_level, slayer: slayer_level })),
});
const slayer_masters = [
	master("Turael", "Burthorpe", 1, 1, [0, 0, 0, 0, 0, 0], [
		["banshees", 8, 15, 30, 20, 15], ["bats", 7, 15, 30, 5, 1], ["bears", 7, 10, 20, 13, 1],
		["birds", 6, 15, 30, 1, 1], ["cave bugs", 8, 10, 30, 1, 7], ["cave crawlers", 8, 15, 30, 10, 10],
		["cave slimes", 8, 10, 20, 15, 17], ["cows", 8, 15, 30, 5, 1], ["crawling hands", 8, 15, 30, 1, 5],
		["dogs", 7, 15, 30, 15, 1], ["dwarves", 7, 10, 25, 6, 1], ["ghosts", 7, 15, 30, 13, 1],
		["goblins", 7, 15, 30, 1, 1], ["icefiends", 8, 15, 30, 20, 1], ["kalphite", 6, 15, 30, 15, 1],
		["lizards", 8, 15, 30, 1, 22], ["minotaurs", 7, 10, 20, 7, 1], ["monkeys", 6, 15, 30, 1, 1],
		["rats", 7, 15, 30, 1, 1], ["scorpions", 7, 15, 30, 7, 1], ["skeletons", 7, 15, 30, 15, 1],
		["spiders", 6, 15, 30, 1, 1], ["wolves", 7, 15, 30, 20, 1], ["zombies", 7, 15, 30, 10, 1],
	]),
	master("Mazchna", "Canifis", 20, 1, [2, 5, 15, 50, 70, 100], [
		["banshees", 8, 30, 50, 20, 15], ["bats", 7, 30, 50, 5, 1], ["bears", 6, 30, 50, 13, 1],
		["catablepon", 8, 20, 30, 35, 1], ["cave bugs", 8, 10, 20, 1, 7], ["cave crawlers", 8, 30, 50, 10, 10],
		["cave slimes", 8, 10, 20, 15, 17], ["cockatrice", 8, 30, 50, 25, 25], ["crawling hands", 8, 30, 50, 1, 5],
		["dogs", 7, 30, 50, 15, 1], ["flesh crawlers", 7, 15, 25, 15, 1], ["ghosts", 7, 30, 50, 13, 1],
		["ghouls", 7, 10, 20, 25, 1], ["hill giants", 7, 30, 50, 25, 1], ["hobgoblins", 7, 30, 50, 20, 1],
		["ice warriors", 7, 40, 50, 45, 1], ["kalphite", 6, 30, 50, 15, 1], ["killerwatts", 6, 30, 50, 50, 37],
		["lizards", 8, 30, 50, 1, 22], ["mogres", 8, 30, 50, 30, 32], ["pyrefiends", 8, 30, 50, 25, 30],
		["rockslugs", 8, 30, 50, 20, 20], ["scorpions", 7, 30, 50, 7, 1], ["shades", 8, 30, 70, 30, 1],
		["skeletons", 7, 30, 50, 15, 1], ["vampyres", 6, 10, 20, 35, 1], ["wall beasts", 7, 10, 20, 30, 35],
		["wolves", 7, 30, 50, 20, 1], ["zombies", 7, 30, 50, 10, 1],
	]),
	master("Vannaka", "Edgeville Dungeon", 40, 1, [4, 20, 60, 100, 140, 200], [
		["aberrant spectres", 8, 40, 90, 65, 60], ["abyssal demons", 5, 40, 90, 85, 85], ["ankou", 7, 25, 35, 40, 1],
		["basilisks", 8, 40, 90, 40, 40], ["bloodveld", 8, 40, 90, 50, 50], ["blue dragons", 7, 40, 90, 65, 1],
		["brine rats", 7, 40, 90, 45, 47], ["cockatrice", 8, 40, 90, 25, 25], ["crocodiles", 6, 40, 90, 50, 1],
		["dagannoth", 7, 40, 90, 75, 1], ["dust devils", 8, 40, 90, 70, 65], ["elves", 7, 30, 70, 70, 1],
		["fever spiders", 7, 30, 90, 40, 42], ["fire giants", 7, 40, 90, 65, 1], ["gargoyles", 5, 40, 90, 80, 75],
		["ghouls", 7, 10, 40, 25, 1], ["harpie bug swarms", 8, 40, 90, 45, 33], ["hellhounds", 7, 30, 60, 75, 1],
		["hill giants", 7, 40, 90, 25, 1], ["hobgoblins", 7, 40, 90, 20, 1], ["ice giants", 7, 30, 80, 50, 1],
		["ice warriors", 7, 40, 90, 45, 1], ["infernal mages", 8, 40, 90, 40, 45], ["jellies", 8, 40, 90, 57, 52],
		["jungle horrors", 8, 40, 90, 65, 1], ["kalphite", 7, 40, 90, 15, 1], ["kurask", 7, 40, 90, 65, 70],
		["lesser demons", 7, 40, 90, 60, 1], ["mogres", 7, 40, 90, 30, 32], ["molanisks", 7, 40, 50, 50, 39],
		["moss giants", 7, 40, 90, 40, 1], ["nechryael", 5, 40, 90, 85, 80], ["ogres", 7, 40, 90, 40, 1],
		["otherworldly beings", 8, 40, 90, 40, 1], ["pyrefiends", 8, 40, 90, 25, 30], ["shades", 8, 40, 90, 30, 1],
		["sea snakes", 6, 40, 90, 50, 40], ["shadow warriors", 8, 30, 80, 60, 1],
		["spiritual creatures", 8, 40, 90, 60, 63], ["terror dogs", 6, 20, 45, 60, 40], ["trolls", 7, 40, 90, 60, 1],
		["turoth", 8, 30, 90, 60, 55], ["vampyres", 7, 10, 20, 35, 1], ["werewolves", 7, 30, 60, 60, 1],
	]),
	master("Chaeldar", "Zanaris", 70, 1, [10, 50, 150, 250, 350, 500], [
		["aberrant spectres", 8, 70, 130, 65, 60], ["abyssal demons", 12, 70, 130, 85, 85],
		["basilisks", 7, 70, 130, 40, 40], ["black demons", 10, 70, 130, 80, 1], ["bloodveld", 8, 70, 130, 50, 50],
		["blue dragons", 8, 70, 130, 65, 1], ["brine rats", 7, 70, 130, 45, 47], ["cave horrors", 10, 70, 130, 85, 58],
		["cave kraken", 12, 30, 50, 80, 87], ["dagannoth", 11, 70, 130, 75, 1], ["dust devils", 9, 70, 130, 70, 65],
		["elves", 8, 70, 130, 70, 1], ["fever spiders", 7, 70, 130, 40, 42], ["fire giants", 12, 70, 130, 65, 1],
		["fossil island wyverns", 7, 10, 20, 60, 66], ["gargoyles", 11, 70, 130, 80, 75],
		["greater demons", 9, 70, 130, 70, 1], ["hellhounds", 9, 70, 130, 75, 1], ["jellies", 10, 70, 130, 57, 52],
		["jungle horrors", 10, 70, 130, 65, 1], ["kalphite", 11, 70, 130, 15, 1], ["kurask", 12, 70, 130, 65, 70],
		["lesser demons", 9, 70, 130, 60, 1], ["mutated zygomites", 7, 8, 15, 60, 57], ["nechryael", 12, 70, 130, 85, 80],
		["shadow warriors", 8, 70, 130, 60, 1], ["skeletal wyverns", 7, 10, 20, 70, 72],
		["spiritual creatures", 12, 70, 130, 60, 63], ["trolls", 11, 70, 130, 60, 1], ["turoth", 10, 70, 130, 60, 55],
		["wyrms", 6, 60, 100, 1, 62],
	]),
	master("Nieve", "Gnome Stronghold", 85, 1, [12, 60, 180, 300, 420, 600], [
		["aberrant spectres", 6, 120, 185, 65, 60], ["abyssal demons", 9, 120, 185, 85, 85],
		["adamant dragons", 2, 3, 7, 1, 1], ["ankou", 5, 50, 90, 40, 1], ["black demons", 9, 120, 185, 80, 1],
		["black dragons", 6, 10, 20, 80, 1], ["bloodveld", 9, 120, 185, 50, 50], ["blue dragons", 4, 120, 185, 65, 1],
		["brine rats", 3, 120, 185, 45, 47], ["cave horrors", 5, 120, 180, 85, 58], ["cave kraken", 6, 100, 120, 80, 87],
		["dagannoth", 8, 120, 185, 75, 1], ["dark beasts", 5, 10, 20, 90, 90], ["drakes", 7, 30, 95, 1, 84],
		["dust devils", 6, 120, 185, 70, 65], ["elves", 4, 60, 90, 70, 1], ["fire giants", 9, 120, 185, 65, 1],
		["fossil island wyverns", 5, 5, 25, 60, 66], ["gargoyles", 6, 120, 185, 80, 75],
		["greater demons", 7, 120, 185, 75, 1], ["hellhounds", 8, 120, 185, 75, 1], ["iron dragons", 5, 30, 60, 80, 1],
		["kalphite", 9, 120, 185, 15, 1], ["kurask", 3, 120, 185, 65, 70], ["scabarites", 4, 30, 60, 85, 1],
		["mutated zygomites", 2, 10, 25, 60, 57], ["nechryael", 7, 110, 170, 85, 80], ["rune dragons", 2, 3, 6, 1, 1],
		["skeletal wyverns", 5, 5, 15, 70, 72], ["smoke devils", 7, 120, 185, 85, 93],
		["spiritual creatures", 6, 120, 185, 60, 63], ["steel dragons", 5, 30, 60, 85, 1], ["suqahs", 8, 120, 185, 85, 1],
		["trolls", 6, 120, 185, 60, 1], ["turoth", 3, 120, 185, 60, 55], ["wyrms", 7, 80, 145, 1, 62],
	]),
	master("Duradel", "Shilo Village", 100, 50, [15, 75, 225, 375, 525, 750], [
		["aberrant spectres", 7, 130, 200, 65, 60], ["abyssal demons", 12, 130, 200, 85, 85],
		["adamant dragons", 2, 4, 9, 1, 1], ["ankou", 5, 50, 80, 40, 1], ["black demons", 8, 130, 200, 80, 1],
		["black dragons", 9, 10, 20, 80, 1], ["bloodveld", 8, 130, 200, 50, 50], ["blue dragons", 4, 110, 170, 65, 1],
		["cave horrors", 4, 130, 200, 85, 58], ["cave kraken", 9, 100, 120, 80, 87], ["dagannoth", 9, 130, 200, 75, 1],
		["dark beasts", 11, 10, 20, 90, 90], ["drakes", 8, 50, 110, 1, 84], ["dust devils", 5, 130, 200, 70, 65],
		["elves", 4, 100, 170, 70, 1], ["fire giants", 7, 130, 200, 65, 1], ["fossil island wyverns", 7, 20, 50, 60, 66],
		["gargoyles", 8, 130, 200, 80, 75], ["greater demons", 9, 130, 200, 75, 1], ["hellhounds", 10, 130, 200, 75, 1],
		["iron dragons", 5, 40, 60, 80, 1], ["kalphite", 9, 130, 200, 15, 1], ["kurask", 4, 130, 200, 65, 70],
		["mutated zygomites", 2, 20, 30, 60, 57], ["nechryael", 9, 130, 200, 85, 80], ["rune dragons", 2, 3, 8, 1, 1],
		["skeletal wyverns", 7, 20, 40, 70, 72], ["smoke devils", 9, 130, 200, 85, 93],
		["spiritual creatures", 7, 130, 200, 60, 63], ["steel dragons", 7, 10, 20, 85, 1], ["suqahs", 8, 60, 90, 85, 1],
		["trolls", 6, 130, 200, 60, 1], ["waterfiends", 2, 130, 200, 75, 1], ["wyrms", 8, 100, 160, 1, 62],
	]),
];
{
	const known = new Set(locations.map((l) => l.name));
	const categories = new Set(monsters.flatMap((m) => m.categories));
	for (const m of slayer_masters) {
		if (!known.has(m.location)) throw new Error(`${m.name} lives in ${m.location}, which is not in locations`);
		for (const t of m.tasks) {
			if (!categories.has(t.category)) throw new Error(`${m.name} assigns ${t.category}, which no monster is`);
			if (!(t.weight > 0 && t.min >= 1 && t.min <= t.max)) throw new Error(`${m.name}: bad task ${JSON.stringify(t)}`);
		}
	}
}

// ---------------------------------------------------------------- items
const SLOTS = ["head", "cape", "neck", "ammo", "weapon", "body", "shield", "legs", "hands", "feet", "ring", "2h"];
const items = [];
for (const it of Object.values(itemData)) {
	const eq = it.equipable_by_player && it.equipment ? it.equipment : null;
	if (!usedItems.has(it.id) && !eq) continue;
	const row = { id: it.id, name: it.name, tradeable: Boolean(it.tradeable), price: it.price ?? 0 };
	if (eq && SLOTS.includes(eq.slot)) {
		const e = eq;
		row.equip = {
			slot: e.slot,
			stats: [
				e.attack_stab, e.attack_slash, e.attack_crush, e.attack_magic, e.attack_ranged,
				e.defence_stab, e.defence_slash, e.defence_crush, e.defence_magic, e.defence_ranged,
				e.melee_strength, e.ranged_strength, e.magic_damage, e.prayer,
			].map((x) => x ?? 0),
			speed: it.weapon?.attack_speed ?? 0,
			req: Object.entries(e.requirements ?? {}).filter(([s]) => skills.includes(s)),
		};
	}
	items.push(row);
}
items.sort((a, b) => a.id - b.id);
const known = new Set(items.map((i) => i.id));
for (const id of usedItems) {
	if (!known.has(id)) throw new Error(`drop table names item ${id} that item_data lacks`);
}

const out = {
	source: `oldschooljs ${ojsVersion} (MIT) + hand-made tables in gen/generate.mjs`,
	skills,
	items,
	tables,
	monsters,
	activities,
	food,
	worlds,
	locations,
	slayer_masters,
};
mkdirSync(join(here, "..", "data"), { recursive: true });
const path = join(here, "..", "data", "osrs.json");
writeFileSync(path, JSON.stringify(out));
console.log(
	`wrote ${path}: ${items.length} items, ${tables.length} tables, ${monsters.length} monsters ` +
		`(${skipped.length} skipped: ${skipped.join(", ")}), ${activities.length} activities`,
);
