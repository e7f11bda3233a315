//! `/plex`: the owner's Plex library, asked through lounge-streamer, which owns the Plex
//! connection and token (the bot never sees either). `search` and `libraries` list, `info`
//! shows one item; `item` options autocomplete from a search.

use std::time::Duration;

use lounge_ipc::plex::{MAX_QUERY, PAGE_SIZE};
use lounge_ipc::to_bot::{PlexDetails, PlexItem, PlexItems, Reply};
use lounge_ipc::to_streamer::{Command as Order, PlexList, PlexSort};
use poise::serenity_prelude as serenity;

use crate::link::Link;
use crate::stream::ask;
use lounge_kit::{Context, Error, bail_user};

/// Rows per embed page: a page of Plex results split in two reads better than one wall.
const LINES_PER_PAGE: usize = 10;
/// Autocomplete must answer within three seconds, including Discord's own share.
const AUTOCOMPLETE_TIMEOUT: Duration = Duration::from_millis(1500);

mod text {
    pub const EMPTY_QUERY: &str = "Say what to look for, e.g. `/plex search heat`.";
    pub const NO_LIBRARIES: &str = "The owner's Plex server has no libraries yet.";
    pub const NOT_AN_ITEM: &str = "That isn't a Plex item: pick one from the list as you type, or search with `/plex search`.";
    pub const UNEXPECTED: &str = "The streamer gave an answer I didn't expect; its log says why.";
}

