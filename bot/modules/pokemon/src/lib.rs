//! The Pokémon game: wild Pokémon appear as people chat (`spawn`), members catch them by
//! name or with balls, collect, trade (`trade`) and battle (`battle`). The rules are the pure
//! `lounge-pokemon` engine's; this module validates, persists and renders.
//!
#![doc = include_str!("../README.md")]

mod battle;
pub mod game;
mod messages;
mod spawn;
mod team;
mod trade;

use lounge_kit::Bounded;
// Shared with the trade and battle views.
use lounge_kit::Text as _;
pub(crate) use lounge_kit::ui::answer_privately as respond_private;
use poise::serenity_prelude as serenity;

pub use spawn::Runtime;

use lounge_kit::config::GamesConfig;
use lounge_kit::{Command, Module, Start};
use lounge_kit::{Context, Error, RefusalExt, bail_user};
use lounge_store::PokemonError;

pub const MODULE: Module = Module::new(
    "pokemon",
    "Pokémon: catch wild ones as you chat, collect, trade and battle",
    commands,
)
.on_event(spawn::on_event)
.start(start);

/// The game's in-process state, from the `[games]` config section.
fn start(start: &mut Start<'_>) -> Result<(), Error> {
    let config = start.config::<GamesConfig>()?;
    start.provide(Runtime::new(config));
    Ok(())
}

/// Coins for each catch, so new trainers can buy balls.
const CATCH_REWARD: i64 = 10;
/// What an evolution item costs; it is bought and used in one go.
const EVOLUTION_ITEM_PRICE: i64 = 300;
/// What an item to hold costs when the bag has none.
const HELD_ITEM_PRICE: i64 = 300;
/// Pokémon per page of `/pokemon list`.
const PER_PAGE: usize = 15;
/// How long a confirm button waits.
const CONFIRM_TIMEOUT: std::time::Duration = std::time::Duration::from_mins(1);

fn commands() -> Vec<Command> {
    vec![
        catch(),
        throw(),
        pokemon(),
        pokedex(),
        trade::trade(),
        battle::battle(),
    ]
}

fn now_time() -> lounge_pokemon::data::TimeOfDay {
    game::time_of_day(chrono::Timelike::hour(&chrono::Utc::now()))
}

/// Guess the wild Pokémon's name to catch it
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn catch(
    ctx: Context<'_>,
    #[description = "The Pokémon's name (case and accents don't matter)"]
    #[rest]
    name: String,
) -> Result<(), Error> {
    let store = &ctx.data().store;
    let Some(spawn) = store.latest_spawn(ctx.channel_id().get()).await? else {
        bail_user!("{}", messages::NO_SPAWN);
    };
    if let Some(by) = spawn.caught_by {
        bail_user!("{}", messages::already_caught(&spawn, by));
    }
    if !game::name_matches(&name, game::species(spawn.species)) {
        bail_user!("{}", messages::wrong_name(&name));
    }
    let user = ctx.author().id.get();
    match store
        .catch_spawn(spawn.id, user, &game::caught(&spawn), None, CATCH_REWARD)
        .await
    {
        Ok(p) => {
            lounge_kit::say(ctx, messages::caught(user, &p, CATCH_REWARD, "")).await?;
            Ok(())
        }
        Err(PokemonError::AlreadyCaught { by }) => {
            bail_user!("{}", messages::already_caught(&spawn, by))
        }
        Err(e) => Err(lounge_kit::refusal(e)),
    }
}

/// A kind of ball, with its shop price.
#[derive(Debug, Clone, Copy, PartialEq, Eq, poise::ChoiceParameter)]
pub enum BallChoice {
    #[name = "Poké Ball"]
    Poke,
    #[name = "Great Ball"]
    Great,
    #[name = "Ultra Ball"]
    Ultra,
    #[name = "Master Ball"]
    Master,
}

