//! `/plex`: the owner's Plex library, asked through lounge-streamer, which owns the Plex
//! connection and token (the bot never sees either). `search` and `libraries` list, `info`
//! shows one item; `item` options autocomplete from a search.

use std::time::Duration;

use lounge_ipc::plex::MAX_QUERY;
use lounge_ipc::to_bot::{PlaybackState, PlexDetails, PlexItem, PlexItems, Reply, Status};
use lounge_ipc::to_streamer::{Command as Order, PlexSort, Source};
use poise::serenity_prelude as serenity;

use crate::link::Link;
use crate::party::{queue, skip, vote};
use crate::stream::{ask, control_allowed, play_in, target_channel};
use lounge_kit::{Context, Error, bail_user};

/// Rows per embed page: a page of Plex results split in two reads better than one wall.
const LINES_PER_PAGE: usize = 10;
/// Autocomplete must answer within three seconds, including Discord's own share.
const AUTOCOMPLETE_TIMEOUT: Duration = Duration::from_millis(1500);
/// How long `/plex info` waits for a poster before showing the details without one.
const POSTER_TIMEOUT: Duration = Duration::from_secs(5);

mod text {
    pub const EMPTY_QUERY: &str = "Say what to look for, e.g. `/plex search heat`.";
    pub const NO_LIBRARIES: &str = "The owner's Plex server has no libraries yet.";
    pub const NOT_AN_ITEM: &str = "That isn't a Plex item: pick one from the list as you type, or search with `/plex search`.";
    pub const UNEXPECTED: &str = "The streamer gave an answer I didn't expect; its log says why.";
    pub const NOTHING_PLAYING: &str = "Nothing is playing. `/plex play` starts something.";
}

/// How long "Resume or start over?" waits before resuming.
const RESUME_QUESTION_WAIT: Duration = Duration::from_mins(1);
/// Past this share of an item, Plex counts it watched: start over without asking.
const RESUME_UNTIL_PERCENT: u64 = 90;
/// How long the now-playing buttons stay.
const NOW_PLAYING_BUTTONS: Duration = Duration::from_mins(5);
const BAR_WIDTH: u64 = 20;

/// The owner's Plex library, through lounge-streamer
#[poise::command(
    slash_command,
    prefix_command,
    subcommands(
        "search",
        "libraries",
        "browse",
        "info",
        "play",
        "nowplaying",
        "queue",
        "skip",
        "vote"
    ),
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

/// Walk the owner's Plex: libraries, shows, seasons, episodes, with a Play button
#[poise::command(slash_command, prefix_command)]
pub async fn browse(
    ctx: Context<'_>,
    #[description = "A library's key from /plex libraries (default: pick from the list)"]
    library: Option<String>,
    #[description = "Order (default: recently added)"] sort: Option<Sort>,
    #[description = "Which page of 25 (default 1)"] page: Option<lounge_kit::Bounded<1, 10_000>>,
) -> Result<(), Error> {
    let start = match library.as_deref().map(str::trim) {
        Some(key) if !lounge_ipc::plex::key_fits(key) || key.is_empty() => {
            bail_user!("That isn't a library key: `/plex libraries` lists them.");
        }
        Some(key) => Some((
            key.to_owned(),
            sort.unwrap_or(Sort::RecentlyAdded).ipc(),
            u32::try_from(page.map_or(0, |p| p.count() - 1)).unwrap_or(0),
        )),
        None => None,
    };
    ctx.defer().await?;
    crate::browse::run(ctx, start).await
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
    let key = item_key(&item)?;
    ctx.defer().await?;
    let details = details(ctx, &key).await?;
    let mut embed = details_embed(&details);
    let mut reply = poise::CreateReply::default();
    // Discord can't reach a home server's URLs: the streamer fetches the poster small and it
    // goes up as an attachment. Without one the details still show.
    if details.has_poster
        && let Some(poster) = poster(ctx, &key).await
    {
        embed = embed.thumbnail(format!("attachment://{}", poster.filename));
        reply = reply.attachment(poster);
    }
    ctx.send(reply.embed(embed)).await?;
    Ok(())
}

