//! `/gif` through GIPHY's search: one of the first results at random, as an embed that credits
//! GIPHY, rated for the server (`/gifrating`).
//!
//! A new GIPHY key is a beta key allowed 100 calls an hour, and one busy channel would spend
//! that in minutes. So every answer is kept for an hour (a repeated query costs no call), and
//! calls are counted in a sliding one-hour window against `giphy.hourly_budget`: when it is
//! spent we say so instead of letting GIPHY answer 429 to everyone for the rest of the hour.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use lounge_kit::{Context, Error, bail_user};
use poise::serenity_prelude as serenity;
use serde::Deserialize;

use crate::text;

/// GIPHY's terms ask every app to show this.
const ATTRIBUTION: &str = "Powered by GIPHY";
const NO_KEY: &str = "GIF search isn't set up: the bot's owner must set giphy.api_key (a key from developers.giphy.com).";
const EMPTY_QUERY: &str = "Tell me what to look for, like `/gif happy cat`.";
const KEY_REFUSED: &str =
    "GIPHY refused this bot's API key: the bot's owner should check giphy.api_key.";
const GIPHY_DOWN: &str = "GIPHY didn't answer: try again in a moment.";
const RATING_IN_SERVERS: &str = "A GIF rating is set per server: run this in one.";

fn too_long() -> String {
    format!("That's too long to search for: GIPHY takes at most {MAX_QUERY_CHARS} characters.")
}

fn no_results(query: &str) -> String {
    format!(
        "GIPHY has no GIFs for **{}** at this server's rating.",
        text::escape(query)
    )
}

fn resting(budget: u32, wait: Duration) -> String {
    let minutes = wait.as_secs().div_ceil(60).max(1);
    let unit = if minutes == 1 { "minute" } else { "minutes" };
    format!(
        "GIF search is resting: this bot has used its {budget} GIPHY searches for this hour. \
         It's back in {minutes} {unit}."
    )
}

fn rating_set(rating: Rating) -> String {
    format!(
        "GIF search here now asks GIPHY for GIFs rated **{}**.",
        rating.as_str()
    )
}

/// GIPHY's own limit for `q`.
const MAX_QUERY_CHARS: usize = 50;
/// GIPHY's first page; more would only make each cached answer bigger.
const RESULTS: &str = "25";
const WINDOW: Duration = Duration::from_hours(1);
const CACHE_TTL: Duration = Duration::from_hours(1);
const CACHE_CAP: usize = 500;
/// Discord's limit for an embed's title.
const TITLE_CHARS: usize = 256;
const TIMEOUT: Duration = Duration::from_secs(10);
const USER_AGENT: &str = concat!("Lounge/", env!("CARGO_PKG_VERSION"), " (Discord bot; GIFs)");

/// The `[giphy]` section of lounge.toml.
#[derive(Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct GiphyConfig {
    /// The key from developers.giphy.com; without one `/gif` says so.
    pub api_key: Option<String>,
    /// GIPHY's API base, up to and including `/v1`.
    pub api_url: String,
    /// Calls to GIPHY per hour at most (a beta key's limit is 100).
    pub hourly_budget: u32,
    /// The rating servers get until they choose one: `g`, `pg`, `pg-13` or `r`.
    pub default_rating: String,
}

impl Default for GiphyConfig {
    fn default() -> Self {
        Self {
            api_key: None,
            api_url: "https://api.giphy.com/v1".to_owned(),
            hourly_budget: 100,
            default_rating: "pg".to_owned(),
        }
    }
}

// The key is a credential: config dumps and error reports must not carry it.
impl fmt::Debug for GiphyConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("GiphyConfig")
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("api_url", &self.api_url)
            .field("hourly_budget", &self.hourly_budget)
            .field("default_rating", &self.default_rating)
            .finish()
    }
}

impl GiphyConfig {
    /// The key, when one is set (an empty one counts as none).
    pub fn api_key(&self) -> Option<&str> {
        self.api_key
            .as_deref()
            .map(str::trim)
            .filter(|k| !k.is_empty())
    }

