//! The metrics and health listener (#17, "Metrics, health"): `/livez` answers while the
//! process lives, `/readyz` says what start-up still waits for, and `/metrics` counts
//! commands by outcome, with a latency histogram, in Prometheus text.

use std::time::Duration;

use lounge_tests::bin::Running;
use lounge_tests::db::TestDb;
use lounge_tests::discord::{FakeDiscord, GENERAL_CHANNEL_ID, GUILD_ID, MEMBER_ID, MOD_ID, TOKEN};
use serde_json::json;

use crate::util::{Harness, READY_TIMEOUT, REPLY_TIMEOUT, lounge_command};

/// The address the bot logged once its listener was bound (the tests give it port 0, so
/// parallel bots never clash).
async fn metrics_base(bot: &Running) -> String {
    const NEEDLE: &str = "metrics listening on http://";
    bot.wait_output(NEEDLE, READY_TIMEOUT).await;
    let output = bot.output();
    let start = output.find(NEEDLE).expect("waited for it") + NEEDLE.len();
    let addr: String = output[start..]
        .chars()
        .take_while(|c| !c.is_whitespace())
        .collect();
    format!("http://{addr}")
}

/// GET `path`: the status and the body.
async fn get(base: &str, path: &str) -> (u16, String) {
    let response = reqwest::get(format!("{base}{path}"))
        .await
        .unwrap_or_else(|e| panic!("GET {path}: {e}"));
    let status = response.status().as_u16();
    (status, response.text().await.expect("a text body"))
}

/// Polls `path` until `done` holds for its answer, or fails with the last one.
async fn get_until(
    base: &str,
    path: &str,
    what: &str,
    bot: &Running,
    done: impl Fn(u16, &str) -> bool,
) -> String {
    let deadline = tokio::time::Instant::now() + REPLY_TIMEOUT;
    loop {
        let (status, body) = get(base, path).await;
        if done(status, &body) {
            return body;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "{path} never showed {what}; last answer {status}:\n{body}\nbot output:\n{}",
            bot.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn readyz_explains_a_discord_outage_and_turns_ready_after_it() {
    let fake = FakeDiscord::start().await;
    // Failing until the test ends the outage.
    fake.fail_requests("GET", "/users/@me", 503, u32::MAX);
    let db = TestDb::sqlite();
    let bot = Running::spawn(lounge_command(&fake, &db, Some(TOKEN)));
    let base = metrics_base(&bot).await;

    assert_eq!(get(&base, "/livez").await.0, 200, "{}", bot.output());
    // At least one failed try, so the 503 is the outage's and not the start's.
    fake.wait_until("a failed /users/@me", REPLY_TIMEOUT, |f| {
        (f.failed_requests("GET", "/users/@me") > 0).then_some(())
    })
    .await;
    let (status, body) = get(&base, "/readyz").await;
    assert_eq!(status, 503, "{body}");
    assert!(body.contains("gateway: not connected"), "{body}");
    assert!(body.contains("database: not open yet"), "{body}");

    fake.clear_faults();
    fake.wait_ready(READY_TIMEOUT).await;
    let h = Harness { fake, db, bot };
    let body = get_until(&base, "/readyz", "ready", &h.bot, |status, _| status == 200).await;
    assert_eq!(body, "ready\n");
    assert_eq!(get(&base, "/livez").await.0, 200);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn metrics_count_commands_by_outcome_with_a_latency_histogram() {
    let h = Harness::start(TestDb::sqlite()).await;
    let base = metrics_base(&h.bot).await;

    // Prefix and slash: two successful pings.
    let reply = h
        .ask(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, "!ping")
        .await;
    assert_eq!(reply, "Pinging…");
    let callback = h
        .slash(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, "ping", json!([]))
        .await;
    assert_eq!(callback.content(), Some("Pinging…"));
    // The user's mistake, and a check that says no.
    let reply = h
        .ask(
            GUILD_ID,
            GENERAL_CHANNEL_ID,
            MEMBER_ID,
            "!help nosuchcommand",
        )
        .await;
    assert!(reply.contains("There is no command called"), "{reply}");
    let reply = h
        .ask(
            GUILD_ID,
            GENERAL_CHANNEL_ID,
            MEMBER_ID,
            &format!("!perm deny balance <@{MOD_ID}>"),
        )
        .await;
    assert!(reply.contains("You need these permissions"), "{reply}");

    // A command is counted once it has finished (after ping's edit), and the OSRS payout
    // worker's backlog once its first round ran (nothing is due), so poll.
    let body = get_until(&base, "/metrics", "both pings", &h.bot, |_, body| {
        body.contains(r#"lounge_commands_total{command="ping",outcome="ok"} 2"#)
            && body.lines().any(|l| l == "lounge_osrs_trips_due 0")
    })
    .await;
    for line in [
        r#"lounge_commands_total{command="help",outcome="user_error"} 1"#,
        r#"lounge_commands_total{command="perm deny",outcome="refused"} 1"#,
        r#"lounge_command_duration_seconds_count{command="ping"} 2"#,
        r#"lounge_command_duration_seconds_count{command="help"} 1"#,
        r#"lounge_gateway_connected{shard="0"} 1"#,
        "# TYPE lounge_command_duration_seconds histogram",
        "# TYPE lounge_commands_total counter",
    ] {
        assert!(body.lines().any(|l| l == line), "no `{line}` in:\n{body}");
    }
    // Histogram buckets, not a summary's quantiles.
    assert!(
        body.contains(r#"lounge_command_duration_seconds_bucket{command="ping",le="+Inf"} 2"#),
        "{body}"
    );
    // A refused command never ran: no duration.
    assert!(
        !body.contains(r#"lounge_command_duration_seconds_count{command="perm deny"}"#),
        "{body}"
    );
    assert!(
        body.lines()
            .any(|l| l.starts_with(r#"lounge_gateway_events_total{event="message"} "#)),
        "{body}"
    );
    assert!(
        body.lines()
            .any(|l| l.starts_with(r#"lounge_db_pool_connections{state="idle"} "#)),
        "{body}"
    );
    assert_eq!(get(&base, "/readyz").await, (200, "ready\n".to_owned()));
    h.finish().await;
}

/// A port still held (a predecessor stopping on the same host) does not keep the bot from
/// serving: it retries the port in the background and listens once it is free.
#[tokio::test(flavor = "multi_thread")]
async fn a_busy_metrics_port_is_retried_while_the_bot_serves() {
    let holder = std::net::TcpListener::bind("127.0.0.1:0").expect("bind a port");
    let addr = holder.local_addr().expect("its address").to_string();
    let h = Harness::start_with_env(TestDb::sqlite(), &[("LOUNGE_METRICS__LISTEN", &addr)]).await;
    let reply = h
        .ask(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, "!ping")
        .await;
    assert_eq!(reply, "Pinging…");
    h.bot
        .wait_output(&format!("metrics.listen {addr}: "), READY_TIMEOUT)
        .await;
    assert!(
        !h.bot.output().contains("metrics listening on"),
        "{}",
        h.bot.output()
    );

    drop(holder);
    let base = metrics_base(&h.bot).await;
    assert_eq!(base, format!("http://{addr}"));
    assert_eq!(get(&base, "/readyz").await, (200, "ready\n".to_owned()));
    h.finish().await;
}
