//! Start-up against outages (#17 items 1 and 2): the bot waits out a Discord or database
//! outage while saying it is not ready, retries a failed slash-command registration, and exits
//! non-zero rather than stay connected and answering nothing when registration cannot succeed.

use std::time::Duration;

use lounge_store::Backend;
use lounge_tests::bin::Running;
use lounge_tests::db::{TestDb, postgres_address};
use lounge_tests::discord::{FakeDiscord, GENERAL_CHANNEL_ID, GUILD_ID, MEMBER_ID, TOKEN};
use tokio::net::{TcpListener, TcpStream};

use crate::util::{Harness, READY_TIMEOUT, REPLY_TIMEOUT, is_channel_post, lounge_command};

/// Waits until the fake sees the bot ready, failing at once if the bot exits instead.
async fn ready_or_exit(fake: &FakeDiscord, bot: &mut Running) {
    let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
    loop {
        if let Some(status) = bot.exited() {
            panic!(
                "the bot exited ({status}) instead of waiting:\n{}",
                bot.output()
            );
        }
        if fake
            .requests()
            .iter()
            .any(|r| r.method == "PUT" && r.status == 200)
        {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the bot did not become ready:\n{}",
            bot.output()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    fake.wait_ready(READY_TIMEOUT).await;
}

/// A prefix command gets its answer: the bot is serving, not merely connected.
async fn answers_ping(h: &Harness) {
    let skip = h.fake.requests().len();
    h.fake
        .send_message(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, "!ping");
    let post = h
        .fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| {
            is_channel_post(r, GENERAL_CHANNEL_ID)
        })
        .await;
    assert_eq!(post.content(), Some("Pinging…"), "{}", h.bot.output());
}

fn not_ready_lines(output: &str, step: &str) -> usize {
    output
        .lines()
        .filter(|l| l.contains("not ready") && l.contains(&format!("step=\"{step}\"")))
        .count()
}

#[tokio::test]
async fn a_discord_outage_at_start_up_is_waited_out() {
    let fake = FakeDiscord::start().await;
    fake.fail_requests("GET", "/users/@me", 503, 2);
    fake.fail_requests("GET", "/gateway/bot", 502, 1);
    let db = TestDb::sqlite();
    let mut bot = Running::spawn(lounge_command(&fake, &db, Some(TOKEN)));
    ready_or_exit(&fake, &mut bot).await;
    let h = Harness { fake, db, bot };
    answers_ping(&h).await;

    assert_eq!(h.fake.failed_requests("GET", "/users/@me"), 2);
    assert_eq!(h.fake.failed_requests("GET", "/gateway/bot"), 1);
    let output = h.bot.output();
    assert_eq!(not_ready_lines(&output, "Discord"), 2, "{output}");
    assert_eq!(not_ready_lines(&output, "Discord gateway"), 1, "{output}");
    h.fake.assert_no_violations();
    h.finish().await;
}

/// Accepts on `listener` and pipes every connection to PostgreSQL: the database "coming back".
async fn forward_to_postgres(listener: TcpListener) {
    loop {
        let Ok((mut inbound, _)) = listener.accept().await else {
            return;
        };
        tokio::spawn(async move {
            if let Ok(mut outbound) = TcpStream::connect(postgres_address()).await {
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            }
        });
    }
}

#[tokio::test]
async fn a_database_outage_at_start_up_is_waited_out() {
    let db = TestDb::new(Backend::Postgres).await;
    // A port with nothing on it yet, where the database will come up.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("free port")
        .port();
    let address = postgres_address();
    let down_url = db
        .url
        .replacen(&format!("{address}/"), &format!("127.0.0.1:{port}/"), 1);
    assert_ne!(
        down_url, db.url,
        "the test database is not at {address}: {}",
        db.url
    );

    let fake = FakeDiscord::start().await;
    let mut cmd = lounge_command(&fake, &db, Some(TOKEN));
    cmd.env("DATABASE_URL", &down_url);
    let mut bot = Running::spawn(cmd);
    // Longer than one connection attempt (5 s), so only a retry can bring the bot up.
    bot.wait_output("not ready", Duration::from_secs(30)).await;
    tokio::time::sleep(Duration::from_secs(6)).await;
    assert!(bot.exited().is_none(), "the bot gave up:\n{}", bot.output());
    let listener = TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind the port the database comes back on");
    let forwarder = tokio::spawn(forward_to_postgres(listener));

    ready_or_exit(&fake, &mut bot).await;
    let h = Harness { fake, db, bot };
    answers_ping(&h).await;
    let output = h.bot.output();
    assert!(not_ready_lines(&output, "database") >= 1, "{output}");
    assert!(output.contains("storage ready"), "{output}");
    h.finish().await;
    forwarder.abort();
}

#[tokio::test]
async fn a_failed_slash_command_registration_is_retried() {
    let fake = FakeDiscord::start().await;
    fake.fail_requests("PUT", "/applications/", 500, 2);
    let db = TestDb::sqlite();
    let mut bot = Running::spawn(lounge_command(&fake, &db, Some(TOKEN)));
    ready_or_exit(&fake, &mut bot).await;
    let h = Harness { fake, db, bot };
    answers_ping(&h).await;
    assert_eq!(h.fake.failed_requests("PUT", "/applications/"), 2);
    assert!(!h.fake.registered_commands(None).is_empty());
    let output = h.bot.output();
    assert_eq!(not_ready_lines(&output, "slash commands"), 2, "{output}");
    h.finish().await;
}

#[tokio::test]
async fn registration_that_keeps_failing_exits_non_zero_instead_of_half_alive() {
    let fake = FakeDiscord::start().await;
    fake.fail_requests("PUT", "/applications/", 503, u32::MAX);
    let db = TestDb::sqlite();
    let mut bot = Running::spawn(lounge_command(&fake, &db, Some(TOKEN)));
    // Five attempts, 1 + 2 + 4 + 8 s apart.
    let status = bot.wait_exit(Duration::from_mins(1)).await;
    let output = bot.output();
    assert!(!status.success(), "exited with {status}:\n{output}");
    assert!(
        output.contains("error: registering the slash commands failed"),
        "{output}"
    );
    assert_eq!(fake.failed_requests("PUT", "/applications/"), 5, "{output}");
    assert!(fake.registered_commands(None).is_empty());
    db.cleanup().await;
}

/// Opening `url` must fail; the error it fails with.
async fn open_error(url: &str) -> lounge_store::StoreError {
    match lounge_store::Store::open(url).await {
        Ok(_) => panic!("{url} opened"),
        Err(e) => e,
    }
}

#[tokio::test]
async fn only_outages_count_as_transient_database_errors() {
    // Nothing listens on port 1.
    let refused = open_error("postgres://postgres@127.0.0.1:1/postgres").await;
    assert!(refused.is_transient(), "{refused}");
    let unknown_role = open_error(&format!(
        "postgres://no_such_lounge_role@{}/postgres",
        postgres_address()
    ))
    .await;
    assert!(!unknown_role.is_transient(), "{unknown_role}");
    let scheme = open_error("mysql://x@y/z").await;
    assert!(!scheme.is_transient(), "{scheme}");
}
