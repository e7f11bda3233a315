// Generates ../data/osrs.json, the only data the lounge-osrs crate embeds.
//
// Rerun (needs the npm registry once, never at run time):
//   cd games/osrs/gen && npm install && node generate.mjs
//
// Sources:
// - Items, monsters and drop tables: the npm package `oldschooljs` (MIT licence,
//   https://github.com/oldschoolgg/oldschooljs), version pinned in package.json.
// - Skills, XP formula, skilling activities, worlds, locations, food: hand-made tables
//   below (oldschooljs has none of them); each says where its facts come from.
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

// Places named by activities, with their region (wiki "Kingdom" infobox field).
const locations = [
	["Lumbridge", "Misthalin", false], ["Lumbridge Swamp", "Misthalin", false], ["Draynor Village", "Misthalin", false],
	["Varrock", "Misthalin", false], ["Barbarian Village", "Asgarnia", false], ["Grand Exchange", "Misthalin", false],
	["Al Kharid", "Kharidian Desert", false], ["Port Sarim", "Asgarnia", false], ["Falador", "Asgarnia", false],
	["Mining Guild", "Asgarnia", false], ["Crafting Guild", "Asgarnia", false], ["Catherby", "Kandarin", false],
	["Fishing Guild", "Kandarin", false], ["Edgeville", "Misthalin", false], ["Wilderness", "Wilderness", true],
].map(([name, region, wilderness]) => ({ name, region, wilderness }));

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
};
mkdirSync(join(here, "..", "data"), { recursive: true });
const path = join(here, "..", "data", "osrs.json");
writeFileSync(path, JSON.stringify(out));
console.log(
	`wrote ${path}: ${items.length} items, ${tables.length} tables, ${monsters.length} monsters ` +
		`(${skipped.length} skipped: ${skipped.join(", ")}), ${activities.length} activities`,
);
