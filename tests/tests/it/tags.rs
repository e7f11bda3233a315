//! Custom commands (tags) and aliases, end to end.

use lounge_store::Backend;
use lounge_tests::db::TestDb;
use lounge_tests::discord::{GENERAL_CHANNEL_ID, GUILD_ID, MEMBER_ID, MEMBER_ROLE_ID, MOD_ID};
use serde_json::json;

use crate::util::{Harness, assert_pings_nobody, seed_coins};

const G: u64 = GENERAL_CHANNEL_ID;

async fn tags_work_from_creation_to_deletion(backend: Backend) {
    let h = Harness::start(TestDb::new(backend).await).await;
    let made = h
        .ask(
            GUILD_ID,
            G,
            MEMBER_ID,
            "!tag create hello Hi {user}, you said {args}! ({1}) {choose:red|blue}",
        )
        .await;
    assert!(
        made.contains("Saved tag `hello`. Use it with `!hello`"),
        "{made}"
    );

    let said = h.ask(GUILD_ID, G, MEMBER_ID, "!hello there friend").await;
    assert!(
        said.starts_with(&format!(
            "Hi <@{MEMBER_ID}>, you said there friend! (there) "
        )),
        "{said}"
    );
    assert!(said.ends_with("red") || said.ends_with("blue"), "{said}");
    // Names are case-insensitive, like built-in commands.
    let loud = h.ask(GUILD_ID, G, MEMBER_ID, "!HELLO x").await;
    assert!(loud.contains("you said x!"), "{loud}");

    let broken = h
        .ask(GUILD_ID, G, MEMBER_ID, "!tag create bad Hi {nope} there")
        .await;
    assert!(broken.contains("at position 4"), "{broken}");
    assert!(broken.contains("Hi {nope} there\n   ^"), "{broken}");
    let unclosed = h
        .ask(GUILD_ID, G, MEMBER_ID, "!tag create bad {random:1-6")
        .await;
    assert!(unclosed.contains("at position 1"), "{unclosed}");
    let builtin = h.ask(GUILD_ID, G, MEMBER_ID, "!tag create ping pong").await;
    assert!(
        builtin.contains("one of the bot's own commands"),
        "{builtin}"
    );
    let taken = h.ask(GUILD_ID, G, MOD_ID, "!tag create Hello again").await;
    assert!(taken.contains("`hello` already exists"), "{taken}");
    let spaced = h.ask(GUILD_ID, G, MEMBER_ID, "!tag create a/b text").await;
    assert!(spaced.contains("letters, digits"), "{spaced}");

    let info = h.ask(GUILD_ID, G, MOD_ID, "!tag info hello").await;
    assert!(info.contains(&format!("<@{MEMBER_ID}>")), "{info}");
    assert!(info.contains("Uses\n2"), "two uses counted: {info}");
    let raw = h.ask(GUILD_ID, G, MOD_ID, "!tag raw hello").await;
    assert!(raw.contains("Hi {user}, you said {args}!"), "{raw}");

    // Only the creator, or someone with the right permission, may change a tag.
    let mods = h
        .ask(GUILD_ID, G, MOD_ID, "!tag create rules Be nice")
        .await;
    assert!(mods.contains("Saved"), "{mods}");
    let edit = h
        .ask(GUILD_ID, G, MEMBER_ID, "!tag edit rules Be mean")
        .await;
    assert!(
        edit.contains(&format!("Only <@{MOD_ID}> (who made `rules`)")),
        "{edit}"
    );
    let edit = h
        .ask(GUILD_ID, G, MOD_ID, "!tag edit hello Bye {user.name}")
        .await;
    assert!(edit.contains("Updated tag `hello`"), "{edit}");
    assert_eq!(h.ask(GUILD_ID, G, MEMBER_ID, "!hello").await, "Bye member");
    let bad_edit = h.ask(GUILD_ID, G, MEMBER_ID, "!tag edit hello {").await;
    assert!(bad_edit.contains("position 1"), "{bad_edit}");

    let list = h.ask(GUILD_ID, G, MEMBER_ID, "!tag list").await;
    assert!(
        list.contains("`!hello`") && list.contains("`!rules`"),
        "{list}"
    );
    let gone = h.ask(GUILD_ID, G, MEMBER_ID, "!tag delete hello").await;
    assert!(gone.contains("Deleted tag `hello`"), "{gone}");
    let missing = h.ask(GUILD_ID, G, MEMBER_ID, "!tag info hello").await;
    assert!(missing.contains("There is no tag `hello`"), "{missing}");

    // The slash form works the same and answers the invoker.
    let slash = h
        .slash(
            GUILD_ID,
            G,
            MEMBER_ID,
            "tag",
            json!([{"type": 1, "name": "create", "options": [
                {"type": 3, "name": "name", "value": "wave"},
                {"type": 3, "name": "content", "value": "👋 from {server}"}
            ]}]),
        )
        .await;
    assert!(
        slash.text().contains("Saved tag `wave`"),
        "{}",
        slash.text()
    );
    assert_eq!(
        h.ask(GUILD_ID, G, MOD_ID, "!wave").await,
        "👋 from Lounge Test"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tags_work_from_creation_to_deletion_on_sqlite() {
    tags_work_from_creation_to_deletion(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tags_work_from_creation_to_deletion_on_postgres() {
    tags_work_from_creation_to_deletion(Backend::Postgres).await;
}

/// A tag full of mass mentions goes out as text: the payload itself says "parse nothing", and
/// the text carries no mention that could ping.
#[tokio::test(flavor = "multi_thread")]
async fn tags_never_ping_everyone_or_roles() {
    let h = Harness::start(TestDb::sqlite()).await;
    let content = format!("@everyone @here <@&{MEMBER_ROLE_ID}> look at {{args}}");
    let made = h
        .ask(
            GUILD_ID,
            G,
            MEMBER_ID,
            &format!("!tag create alert {content}"),
        )
        .await;
    assert!(made.contains("Saved"), "{made}");
    let sent = h
        .ask_recorded(GUILD_ID, G, MEMBER_ID, "!alert @everyone <@&1> !ping")
        .await;
    // Defused in the text too, for servers and clients that ignore allowed_mentions: a
    // zero-width space after `@`, and role mentions as the role's name.
    assert_eq!(
        sent.content(),
        Some(
            "@\u{200b}everyone @\u{200b}here @Member look at @\u{200b}everyone @deleted-role !ping"
        )
    );
    assert_pings_nobody(&sent);
    let am = sent.allowed_mentions().unwrap();
    assert!(
        am.get("roles").is_none_or(|r| r == &json!([])),
        "no role may be pinged: {am}"
    );
    assert!(
        am.get("users").is_none_or(|r| r == &json!([])),
        "no user may be pinged: {am}"
    );
    h.finish().await;
}

/// Replies that would outgrow Discord's 2,000 characters are cut in one place: a tag of
/// backticks doubles in length when shown raw (each gets a zero-width space).
#[tokio::test(flavor = "multi_thread")]
async fn a_reply_past_discords_limit_is_cut_with_an_ellipsis() {
    let h = Harness::start(TestDb::sqlite()).await;
    let made = h
        .ask(
            GUILD_ID,
            G,
            MEMBER_ID,
            &format!("!tag create ticks {}", "`".repeat(1500)),
        )
        .await;
    assert!(made.contains("Saved"), "{made}");
    let raw = h
        .ask_recorded(GUILD_ID, G, MEMBER_ID, "!tag raw ticks")
        .await;
    assert_eq!(raw.status, 200, "Discord would refuse it: {raw:?}");
    let text = raw.content().unwrap();
    assert_eq!(text.chars().count(), 2000);
    assert!(text.starts_with("```\n`\u{200b}`"), "{text}");
    assert!(text.ends_with("…\n```"), "the code block is closed: {text}");
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn tags_stop_when_their_module_is_off() {
    let h = Harness::start(TestDb::sqlite()).await;
    h.ask(GUILD_ID, G, MEMBER_ID, "!tag create hi hello").await;
    let off = h.ask(GUILD_ID, G, MOD_ID, "!module disable tags").await;
    assert!(off.contains("off"), "{off}");
    let hi = h.ask(GUILD_ID, G, MEMBER_ID, "!hi").await;
    assert!(hi.contains("Tags are turned off here"), "{hi}");
    let list = h.ask(GUILD_ID, G, MEMBER_ID, "!tag list").await;
    assert!(list.contains("module is turned off"), "{list}");
    h.ask(GUILD_ID, G, MOD_ID, "!module enable tags").await;
    assert_eq!(h.ask(GUILD_ID, G, MEMBER_ID, "!hi").await, "hello");
    h.finish().await;
}

async fn aliases_expand_before_dispatch(backend: Backend) {
    let db = TestDb::new(backend).await;
    seed_coins(&db, MEMBER_ID, 50).await;
    let h = Harness::start(db).await;

    let denied = h.ask(GUILD_ID, G, MEMBER_ID, "!alias add b balance").await;
    assert!(denied.contains("You need these permissions"), "{denied}");
    let made = h.ask(GUILD_ID, G, MOD_ID, "!alias add gift give").await;
    assert!(made.contains("`!gift` now runs `!give`"), "{made}");
    let sent = h
        .ask(GUILD_ID, G, MEMBER_ID, &format!("!gift <@{MOD_ID}> 5"))
        .await;
    assert!(sent.contains("Sent 5 coins"), "{sent}");

    // Fixed arguments come first; chains resolve; the command's own checks still apply.
    let made = h
        .ask(
            GUILD_ID,
            G,
            MOD_ID,
            &format!("!alias add tip gift <@{MOD_ID}>"),
        )
        .await;
    assert!(
        made.contains(&format!("now runs `!give <@{MOD_ID}>`")),
        "{made}"
    );
    // The target's cooldown applies to its aliases too (`give` has one of 5 s per user).
    let tip = h.ask(GUILD_ID, G, MEMBER_ID, "!tip 7").await;
    assert!(tip.contains("Slow down: `give`"), "{tip}");
    h.ask(
        GUILD_ID,
        G,
        MOD_ID,
        &format!("!alias add modbal balance <@{MOD_ID}>"),
    )
    .await;
    h.ask(GUILD_ID, G, MOD_ID, "!alias add mb modbal").await;
    let mb = h.ask(GUILD_ID, G, MEMBER_ID, "!mb").await;
    assert_eq!(mb, format!("<@{MOD_ID}> has 5 coins."));
    h.ask(GUILD_ID, G, MOD_ID, "!alias add pfx settings prefix")
        .await;
    let guarded = h.ask(GUILD_ID, G, MEMBER_ID, "!pfx ?").await;
    assert!(guarded.contains("You need these permissions"), "{guarded}");

    let shadow = h.ask(GUILD_ID, G, MOD_ID, "!alias add bal ping").await;
    assert!(shadow.contains("one of the bot's own commands"), "{shadow}");
    let unknown = h.ask(GUILD_ID, G, MOD_ID, "!alias add x nothing").await;
    assert!(
        unknown.contains("`nothing` is not a command or alias"),
        "{unknown}"
    );
    h.ask(GUILD_ID, G, MOD_ID, "!alias add one help").await;
    h.ask(GUILD_ID, G, MOD_ID, "!alias add two one").await;
    h.ask(GUILD_ID, G, MOD_ID, "!alias remove one").await;
    let looped = h.ask(GUILD_ID, G, MOD_ID, "!alias add one two").await;
    assert!(looped.contains("`one` → `two` → `one`"), "{looped}");
    let dangling = h.ask(GUILD_ID, G, MEMBER_ID, "!two").await;
    assert!(dangling.contains("The alias `two` is broken"), "{dangling}");
    let clash = h.ask(GUILD_ID, G, MEMBER_ID, "!tag create gift hi").await;
    assert!(clash.contains("already an alias"), "{clash}");

    let list = h.ask(GUILD_ID, G, MOD_ID, "!alias list").await;
    assert!(list.contains("`!gift` → `!give`"), "{list}");
    let removed = h.ask(GUILD_ID, G, MOD_ID, "!alias remove gift").await;
    assert!(removed.contains("Removed the alias `gift`"), "{removed}");
    let again = h.ask(GUILD_ID, G, MOD_ID, "!alias remove gift").await;
    assert!(again.contains("There is no alias `gift`"), "{again}");
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn aliases_expand_before_dispatch_on_sqlite() {
    aliases_expand_before_dispatch(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn aliases_expand_before_dispatch_on_postgres() {
    aliases_expand_before_dispatch(Backend::Postgres).await;
}
