//! The bot's link to lounge-streamer, end to end: the real `lounge` against the fake Discord
//! and the real `lounge-streamer run` on a socket in a temp dir, started, killed and restarted
//! under a bot that keeps running.

use std::path::PathBuf;
use std::process::Command;
use std::time::Duration;

use lounge_tests::bin::{self, Running};
use lounge_tests::db::TestDb;
use lounge_tests::discord::{GENERAL_CHANNEL_ID, GUILD_ID, MEMBER_ID, Recorded};
use serde_json::json;
use tempfile::TempDir;

use crate::util::{Harness, READY_TIMEOUT};

const SECRET: &str = "correct horse battery staple";

/// Covers the client's longest reconnect backoff (10 s) plus a streamer start on a busy CI
/// machine.
const LINK_TIMEOUT: Duration = Duration::from_mins(1);

/// How often `/stream status` is asked again while waiting for the link to change.
const POLL: Duration = Duration::from_millis(250);

/// A streamer config and socket in a temp dir.
struct StreamerSetup {
    dir: TempDir,
    socket: PathBuf,
}

impl StreamerSetup {
    fn new(secret: &str) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let socket = dir.path().join("streamer.sock");
        // x264 forced: probing hardware encoders is slow and beside the point here.
        std::fs::write(
            dir.path().join("lounge-streamer.toml"),
            format!(
                "socket = {:?}\nipc_secret = {secret:?}\nencoder = \"x264\"\nlog_level = \"info\"\n",
                socket.to_str().expect("UTF-8 temp path")
            ),
        )
        .expect("write the streamer config");
        Self { dir, socket }
    }

    /// The bot's `[streamer]` settings, through the environment.
    fn bot_env(&self, secret: &str) -> [(&'static str, String); 2] {
        [
            (
                "LOUNGE_STREAMER__SOCKET",
                self.socket.to_str().expect("UTF-8").to_owned(),
            ),
            ("LOUNGE_STREAMER__SECRET", secret.to_owned()),
        ]
    }

    /// Runs `lounge-streamer run` and waits until it listens.
    async fn start(&self, h: &Harness) -> Running {
        let mut cmd = Command::new(bin::binary("lounge-streamer"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .arg("--config")
            .arg(self.dir.path().join("lounge-streamer.toml"))
            .arg("run");
        let streamer = Running::spawn(cmd);
        h.fake
            .wait_until("lounge-streamer to listen", READY_TIMEOUT, |_| {
                let output = streamer.output();
                assert!(
                    !output.contains("error:"),
                    "lounge-streamer failed:\n{output}"
                );
                output.contains("listening on").then_some(())
            })
            .await;
        streamer
    }
}

async fn start_bot(env: &[(&'static str, String)]) -> Harness {
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    Harness::start_with_env(TestDb::sqlite(), &env).await
}

async fn stream_status(h: &Harness) -> Recorded {
    h.slash(
        GUILD_ID,
        GENERAL_CHANNEL_ID,
        MEMBER_ID,
        "stream",
        json!([{"type": 1, "name": "status", "options": []}]),
    )
    .await
}

/// Asks `/stream status` until the reply satisfies `pred`: the link changes in the background
/// (reconnect backoff), so the first answer may still describe the previous state.
async fn status_until(h: &Harness, what: &str, pred: impl Fn(&str) -> bool) -> Recorded {
    let deadline = tokio::time::Instant::now() + LINK_TIMEOUT;
    loop {
        let reply = stream_status(h).await;
        if pred(&reply.text()) {
            return reply;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "/stream status never showed {what}; last reply:\n{}",
            reply.text()
        );
        tokio::time::sleep(POLL).await;
    }
}

fn is_ephemeral(reply: &Recorded) -> bool {
    reply.body["data"]["flags"] == 64
}

fn assert_connected(reply: &Recorded) {
    let text = reply.text();
    assert!(text.contains("Streamer: connected"), "{text}");
    // The capabilities from the streamer's `ready`: the forced encoder, no Go Live yet, and
    // its qualities; the state from a fresh `status` request.
    assert!(text.contains("`x264`"), "{text}");
    assert!(
        text.contains("not available in this streamer yet"),
        "{text}"
    );
    assert!(text.contains("720p") && text.contains("1080p"), "{text}");
    assert!(text.contains("not in a voice channel"), "{text}");
    assert!(!is_ephemeral(reply), "a healthy status is a normal reply");
}

fn is_down(text: &str) -> bool {
    text.contains("The streamer is not connected")
}

fn kill(streamer: &Running, signal: &str) {
    let status = Command::new("kill")
        .args([signal, &streamer.pid().to_string()])
        .status()
        .expect("run kill");
    assert!(status.success(), "kill {signal} failed");
}

/// Issue #6: the bot starts without a streamer, picks it up when it appears, notices it
/// going away (SIGTERM and SIGKILL, which leaves a stale socket file) and reconnects to each
/// restart, all without restarting the bot.
#[tokio::test(flavor = "multi_thread")]
async fn status_follows_the_streamer_coming_and_going() {
    let setup = StreamerSetup::new(SECRET);
    let h = start_bot(&setup.bot_env(SECRET)).await;

    // The first connection attempt may still be under way when the bot is ready.
    let absent = status_until(&h, "the streamer absent", |t| {
        t.contains("probably not running")
    })
    .await;
    let text = absent.text();
    assert!(is_down(&text), "{text}");
    assert!(
        text.contains("lounge-streamer run"),
        "a hint to start it: {text}"
    );
    assert!(is_ephemeral(&absent), "not connected is a user notice");
    assert!(
        !h.bot.output().contains("command failed"),
        "not an internal error"
    );

    let mut streamer = setup.start(&h).await;
    assert_connected(&status_until(&h, "connected", |t| t.contains("Streamer: connected")).await);

    let exit = streamer.terminate(Duration::from_secs(20)).await;
    assert!(exit.success(), "{}", streamer.output());
    let gone = status_until(&h, "the streamer gone", is_down).await;
    assert!(gone.text().contains("dropped"), "{}", gone.text());
    assert!(is_ephemeral(&gone));

    let streamer = setup.start(&h).await;
    assert_connected(&status_until(&h, "reconnected", |t| t.contains("Streamer: connected")).await);

    kill(&streamer, "-KILL");
    let gone = status_until(&h, "the streamer gone after SIGKILL", is_down).await;
    assert!(gone.text().contains("dropped"), "{}", gone.text());
    drop(streamer);
    assert!(
        setup.socket.exists(),
        "SIGKILL leaves the socket file behind"
    );

    let streamer = setup.start(&h).await;
    assert_connected(
        &status_until(&h, "reconnected after SIGKILL", |t| {
            t.contains("Streamer: connected")
        })
        .await,
    );
    drop(streamer);
    assert!(!h.bot.output().contains("command failed"));
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_wrong_secret_is_explained() {
    let setup = StreamerSetup::new(SECRET);
    // The bot's secret from a file, as an operator keeping it out of the environment would.
    let secret_file = setup.dir.path().join("bot-secret");
    std::fs::write(&secret_file, "not the streamer's secret\n").expect("write the secret file");
    let env = [
        setup.bot_env(SECRET)[0].clone(),
        (
            "LOUNGE_STREAMER__SECRET_FILE",
            secret_file.to_str().expect("UTF-8").to_owned(),
        ),
    ];
    let h = start_bot(&env).await;
    let _streamer = setup.start(&h).await;
    let refused = status_until(&h, "the refusal", |t| t.contains("refused")).await;
    let text = refused.text();
    assert!(
        text.contains("secret doesn't match")
            && text.contains("streamer.secret")
            && text.contains("ipc_secret"),
        "{text}"
    );
    assert!(
        !text.contains("not the streamer's secret") && !text.contains(SECRET),
        "no secret is ever shown: {text}"
    );
    assert!(is_ephemeral(&refused));
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn without_streamer_settings_status_says_how_to_set_it_up() {
    let h = start_bot(&[]).await;
    let reply = stream_status(&h).await;
    let text = reply.text();
    assert!(
        text.contains("isn't set up to use a streamer") && text.contains("[streamer]"),
        "{text}"
    );
    assert!(is_ephemeral(&reply));
    assert!(
        h.bot.output().contains("no streamer configured"),
        "{}",
        h.bot.output()
    );
    h.finish().await;
}