impl BallChoice {
    /// The item's key in the bag.
    fn key(self) -> &'static str {
        match self {
            Self::Poke => "poke-ball",
            Self::Great => "great-ball",
            Self::Ultra => "ultra-ball",
            Self::Master => "master-ball",
        }
    }

    fn label(self) -> &'static str {
        match self {
            Self::Poke => "Poké Ball",
            Self::Great => "Great Ball",
            Self::Ultra => "Ultra Ball",
            Self::Master => "Master Ball",
        }
    }

    fn price(self) -> i64 {
        match self {
            Self::Poke => 20,
            Self::Great => 60,
            Self::Ultra => 120,
            Self::Master => 5000,
        }
    }

    fn engine(self) -> lounge_pokemon::catch::Ball {
        use lounge_pokemon::catch::Ball;
        match self {
            Self::Poke => Ball::Poke,
            Self::Great => Ball::Great,
            Self::Ultra => Ball::Ultra,
            Self::Master => Ball::Master,
        }
    }

    fn from_key(key: &str) -> Option<Self> {
        [Self::Poke, Self::Great, Self::Ultra, Self::Master]
            .into_iter()
            .find(|b| b.key() == key)
    }
}

/// Throw a ball from your bag at the wild Pokémon (no name needed, but it can break free)
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn throw(
    ctx: Context<'_>,
    #[description = "Which ball to throw"] ball: BallChoice,
) -> Result<(), Error> {
    use lounge_pokemon::catch::{CatchRules, Throw, throw_ball};
    let store = &ctx.data().store;
    let user = ctx.author().id.get();
    let Some(spawn) = store
        .latest_spawn(ctx.channel_id().get())
        .await?
        .filter(|s| s.caught_by.is_none())
    else {
        bail_user!("{}", messages::NO_SPAWN);
    };
    if store.item_count(user, ball.key()).await? < 1 {
        bail_user!("{}", messages::ball_missing(ball.label()));
    }
    let dex = store.dex(user).await?;
    let own_level = store.selected_pokemon(user).await?.map_or(1, |p| p.level);
    let s = game::species(spawn.species);
    let set = game::battle_set(spawn.species, spawn.level, spawn.nature, spawn.ivs, &[]);
    let max_hp = lounge_pokemon::stats::calc_stats(s, spawn.level, &set.spread, set.nature).0[0];
    let throw = Throw {
        rules: CatchRules::Gen9,
        ball: ball.engine(),
        species: s,
        level: spawn.level,
        max_hp,
        hp: max_hp,
        status: None,
        turn: 1,
        time: now_time(),
        dark_place: false,
        underwater: false,
        already_caught_species: dex.contains(&spawn.species),
        own_level,
        dex_caught: dex.len() as u32,
        catching_charm: false,
    };
    let outcome = throw_ball(&throw, &mut rand::rng());
    if !outcome.caught {
        if !store.use_item(user, ball.key()).await.refused()? {
            bail_user!("{}", messages::ball_missing(ball.label()));
        }
        let left = store.item_count(user, ball.key()).await?;
        lounge_kit::say(
            ctx,
            messages::broke_free(outcome.shakes, ball.label(), left),
        )
        .await?;
        return Ok(());
    }
    match store
        .catch_spawn(
            spawn.id,
            user,
            &game::caught(&spawn),
            Some(ball.key()),
            CATCH_REWARD,
        )
        .await
    {
        Ok(p) => {
            let how = format!(" with a {}", ball.label());
            lounge_kit::say(ctx, messages::caught(user, &p, CATCH_REWARD, &how)).await?;
            Ok(())
        }
        Err(PokemonError::AlreadyCaught { by }) => {
            bail_user!("{}", messages::already_caught(&spawn, by))
        }
        Err(PokemonError::NoItem { .. }) => bail_user!("{}", messages::ball_missing(ball.label())),
        Err(e) => Err(lounge_kit::refusal(e)),
    }
}