/// Play a Plex film or episode in a voice channel with Go Live
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn play(
    ctx: Context<'_>,
    #[description = "The film or episode (start typing its title)"]
    #[autocomplete = "autocomplete_item"]
    item: String,
    #[description = "The voice channel to stream in (default: the one you are in)"]
    #[channel_types("Voice", "Stage")]
    channel: Option<serenity::GuildChannel>,
    #[description = "Audio language, e.g. en, fr, Japanese (default: the owner's choice)"]
    audio: Option<String>,
    #[description = "Burn in subtitles in this language, e.g. en (default: the owner's choice)"]
    subtitles: Option<String>,
) -> Result<(), Error> {
    let key = item_key(&item)?;
    let tracks = lounge_ipc::to_streamer::Tracks {
        audio_language: language(audio.as_deref())?,
        subtitle_language: language(subtitles.as_deref())?,
    };
    if !tracks.is_default() && !streamer_honours_tracks(ctx) {
        bail_user!(
            "This lounge-streamer is older than the bot and can't choose audio or subtitles: \
             whoever runs it can update it, or play without those options."
        );
    }
    let (guild_id, channel_id) = target_channel(ctx, channel.as_ref()).await?;
    ctx.defer().await?;
    let details = details(ctx, &key).await?;
    let title = shown_title(&details);
    let mut start_ms = 0;
    if let Some(offset) = resumable(&details) {
        let at = clock(offset);
        let question = format!("You stopped **{title}** at {at} last time.");
        let chosen = lounge_kit::ui::choose(
            ctx,
            &question,
            &[
                lounge_kit::ui::Choice {
                    label: &format!("Resume at {at}"),
                    primary: true,
                },
                lounge_kit::ui::Choice {
                    label: "Start over",
                    primary: false,
                },
            ],
            0,
            RESUME_QUESTION_WAIT,
        )
        .await?;
        if chosen.index == 0 {
            start_ms = offset;
        }
    }
    let now = lounge_store::NowPlaying {
        guild_id: guild_id.get(),
        channel_id: channel_id.get(),
        rating_key: key,
        title: title.clone(),
        requested_by: ctx.author().id.get(),
        position_ms: i64::try_from(start_ms).unwrap_or(0),
    };
    play_item(ctx, &now, tracks).await?;
    let from = if start_ms > 0 {
        format!("from {}", clock(start_ms))
    } else {
        "from the start".to_owned()
    };
    lounge_kit::say(
        ctx,
        format!(
            "Playing **{title}** in <#{channel_id}> {from}. `/plex nowplaying` shows where it \
             is; `/stream pause`, `/stream seek` and `/stream stop` control it."
        ),
    )
    .await?;
    Ok(())
}

/// What is playing, how far along, with buttons to pause, resume and stop
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn nowplaying(ctx: Context<'_>) -> Result<(), Error> {
    let status = status_now(ctx).await?;
    let Some(source) = status.source.clone().filter(|_| status.state.has_source()) else {
        bail_user!("{}", text::NOTHING_PLAYING);
    };
    if status.guild_id != ctx.guild_id().map(serenity::GuildId::get) {
        bail_user!("{}", text::NOTHING_PLAYING);
    }
    let title = match &source {
        Source::Plex { rating_key } => {
            match ask(
                ctx,
                Order::PlexMetadata {
                    rating_key: rating_key.clone(),
                },
            )
            .await
            {
                Ok(Reply::PlexMetadata(d)) => shown_title(&d),
                _ => format!("Plex item {rating_key}"),
            }
        }
        Source::Url { url } => format!(
            "`{}`",
            lounge_ipc::plex::truncate(&url.replace('`', "'"), 80)
        ),
        _ => "something".to_owned(),
    };
    let id = ctx.id();
    let (pause_id, stop_id) = (format!("{id}:np:pause"), format!("{id}:np:stop"));
    let view = |status: &Status| {
        let paused = status.state == PlaybackState::Paused;
        let embed = serenity::CreateEmbed::new()
            .title(if paused { "Paused" } else { "Now playing" })
            .description(format!(
                "{title}\n{}",
                progress_bar(status.position_ms, status.duration_ms)
            ))
            .footer(serenity::CreateEmbedFooter::new(
                "/stream seek jumps; only people in the stream's channel control it",
            ));
        let buttons = vec![serenity::CreateActionRow::Buttons(vec![
            serenity::CreateButton::new(&pause_id)
                .label(if paused { "▶ Resume" } else { "⏸ Pause" })
                .style(serenity::ButtonStyle::Primary),
            serenity::CreateButton::new(&stop_id)
                .label("⏹ Stop")
                .style(serenity::ButtonStyle::Danger),
        ])];
        (embed, buttons)
    };
    let (embed, buttons) = view(&status);
    let mut presses = lounge_kit::ui::ButtonPresses::new(ctx, format!("{id}:np:"));
    let handle = ctx
        .send(
            poise::CreateReply::default()
                .embed(embed)
                .components(buttons),
        )
        .await?;
    while let Some(press) = presses.next(NOW_PLAYING_BUTTONS).await {
        let now = status_now(ctx).await?;
        let manages = press
            .member
            .as_ref()
            .and_then(|m| m.permissions)
            .is_some_and(|p| p.administrator() || p.manage_channels());
        let refused = if now.state.has_source() && now.source.as_ref() == Some(&source) {
            control_allowed(ctx, &now, press.user.id, manages).err()
        } else {
            Some(text::NOTHING_PLAYING.to_owned())
        };
        if let Some(why) = refused {
            lounge_kit::ui::answer_privately(ctx, &press, why).await?;
            continue;
        }
        let (order, done) = if press.data.custom_id == stop_id {
            (Order::Stop, true)
        } else if now.state == PlaybackState::Paused {
            (Order::Resume, false)
        } else {
            (Order::Pause, false)
        };
        if let Err(e) = ask(ctx, order).await {
            let why = lounge_kit::error::user_facing(ctx, &e);
            lounge_kit::ui::answer_privately(ctx, &press, why).await?;
            continue;
        }
        let after = status_now(ctx).await?;
        let message = if done || !after.state.has_source() {
            serenity::CreateInteractionResponseMessage::new()
                .embed(
                    serenity::CreateEmbed::new()
                        .title("Stopped")
                        .description(format!("{title}\nStopped by <@{}>.", press.user.id)),
                )
                .components(Vec::new())
                .allowed_mentions(serenity::CreateAllowedMentions::new())
        } else {
            let (embed, buttons) = view(&after);
            serenity::CreateInteractionResponseMessage::new()
                .embed(embed)
                .components(buttons)
        };
        press
            .create_response(
                ctx,
                serenity::CreateInteractionResponse::UpdateMessage(message),
            )
            .await?;
        if done || !after.state.has_source() {
            return Ok(());
        }
    }
    handle
        .edit(ctx, poise::CreateReply::default().components(Vec::new()))
        .await?;
    Ok(())
}