    /// What is wrong with these settings, for `lounge config check`.
    pub fn problems(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !(self.api_url.starts_with("https://") || self.api_url.starts_with("http://")) {
            out.push(format!(
                "giphy.api_url {:?} must start with https:// or http://",
                self.api_url
            ));
        }
        if self.hourly_budget == 0 {
            out.push(
                "giphy.hourly_budget must be at least 1 (leave giphy.api_key unset to turn GIF search off)"
                    .to_owned(),
            );
        }
        if Rating::parse(&self.default_rating).is_none() {
            out.push(format!(
                "giphy.default_rating is {:?}: it must be g, pg, pg-13 or r",
                self.default_rating
            ));
        }
        out
    }

    fn default_rating(&self) -> Rating {
        Rating::parse(&self.default_rating).unwrap_or(Rating::Pg)
    }
}

/// GIPHY's content ratings.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poise::ChoiceParameter)]
pub enum Rating {
    #[name = "g"]
    G,
    #[name = "pg"]
    Pg,
    #[name = "pg-13"]
    Pg13,
    #[name = "r"]
    R,
}

impl Rating {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::G => "g",
            Self::Pg => "pg",
            Self::Pg13 => "pg-13",
            Self::R => "r",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        [Self::G, Self::Pg, Self::Pg13, Self::R]
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
    }
}

/// One result, as much of it as the embed shows.
#[derive(Clone, Debug, PartialEq, Eq)]
struct Gif {
    title: String,
    /// The GIF's page on giphy.com, when GIPHY gave a usable one.
    page: Option<String>,
    image: String,
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    data: Vec<Found>,
}

#[derive(Deserialize)]
struct Found {
    #[serde(default)]
    title: String,
    #[serde(default)]
    url: String,
    #[serde(default)]
    images: Images,
}

#[derive(Default, Deserialize)]
struct Images {
    original: Option<Rendition>,
    downsized: Option<Rendition>,
}

#[derive(Deserialize)]
struct Rendition {
    url: Option<String>,
}

fn web_url(url: Option<&str>) -> Option<String> {
    // Discord refuses a whole message over one embed URL it can't use.
    url.filter(|u| u.starts_with("https://") || u.starts_with("http://"))
        .map(str::to_owned)
}

impl Found {
    fn into_gif(self) -> Option<Gif> {
        let rendition_url = |r: Option<&Rendition>| web_url(r?.url.as_deref());
        let image = rendition_url(self.images.original.as_ref())
            .or_else(|| rendition_url(self.images.downsized.as_ref()))?;
        Some(Gif {
            page: web_url(Some(self.url.as_str())),
            title: self.title,
            image,
        })
    }
}

/// The title as embed text: markdown kept as text, within Discord's limit, never cut
/// between an escape and the character it escapes.
fn embed_title(title: &str) -> String {
    let title = title.trim();
    let title = if title.is_empty() { "GIF" } else { title };
    let mut out = String::new();
    let mut used = 0;
    for c in title.chars() {
        let piece = text::escape(&c.to_string());
        let len = piece.chars().count();
        if used + len > TITLE_CHARS {
            break;
        }
        out.push_str(&piece);
        used += len;
    }
    out
}

/// Case and spacing don't change what GIPHY finds, so they must not split the cache.
fn normalize(query: &str) -> String {
    query
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase()
}

/// `(rating, normalized query)`.
type Key = (String, String);

struct Cached {
    gifs: Arc<[Gif]>,
    at: Instant,
}

#[derive(Default)]
struct Cache {
    entries: HashMap<Key, Cached>,
}

fn fresh(at: Instant, now: Instant) -> bool {
    now.saturating_duration_since(at) < CACHE_TTL
}