/// Your Pokémon collection, items and the server's spawn settings
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    subcommands(
        "list",
        "info",
        "nick",
        "favourite",
        "release",
        "select",
        "team::team",
        "evolution",
        "evolve",
        "hold",
        "takeitem",
        "bag",
        "buy",
        "spawnchannel"
    ),
    subcommand_required
)]
pub async fn pokemon(_: Context<'_>) -> Result<(), Error> {
    Ok(())
}

/// Ids in free text: "12, 15 #16" -> [12, 15, 16].
fn parse_ids(s: &str) -> Vec<i64> {
    s.split(|c: char| !c.is_ascii_digit())
        .filter_map(|p| p.parse().ok())
        .collect()
}

/// List your Pokémon (or someone else's), with filters
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn list(
    ctx: Context<'_>,
    #[description = "Whose collection (default: yours)"] user: Option<serenity::User>,
    #[description = "Only this species (name)"] name: Option<String>,
    #[description = "Only shiny ones"] shiny: Option<bool>,
    #[description = "Only favourites"] favourites: Option<bool>,
    #[description = "Only at or above this level"] min_level: Option<Bounded<1, 100>>,
) -> Result<(), Error> {
    let owner = user.as_ref().unwrap_or_else(|| ctx.author());
    let all = ctx.data().store.owned_pokemon(owner.id.get()).await?;
    let total = all.len();
    let wanted = name.as_deref().map(game::fold_name);
    let shown: Vec<_> = all
        .iter()
        .filter(|p| {
            wanted.as_ref().is_none_or(|w| {
                game::fold_name(game::species(p.species).name).contains(w.as_str())
                    || p.nickname
                        .as_deref()
                        .is_some_and(|n| game::fold_name(n).contains(w.as_str()))
            })
        })
        .filter(|p| shiny != Some(true) || p.shiny)
        .filter(|p| favourites != Some(true) || p.favourite)
        .filter(|p| min_level.is_none_or(|l| i64::from(p.level) >= l.get()))
        .collect();
    if shown.is_empty() {
        if total == 0 && owner.id == ctx.author().id {
            bail_user!("{}", messages::NO_POKEMON);
        }
        bail_user!("No Pokémon match those filters ({total} in the collection).");
    }
    let pages = shown.len().div_ceil(PER_PAGE);
    let embeds = shown
        .chunks(PER_PAGE)
        .enumerate()
        .map(|(i, chunk)| {
            let lines: Vec<String> = chunk.iter().map(|p| messages::list_line(p)).collect();
            serenity::CreateEmbed::new()
                .title(format!("{}'s Pokémon", owner.name))
                .description(lines.join("\n"))
                .footer(serenity::CreateEmbedFooter::new(format!(
                    "Showing {} of {total} · page {} of {pages}",
                    shown.len(),
                    i + 1
                )))
                .colour(messages::COLOUR)
        })
        .collect();
    lounge_kit::ui::paginate(ctx, embeds).await
}

/// Show one of your Pokémon in detail (default: your selected one)
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn info(
    ctx: Context<'_>,
    #[description = "The Pokémon's number (from /pokemon list)"] id: Option<i64>,
) -> Result<(), Error> {
    let store = &ctx.data().store;
    let user = ctx.author().id.get();
    let selected = store.selected_pokemon(user).await?;
    let p = match id {
        Some(id) => store.pokemon(id).await?,
        None => selected.clone(),
    };
    let Some(p) = p else {
        if id.is_some() {
            bail_user!("There's no Pokémon #{}.", id.unwrap_or_default());
        }
        bail_user!("{}", messages::NO_POKEMON);
    };
    let is_selected = selected.is_some_and(|s| s.id == p.id);
    let mut embed = messages::info_embed(&p, is_selected);
    if p.owner != user {
        embed = embed.field("Trainer", format!("<@{}>", p.owner), false);
    }
    ctx.send(poise::CreateReply::default().embed(embed)).await?;
    Ok(())
}