async fn status_now(ctx: Context<'_>) -> Result<Status, Error> {
    match ask(ctx, Order::Status).await? {
        Reply::Status(status) => Ok(status),
        _ => bail_user!("{}", text::UNEXPECTED),
    }
}

/// `▬▬▬▬🔘▬▬▬▬ 0:12:03 / 1:45:00`, or just the time when the length is unknown.
fn progress_bar(position_ms: u64, duration_ms: Option<u64>) -> String {
    match duration_ms.filter(|&d| d > 0) {
        Some(d) => {
            let at = position_ms.min(d);
            let filled = at.saturating_mul(BAR_WIDTH) / d;
            let mut bar = String::new();
            for i in 0..BAR_WIDTH {
                bar.push(if i == filled { '🔘' } else { '▬' });
            }
            if filled >= BAR_WIDTH {
                bar.push('🔘');
            }
            format!("{bar} {} / {}", clock(at), clock(d))
        }
        None => clock(position_ms),
    }
}

/// Where to offer resuming: Plex's Continue Watching position, unless it is at the very start
/// or past the point Plex counts as watched.
fn resumable(d: &PlexDetails) -> Option<u64> {
    let offset = d.view_offset_ms.filter(|&o| o >= 1000)?;
    match d.duration_ms {
        Some(len) if offset.saturating_mul(100) >= len.saturating_mul(RESUME_UNTIL_PERCENT) => None,
        _ => Some(offset),
    }
}

/// Plays `now` (from its position) where it says and records it as what plays, for the queue
/// that follows it and a resume after a restart.
pub(crate) async fn play_item(
    ctx: Context<'_>,
    now: &lounge_store::NowPlaying,
    tracks: lounge_ipc::to_streamer::Tracks,
) -> Result<(), Error> {
    play_in(
        ctx,
        Some(now.guild_id),
        now.channel_id,
        Source::Plex {
            rating_key: now.rating_key.clone(),
        },
        u64::try_from(now.position_ms).unwrap_or(0),
        tracks,
    )
    .await?;
    ctx.data().store.set_now_playing(now).await?;
    Ok(())
}

/// An item's poster as an attachment, if the streamer gets it within the wait.
async fn poster(ctx: Context<'_>, key: &str) -> Option<serenity::CreateAttachment> {
    use base64::Engine as _;
    let link = ctx.data().state.get::<Link>()?;
    let asked = tokio::time::timeout(
        POSTER_TIMEOUT,
        link.request(Order::PlexPoster {
            rating_key: key.to_owned(),
        }),
    )
    .await;
    let Ok(Ok(Reply::PlexPoster(poster))) = asked else {
        tracing::debug!(rating_key = key, "no poster for a Plex item");
        return None;
    };
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(poster.data_base64.as_bytes())
        .ok()?;
    let extension = match poster.content_type.as_str() {
        "image/png" => "png",
        "image/webp" => "webp",
        _ => "jpg",
    };
    Some(serenity::CreateAttachment::bytes(
        bytes,
        format!("poster.{extension}"),
    ))
}

