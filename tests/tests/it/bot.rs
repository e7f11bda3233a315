//! End to end: the real `lounge` binary against the loopback fake Discord.

use std::time::Duration;

use lounge_store::Backend;
use lounge_tests::bin::Running;
use lounge_tests::db::TestDb;
use lounge_tests::discord::{
    self, BOT_ID, GENERAL_CHANNEL_ID, GUILD_ID, MEMBER_ID, OTHER_CHANNEL_ID, OTHER_GUILD_ID,
    OWNER_ID,
};
use serde_json::{Value, json};

use crate::util::{Harness, REPLY_TIMEOUT, assert_pings_nobody, is_channel_post, lounge_command};

/// `!ping` in a channel: "Pinging…" then an edit with both latencies.
async fn prefix_ping(h: &Harness, guild: u64, channel: u64, text: &str) {
    let skip = h.fake.requests().len();
    h.fake.send_message(guild, channel, MEMBER_ID, text);
    let post = h
        .fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| is_channel_post(r, channel))
        .await;
    assert_eq!(post.content(), Some("Pinging…"));
    assert_pings_nobody(&post);
    let edit = h
        .fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| {
            r.method == "PATCH"
                && r.path
                    .starts_with(&format!("/channels/{channel}/messages/"))
        })
        .await;
    let content = edit.content().unwrap_or_default();
    assert!(
        content.starts_with("Pong! Gateway heartbeat: "),
        "{content}"
    );
    assert!(content.contains("REST round trip: "), "{content}");
}