/// Give one of your Pokémon a nickname (leave it out to remove it)
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn nick(
    ctx: Context<'_>,
    #[description = "The Pokémon's number"] id: i64,
    #[description = "The nickname, up to 20 characters"]
    #[rest]
    nickname: Option<String>,
) -> Result<(), Error> {
    let nickname = nickname
        .map(|n| n.trim().to_owned())
        .filter(|n| !n.is_empty());
    if let Some(n) = &nickname
        && (n.chars().count() > 20 || n.contains(['`', '\n', '*', '_', '~', '|', '<', '@']))
    {
        bail_user!("A nickname is up to 20 characters, without markdown, `<` or `@`.");
    }
    let user = ctx.author().id.get();
    if !ctx
        .data()
        .store
        .set_nickname(id, user, nickname.as_deref())
        .await?
    {
        bail_user!("You don't have a Pokémon #{id}.");
    }
    match nickname {
        Some(n) => lounge_kit::say(ctx, format!("#{id} is now called **{n}**.")).await?,
        None => lounge_kit::say(ctx, format!("#{id}'s nickname is gone.")).await?,
    };
    Ok(())
}

/// Mark or unmark a Pokémon as a favourite (favourites can't be released)
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn favourite(
    ctx: Context<'_>,
    #[description = "The Pokémon's number"] id: i64,
) -> Result<(), Error> {
    let store = &ctx.data().store;
    let user = ctx.author().id.get();
    let Some(p) = store.pokemon(id).await?.filter(|p| p.owner == user) else {
        bail_user!("You don't have a Pokémon #{id}.");
    };
    if !store.set_favourite(id, user, !p.favourite).await? {
        bail_user!("You don't have a Pokémon #{id}.");
    }
    let name = game::display_name(&p);
    if p.favourite {
        lounge_kit::say(ctx, format!("#{id} {name} is no longer a favourite.")).await?;
    } else {
        lounge_kit::say(ctx, format!("❤ #{id} {name} is now a favourite.")).await?;
    }
    Ok(())
}

/// Choose whether a Pokémon may evolve when it levels up
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn evolution(
    ctx: Context<'_>,
    #[description = "The Pokémon's number"] id: i64,
    #[description = "Let it evolve (true) or keep it as it is (false)"] allow: bool,
) -> Result<(), Error> {
    if !ctx
        .data()
        .store
        .set_evolve(id, ctx.author().id.get(), allow)
        .await?
    {
        bail_user!("You don't have a Pokémon #{id}.");
    }
    let msg = if allow {
        format!("#{id} will evolve when it's ready.")
    } else {
        format!("#{id} won't evolve (you can change your mind any time).")
    };
    lounge_kit::say(ctx, msg).await?;
    Ok(())
}

/// Evolve one of your Pokémon with an item such as a Fire Stone (300 coins, used at once)
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn evolve(
    ctx: Context<'_>,
    #[description = "The Pokémon's number"] id: i64,
    #[description = "The evolution item, e.g. Thunder Stone"]
    #[autocomplete = "autocomplete_evolution_item"]
    #[rest]
    item: String,
) -> Result<(), Error> {
    use lounge_pokemon::evolution::{evolution_item, item_evolutions};
    let store = &ctx.data().store;
    let me = ctx.author().id.get();
    let Some(before) = store.pokemon(id).await?.filter(|p| p.owner == me) else {
        bail_user!("You don't have a Pokémon #{id}.");
    };
    let Some(item) = evolution_item(&item) else {
        bail_user!(
            "No Pokémon evolves with \"{}\". Evolution items include Fire Stone, Water Stone, \
             Thunder Stone, Leaf Stone and Moon Stone; the `item` option suggests them all.",
            item.trim().replace('`', "'")
        );
    };
    let options = item_evolutions(before.species);
    let Some(&(_, into)) = options.iter().find(|(i, _)| *i == item) else {
        let name = game::display_name(&before);
        if options.is_empty() {
            bail_user!("{name} doesn't evolve with an item.");
        }
        let ways: Vec<String> = options
            .iter()
            .map(|(i, s)| format!("{i} → {}", s.name))
            .collect();
        bail_user!(
            "{name} doesn't evolve with a {item}. It can use: {}.",
            ways.join(", ")
        );
    };
    let left = store
        .evolve_with_item(&before, into.num, EVOLUTION_ITEM_PRICE)
        .await
        .refused()?;
    lounge_kit::say(
        ctx,
        format!(
            "You used a {item} ({EVOLUTION_ITEM_PRICE} coins; {left} left). {}",
            messages::evolved_by_item(&before, into.num)
        ),
    )
    .await?;
    Ok(())
}

