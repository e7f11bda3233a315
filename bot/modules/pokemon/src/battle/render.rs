//! What a battle looks like in Discord: the embed with both sides and the turn's log, and the
//! buttons for a choice.

use lounge_pokemon::battle::{Action, Battle, CantReason, Event};
use lounge_pokemon::data::Status;
use poise::serenity_prelude as serenity;

use super::{Run, View, bench};
use crate::{game, messages};
use lounge_kit::{Context, Error};

/// Log lines shown per turn; long multi-hit turns are cut.
const LOG_LINES: usize = 15;

/// The buttons for `side`'s choice, ids under `prefix`: when its Pokémon fainted, one per
/// healthy team member to send in; otherwise a row of moves (greyed out without PP, or
/// Struggle when nothing else is left), with Run (or Forfeit) beside them against the computer,
/// and a row switching to each healthy team member. At most five per row, as Discord allows:
/// four moves and Run, five team members on the bench.
pub(super) fn choice_rows(
    battle: &Battle,
    view: &View,
    side: u8,
    prefix: &str,
    run: Option<Run>,
) -> Vec<serenity::CreateActionRow> {
    let s = &battle.sides[usize::from(side)];
    let replacing = battle.needs_replacement[usize::from(side)];
    let switches: Vec<serenity::CreateButton> = bench(battle, side)
        .into_iter()
        .map(|slot| {
            let p = &s.team[usize::from(slot)];
            let name = &view.short[usize::from(side)][usize::from(slot)];
            let verb = if replacing { "Send in" } else { "Switch to" };
            serenity::CreateButton::new(format!("{prefix}:sw:{slot}"))
                .label(format!("{verb} {name} ({}/{} HP)", p.hp, p.stats.0[0]))
                .style(if replacing {
                    serenity::ButtonStyle::Success
                } else {
                    serenity::ButtonStyle::Secondary
                })
        })
        .collect();
    if replacing {
        return vec![serenity::CreateActionRow::Buttons(switches)];
    }
    let p = s.active();
    let mut legal = Vec::new();
    battle.legal_actions(side, &mut legal);
    let mut moves: Vec<serenity::CreateButton> = if legal.contains(&Action::Struggle) {
        vec![
            serenity::CreateButton::new(format!("{prefix}:mv:struggle"))
                .label("Struggle")
                .style(serenity::ButtonStyle::Primary),
        ]
    } else {
        (0..usize::from(p.move_count))
            .map(|i| {
                let name = game::move_name(p.moves[i]);
                serenity::CreateButton::new(format!("{prefix}:mv:{i}"))
                    .label(format!("{name} ({} PP)", p.pp[i]))
                    .style(serenity::ButtonStyle::Primary)
                    .disabled(!legal.contains(&Action::Move(i as u8)))
            })
            .collect()
    };
    if let Some(run) = run {
        let (label, style) = match run {
            Run::Run => ("Run", serenity::ButtonStyle::Secondary),
            Run::Forfeit => ("Forfeit", serenity::ButtonStyle::Danger),
        };
        moves.push(
            serenity::CreateButton::new(format!("{prefix}:run"))
                .label(label)
                .style(style),
        );
    }
    let mut rows = vec![serenity::CreateActionRow::Buttons(moves)];
    if !switches.is_empty() {
        rows.push(serenity::CreateActionRow::Buttons(switches));
    }
    rows
}

fn hp_bar(hp: u16, max: u16) -> String {
    let filled = if max == 0 {
        0
    } else {
        (usize::from(hp) * 10).div_ceil(usize::from(max))
    };
    format!("{}{}", "█".repeat(filled), "░".repeat(10 - filled.min(10)))
}

/// A team's standing: ● for each Pokémon that can battle, ○ for each that fainted.
fn team_left(side: &lounge_pokemon::battle::Side) -> String {
    let dots: String = side
        .team
        .iter()
        .map(|p| if p.fainted() { '○' } else { '●' })
        .collect();
    let left = side.team.iter().filter(|p| !p.fainted()).count();
    format!("{dots} {left}/{} left", side.team.len())
}

