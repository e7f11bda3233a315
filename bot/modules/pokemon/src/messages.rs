//! What the Pokémon game says, in one place so the wording stays consistent.

use std::fmt::Write as _;

use poise::serenity_prelude as serenity;

use super::game::{self, artwork_url, display_name, species};
use lounge_store::{HeldFrom, NewSpawn, Pokemon, Spawn};

pub const COLOUR: u32 = 0x00E3_350D;

pub const NO_SPAWN: &str =
    "There's no wild Pokémon here right now. Keep chatting and one will appear!";
pub const NO_POKEMON: &str =
    "You don't have any Pokémon yet. Catch one when it appears: `/catch <name>`.";
pub const NOT_YOURS: &str = "Only the people in this can press these buttons.";
pub const NEED_A_POKEMON_EACH: &str = "Both trainers need a Pokémon to battle.";
pub const CANT_NOW: &str = "That can't be done right now.";
pub const SEND_IN_NEXT: &str = "Choose who to send in next.";
pub const OPPONENT_SENDS_IN: &str =
    "Your opponent's Pokémon fainted; wait while they choose the next one.";
pub const TEAM_USAGE: &str = "List up to six of your Pokémon by number, in battle order: \
     `/pokemon team set 12, 15, 3` (numbers are in `/pokemon list`).";
pub const NO_TEAM: &str = "You have no team, so your selected Pokémon battles alone. \
     Make one with `/pokemon team set 12, 15, 3`.";