async fn autocomplete_evolution_item(
    _: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    lounge_kit::ui::autocomplete(lounge_pokemon::evolution::evolution_items(), partial)
}

/// Give one of your Pokémon an item to hold, from your bag or bought (300 coins)
///
/// Some Pokémon evolve holding an item: Onix with a Metal Coat when traded, Sneasel with a \
/// Razor Claw when it levels up at night, Happiny with an Oval Stone by day. Battle items \
/// (Leftovers, Choice Band, Charcoal...) work in battles; an Everstone stops evolution. An item \
/// in your bag is used first; otherwise it is bought. It stays with the Pokémon in a trade.
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn hold(
    ctx: Context<'_>,
    #[description = "The Pokémon's number"] id: i64,
    #[description = "The item, e.g. Metal Coat, Leftovers or Everstone"]
    #[autocomplete = "autocomplete_held_item"]
    #[rest]
    item: String,
) -> Result<(), Error> {
    use lounge_pokemon::effects::holdable_item;
    let store = &ctx.data().store;
    let me = ctx.author().id.get();
    let Some(p) = store.pokemon(id).await?.filter(|p| p.owner == me) else {
        bail_user!("You don't have a Pokémon #{id}.");
    };
    let Some(item) = holdable_item(&item) else {
        bail_user!("{}", messages::unknown_held_item(&item));
    };
    let from = match store.hold_item(id, me, item, HELD_ITEM_PRICE).await {
        Ok(from) => from,
        Err(PokemonError::NotOwned { .. }) => bail_user!("You don't have a Pokémon #{id}."),
        Err(e) => return Err(lounge_kit::refusal(e)),
    };
    lounge_kit::say(ctx, messages::now_holding(&p, item, from, HELD_ITEM_PRICE)).await?;
    Ok(())
}

async fn autocomplete_held_item(
    _: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    lounge_kit::ui::autocomplete(
        lounge_pokemon::effects::holdable_items().iter().copied(),
        partial,
    )
}

/// Take the item one of your Pokémon holds and put it in your bag
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn takeitem(
    ctx: Context<'_>,
    #[description = "The Pokémon's number"] id: i64,
) -> Result<(), Error> {
    let store = &ctx.data().store;
    let me = ctx.author().id.get();
    let item = match store.take_held_item(id, me).await {
        Ok(item) => item,
        Err(PokemonError::NotOwned { .. }) => bail_user!("You don't have a Pokémon #{id}."),
        Err(e) => return Err(lounge_kit::refusal(e)),
    };
    let name = store
        .pokemon(id)
        .await?
        .map(|p| game::display_name(&p))
        .unwrap_or_default();
    lounge_kit::say(
        ctx,
        format!(
            "You took the {item} from #{id} {name} and put it in your bag \
         (`/pokemon hold` gives it to a Pokémon again)."
        ),
    )
    .await?;
    Ok(())
}