impl Cache {
    fn get(&mut self, key: &Key, now: Instant) -> Option<Arc<[Gif]>> {
        let hit = self
            .entries
            .get(key)
            .filter(|c| fresh(c.at, now))
            .map(|c| c.gifs.clone());
        if hit.is_none() {
            self.entries.remove(key);
        }
        hit
    }

    /// Keeps `gifs` for an hour; past the cap the oldest answer goes first.
    fn insert(&mut self, key: Key, gifs: Arc<[Gif]>, now: Instant) {
        self.entries.retain(|_, c| fresh(c.at, now));
        if self.entries.len() >= CACHE_CAP && !self.entries.contains_key(&key) {
            let oldest = self
                .entries
                .iter()
                .min_by_key(|(_, c)| c.at)
                .map(|(k, _)| k.clone());
            if let Some(oldest) = oldest {
                self.entries.remove(&oldest);
            }
        }
        self.entries.insert(key, Cached { gifs, at: now });
    }
}

/// The calls made in the last hour. A sliding window, so no hour can hold more than the
/// budget, however the calls fall around a clock hour.
struct Budget {
    limit: usize,
    calls: VecDeque<Instant>,
}

impl Budget {
    fn new(limit: u32) -> Self {
        Self {
            limit: limit as usize,
            calls: VecDeque::new(),
        }
    }

    fn forget_old(&mut self, now: Instant) {
        while self
            .calls
            .front()
            .is_some_and(|&t| now.saturating_duration_since(t) >= WINDOW)
        {
            self.calls.pop_front();
        }
    }

    /// Counts one call, or says how long until the window has room for one.
    fn take(&mut self, now: Instant) -> Result<(), Duration> {
        self.forget_old(now);
        if self.calls.len() < self.limit {
            self.calls.push_back(now);
            return Ok(());
        }
        let oldest = self.calls.front().copied().unwrap_or(now);
        Err(WINDOW.saturating_sub(now.saturating_duration_since(oldest)))
    }

    /// GIPHY's own count says we are out (our count starts again at every restart, GIPHY's
    /// doesn't), so the window is full from now on.
    fn exhaust(&mut self, now: Instant) {
        self.forget_old(now);
        while self.calls.len() < self.limit {
            self.calls.push_back(now);
        }
    }
}

enum Failure {
    /// 401 or 403: the key is wrong or revoked.
    Refused(u16),
    /// 429: GIPHY's hourly limit.
    Limited,
    /// Anything else: no answer, a 5xx, an answer we can't read.
    Down(String),
}

/// A reqwest error without its URL, which carries the key in its query.
fn describe(e: reqwest::Error) -> String {
    use std::error::Error as _;
    let e = e.without_url();
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        out.push_str(": ");
        out.push_str(&s.to_string());
        source = s.source();
    }
    out
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// GIF search's state for the whole bot: the client, the answers of the last hour and the
/// calls counted against the key's hourly limit (one key, so one count for every server).
pub struct Gifs {
    client: reqwest::Client,
    config: GiphyConfig,
    cache: Mutex<Cache>,
    budget: Mutex<Budget>,
}

impl Gifs {
    pub fn new(config: GiphyConfig) -> Self {
        let client = reqwest::Client::builder()
            .user_agent(USER_AGENT)
            .timeout(TIMEOUT)
            .build()
            .unwrap_or_else(|e| {
                tracing::warn!(error = %e, "building the GIPHY client failed; using the defaults");
                reqwest::Client::new()
            });
        let budget = Mutex::new(Budget::new(config.hourly_budget));
        Self {
            client,
            config,
            cache: Mutex::default(),
            budget,
        }
    }