pub(super) fn state_embed(battle: &Battle, view: &View, lines: &[String]) -> serenity::CreateEmbed {
    let mut e = serenity::CreateEmbed::new()
        .title(format!("{} vs {}", view.trainers[0], view.trainers[1]))
        .colour(messages::COLOUR);
    let mut shown: Vec<String> = lines.iter().take(LOG_LINES).cloned().collect();
    if lines.len() > LOG_LINES {
        shown.push("…".to_owned());
    }
    if !shown.is_empty() {
        e = e.description(shown.join("\n"));
    }
    for (i, side) in battle.sides.iter().enumerate() {
        let p = side.active();
        let status = p
            .status
            .map_or(String::new(), |s| format!(" · {}", status_name(s)));
        let left = if side.team.len() > 1 {
            format!("\n{}", team_left(side))
        } else {
            String::new()
        };
        e = e.field(
            &view.trainers[i],
            format!(
                "**{}** · Lv {} · HP {}/{}{status}\n{}{left}",
                view.short[i][usize::from(side.active)],
                p.level,
                p.hp,
                p.stats.0[0],
                hp_bar(p.hp, p.stats.0[0])
            ),
            true,
        );
    }
    e.thumbnail(game::artwork_url(
        battle.sides[1].active().species.num,
        false,
    ))
}

fn status_name(s: Status) -> &'static str {
    match s {
        Status::Burn => "burned",
        Status::Freeze => "frozen",
        Status::Paralysis => "paralysed",
        Status::Poison => "poisoned",
        Status::Toxic => "badly poisoned",
        Status::Sleep => "asleep",
    }
}

/// The turn's events as sentences. `active` is who was out on each side before them; switches
/// in the events move it on, so every line names the Pokémon that was out at that moment.
pub(super) fn describe(events: &[Event], view: &View, mut active: [u8; 2]) -> Vec<String> {
    let stats = [
        "Attack", "Defense", "Sp. Atk", "Sp. Def", "Speed", "accuracy", "evasion",
    ];
    let mut lines = Vec::new();
    for e in events {
        if let Event::SwitchIn { side, slot, .. } = *e {
            active[usize::from(side.min(1))] = slot;
        }
        let name = |side: u8| {
            let side = usize::from(side.min(1));
            view.names[side][usize::from(active[side])].as_str()
        };
        lines.push(match *e {
            Event::SwitchIn { side, slot, .. } => format!(
                "{} sent out **{}**!",
                view.trainers[usize::from(side.min(1))],
                view.short[usize::from(side.min(1))][usize::from(slot)]
            ),
            Event::UseMove { side, move_num } => {
                format!("{} used **{}**!", name(side), game::move_name(move_num))
            }
            Event::Cant { side, reason } => match reason {
                CantReason::Asleep => format!("{} is fast asleep.", name(side)),
                CantReason::Frozen => format!("{} is frozen solid!", name(side)),
                CantReason::Paralyzed => format!("{} is paralysed! It can't move!", name(side)),
                CantReason::Flinched => format!("{} flinched!", name(side)),
                CantReason::Recharging => format!("{} must recharge!", name(side)),
            },
            Event::Miss { .. } => "The attack missed!".to_owned(),
            Event::NoEffect { side } => format!("It doesn't affect {}…", name(side)),
            Event::Crit { .. } => "A critical hit!".to_owned(),
            Event::Effectiveness { quarters, .. } if quarters > 4 => {
                "It's super effective!".to_owned()
            }
            Event::Effectiveness { quarters, .. } if quarters < 4 && quarters > 0 => {
                "It's not very effective…".to_owned()
            }
            Event::Damage { side, amount, .. } => format!("{} lost {amount} HP.", name(side)),
            Event::Heal { side, amount, .. } => {
                format!("{} recovered {amount} HP.", name(side))
            }
            Event::Hits { count, .. } => format!("Hit {count} times!"),
            Event::Status { side, status } => {
                format!("{} is {}!", name(side), status_name(status))
            }
            Event::Cured { side } => format!("{} is cured.", name(side)),
            Event::Boost { side, stat, by } => {
                let stat = stats.get(usize::from(stat)).copied().unwrap_or("a stat");
                let how = if by > 0 { "rose" } else { "fell" };
                format!("{}'s {stat} {how}!", name(side))
            }
            Event::Endured { side } => format!("{} endured the hit!", name(side)),
            Event::Weather(Some(_)) => "The weather changed.".to_owned(),
            Event::Weather(None) => "The weather cleared.".to_owned(),
            Event::Faint { side } => format!("{} fainted!", name(side)),
            _ => continue,
        });
    }
    lines
}