/// Choose the Pokémon that gains experience from your chatting (and battles, without a team)
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn select(
    ctx: Context<'_>,
    #[description = "The Pokémon's number"] id: i64,
) -> Result<(), Error> {
    let store = &ctx.data().store;
    if !store.select_pokemon(ctx.author().id.get(), id).await? {
        bail_user!("You don't have a Pokémon #{id}.");
    }
    let name = store
        .pokemon(id)
        .await?
        .map(|p| game::display_name(&p))
        .unwrap_or_default();
    lounge_kit::say(ctx, format!("You selected #{id} {name}.")).await?;
    Ok(())
}

/// Release one of your Pokémon into the wild (asks you to confirm)
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn release(
    ctx: Context<'_>,
    #[description = "The Pokémon's number"] id: i64,
) -> Result<(), Error> {
    let store = &ctx.data().store;
    let user = ctx.author().id;
    let Some(p) = store.pokemon(id).await?.filter(|p| p.owner == user.get()) else {
        bail_user!("You don't have a Pokémon #{id}.");
    };
    if p.favourite {
        bail_user!("#{id} is a favourite; unfavourite it first with `/pokemon favourite {id}`.");
    }
    if store.is_offered(id).await? {
        bail_user!("{}", PokemonError::Offered { id });
    }
    let yes = format!("{}:release:yes", ctx.id());
    let no = format!("{}:release:no", ctx.id());
    let buttons = vec![serenity::CreateActionRow::Buttons(vec![
        serenity::CreateButton::new(&yes)
            .label("Release")
            .style(serenity::ButtonStyle::Danger),
        serenity::CreateButton::new(&no)
            .label("Keep")
            .style(serenity::ButtonStyle::Secondary),
    ])];
    let question = format!(
        "Release #{id} {} (level {})? This can't be undone.",
        game::display_name(&p),
        p.level
    );
    let mut clicks = lounge_kit::ui::ButtonPresses::new(ctx, format!("{}:release:", ctx.id()));
    let handle = ctx
        .send(
            poise::CreateReply::default()
                .text(&question)
                .components(buttons),
        )
        .await?;
    loop {
        let Some(press) = clicks.next(CONFIRM_TIMEOUT).await else {
            handle
                .edit(
                    ctx,
                    poise::CreateReply::default()
                        .text(format!("{question}\nNo answer: #{id} stays with you."))
                        .components(Vec::new()),
                )
                .await?;
            return Ok(());
        };
        if press.user.id != user {
            respond_private(ctx, &press, messages::NOT_YOURS).await?;
            continue;
        }
        let answer = if press.data.custom_id == yes {
            match store.release_pokemon(id, user.get()).await {
                Ok(p) => match &p.held_item {
                    Some(item) => format!(
                        "Bye, {}! #{id} was released. Its {item} went back to your bag.",
                        game::display_name(&p)
                    ),
                    None => format!("Bye, {}! #{id} was released.", game::display_name(&p)),
                },
                Err(
                    e @ (PokemonError::NotOwned { .. }
                    | PokemonError::Favourite { .. }
                    | PokemonError::Offered { .. }),
                ) => e.to_string(),
                Err(e) => return Err(lounge_kit::refusal(e)),
            }
        } else {
            format!("#{id} stays with you.")
        };
        update_message(ctx, &press, answer, Vec::new()).await?;
        return Ok(());
    }
}

/// Show your balls, items and coins
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn bag(ctx: Context<'_>) -> Result<(), Error> {
    let store = &ctx.data().store;
    let user = ctx.author().id.get();
    let items = store.items(user).await?;
    let coins = store.balance(user).await?;
    let mut lines: Vec<String> = items
        .iter()
        .map(|(key, n)| {
            let name = BallChoice::from_key(key).map_or(key.as_str(), |b| b.label());
            format!("{name}: {n}")
        })
        .collect();
    if lines.is_empty() {
        lines.push("Nothing yet: `/pokemon buy` has balls.".to_owned());
    }
    lines.push(format!("Coins: {coins}"));
    ctx.send(
        poise::CreateReply::default().embed(
            serenity::CreateEmbed::new()
                .title("Your bag")
                .description(lines.join("\n"))
                .colour(messages::COLOUR),
        ),
    )
    .await?;
    Ok(())
}