    async fn fetch(&self, key: &str, query: &str, rating: Rating) -> Result<Vec<Gif>, Failure> {
        let url = format!("{}/gifs/search", self.config.api_url.trim_end_matches('/'));
        let response = self
            .client
            .get(url)
            .query(&[
                ("api_key", key),
                ("q", query),
                ("limit", RESULTS),
                ("rating", rating.as_str()),
                ("lang", "en"),
            ])
            .send()
            .await
            .map_err(|e| Failure::Down(describe(e)))?;
        let status = response.status();
        match status.as_u16() {
            401 | 403 => return Err(Failure::Refused(status.as_u16())),
            429 => return Err(Failure::Limited),
            _ if !status.is_success() => return Err(Failure::Down(format!("HTTP {status}"))),
            _ => {}
        }
        let answer: Answer = response
            .json()
            .await
            .map_err(|e| Failure::Down(describe(e)))?;
        Ok(answer
            .data
            .into_iter()
            .filter_map(Found::into_gif)
            .collect())
    }
}

async fn rating_here(ctx: Context<'_>, gifs: &Gifs) -> Result<Rating, Error> {
    let Some(guild) = ctx.guild_id() else {
        return Ok(gifs.config.default_rating());
    };
    let chosen = ctx.data().store.gif_rating(guild.get()).await?;
    Ok(chosen
        .as_deref()
        .and_then(Rating::parse)
        .unwrap_or_else(|| gifs.config.default_rating()))
}

async fn search(ctx: Context<'_>, query: Option<String>) -> Result<(), Error> {
    let gifs = ctx.data().state::<Gifs>()?;
    let Some(key) = gifs.config.api_key() else {
        bail_user!("{NO_KEY}");
    };
    let query = normalize(query.as_deref().unwrap_or_default());
    if query.is_empty() {
        bail_user!("{EMPTY_QUERY}");
    }
    if query.chars().count() > MAX_QUERY_CHARS {
        bail_user!("{}", too_long());
    }
    let rating = rating_here(ctx, gifs).await?;
    let cache_key = (rating.as_str().to_owned(), query.clone());
    let cached = lock(&gifs.cache).get(&cache_key, Instant::now());
    let found = if let Some(found) = cached {
        found
    } else {
        let spent = lock(&gifs.budget).take(Instant::now());
        if let Err(wait) = spent {
            bail_user!("{}", resting(gifs.config.hourly_budget, wait));
        }
        ctx.defer().await?;
        match gifs.fetch(key, &query, rating).await {
            Ok(found) => {
                let found: Arc<[Gif]> = found.into();
                lock(&gifs.cache).insert(cache_key, found.clone(), Instant::now());
                found
            }
            Err(Failure::Refused(status)) => {
                tracing::warn!(status, "GIPHY refused the API key");
                bail_user!("{KEY_REFUSED}");
            }
            Err(Failure::Limited) => {
                tracing::warn!("GIPHY answered 429: its hourly limit is spent before ours");
                let wait = {
                    let mut budget = lock(&gifs.budget);
                    let now = Instant::now();
                    budget.exhaust(now);
                    budget.take(now).err().unwrap_or(WINDOW)
                };
                bail_user!("{}", resting(gifs.config.hourly_budget, wait));
            }
            Err(Failure::Down(why)) => {
                tracing::info!(error = %why, "GIPHY search failed");
                bail_user!("{GIPHY_DOWN}");
            }
        }
    };
    let picked = {
        use rand::seq::IndexedRandom as _;
        found.choose(&mut rand::rng()).cloned()
    };
    let Some(gif) = picked else {
        bail_user!("{}", no_results(&query));
    };
    let mut embed = serenity::CreateEmbed::new()
        .title(embed_title(&gif.title))
        .image(gif.image)
        .footer(serenity::CreateEmbedFooter::new(ATTRIBUTION));
    if let Some(page) = gif.page {
        embed = embed.url(page);
    }
    ctx.send(poise::CreateReply::default().embed(embed)).await?;
    Ok(())
}

/// A GIF from GIPHY
#[poise::command(slash_command, category = "Music")]
pub async fn gif(
    ctx: Context<'_>,
    // Its length is checked by `search`, the same for both forms.
    #[description = "What to look for (at most 50 characters)"] query: String,
) -> Result<(), Error> {
    search(ctx, Some(query)).await
}

