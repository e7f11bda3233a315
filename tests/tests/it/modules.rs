//! Module switches and the economy module, end to end through the fake Discord.

use lounge_store::Backend;
use lounge_tests::db::TestDb;
use lounge_tests::discord::{
    ADMIN_ID, FakeDiscord, GENERAL_CHANNEL_ID, GUILD_ID, MEMBER_ID, MOD_ID, OTHER_GUILD_CHANNEL_ID,
    OTHER_GUILD_ID, OWNER_ID, Options,
};
use serde_json::json;

use crate::util::{Harness, seed_coins};

async fn disabling_blocks_only_that_guild(backend: Backend) {
    let h = Harness::start(TestDb::new(backend).await).await;
    let g = GENERAL_CHANNEL_ID;
    assert!(
        h.ask(GUILD_ID, g, MEMBER_ID, "!balance")
            .await
            .contains("has 0 coins")
    );

    // Members without Manage Server can't switch modules.
    let refused = h
        .ask(GUILD_ID, g, MEMBER_ID, "!module disable economy")
        .await;
    assert!(
        refused.contains("You need these permissions") && refused.contains("Manage Guild"),
        "{refused}"
    );

    let off = h.ask(GUILD_ID, g, MOD_ID, "!module disable economy").await;
    assert!(
        off.contains("`economy` module is now off in this server"),
        "{off}"
    );
    let notice = h.ask(GUILD_ID, g, MEMBER_ID, "!balance").await;
    assert!(
        notice.contains("turned off in this server") && notice.contains("/module enable economy"),
        "{notice}"
    );
    // Slash commands are gated the same way, and privately.
    let slash = h.slash(GUILD_ID, g, MEMBER_ID, "balance", json!([])).await;
    assert!(
        slash.text().contains("turned off in this server"),
        "{}",
        slash.text()
    );
    assert_eq!(slash.body["data"]["flags"], 64);
    // The other guild is untouched.
    assert!(
        h.ask(
            OTHER_GUILD_ID,
            OTHER_GUILD_CHANNEL_ID,
            MEMBER_ID,
            "!balance"
        )
        .await
        .contains("has 0 coins")
    );

    let list = h.ask(GUILD_ID, g, MOD_ID, "!module list").await;
    assert!(
        list.contains("economy — off in this server") && list.contains("core — always on"),
        "{list}"
    );
    let core = h.ask(GUILD_ID, g, MOD_ID, "!module disable core").await;
    assert!(core.contains("can't be turned off"), "{core}");
    let unknown = h.ask(GUILD_ID, g, MOD_ID, "!module disable nosuch").await;
    assert!(
        unknown.contains("no module called `nosuch`") && unknown.contains("economy"),
        "{unknown}"
    );

    let on = h.ask(GUILD_ID, g, MOD_ID, "!module enable economy").await;
    assert!(on.contains("now on"), "{on}");
    assert!(
        h.ask(GUILD_ID, g, MEMBER_ID, "!balance")
            .await
            .contains("has 0 coins")
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn disabling_blocks_only_that_guild_on_sqlite() {
    disabling_blocks_only_that_guild(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn disabling_blocks_only_that_guild_on_postgres() {
    disabling_blocks_only_that_guild(Backend::Postgres).await;
}

/// poise's default makes every developer of the application's team a bot owner; Lounge's
/// owners are the application's owner and `discord.owners`, nobody else.
#[tokio::test(flavor = "multi_thread")]
async fn owners_are_the_application_owner_and_discord_owners_not_the_team() {
    let fake = FakeDiscord::start_with(Options {
        team_developer: Some(MOD_ID),
        ..Options::default()
    })
    .await;
    let owners = format!("[{ADMIN_ID}]");
    let h = Harness::start_with_fake(
        TestDb::sqlite(),
        fake,
        &[("LOUNGE_DISCORD__OWNERS", owners.as_str())],
    )
    .await;
    let g = GENERAL_CHANNEL_ID;
    let refused = h.ask(GUILD_ID, g, MOD_ID, "!module unload economy").await;
    assert!(
        refused.contains("Only the bot's owners"),
        "a team developer is not an owner: {refused}"
    );
    let done = h.ask(GUILD_ID, g, OWNER_ID, "!module unload economy").await;
    assert!(
        done.contains("Unloaded `economy` in every server"),
        "the team's owner owns the bot: {done}"
    );
    let back = h.ask(GUILD_ID, g, ADMIN_ID, "!module load economy").await;
    assert!(
        back.contains("Loaded `economy` again"),
        "discord.owners are owners: {back}"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn owner_unload_applies_everywhere_and_survives_a_restart() {
    let h = Harness::start(TestDb::sqlite()).await;
    let g = GENERAL_CHANNEL_ID;
    let refused = h.ask(GUILD_ID, g, MOD_ID, "!module unload economy").await;
    assert!(refused.contains("Only the bot's owners"), "{refused}");
    let done = h.ask(GUILD_ID, g, OWNER_ID, "!module unload economy").await;
    assert!(
        done.contains("Unloaded `economy` in every server"),
        "{done}"
    );
    for (guild, channel) in [(GUILD_ID, g), (OTHER_GUILD_ID, OTHER_GUILD_CHANNEL_ID)] {
        let notice = h.ask(guild, channel, MEMBER_ID, "!balance").await;
        assert!(notice.contains("switched off everywhere"), "{notice}");
    }

    let h = Harness::start(h.stop().await).await;
    let notice = h
        .ask(
            OTHER_GUILD_ID,
            OTHER_GUILD_CHANNEL_ID,
            MEMBER_ID,
            "!balance",
        )
        .await;
    assert!(
        notice.contains("switched off everywhere"),
        "unload must survive a restart: {notice}"
    );
    let back = h.ask(GUILD_ID, g, OWNER_ID, "!module load economy").await;
    assert!(back.contains("Loaded `economy` again"), "{back}");
    assert!(
        h.ask(
            OTHER_GUILD_ID,
            OTHER_GUILD_CHANNEL_ID,
            MEMBER_ID,
            "!balance"
        )
        .await
        .contains("has 0 coins")
    );
    h.finish().await;
}

async fn give_moves_coins(backend: Backend) {
    let db = TestDb::new(backend).await;
    seed_coins(&db, MOD_ID, 100).await;
    let h = Harness::start(db).await;
    let g = GENERAL_CHANNEL_ID;
    let sent = h
        .ask(GUILD_ID, g, MOD_ID, &format!("!give <@{MEMBER_ID}> 30"))
        .await;
    assert!(
        sent.contains("Sent 30 coins") && sent.contains("You have 70 left"),
        "{sent}"
    );
    assert!(
        h.ask(GUILD_ID, g, MEMBER_ID, "!balance")
            .await
            .contains("has 30 coins")
    );

    let broke = h
        .ask(GUILD_ID, g, MEMBER_ID, &format!("!give <@{MOD_ID}> 31"))
        .await;
    assert!(
        broke.contains("Not enough coins: you have 30, this needs 31."),
        "{broke}"
    );
    let me = h
        .ask(GUILD_ID, g, MEMBER_ID, &format!("!give <@{MEMBER_ID}> 1"))
        .await;
    assert!(me.contains("You can't send coins to yourself."), "{me}");
    // Slash: Discord enforces min_value; prefix input meets the same bound in the parser.
    let zero = h
        .ask(GUILD_ID, g, MEMBER_ID, &format!("!give <@{MOD_ID}> 0"))
        .await;
    assert!(
        zero.contains("`0`: it must be a whole number of at least 1"),
        "{zero}"
    );
    let r = h
        .slash(
            GUILD_ID,
            g,
            MEMBER_ID,
            "give",
            json!([
                {"name": "user", "type": 6, "value": MOD_ID.to_string()},
                {"name": "amount", "type": 4, "value": 5}
            ]),
        )
        .await;
    assert!(r.text().contains("Sent 5 coins"), "{}", r.text());
    // The reply names the recipient with a mention that pings nobody.
    assert_eq!(r.allowed_mentions().unwrap()["parse"], json!([]));
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn give_moves_coins_on_sqlite() {
    give_moves_coins(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn give_moves_coins_on_postgres() {
    give_moves_coins(Backend::Postgres).await;
}

/// `/daily`, `/weekly` and `/work` pay once per period and say when the next one opens.
#[tokio::test(flavor = "multi_thread")]
async fn timed_rewards_pay_once_and_say_when_to_come_back() {
    let h = Harness::start(TestDb::sqlite()).await;
    let g = GENERAL_CHANNEL_ID;
    let daily = h.ask(GUILD_ID, g, MEMBER_ID, "!daily").await;
    assert!(
        daily.contains("**100 coins**") && daily.contains("streak: 1 day"),
        "{daily}"
    );
    let again = h.ask(GUILD_ID, g, MEMBER_ID, "!daily").await;
    assert!(
        again.contains("Not yet") && again.contains("<t:"),
        "{again}"
    );
    let weekly = h.ask(GUILD_ID, g, MEMBER_ID, "!weekly").await;
    assert!(weekly.contains("**700 coins**"), "{weekly}");
    let work = h.ask(GUILD_ID, g, MEMBER_ID, "!work").await;
    let earned: i64 = work
        .split("**")
        .nth(1)
        .and_then(|s| s.strip_suffix(" coins"))
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no pay in {work}"));
    assert!((20..=60).contains(&earned), "{work}");
    let slash = h
        .slash(GUILD_ID, g, MEMBER_ID, "work", serde_json::json!([]))
        .await;
    assert!(slash.text().contains("Not yet"), "{slash:?}");
    assert_eq!(slash.body["data"]["flags"], 64, "refusals are ephemeral");
    let balance = h.ask(GUILD_ID, g, MEMBER_ID, "!balance").await;
    assert!(
        balance.contains(&format!("has {} coins", 100 + 700 + earned)),
        "{balance}"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn reputation_is_given_once_a_day_and_never_to_yourself() {
    let h = Harness::start(TestDb::sqlite()).await;
    let g = GENERAL_CHANNEL_ID;
    let me = h
        .ask(GUILD_ID, g, MEMBER_ID, &format!("!rep give <@{MEMBER_ID}>"))
        .await;
    assert!(me.contains("can't give reputation to yourself"), "{me}");
    let given = h
        .ask_recorded(GUILD_ID, g, MEMBER_ID, &format!("!rep give <@{MOD_ID}>"))
        .await;
    crate::util::assert_pings_nobody(&given);
    assert!(
        given.text().contains(&format!(
            "vouched for <@{MOD_ID}>; they have 1 reputation point."
        )),
        "{}",
        given.text()
    );
    let again = h
        .ask(GUILD_ID, g, MEMBER_ID, &format!("!rep give <@{OWNER_ID}>"))
        .await;
    assert!(
        again.contains("gave reputation recently") && again.contains("<t:"),
        "{again}"
    );
    let check = h
        .ask(GUILD_ID, g, OWNER_ID, &format!("!rep check <@{MOD_ID}>"))
        .await;
    assert!(check.contains("has 1 reputation point."), "{check}");
    let mine = h.ask(GUILD_ID, g, OWNER_ID, "!rep check").await;
    assert!(mine.contains("has 0 reputation points."), "{mine}");
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn the_leaderboard_lists_the_top_and_your_place() {
    let db = TestDb::sqlite();
    seed_coins(&db, MOD_ID, 500).await;
    seed_coins(&db, OWNER_ID, 50).await;
    let h = Harness::start(db).await;
    let g = GENERAL_CHANNEL_ID;
    let board = h.ask_recorded(GUILD_ID, g, OWNER_ID, "!leaderboard").await;
    crate::util::assert_pings_nobody(&board);
    let text = board.text();
    assert!(
        text.contains(&format!("**1.** <@{MOD_ID}> · 500 coins"))
            && text.contains(&format!("**2.** <@{OWNER_ID}> · 50 coins"))
            && text.contains("You are #2 with 50 coins."),
        "{text}"
    );
    let none = h.ask(GUILD_ID, g, MEMBER_ID, "!lb").await;
    assert!(none.contains("You have no coins yet."), "{none}");
    let empty = h
        .ask(GUILD_ID, g, MEMBER_ID, "!leaderboard reputation")
        .await;
    assert!(empty.contains("Nobody is on this board yet"), "{empty}");
    h.finish().await;
}