/// Buy balls with coins
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn buy(
    ctx: Context<'_>,
    #[description = "Which ball (Poké 20, Great 60, Ultra 120, Master 5000 coins)"]
    ball: BallChoice,
    #[description = "How many (default 1)"] count: Option<Bounded<1, 100>>,
) -> Result<(), Error> {
    let count = count.map_or(1, Bounded::get);
    let (owned, coins) = ctx
        .data()
        .store
        .buy_item(ctx.author().id.get(), ball.key(), count, ball.price())
        .await
        .refused()?;
    lounge_kit::say(
        ctx,
        format!(
            "You bought {count} {} for {} coins. You have {owned} now and {coins} coins left.",
            ball.label(),
            count * ball.price()
        ),
    )
    .await?;
    Ok(())
}

/// Choose where wild Pokémon appear here (leave out the channel: wherever people chat)
#[poise::command(
    slash_command,
    prefix_command,
    guild_only,
    required_permissions = "MANAGE_GUILD"
)]
pub async fn spawnchannel(
    ctx: Context<'_>,
    #[description = "The channel for spawns"] channel: Option<serenity::GuildChannel>,
) -> Result<(), Error> {
    let guild = lounge_kit::guild_id(ctx);
    ctx.data()
        .store
        .set_spawn_channel(
            guild,
            channel.as_ref().map(|c| c.id.get()),
            ctx.author().id.get(),
        )
        .await?;
    match channel {
        Some(c) => {
            lounge_kit::say(ctx, format!("Wild Pokémon will appear in <#{}>.", c.id)).await?
        }
        None => {
            lounge_kit::say(
                ctx,
                "Wild Pokémon will appear wherever people are chatting.",
            )
            .await?
        }
    };
    Ok(())
}

/// Your Pokédex: how many species you have caught
#[poise::command(slash_command, prefix_command, guild_only)]
pub async fn pokedex(
    ctx: Context<'_>,
    #[description = "Whose Pokédex (default: yours)"] user: Option<serenity::User>,
) -> Result<(), Error> {
    let user = user.as_ref().unwrap_or_else(|| ctx.author());
    let store = &ctx.data().store;
    let caught = store.dex(user.id.get()).await?;
    let total = lounge_pokemon::data::dex().species().len();
    let (wins, losses) = store.battle_record(user.id.get()).await?;
    let recent: Vec<&str> = caught
        .iter()
        .rev()
        .take(20)
        .map(|&s| game::species(s).name)
        .collect();
    let mut description = format!(
        "**{}/{total}** species ({:.1}%)\nBattles: {wins} won, {losses} lost",
        caught.len(),
        caught.len() as f64 * 100.0 / total as f64
    );
    if !recent.is_empty() {
        description.push_str("\nHighest numbers: ");
        description.push_str(&recent.join(", "));
    }
    ctx.send(
        poise::CreateReply::default().embed(
            serenity::CreateEmbed::new()
                .title(format!("{}'s Pokédex", user.name))
                .description(description)
                .colour(messages::COLOUR),
        ),
    )
    .await?;
    Ok(())
}

/// Answers a button press by rewriting the message the button is on.
async fn update_message(
    ctx: Context<'_>,
    press: &serenity::ComponentInteraction,
    content: impl Into<String>,
    components: Vec<serenity::CreateActionRow>,
) -> Result<(), Error> {
    press
        .create_response(
            ctx,
            serenity::CreateInteractionResponse::UpdateMessage(
                serenity::CreateInteractionResponseMessage::new()
                    .text(content)
                    .components(components)
                    .allowed_mentions(serenity::CreateAllowedMentions::new()),
            ),
        )
        .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_read_from_free_text() {
        assert_eq!(parse_ids("12, 15 #16"), vec![12, 15, 16]);
        assert!(parse_ids("none").is_empty());
    }
}