/// A GIF from GIPHY
// The prefix form takes an optional rest so that a bare `!gif` gets our sentence, not
// poise's "too few arguments"; a slash option that is optional would read as if no query
// were fine.
#[poise::command(prefix_command, rename = "gif", category = "Music")]
pub async fn gif_text(
    ctx: Context<'_>,
    #[description = "What to look for"]
    #[rest]
    query: Option<String>,
) -> Result<(), Error> {
    search(ctx, query).await
}

/// Set the content rating of this server's GIFs
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    required_permissions = "MANAGE_GUILD",
    default_member_permissions = "MANAGE_GUILD",
    category = "Music"
)]
pub async fn gifrating(
    ctx: Context<'_>,
    #[description = "GIPHY's rating: g, pg, pg-13 or r"] rating: Rating,
) -> Result<(), Error> {
    let Some(guild) = ctx.guild_id() else {
        bail_user!("{RATING_IN_SERVERS}");
    };
    ctx.data()
        .store
        .set_gif_rating(guild.get(), rating.as_str())
        .await?;
    lounge_kit::say(ctx, rating_set(rating)).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gif(n: usize) -> Gif {
        Gif {
            title: format!("gif {n}"),
            page: None,
            image: format!("https://media.giphy.com/media/{n}/giphy.gif"),
        }
    }

    fn key(q: &str) -> Key {
        ("pg".to_owned(), q.to_owned())
    }

    #[test]
    fn the_budget_is_a_sliding_hour() {
        let t0 = Instant::now();
        let min = |m: u64| t0 + Duration::from_mins(m);
        let mut b = Budget::new(3);
        assert_eq!(b.take(t0), Ok(()));
        assert_eq!(b.take(min(10)), Ok(()));
        assert_eq!(b.take(min(20)), Ok(()));
        // Full until the first call is an hour old.
        assert_eq!(b.take(min(30)), Err(Duration::from_mins(30)));
        assert_eq!(b.take(min(59)), Err(Duration::from_mins(1)));
        assert_eq!(b.take(min(60)), Ok(()));
        // The call at 0:10 leaves next; the refused ones were never counted.
        assert_eq!(b.take(min(61)), Err(Duration::from_mins(9)));
        assert_eq!(b.take(min(70)), Ok(()));
    }

    #[test]
    fn a_429_fills_the_window_from_then_on() {
        let t0 = Instant::now();
        let mut b = Budget::new(5);
        assert_eq!(b.take(t0), Ok(()));
        b.exhaust(t0 + Duration::from_mins(5));
        assert_eq!(
            b.take(t0 + Duration::from_mins(50)),
            Err(Duration::from_mins(10)),
            "the real call at 0:00 leaves first"
        );
        assert_eq!(b.take(t0 + Duration::from_hours(1)), Ok(()));
        assert_eq!(
            b.take(t0 + Duration::from_mins(61)),
            Err(Duration::from_mins(4))
        );
        assert!(b.take(t0 + Duration::from_mins(65)).is_ok());
    }

    #[test]
    fn cached_answers_expire_after_an_hour() {
        let t0 = Instant::now();
        let mut c = Cache::default();
        let gifs: Arc<[Gif]> = vec![gif(1), gif(2)].into();
        c.insert(key("cats"), gifs.clone(), t0);
        assert_eq!(
            c.get(&key("cats"), t0 + Duration::from_mins(59)).as_deref(),
            Some(&*gifs)
        );
        assert!(c.get(&key("dogs"), t0).is_none());
        assert!(c.get(&key("cats"), t0 + Duration::from_hours(1)).is_none());
        assert!(c.entries.is_empty(), "an expired answer is dropped");
        // Another rating is another answer.
        c.insert(key("cats"), gifs, t0);
        assert!(c.get(&("r".to_owned(), "cats".to_owned()), t0).is_none());
    }

    #[test]
    fn the_cache_keeps_at_most_its_cap_dropping_the_oldest() {
        let t0 = Instant::now();
        let mut c = Cache::default();
        for i in 0..=CACHE_CAP {
            let at = t0 + Duration::from_secs(i as u64);
            c.insert(key(&format!("q{i}")), vec![gif(i)].into(), at);
        }
        let now = t0 + Duration::from_secs(CACHE_CAP as u64);
        assert_eq!(c.entries.len(), CACHE_CAP);
        assert!(c.get(&key("q0"), now).is_none());
        assert!(c.get(&key("q1"), now).is_some());
        assert!(c.get(&key(&format!("q{CACHE_CAP}")), now).is_some());
        // Answers past their hour make room before anything fresh is dropped.
        c.insert(
            key("late"),
            vec![gif(0)].into(),
            t0 + Duration::from_mins(70),
        );
        assert_eq!(c.entries.len(), 1);
    }

    #[test]
    fn queries_are_normalized_and_ratings_read() {
        assert_eq!(normalize("  Happy \t  CAT "), "happy cat");
        assert_eq!(normalize("   "), "");
        assert_eq!(Rating::parse("PG-13"), Some(Rating::Pg13));
        assert_eq!(Rating::parse("nc-17"), None);
        assert!(GiphyConfig::default().problems().is_empty());
        let wrong = GiphyConfig {
            default_rating: "x".to_owned(),
            hourly_budget: 0,
            api_url: "ftp://x".to_owned(),
            ..GiphyConfig::default()
        };
        assert_eq!(wrong.problems().len(), 3);
    }

    #[test]
    fn the_key_stays_out_of_debug_output() {
        let config = GiphyConfig {
            api_key: Some("s3cr3t-giphy-key".to_owned()),
            ..GiphyConfig::default()
        };
        let shown = format!("{config:?}");
        assert!(!shown.contains("s3cr3t"), "{shown}");
        assert!(shown.contains("redacted"), "{shown}");
        assert_eq!(config.api_key(), Some("s3cr3t-giphy-key"));
        let blank = GiphyConfig {
            api_key: Some("  ".to_owned()),
            ..GiphyConfig::default()
        };
        assert_eq!(blank.api_key(), None);
    }

    #[test]
    fn results_read_from_giphy_keep_usable_urls_only() {
        let answer: Answer = serde_json::from_str(
            r#"{"data": [
                {"title": "A *b* GIF", "url": "https://giphy.com/gifs/a-1",
                 "images": {"original": {"url": "https://media.giphy.com/media/1/giphy.gif"}}},
                {"title": "", "url": "",
                 "images": {"downsized": {"url": "https://media.giphy.com/media/2/giphy-downsized.gif"}}},
                {"title": "no image", "url": "https://giphy.com/gifs/x", "images": {}}
             ], "meta": {"status": 200}}"#,
        )
        .expect("parse");
        let gifs: Vec<Gif> = answer
            .data
            .into_iter()
            .filter_map(Found::into_gif)
            .collect();
        assert_eq!(gifs.len(), 2);
        assert_eq!(gifs[0].page.as_deref(), Some("https://giphy.com/gifs/a-1"));
        assert_eq!(gifs[1].page, None);
        assert!(gifs[1].image.ends_with("giphy-downsized.gif"));
        assert_eq!(embed_title(&gifs[0].title), "A \\*b\\* GIF");
        assert_eq!(embed_title(&gifs[1].title), "GIF");
    }

    #[test]
    fn titles_fit_an_embed_without_a_dangling_escape() {
        let long = embed_title(&"a".repeat(300));
        assert_eq!(long.chars().count(), TITLE_CHARS);
        let starred = embed_title(&format!("{}*x", "a".repeat(255)));
        assert_eq!(
            starred,
            "a".repeat(255),
            "the escaped star would pass the limit"
        );
    }

    #[test]
    fn waits_read_in_whole_minutes() {
        assert!(resting(100, Duration::from_secs(61)).contains("2 minutes"));
        assert!(resting(100, Duration::from_secs(5)).contains("1 minute."));
    }
}