/// One item's details from the streamer.
pub(crate) async fn details(ctx: Context<'_>, key: &str) -> Result<PlexDetails, Error> {
    match ask(
        ctx,
        Order::PlexMetadata {
            rating_key: key.to_owned(),
        },
    )
    .await?
    {
        Reply::PlexMetadata(details) => Ok(*details),
        _ => bail_user!("{}", text::UNEXPECTED),
    }
}

/// "Heat (1995)", "The Office · S2E4 · The Fire".
pub(crate) fn shown_title(d: &PlexDetails) -> String {
    let title = d.title.replace(['*', '`'], "");
    match (&d.grandparent_title, d.year) {
        (Some(show), _) => format!("{} · {title}", show.replace(['*', '`'], "")),
        (None, Some(year)) => format!("{title} ({year})"),
        (None, None) => title,
    }
}

/// Whether the connected streamer says it honours `tracks` (one that doesn't would ignore
/// them). Not connected: the play order itself explains.
fn streamer_honours_tracks(ctx: Context<'_>) -> bool {
    match ctx.data().state.get::<Link>().map(|l| l.snapshot().state) {
        Some(lounge_ipc::ConnectionState::Connected { capabilities, .. }) => capabilities.tracks,
        _ => true,
    }
}

/// A language as a member typed it: letters (and `-`), at most 20.
fn language(typed: Option<&str>) -> Result<Option<String>, Error> {
    let Some(typed) = typed.map(str::trim).filter(|t| !t.is_empty()) else {
        return Ok(None);
    };
    if typed.chars().count() > 20 || !typed.chars().all(|c| c.is_alphabetic() || c == '-') {
        bail_user!(
            "`{}` isn't a language: write it like `en`, `fra` or `Japanese`.",
            lounge_kit::error::sanitize(&lounge_ipc::plex::truncate(typed, 20))
        );
    }
    Ok(Some(typed.to_owned()))
}

/// A rating key as typed or picked from autocomplete.
pub(crate) fn item_key(item: &str) -> Result<String, Error> {
    let key = item.trim();
    if !lounge_ipc::plex::key_fits(key) || !key.bytes().all(|b| b.is_ascii_digit()) {
        bail_user!("{}", text::NOT_AN_ITEM);
    }
    Ok(key.to_owned())
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
pub(crate) fn name(item: &PlexItem) -> String {
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

pub(crate) fn details_embed(d: &PlexDetails) -> serenity::CreateEmbed {
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
    let rated = [
        d.rating.as_ref().map(|r| format!("{r}/10")),
        d.content_rating.clone(),
    ]
    .into_iter()
    .flatten()
    .collect::<Vec<_>>();
    if !rated.is_empty() {
        embed = embed.field("Rating", rated.join(" · "), true);
    }
    // The first version's tracks: `/plex play audio:` and `subtitles:` pick by language.
    if let Some(part) = d.parts.first() {
        for (name, tracks) in [("Audio", &part.audio), ("Subtitles", &part.subtitles)] {
            if !tracks.is_empty() {
                embed = embed.field(name, tracks.join("\n"), true);
            }
        }
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
pub(crate) async fn autocomplete_item(
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

    fn details(offset: Option<u64>, duration: Option<u64>) -> PlexDetails {
        PlexDetails {
            rating_key: "1".into(),
            kind: "movie".into(),
            title: "Heat".into(),
            year: Some(1995),
            summary: None,
            duration_ms: duration,
            view_offset_ms: offset,
            parent_title: None,
            grandparent_title: None,
            parent_rating_key: None,
            index: None,
            rating: None,
            content_rating: None,
            parts: Vec::new(),
            has_poster: false,
        }
    }

    #[test]
    fn resume_is_offered_between_the_start_and_watched() {
        assert_eq!(
            resumable(&details(Some(3_723_000), Some(10_000_000))),
            Some(3_723_000)
        );
        assert_eq!(resumable(&details(None, Some(10_000_000))), None);
        assert_eq!(resumable(&details(Some(500), Some(10_000_000))), None);
        assert_eq!(resumable(&details(Some(9_500_000), Some(10_000_000))), None);
        assert_eq!(resumable(&details(Some(60_000), None)), Some(60_000));
        assert_eq!(shown_title(&details(None, None)), "Heat (1995)");
    }

    #[test]
    fn the_progress_bar_marks_the_position() {
        assert_eq!(
            progress_bar(0, Some(100_000)),
            format!("🔘{} 0:00 / 1:40", "▬".repeat(19))
        );
        let half = progress_bar(50_000, Some(100_000));
        assert!(half.starts_with(&format!("{}🔘", "▬".repeat(10))), "{half}");
        let end = progress_bar(200_000, Some(100_000));
        assert!(end.ends_with("🔘 1:40 / 1:40"), "{end}");
        assert_eq!(progress_bar(61_000, None), "1:01");
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
