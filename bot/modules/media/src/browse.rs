//! `/plex browse` as a walk through the owner's Plex: a select menu of what is on the page
//! (libraries, then a library's items, a show's seasons, a season's episodes), buttons for the
//! page before and after and for going back, and for a film or an episode its details with a
//! Play button. Only the member who ran the command moves through it.

use std::time::Duration;

use lounge_ipc::plex::PAGE_SIZE;
use lounge_ipc::to_bot::{PlexItem, PlexItems, Reply};
use lounge_ipc::to_streamer::{Command as Order, PlexList, PlexSort};
use poise::serenity_prelude as serenity;

use crate::plex::{details, details_embed, name, shown_title};
use crate::stream::{ask, target_channel};
use lounge_kit::{Context, Error, bail_user, messages};

/// The browser closes when nobody has used it for this long.
const IDLE: Duration = Duration::from_mins(2);

/// Where the member is.
#[derive(Clone, Debug)]
enum View {
    Libraries,
    List {
        list: PlexList,
        title: String,
        page: u32,
    },
    Item {
        rating_key: String,
    },
}

/// What one view shows.
struct Shown {
    embed: serenity::CreateEmbed,
    /// `(value, label)` for the select menu.
    choices: Vec<(String, String)>,
    pages: Option<(u32, u64)>,
    playable: bool,
    /// How many entries the whole list has.
    total: u64,
}

/// Opens the browser at `start` (the libraries, or a library's page).
pub(crate) async fn run(
    ctx: Context<'_>,
    start: Option<(String, PlexSort, u32)>,
) -> Result<(), Error> {
    let mut trail: Vec<View> = Vec::new();
    let mut view = match start {
        Some((key, sort, page)) => View::List {
            list: PlexList::Library { key, sort },
            title: "Plex library".to_owned(),
            page,
        },
        None => View::Libraries,
    };
    let prefix = format!("{}:browse:", ctx.id());
    let ids = Ids::new(&prefix);
    let shown = show(ctx, &view).await?;
    if shown.choices.is_empty() && !shown.playable {
        match &view {
            View::List { page, .. } => bail_user!(
                "Page {} of that library is empty (it has {} items).",
                page + 1,
                shown.total
            ),
            _ => bail_user!("There is nothing here to browse."),
        }
    }
    let mut presses = lounge_kit::ui::ButtonPresses::new(ctx, prefix.clone());
    let handle = ctx
        .send(
            poise::CreateReply::default()
                .embed(shown.embed.clone())
                .components(components(&ids, &shown, !trail.is_empty())),
        )
        .await?;
    let mut current = shown;
    while let Some(press) = presses.next(IDLE).await {
        if press.user.id != ctx.author().id {
            lounge_kit::ui::answer_privately(ctx, &press, messages::ONLY_INVOKER_PAGES).await?;
            continue;
        }
        let id = press.data.custom_id.as_str();
        if id == ids.play {
            if let View::Item { rating_key } = &view {
                press
                    .create_response(
                        ctx,
                        serenity::CreateInteractionResponse::UpdateMessage(
                            serenity::CreateInteractionResponseMessage::new()
                                .embed(current.embed.clone())
                                .components(Vec::new()),
                        ),
                    )
                    .await?;
                return play(ctx, rating_key).await;
            }
            continue;
        }
        let next = if id == ids.back {
            trail.pop()
        } else if id == ids.prev || id == ids.next {
            match &view {
                View::List { list, title, page } => {
                    let page = if id == ids.next {
                        page.saturating_add(1)
                    } else {
                        page.saturating_sub(1)
                    };
                    Some(View::List {
                        list: list.clone(),
                        title: title.clone(),
                        page,
                    })
                }
                _ => None,
            }
        } else if id == ids.select {
            let picked = match &press.data.kind {
                serenity::ComponentInteractionDataKind::StringSelect { values } => {
                    values.first().cloned()
                }
                _ => None,
            };
            picked
                .and_then(|value| into(&view, &current, &value))
                .inspect(|_| trail.push(view.clone()))
        } else {
            None
        };
        let Some(next) = next else {
            press
                .create_response(ctx, serenity::CreateInteractionResponse::Acknowledge)
                .await?;
            continue;
        };
        // The streamer may take a moment: acknowledge the press first.
        press
            .create_response(ctx, serenity::CreateInteractionResponse::Acknowledge)
            .await?;
        match show(ctx, &next).await {
            Ok(shown) => {
                view = next;
                current = shown;
            }
            Err(e) => {
                let why = lounge_kit::error::user_facing(ctx, &e);
                current.embed = current
                    .embed
                    .clone()
                    .footer(serenity::CreateEmbedFooter::new(why));
            }
        }
        handle
            .edit(
                ctx,
                poise::CreateReply::default()
                    .embed(current.embed.clone())
                    .components(components(&ids, &current, !trail.is_empty())),
            )
            .await?;
    }
    handle
        .edit(ctx, poise::CreateReply::default().components(Vec::new()))
        .await?;
    Ok(())
}

struct Ids {
    select: String,
    back: String,
    prev: String,
    next: String,
    play: String,
}

impl Ids {
    fn new(prefix: &str) -> Self {
        Self {
            select: format!("{prefix}select"),
            back: format!("{prefix}back"),
            prev: format!("{prefix}prev"),
            next: format!("{prefix}next"),
            play: format!("{prefix}play"),
        }
    }
}