/// Who fights on one side, for a challenge: one Pokémon, or a team in order.
pub fn team_summary(team: &[Pokemon]) -> String {
    let one = |p: &Pokemon| format!("{} (level {})", display_name(p), p.level);
    match team {
        [p] => one(p),
        _ => format!(
            "team of {}: {}",
            team.len(),
            team.iter().map(one).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// A battle team, lead first.
pub fn team_embed(owner: &str, team: &[Pokemon]) -> serenity::CreateEmbed {
    let lines: Vec<String> = team
        .iter()
        .enumerate()
        .map(|(i, p)| format!("{}. {}", i + 1, list_line(p)))
        .collect();
    serenity::CreateEmbed::new()
        .title(format!("{owner}'s battle team"))
        .description(lines.join("\n"))
        .footer(serenity::CreateEmbedFooter::new(
            "The first one leads. Every one that is sent out shares the experience of a win.",
        ))
        .colour(COLOUR)
}

pub fn spawn_embed(s: &NewSpawn) -> serenity::CreateEmbed {
    let title = if s.shiny {
        "✨ A shiny wild Pokémon appeared! ✨"
    } else {
        "A wild Pokémon appeared!"
    };
    serenity::CreateEmbed::new()
        .title(title)
        .description(
            "Guess its name with `/catch <name>` to catch it, or throw a ball from your bag with `/throw`.",
        )
        .image(artwork_url(s.species, s.shiny))
        .colour(COLOUR)
}

pub fn wrong_name(guess: &str) -> String {
    format!(
        "That's not it: the wild Pokémon isn't “{}”. Look again and try another name!",
        lounge_kit::error::sanitize(guess)
    )
}

pub fn already_caught(spawn: &Spawn, by: u64) -> String {
    format!(
        "Too late: <@{by}> already caught that {}. Wait for the next one!",
        species(spawn.species).name
    )
}

pub fn caught(user: u64, p: &Pokemon, reward: i64, how: &str) -> String {
    let shiny = if p.shiny { " It's shiny! ✨" } else { "" };
    format!(
        "🎉 <@{user}> caught a level {} **{}**{how}! It's #{} in your collection (+{reward} coins).{shiny}",
        p.level,
        species(p.species).name,
        p.id
    )
}

pub fn broke_free(shakes: u8, ball: &str, left: i64) -> String {
    let wobble = match shakes {
        0 => "Oh no! The Pokémon broke free at once!".to_owned(),
        1 => "Argh! It shook once and broke free!".to_owned(),
        n => format!("Aargh! Almost had it: {n} shakes, then it broke free!"),
    };
    format!("{wobble} ({left} {ball} left)")
}

pub fn evolved(user: u64, before: &Pokemon, into: u16) -> String {
    format!(
        "What? <@{user}>'s {} evolved into **{}**! (Opt out with `/pokemon evolution`.)",
        display_name(before),
        species(into).name
    )
}

pub fn evolved_by_item(before: &Pokemon, into: u16) -> String {
    format!(
        "#{} {} evolved into **{}**!",
        before.id,
        display_name(before),
        species(into).name
    )
}

/// One line of a collection listing.
pub fn list_line(p: &Pokemon) -> String {
    let iv_total: u32 = p.ivs.iter().map(|&v| u32::from(v)).sum();
    let mut line = format!(
        "`#{}` **{}** · Lv {} · IV {}%",
        p.id,
        display_name(p),
        p.level,
        iv_total * 100 / 186
    );
    if p.nickname.is_some() {
        let _ = write!(line, " ({})", species(p.species).name);
    }
    if p.favourite {
        line.push_str(" ❤");
    }
    if let Some(item) = &p.held_item {
        let _ = write!(line, " · holds {item}");
    }
    line
}

pub fn unknown_held_item(name: &str) -> String {
    format!(
        "There's no item \"{}\" to hold. Items include Leftovers, Choice Band, Metal Coat, \
         Razor Claw and Everstone; the `item` option suggests them all.",
        name.trim().replace('`', "'")
    )
}

/// The answer to `/pokemon hold`: what it holds now, what it cost, and what the item will do
/// (the evolution it leads to, its battle effect, or stopping evolution).
pub fn now_holding(p: &Pokemon, item: &str, from: HeldFrom, price: i64) -> String {
    use lounge_pokemon::data::{EvolutionKind, TimeOfDay};
    use lounge_pokemon::effects::has_battle_effect;
    use lounge_pokemon::evolution::{EVERSTONE, held_item_evolutions};
    let paid = match from {
        HeldFrom::Bag => "from your bag".to_owned(),
        HeldFrom::Bought { balance } => format!("{price} coins; {balance} left"),
    };
    let mut msg = format!(
        "#{} {} is now holding a {item} ({paid}).",
        p.id,
        display_name(p)
    );
    for (_, into, how) in held_item_evolutions(p.species)
        .into_iter()
        .filter(|(i, _, _)| *i == item)
    {
        let when = match (how.kind, how.time) {
            (EvolutionKind::Trade, _) => "when it is traded".to_owned(),
            (_, Some(TimeOfDay::Night)) => "when it levels up at night".to_owned(),
            (_, Some(TimeOfDay::Day)) => "when it levels up during the day".to_owned(),
            _ => "when it levels up".to_owned(),
        };
        let _ = write!(msg, " It will evolve into **{}** {when}.", into.name);
    }
    if item == EVERSTONE {
        msg.push_str(" It won't evolve while it holds it.");
    } else if has_battle_effect(item) {
        msg.push_str(" It uses it in battles.");
    }
    msg
}

pub fn info_embed(p: &Pokemon, selected: bool) -> serenity::CreateEmbed {
    use lounge_pokemon::stats::{Spread, StatTable, calc_stats};
    let s = species(p.species);
    let natures = lounge_pokemon::data::dex().natures();
    let nature = natures[usize::from(p.nature) % natures.len()];
    let spread = Spread {
        ivs: StatTable(p.ivs),
        evs: StatTable([0; 6]),
    };
    let stats = calc_stats(s, p.level, &spread, nature);
    let names = ["HP", "Attack", "Defense", "Sp. Atk", "Sp. Def", "Speed"];
    let stat_lines: Vec<String> = names
        .iter()
        .zip(stats.0.iter().zip(p.ivs.iter()))
        .map(|(n, (v, iv))| format!("{n}: **{v}** (IV {iv})"))
        .collect();
    let types: Vec<&str> = s.types().iter().map(|t| t.name()).collect();
    let next = if p.level >= 100 {
        "max level".to_owned()
    } else {
        format!(
            "{} XP to level {}",
            s.growth_rate
                .exp_for_level(p.level + 1)
                .saturating_sub(p.exp),
            p.level + 1
        )
    };
    let moves: Vec<&str> = p.moves.iter().map(|&m| game::move_name(m)).collect();
    let mut flags = Vec::new();
    if selected {
        flags.push("selected");
    }
    if p.favourite {
        flags.push("favourite ❤");
    }
    if !p.evolve {
        flags.push("won't evolve");
    }
    let holding = p.held_item.as_deref().unwrap_or("nothing");
    let mut e = serenity::CreateEmbed::new()
        .title(format!("#{} {} — level {}", p.id, display_name(p), p.level))
        .description(format!(
            "**{}** ({}) · {} nature · friendship {}\nHolding: {holding}\n{next}",
            s.name,
            types.join("/"),
            nature.name,
            p.friendship
        ))
        .field("Stats", stat_lines.join("\n"), true)
        .field(
            "Moves",
            if moves.is_empty() {
                "—".to_owned()
            } else {
                moves.join("\n")
            },
            true,
        )
        .thumbnail(artwork_url(p.species, p.shiny))
        .colour(COLOUR);
    if !flags.is_empty() {
        e = e.footer(serenity::CreateEmbedFooter::new(flags.join(" · ")));
    }
    e
}

pub fn ball_missing(ball: &str) -> String {
    format!("You have no {ball}s. Buy some with `/pokemon buy`.")
}
