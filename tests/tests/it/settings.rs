//! Server settings and the global command limiter, end to end.

use lounge_store::Backend;
use lounge_tests::db::TestDb;
use lounge_tests::discord::{
    GENERAL_CHANNEL_ID, GUILD_ID, MEMBER_ID, MOD_ID, OTHER_GUILD_CHANNEL_ID, OTHER_GUILD_ID,
    OWNER_ID,
};

use crate::util::{Harness, REPLY_TIMEOUT, seed_coins};

async fn prefix_changes_take_effect_at_once(backend: Backend) {
    let h = Harness::start(TestDb::new(backend).await).await;
    let g = GENERAL_CHANNEL_ID;
    let current = h.ask(GUILD_ID, g, MEMBER_ID, "!settings prefix").await;
    assert!(
        current.contains("You need these permissions"),
        "members can't even read settings: {current}"
    );
    assert!(
        h.ask(GUILD_ID, g, MOD_ID, "!settings prefix")
            .await
            .contains("The prefix here is `!`")
    );
    let set = h.ask(GUILD_ID, g, MOD_ID, "!settings prefix ?").await;
    assert!(set.contains("now start with `?`"), "{set}");
    assert!(
        h.ask(GUILD_ID, g, MEMBER_ID, "?ping")
            .await
            .contains("Pinging")
    );
    let clash = h.ask(GUILD_ID, g, MOD_ID, "?settings prefix <@123>").await;
    assert!(clash.contains("clash"), "{clash}");
    let long = h
        .ask(GUILD_ID, g, MOD_ID, "?settings prefix 12345678901234567")
        .await;
    assert!(long.contains("1 to 16 characters"), "{long}");
    let reset = h.ask(GUILD_ID, g, MOD_ID, "?settings prefix reset").await;
    assert!(reset.contains("back to the default, `!`"), "{reset}");
    assert!(
        h.ask(GUILD_ID, g, MEMBER_ID, "!ping")
            .await
            .contains("Pinging")
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn prefix_changes_take_effect_at_once_on_sqlite() {
    prefix_changes_take_effect_at_once(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn prefix_changes_take_effect_at_once_on_postgres() {
    prefix_changes_take_effect_at_once(Backend::Postgres).await;
}

/// The limiter answers a spammer privately: an ephemeral reply to slash commands, only a
/// reaction on prefix messages and tags (a public reply per message would mirror the flood).
#[tokio::test(flavor = "multi_thread")]
async fn the_limiter_stops_command_spam_per_user() {
    let env = [
        ("LOUNGE_BOT__COMMAND_BURST", "2"),
        ("LOUNGE_BOT__COMMAND_REFILL_SECONDS", "60"),
    ];
    let h = Harness::start_with_env(TestDb::sqlite(), &env).await;
    let g = GENERAL_CHANNEL_ID;
    // The owner is exempt, so making the tag costs the member nothing.
    let made = h.ask(GUILD_ID, g, OWNER_ID, "!tag create hi hello").await;
    assert!(made.contains("Saved"), "{made}");
    assert!(
        h.ask(GUILD_ID, g, MEMBER_ID, "!balance")
            .await
            .contains("has 0 coins")
    );
    assert!(
        h.ask(GUILD_ID, g, MEMBER_ID, "!balance")
            .await
            .contains("has 0 coins")
    );
    for text in ["!balance", "!hi"] {
        let skip = h.fake.requests().len();
        let id = h.fake.send_message(GUILD_ID, g, MEMBER_ID, text);
        let reaction = h
            .fake
            .wait_for_request(skip, REPLY_TIMEOUT, |r| r.method == "PUT")
            .await;
        assert_eq!(
            reaction.path,
            format!("/channels/{g}/messages/{id}/reactions/%E2%8F%B3/@me"),
            "{text}"
        );
        assert_eq!(reaction.status, 204, "{text}: {reaction:?}");
        assert_eq!(
            h.fake.message(id).unwrap()["reactions"][0]["emoji"]["name"],
            "⏳"
        );
    }
    let slow = h
        .slash(GUILD_ID, g, MEMBER_ID, "balance", serde_json::json!([]))
        .await;
    assert!(
        slow.text().contains("too fast") && slow.text().contains("Try again in"),
        "{slow:?}"
    );
    assert_eq!(
        slow.body["data"]["flags"], 64,
        "slash refusals are ephemeral"
    );
    // Other users have their own allowance; owners are exempt.
    assert!(
        h.ask(GUILD_ID, g, MOD_ID, "!balance")
            .await
            .contains("has 0 coins")
    );
    for _ in 0..3 {
        assert!(
            h.ask(GUILD_ID, g, OWNER_ID, "!balance")
                .await
                .contains("has 0 coins")
        );
    }
    let public: Vec<_> = h
        .fake
        .requests()
        .into_iter()
        .filter(|r| r.path == format!("/channels/{g}/messages") && r.text().contains("too fast"))
        .collect();
    assert!(public.is_empty(), "refusals went public: {public:?}");
    h.finish().await;
}

async fn cooldowns_default_and_per_guild(backend: Backend) {
    let db = TestDb::new(backend).await;
    seed_coins(&db, MOD_ID, 100).await;
    let h = Harness::start(db).await;
    let g = GENERAL_CHANNEL_ID;
    let give = format!("!give <@{MEMBER_ID}> 1");
    assert!(
        h.ask(GUILD_ID, g, MOD_ID, &give)
            .await
            .contains("Sent 1 coins")
    );
    let slow = h.ask(GUILD_ID, g, MOD_ID, &give).await;
    assert!(
        slow.contains("Slow down: `give` can be used again <t:") && slow.contains(":R>"),
        "{slow}"
    );
    // A refused invocation doesn't start the cooldown.
    let broke = h
        .ask(GUILD_ID, g, MEMBER_ID, &format!("!give <@{MOD_ID}> 999"))
        .await;
    assert!(broke.contains("Not enough coins"), "{broke}");
    assert!(
        h.ask(GUILD_ID, g, MEMBER_ID, &format!("!give <@{MOD_ID}> 1"))
            .await
            .contains("Sent 1 coins")
    );

    // The server turns give's cooldown off, then back to the default.
    let off = h
        .ask(GUILD_ID, g, MOD_ID, "!cooldown set give user 0")
        .await;
    assert!(off.contains("no user cooldown"), "{off}");
    assert!(
        h.ask(GUILD_ID, g, MOD_ID, &give)
            .await
            .contains("Sent 1 coins")
    );
    assert!(
        h.ask(GUILD_ID, g, MOD_ID, &give)
            .await
            .contains("Sent 1 coins")
    );
    assert!(
        h.ask(GUILD_ID, g, MOD_ID, "!cooldown list")
            .await
            .contains("`give` — 0 s per user")
    );
    assert!(
        h.ask(GUILD_ID, g, MOD_ID, "!cooldown reset give")
            .await
            .contains("Removed 1 override")
    );
    assert!(
        h.ask(GUILD_ID, g, MOD_ID, &give)
            .await
            .contains("Slow down")
    );

    // A guild-wide cooldown covers everyone in that server, and only that server.
    let set = h
        .ask(GUILD_ID, g, MOD_ID, "!cooldown set balance guild 60")
        .await;
    assert!(set.contains("once every 60 s per guild"), "{set}");
    assert!(
        h.ask(GUILD_ID, g, MEMBER_ID, "!balance")
            .await
            .contains("coins")
    );
    assert!(
        h.ask(GUILD_ID, g, MOD_ID, "!balance")
            .await
            .contains("Slow down: `balance`")
    );
    let elsewhere = h
        .ask(
            OTHER_GUILD_ID,
            OTHER_GUILD_CHANNEL_ID,
            MEMBER_ID,
            "!balance",
        )
        .await;
    assert!(
        elsewhere.contains("coins") && !elsewhere.contains("Slow down"),
        "{elsewhere}"
    );
    let bad = h
        .ask(GUILD_ID, g, MOD_ID, "!cooldown set nosuch user 5")
        .await;
    assert!(bad.contains("no command called `nosuch`"), "{bad}");
    let long = h
        .ask(GUILD_ID, g, MOD_ID, "!cooldown set give user 100000")
        .await;
    assert!(
        long.contains("`100000`: it must be a whole number from 0 to 86400"),
        "{long}"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cooldowns_default_and_per_guild_on_sqlite() {
    cooldowns_default_and_per_guild(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn cooldowns_default_and_per_guild_on_postgres() {
    cooldowns_default_and_per_guild(Backend::Postgres).await;
}