/// The view a pick leads to: a library's first page, an item's children, or an item.
fn into(view: &View, shown: &Shown, value: &str) -> Option<View> {
    let (_, label) = shown.choices.iter().find(|(v, _)| v == value)?;
    Some(match view {
        View::Libraries => View::List {
            list: PlexList::Library {
                key: value.to_owned(),
                sort: PlexSort::Title,
            },
            title: label.clone(),
            page: 0,
        },
        View::List { .. } => match value.split_once(':') {
            Some(("children", key)) => View::List {
                list: PlexList::Children {
                    rating_key: key.to_owned(),
                },
                title: label.clone(),
                page: 0,
            },
            Some(("item", key)) => View::Item {
                rating_key: key.to_owned(),
            },
            _ => return None,
        },
        View::Item { .. } => return None,
    })
}

async fn show(ctx: Context<'_>, view: &View) -> Result<Shown, Error> {
    match view {
        View::Libraries => {
            let Reply::PlexLibraries { libraries } = ask(ctx, Order::PlexLibraries).await? else {
                bail_user!("The streamer gave an answer I didn't expect; its log says why.");
            };
            let lines: Vec<String> = libraries
                .iter()
                .map(|l| format!("**{}** · {}", l.title, l.kind))
                .collect();
            Ok(Shown {
                embed: serenity::CreateEmbed::new()
                    .title("Plex libraries")
                    .description(lines.join("\n")),
                choices: libraries
                    .iter()
                    .take(25)
                    .map(|l| (l.key.clone(), label(&l.title)))
                    .collect(),
                pages: None,
                playable: false,
                total: libraries.len() as u64,
            })
        }
        View::List { list, title, page } => {
            let reply = ask(
                ctx,
                Order::PlexBrowse {
                    list: list.clone(),
                    page: *page,
                },
            )
            .await?;
            let Reply::PlexItems(items) = reply else {
                bail_user!("The streamer gave an answer I didn't expect; its log says why.");
            };
            Ok(list_view(title, &items))
        }
        View::Item { rating_key } => {
            let d = details(ctx, rating_key).await?;
            let playable = matches!(d.kind.as_str(), "movie" | "episode" | "clip");
            Ok(Shown {
                embed: details_embed(&d),
                choices: Vec::new(),
                pages: None,
                playable,
                total: 1,
            })
        }
    }
}

fn list_view(title: &str, items: &PlexItems) -> Shown {
    let pages = items.total.div_ceil(u64::from(PAGE_SIZE)).max(1);
    let lines: Vec<String> = items.items.iter().map(name).collect();
    let description = if lines.is_empty() {
        "Nothing on this page.".to_owned()
    } else {
        lines.join("\n")
    };
    Shown {
        embed: serenity::CreateEmbed::new()
            .title(format!("{title} · page {} of {pages}", items.page + 1))
            .description(description),
        choices: items.items.iter().take(25).map(choice).collect(),
        pages: Some((items.page, pages)),
        playable: false,
        total: items.total,
    }
}

/// A list entry's select value: go into it, or open it.
fn choice(item: &PlexItem) -> (String, String) {
    let value = if item.has_children {
        format!("children:{}", item.rating_key)
    } else {
        format!("item:{}", item.rating_key)
    };
    (value, label(&name(item).replace("**", "")))
}

/// Discord's select labels hold at most 100 characters.
fn label(text: &str) -> String {
    lounge_ipc::plex::truncate(text, 100)
}

fn components(ids: &Ids, shown: &Shown, can_go_back: bool) -> Vec<serenity::CreateActionRow> {
    let mut rows = Vec::new();
    if !shown.choices.is_empty() {
        let options = shown
            .choices
            .iter()
            .map(|(value, label)| serenity::CreateSelectMenuOption::new(label, value))
            .collect();
        rows.push(serenity::CreateActionRow::SelectMenu(
            serenity::CreateSelectMenu::new(
                &ids.select,
                serenity::CreateSelectMenuKind::String { options },
            )
            .placeholder("Pick one to open it"),
        ));
    }
    let mut buttons = Vec::new();
    if can_go_back {
        buttons.push(
            serenity::CreateButton::new(&ids.back)
                .label("◀ Back")
                .style(serenity::ButtonStyle::Secondary),
        );
    }
    if let Some((page, pages)) = shown.pages
        && pages > 1
    {
        buttons.push(
            serenity::CreateButton::new(&ids.prev)
                .label("Previous page")
                .style(serenity::ButtonStyle::Secondary)
                .disabled(page == 0),
        );
        buttons.push(
            serenity::CreateButton::new(&ids.next)
                .label("Next page")
                .style(serenity::ButtonStyle::Secondary)
                .disabled(u64::from(page) + 1 >= pages),
        );
    }
    if shown.playable {
        buttons.push(
            serenity::CreateButton::new(&ids.play)
                .label("▶ Play in my voice channel")
                .style(serenity::ButtonStyle::Primary),
        );
    }
    if !buttons.is_empty() {
        rows.push(serenity::CreateActionRow::Buttons(buttons));
    }
    rows
}

/// The Play button: as `/plex play` in the member's voice channel, from the start.
async fn play(ctx: Context<'_>, rating_key: &str) -> Result<(), Error> {
    let (guild_id, channel_id) = target_channel(ctx, None).await?;
    let title = shown_title(&details(ctx, rating_key).await?);
    let now = lounge_store::NowPlaying {
        guild_id: guild_id.get(),
        channel_id: channel_id.get(),
        rating_key: rating_key.to_owned(),
        title: title.clone(),
        requested_by: ctx.author().id.get(),
        position_ms: 0,
    };
    crate::plex::play_item(ctx, &now, lounge_ipc::to_streamer::Tracks::default()).await?;
    lounge_kit::say(ctx, format!("Playing **{title}** in <#{channel_id}>.")).await?;
    Ok(())
}