pub(super) async fn update_battle(
    ctx: Context<'_>,
    press: &serenity::ComponentInteraction,
    embed: serenity::CreateEmbed,
    components: Vec<serenity::CreateActionRow>,
) -> Result<(), Error> {
    press
        .create_response(
            ctx,
            serenity::CreateInteractionResponse::UpdateMessage(
                serenity::CreateInteractionResponseMessage::new()
                    .embed(embed)
                    .components(components)
                    .allowed_mentions(serenity::CreateAllowedMentions::new()),
            ),
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use lounge_pokemon::battle::random_team;
    use rand::SeedableRng;

    use super::*;

    fn view(name: &str) -> View {
        let short: Vec<String> = (0..6).map(|i| format!("{name}{i}")).collect();
        let names = |trainer: &str| short.iter().map(|n| format!("{n} ({trainer})")).collect();
        View {
            trainers: ["ash".to_owned(), "gary".to_owned()],
            names: [names("ash"), names("gary")],
            short: [short.clone(), short.clone()],
        }
    }

    /// Discord takes at most five buttons a row, five rows, 100-character ids and 80-character
    /// labels: a full team's choices fit, with Run, the longest ids a battle makes and the
    /// longest names a member can give.
    #[test]
    fn a_full_team_fits_discords_component_limits() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let battle =
            Battle::new([random_team(6, 50, &mut rng), random_team(6, 50, &mut rng)]).unwrap();
        let longest = format!("✨ {}", "W".repeat(20));
        let view = view(&longest);
        let prefix = format!("{}:pvp:{}", u64::MAX, u32::MAX);
        for run in [Some(Run::Run), Some(Run::Forfeit), None] {
            let rows = serde_json::to_value(choice_rows(&battle, &view, 0, &prefix, run)).unwrap();
            let rows = rows.as_array().unwrap();
            assert!((1..=5).contains(&rows.len()), "{rows:?}");
            let mut switches = 0;
            for row in rows {
                let buttons = row["components"].as_array().unwrap();
                assert!((1..=5).contains(&buttons.len()), "{row}");
                for b in buttons {
                    let id = b["custom_id"].as_str().unwrap();
                    assert!(id.len() <= 100, "{id}");
                    assert!(b["label"].as_str().unwrap().chars().count() <= 80, "{b}");
                    switches += usize::from(id.contains(":sw:"));
                }
            }
            assert_eq!(switches, 5, "one per healthy team member on the bench");
        }
    }

    /// Each line names the Pokémon that was out when it happened, across a switch.
    #[test]
    fn the_log_follows_switches() {
        let view = view("mon");
        let events = [
            Event::UseMove {
                side: 1,
                move_num: 33,
            },
            Event::SwitchIn {
                side: 0,
                slot: 2,
                species: 25,
            },
            Event::Damage {
                side: 0,
                amount: 10,
                hp: 0,
            },
            Event::Faint { side: 0 },
        ];
        let lines = describe(&events, &view, [0, 4]);
        assert_eq!(
            lines,
            [
                "mon4 (gary) used **Tackle**!",
                "ash sent out **mon2**!",
                "mon2 (ash) lost 10 HP.",
                "mon2 (ash) fainted!",
            ]
        );
    }

    #[test]
    fn team_standing_counts_the_fainted() {
        let mut rng = rand::rngs::StdRng::seed_from_u64(3);
        let mut battle =
            Battle::new([random_team(3, 50, &mut rng), random_team(1, 50, &mut rng)]).unwrap();
        assert_eq!(team_left(&battle.sides[0]), "●●● 3/3 left");
        battle.sides[0].team[1].hp = 0;
        assert_eq!(team_left(&battle.sides[0]), "●○● 2/3 left");
    }
}