async fn ping_answers_prefix_and_slash(backend: Backend) {
    let h = Harness::start(TestDb::new(backend).await).await;

    // Slash commands were registered globally, each valid by Discord's rules (the fake checks).
    let names: Vec<String> = h
        .fake
        .registered_commands(None)
        .iter()
        .map(|c| c["name"].as_str().unwrap().to_owned())
        .collect();
    for expected in ["ping", "help", "about"] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} not registered: {names:?}"
        );
    }

    prefix_ping(&h, GUILD_ID, GENERAL_CHANNEL_ID, "!ping").await;

    let skip = h.fake.requests().len();
    let i = h
        .fake
        .send_slash(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, "ping", json!([]));
    let callback = h
        .fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| r.path == i.callback_path())
        .await;
    assert_eq!(callback.body["type"], 4);
    assert_eq!(callback.content(), Some("Pinging…"));
    assert_pings_nobody(&callback);
    let edit = h
        .fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| {
            r.method == "PATCH" && r.path.ends_with(&format!("{}/messages/@original", i.token))
        })
        .await;
    assert!(
        edit.content().unwrap_or_default().starts_with("Pong!"),
        "{:?}",
        edit.body
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ping_answers_prefix_and_slash_on_sqlite() {
    ping_answers_prefix_and_slash(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn ping_answers_prefix_and_slash_on_postgres() {
    ping_answers_prefix_and_slash(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn gateway_latency_is_reported_once_heartbeats_flow() {
    let h = Harness::start(TestDb::sqlite()).await;
    h.fake
        .wait_until("two heartbeats", Duration::from_secs(10), |f| {
            (f.heartbeat_count() >= 2).then_some(())
        })
        .await;
    let skip = h.fake.requests().len();
    h.fake
        .send_message(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, "!ping");
    let edit = h
        .fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| r.method == "PATCH")
        .await;
    let content = edit.content().unwrap_or_default();
    assert!(
        content.contains("Gateway heartbeat: ") && content.contains(" ms."),
        "{content}"
    );
    assert!(
        !content.contains("not measured"),
        "heartbeats were acknowledged, so latency is known: {content}"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bot_resumes_after_the_connection_drops() {
    let h = Harness::start(TestDb::sqlite()).await;
    prefix_ping(&h, GUILD_ID, GENERAL_CHANNEL_ID, "!ping").await;
    h.fake.drop_connection();
    // A message sent while the bot is away is replayed on RESUME and still answered.
    let skip = h.fake.requests().len();
    h.fake
        .send_message(GUILD_ID, OTHER_CHANNEL_ID, MEMBER_ID, "!ping");
    h.fake
        .wait_until("a RESUME", Duration::from_secs(30), |f| {
            (f.resume_count() >= 1 && f.connected()).then_some(())
        })
        .await;
    h.fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| {
            is_channel_post(r, OTHER_CHANNEL_ID)
        })
        .await;
    assert_eq!(
        h.fake.identify_count(),
        1,
        "a dropped connection must resume, not identify again"
    );
    prefix_ping(&h, GUILD_ID, GENERAL_CHANNEL_ID, "!ping").await;
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bot_identifies_again_after_an_invalid_session() {
    let h = Harness::start(TestDb::sqlite()).await;
    h.fake.invalidate_session();
    h.fake
        .wait_until("a second IDENTIFY", Duration::from_secs(30), |f| {
            (f.identify_count() >= 2 && f.connected()).then_some(())
        })
        .await;
    prefix_ping(&h, GUILD_ID, GENERAL_CHANNEL_ID, "!ping").await;
    h.finish().await;
}

async fn prefixes_follow_guild_settings(backend: Backend) {
    let db = TestDb::new(backend).await;
    {
        let store = db.store().await;
        store.set_guild_prefix(GUILD_ID, Some("?")).await.unwrap();
        store.close().await;
    }
    let h = Harness::start(db).await;
    prefix_ping(&h, GUILD_ID, GENERAL_CHANNEL_ID, "?ping").await;
    prefix_ping(
        &h,
        GUILD_ID,
        GENERAL_CHANNEL_ID,
        &format!("<@{BOT_ID}> ping"),
    )
    .await;
    // The other guild kept the default.
    prefix_ping(&h, OTHER_GUILD_ID, discord::OTHER_GUILD_CHANNEL_ID, "!ping").await;
    // The default prefix no longer works where the guild changed it.
    let skip = h.fake.requests().len();
    h.fake
        .send_message(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, "!ping");
    prefix_ping(&h, GUILD_ID, OTHER_CHANNEL_ID, "?ping").await;
    let answered_bang = h
        .fake
        .requests()
        .iter()
        .skip(skip)
        .any(|r| is_channel_post(r, GENERAL_CHANNEL_ID));
    assert!(
        !answered_bang,
        "`!ping` was answered in a guild whose prefix is `?`"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn prefixes_follow_guild_settings_on_sqlite() {
    prefixes_follow_guild_settings(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn prefixes_follow_guild_settings_on_postgres() {
    prefixes_follow_guild_settings(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn help_is_paginated_for_the_invoker_only() {
    let h = Harness::start(TestDb::sqlite()).await;
    let skip = h.fake.requests().len();
    let i = h
        .fake
        .send_slash(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, "help", json!([]));
    let first = h
        .fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| r.path == i.callback_path())
        .await;
    let buttons: Vec<String> = first
        .body
        .pointer("/data/components/0/components")
        .and_then(Value::as_array)
        .expect("pagination buttons")
        .iter()
        .map(|b| b["custom_id"].as_str().unwrap().to_owned())
        .collect();
    let next = buttons
        .iter()
        .find(|id| id.ends_with(":next"))
        .expect("a next button")
        .clone();
    assert!(first.text().contains("Page 1 of"), "{}", first.text());
    let message_id: u64 = h.fake.original_message(&i).expect("help message")["id"]
        .as_str()
        .unwrap()
        .parse()
        .unwrap();

    // Someone else pressing gets a private refusal; the page does not turn.
    let skip = h.fake.requests().len();
    let other = h
        .fake
        .press_button(GUILD_ID, GENERAL_CHANNEL_ID, OWNER_ID, message_id, &next);
    let refusal = h
        .fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| r.path == other.callback_path())
        .await;
    assert_eq!(refusal.body["type"], 4);
    assert_eq!(
        refusal.body["data"]["flags"], 64,
        "the refusal should be ephemeral"
    );

    let press = h
        .fake
        .press_button(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, message_id, &next);
    let update = h
        .fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| r.path == press.callback_path())
        .await;
    assert_eq!(
        update.body["type"], 7,
        "turning a page updates the message in place"
    );
    let page2 = update.text();
    assert!(
        page2.contains("Page 2 of") && page2.contains("ping"),
        "{page2}"
    );

    // Details of one command, and a clear user error for an unknown one.
    let skip = h.fake.requests().len();
    let i = h.fake.send_slash(
        GUILD_ID,
        GENERAL_CHANNEL_ID,
        MEMBER_ID,
        "help",
        json!([{"name": "command", "type": 3, "value": "ping"}]),
    );
    let detail = h
        .fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| r.path == i.callback_path())
        .await;
    assert!(detail.text().contains("latency"), "{}", detail.text());
    let i = h.fake.send_slash(
        GUILD_ID,
        GENERAL_CHANNEL_ID,
        MEMBER_ID,
        "help",
        json!([{"name": "command", "type": 3, "value": "nosuch"}]),
    );
    let err = h
        .fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| r.path == i.callback_path())
        .await;
    assert!(
        err.text().contains("There is no command called `nosuch`"),
        "{}",
        err.text()
    );
    assert_eq!(err.body["data"]["flags"], 64, "user errors are ephemeral");
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn about_shows_version_storage_and_shard() {
    let h = Harness::start(TestDb::sqlite()).await;
    let skip = h.fake.requests().len();
    let i = h
        .fake
        .send_slash(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, "about", json!([]));
    let r = h
        .fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| r.path == i.callback_path())
        .await;
    let text = r.text();
    assert!(text.contains(env!("CARGO_PKG_VERSION")), "{text}");
    assert!(text.contains("SQLite"), "{text}");
    assert!(text.contains("1 of 1"), "{text}");
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn missing_token_fails_fast_with_a_clear_message() {
    let fake = discord::FakeDiscord::start().await;
    let db = TestDb::sqlite();
    let mut bot = Running::spawn(lounge_command(&fake, &db, None));
    let status = bot.wait_exit(Duration::from_secs(30)).await;
    let out = bot.output();
    assert!(!status.success(), "{out}");
    assert!(
        out.contains("discord.token is not set") && out.contains("DISCORD_TOKEN"),
        "{out}"
    );
    assert!(
        fake.requests().is_empty(),
        "nothing should reach Discord without a token"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn wrong_token_fails_with_a_clear_message_and_is_never_printed() {
    let fake = discord::FakeDiscord::start().await;
    let db = TestDb::sqlite();
    let mut cmd = lounge_command(&fake, &db, Some(discord::WRONG_TOKEN));
    cmd.env("LOUNGE_LOG__LEVEL", "trace");
    let mut bot = Running::spawn(cmd);
    let status = bot.wait_exit(Duration::from_secs(30)).await;
    let out = bot.output();
    assert!(!status.success(), "{out}");
    assert!(out.contains("Discord rejected discord.token"), "{out}");
    let secret_part = discord::WRONG_TOKEN.rsplit('.').next().unwrap();
    assert!(
        !out.contains(secret_part),
        "the token leaked into the output:\n{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_token_is_refused_before_any_request() {
    let fake = discord::FakeDiscord::start().await;
    let db = TestDb::sqlite();
    let mut bot = Running::spawn(lounge_command(&fake, &db, Some("not-a-token-at-all")));
    let status = bot.wait_exit(Duration::from_secs(30)).await;
    let out = bot.output();
    assert!(!status.success());
    assert!(
        out.contains("does not look like a bot token") && !out.contains("not-a-token-at-all"),
        "{out}"
    );
    assert!(fake.requests().is_empty());
}

#[tokio::test(flavor = "multi_thread")]
async fn config_check_reports_without_connecting() {
    let fake = discord::FakeDiscord::start().await;
    let db = TestDb::sqlite();
    let mut cmd = lounge_command(&fake, &db, Some(discord::TOKEN));
    cmd.args(["config", "check"]);
    let mut run = Running::spawn(cmd);
    let status = run.wait_exit(Duration::from_secs(30)).await;
    let out = run.output();
    assert!(status.success(), "{out}");
    // A fresh SQLite file is left for the first run to create (tests/it/doctor.rs has more).
    assert!(
        out.contains("configuration ok") && out.contains("will be created on first run"),
        "{out}"
    );
    assert!(!out.contains(discord::TOKEN));
    assert!(
        fake.requests().is_empty(),
        "config check must not talk to Discord"
    );

    // A malformed file is named with the problem.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("lounge.toml");
    std::fs::write(&file, "[discord]\napi_bsae = \"http://x\"\n").unwrap();
    let mut cmd = lounge_command(&fake, &db, Some(discord::TOKEN));
    cmd.arg("--config").arg(&file).args(["config", "check"]);
    let mut run = Running::spawn(cmd);
    let status = run.wait_exit(Duration::from_secs(30)).await;
    let out = run.output();
    assert!(!status.success());
    assert!(
        out.contains("api_bsae") && out.contains("lounge.toml"),
        "{out}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn dev_guild_gets_the_commands_instead_of_global() {
    let guild = GUILD_ID.to_string();
    let h =
        Harness::start_with_env(TestDb::sqlite(), &[("LOUNGE_DISCORD__DEV_GUILD", &guild)]).await;
    assert!(
        h.fake.registered_commands(None).is_empty(),
        "nothing should be registered globally"
    );
    let names: Vec<Value> = h
        .fake
        .registered_commands(Some(GUILD_ID))
        .iter()
        .map(|c| c["name"].clone())
        .collect();
    assert!(names.contains(&json!("ping")), "{names:?}");
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn json_logs_are_one_object_per_line() {
    let h = Harness::start_with_env(TestDb::sqlite(), &[("LOUNGE_LOG__FORMAT", "json")]).await;
    let out = h.bot.output();
    let lines: Vec<&str> = out.lines().filter(|l| !l.trim().is_empty()).collect();
    assert!(lines.len() >= 3, "{out}");
    for line in &lines {
        let v: Value =
            serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"));
        assert!(
            v["level"].is_string() && v["timestamp"].is_string(),
            "{line}"
        );
    }
    assert!(
        lines.iter().any(|l| l.contains("\"storage ready\"")),
        "{out}"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn sqlite_is_created_in_the_data_dir_by_default() {
    let fake = discord::FakeDiscord::start().await;
    let db = TestDb::sqlite();
    let data = tempfile::tempdir().unwrap();
    let data_dir = data.path().join("nested").join("lounge");
    let mut cmd = lounge_command(&fake, &db, Some(discord::TOKEN));
    cmd.env_remove("DATABASE_URL")
        .env("LOUNGE_BOT__DATA_DIR", &data_dir)
        .args(["db", "migrate"]);
    let mut run = Running::spawn(cmd);
    let status = run.wait_exit(Duration::from_secs(30)).await;
    assert!(status.success(), "{}", run.output());
    let file = data_dir.join("lounge.db");
    assert!(file.exists(), "no database at {}", file.display());
    // WAL mode is a property of the file: it persists after the process.
    let url = format!("sqlite://{}", file.display());
    // A plain connection, not the Store, which would set WAL itself.
    let mut conn = <sqlx::SqliteConnection as sqlx::Connection>::connect(&url)
        .await
        .unwrap();
    let mode: String = sqlx::Row::get(
        &sqlx::query("PRAGMA journal_mode")
            .fetch_one(&mut conn)
            .await
            .unwrap(),
        0,
    );
    assert_eq!(mode, "wal");
    let version: i64 = sqlx::Row::get(
        &sqlx::query("SELECT MAX(version) FROM _sqlx_migrations")
            .fetch_one(&mut conn)
            .await
            .unwrap(),
        0,
    );
    // Every migration shipped was applied: the newest file's number.
    let newest = std::fs::read_dir(lounge_tests::bin::workspace_root().join("migrations/sqlite"))
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            name.split('_').next()?.parse::<i64>().ok()
        })
        .max()
        .expect("sqlite migrations exist");
    assert_eq!(version, newest);
}

/// During a rollout Discord can still hold a command's previous options; the member gets a
/// sentence, not "the application did not respond".
#[tokio::test(flavor = "multi_thread")]
async fn slash_options_from_an_older_registration_get_an_answer() {
    let h = Harness::start(TestDb::sqlite()).await;
    // `/balance user:` is a user option in this build; an older one sent text.
    let r = h
        .slash(
            GUILD_ID,
            GENERAL_CHANNEL_ID,
            MEMBER_ID,
            "balance",
            json!([{"name": "user", "type": 3, "value": "someone"}]),
        )
        .await;
    assert!(r.text().contains("older version of it"), "{r:?}");
    assert_eq!(r.body["data"]["flags"], 64, "{r:?}");
    h.finish().await;
}