/// The owner's Plex library, through lounge-streamer
#[poise::command(
    slash_command,
    prefix_command,
    subcommands("search", "libraries", "browse", "info"),
    subcommand_required
)]
pub async fn plex(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Search the owner's Plex for films, shows and episodes
#[poise::command(slash_command, prefix_command)]
pub async fn search(
    ctx: Context<'_>,
    #[description = "What to look for: a title, or part of one"]
    #[rest]
    query: String,
) -> Result<(), Error> {
    let query = valid_query(&query)?;
    ctx.defer().await?;
    let items = items(
        ask(
            ctx,
            Order::PlexSearch {
                query: query.clone(),
            },
        )
        .await?,
    )?;
    if items.items.is_empty() {
        bail_user!(
            "Nothing in the owner's Plex matches `{}`.",
            lounge_kit::error::sanitize(&query)
        );
    }
    let title = format!("Plex: “{}”", lounge_ipc::plex::truncate(&query, 40));
    show_items(ctx, &title, &items).await
}

/// List the owner's Plex libraries
#[poise::command(slash_command, prefix_command)]
pub async fn libraries(ctx: Context<'_>) -> Result<(), Error> {
    ctx.defer().await?;
    let Reply::PlexLibraries { libraries } = ask(ctx, Order::PlexLibraries).await? else {
        bail_user!("{}", text::UNEXPECTED);
    };
    if libraries.is_empty() {
        bail_user!("{}", text::NO_LIBRARIES);
    }
    let lines: Vec<String> = libraries
        .iter()
        .map(|l| format!("**{}** · {} · `{}`", l.title, l.kind, l.key))
        .collect();
    let pages = lounge_kit::ui::line_pages("Plex libraries", &lines, LINES_PER_PAGE);
    lounge_kit::ui::paginate(ctx, pages).await
}

/// The sort orders `/plex browse` offers.
#[derive(Clone, Copy, Debug, poise::ChoiceParameter)]
pub enum Sort {
    #[name = "recently added"]
    RecentlyAdded,
    #[name = "title"]
    Title,
    #[name = "year"]
    Year,
    #[name = "rating"]
    Rating,
}

impl Sort {
    fn ipc(self) -> PlexSort {
        match self {
            Sort::RecentlyAdded => PlexSort::RecentlyAdded,
            Sort::Title => PlexSort::Title,
            Sort::Year => PlexSort::Year,
            Sort::Rating => PlexSort::Rating,
        }
    }
}

/// Page through one Plex library
#[poise::command(slash_command, prefix_command)]
pub async fn browse(
    ctx: Context<'_>,
    #[description = "The library's key, from /plex libraries"] library: String,
    #[description = "Order (default: recently added)"] sort: Option<Sort>,
    #[description = "Which page of 25 (default 1)"] page: Option<lounge_kit::Bounded<1, 10_000>>,
) -> Result<(), Error> {
    let key = library.trim();
    if !lounge_ipc::plex::key_fits(key) {
        bail_user!("That isn't a library key: `/plex libraries` lists them.");
    }
    ctx.defer().await?;
    let page = page.map_or(0, |p| p.count() - 1) as u32;
    let list = PlexList::Library {
        key: key.to_owned(),
        sort: sort.unwrap_or(Sort::RecentlyAdded).ipc(),
    };
    let items = items(ask(ctx, Order::PlexBrowse { list, page }).await?)?;
    if items.items.is_empty() {
        bail_user!(
            "Page {} of that library is empty (it has {} items).",
            page + 1,
            items.total
        );
    }
    let pages_total = items.total.div_ceil(u64::from(PAGE_SIZE)).max(1);
    let title = format!("Plex library · page {} of {pages_total}", page + 1);
    show_items(ctx, &title, &items).await
}

/// Show one Plex item: what it is, its summary and its versions
#[poise::command(slash_command, prefix_command)]
pub async fn info(
    ctx: Context<'_>,
    #[description = "The item (start typing its title)"]
    #[autocomplete = "autocomplete_item"]
    #[rest]
    item: String,
) -> Result<(), Error> {
    let key = item.trim();
    if !lounge_ipc::plex::key_fits(key) || !key.bytes().all(|b| b.is_ascii_digit()) {
        bail_user!("{}", text::NOT_AN_ITEM);
    }
    ctx.defer().await?;
    let reply = ask(
        ctx,
        Order::PlexMetadata {
            rating_key: key.to_owned(),
        },
    )
    .await?;
    let Reply::PlexMetadata(details) = reply else {
        bail_user!("{}", text::UNEXPECTED);
    };
    ctx.send(poise::CreateReply::default().embed(details_embed(&details)))
        .await?;
    Ok(())
}

fn valid_query(query: &str) -> Result<String, Error> {
    let query = query.trim();
    if query.is_empty() {
        bail_user!("{}", text::EMPTY_QUERY);
    }
    if query.chars().count() > MAX_QUERY {
        bail_user!("A search can be at most {MAX_QUERY} characters.");
    }
    Ok(query.to_owned())
}

fn items(reply: Reply) -> Result<PlexItems, Error> {
    match reply {
        Reply::PlexItems(items) => Ok(items),
        _ => Err(lounge_kit::user_error(text::UNEXPECTED)),
    }
}

async fn show_items(ctx: Context<'_>, title: &str, items: &PlexItems) -> Result<(), Error> {
    let lines: Vec<String> = items.items.iter().map(line).collect();
    let mut pages = lounge_kit::ui::line_pages(title, &lines, LINES_PER_PAGE);
    let shown = items.items.len() as u64;
    if items.total > shown {
        let more = format!("{shown} of {} · /plex info shows one", items.total);
        pages = pages
            .into_iter()
            .map(|p| p.footer(serenity::CreateEmbedFooter::new(more.clone())))
            .collect();
    }
    lounge_kit::ui::paginate(ctx, pages).await
}

/// One list row: what it is, in the words a Plex user reads, and its key for `/plex info`.
fn line(item: &PlexItem) -> String {
    format!("{} · {} · `{}`", name(item), item.kind, item.rating_key)
}

/// "Heat (1995)", "The Office · S2E3 · The Fire", "The Office · Season 2".
fn name(item: &PlexItem) -> String {
    let year = item.year.map(|y| format!(" ({y})")).unwrap_or_default();
    match (
        item.kind.as_str(),
        &item.grandparent_title,
        &item.parent_title,
    ) {
        ("episode", Some(show), _) => {
            let number = match (item.parent_index, item.index) {
                (Some(s), Some(e)) => format!("S{s}E{e} · "),
                _ => String::new(),
            };
            format!("{show} · {number}**{}**", item.title)
        }
        ("season", _, Some(show)) => format!("{show} · **{}**", item.title),
        _ => format!("**{}**{year}", item.title),
    }
}

fn details_embed(d: &PlexDetails) -> serenity::CreateEmbed {
    let mut title = d.title.clone();
    if let Some(year) = d.year {
        title = format!("{title} ({year})");
    }
    let mut embed = serenity::CreateEmbed::new().title(title);
    if let Some(summary) = &d.summary {
        embed = embed.description(summary.clone());
    }
    let context = match (&d.grandparent_title, &d.parent_title) {
        (Some(show), Some(season)) => Some(format!("{show} · {season}")),
        (None, Some(parent)) | (Some(parent), None) => Some(parent.clone()),
        (None, None) => None,
    };
    if let Some(context) = context {
        embed = embed.field("From", context, true);
    }
    embed = embed.field("Type", d.kind.clone(), true);
    if let Some(ms) = d.duration_ms {
        embed = embed.field("Length", clock(ms), true);
    }
    if let Some(ms) = d.view_offset_ms.filter(|&ms| ms > 0) {
        embed = embed.field("Continue watching at", clock(ms), true);
    }
    let versions: Vec<String> = d
        .parts
        .iter()
        .map(|p| {
            let what = [p.video_resolution.as_deref(), p.container.as_deref()]
                .into_iter()
                .flatten()
                .collect::<Vec<_>>()
                .join(" ");
            let what = if what.is_empty() {
                "file".to_owned()
            } else {
                what
            };
            let how = if p.available {
                "playable"
            } else {
                "not reachable from the streamer"
            };
            format!("{what} · {how}")
        })
        .collect();
    if !versions.is_empty() {
        embed = embed.field("Versions", versions.join("\n"), false);
    }
    embed.footer(serenity::CreateEmbedFooter::new(format!(
        "Plex item {}",
        d.rating_key
    )))
}

/// `1:02:03` or `4:05`.
fn clock(ms: u64) -> String {
    let s = ms / 1000;
    let (h, m, s) = (s / 3600, s / 60 % 60, s % 60);
    if h > 0 {
        format!("{h}:{m:02}:{s:02}")
    } else {
        format!("{m}:{s:02}")
    }
}

/// Titles matching what the member typed, from a Plex search; the value is the rating key.
/// Quiet (no choices) when the streamer is away or slow: autocomplete can't show an error.
async fn autocomplete_item(
    ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let none = serenity::CreateAutocompleteResponse::new();
    let Ok(query) = valid_query(partial) else {
        return none;
    };
    let Some(link) = ctx.data().state.get::<Link>() else {
        return none;
    };
    let asked = tokio::time::timeout(
        AUTOCOMPLETE_TIMEOUT,
        link.request(Order::PlexSearch { query }),
    )
    .await;
    let Ok(Ok(Reply::PlexItems(items))) = asked else {
        return none;
    };
    let choices = items
        .items
        .iter()
        .take(25)
        .map(|i| {
            let label = lounge_ipc::plex::truncate(&name(i).replace("**", ""), 100);
            serenity::AutocompleteChoice::new(label, i.rating_key.clone())
        })
        .collect();
    none.set_choices(choices)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(kind: &str, title: &str) -> PlexItem {
        PlexItem {
            rating_key: "1".into(),
            kind: kind.into(),
            title: title.into(),
            year: None,
            parent_title: None,
            grandparent_title: None,
            index: None,
            parent_index: None,
            has_children: false,
        }
    }

    #[test]
    fn rows_read_like_plex() {
        let mut film = item("movie", "Heat");
        film.year = Some(1995);
        assert_eq!(name(&film), "**Heat** (1995)");
        let mut ep = item("episode", "The Fire");
        ep.grandparent_title = Some("The Office".into());
        ep.parent_index = Some(2);
        ep.index = Some(4);
        assert_eq!(name(&ep), "The Office · S2E4 · **The Fire**");
        let mut season = item("season", "Season 2");
        season.parent_title = Some("The Office".into());
        assert_eq!(name(&season), "The Office · **Season 2**");
    }

    #[test]
    fn clocks_and_queries() {
        assert_eq!(clock(3_723_000), "1:02:03");
        assert_eq!(clock(245_000), "4:05");
        assert!(valid_query("   ").is_err());
        assert!(valid_query(&"x".repeat(MAX_QUERY + 1)).is_err());
        assert_eq!(valid_query(" heat ").unwrap(), "heat");
    }
}
