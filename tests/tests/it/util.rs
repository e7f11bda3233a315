//! Shared helpers for the end-to-end tests.

use std::process::Command;
use std::time::Duration;

use lounge_tests::bin::{self, Running};
use lounge_tests::db::TestDb;
use lounge_tests::discord::{FakeDiscord, Recorded, TOKEN};

/// Generous, because CI has two cores and builds in parallel with tests.
pub const READY_TIMEOUT: Duration = Duration::from_mins(1);
pub const REPLY_TIMEOUT: Duration = Duration::from_secs(20);

/// The `lounge` binary configured only through the environment, as a newcomer would run it.
pub fn lounge_command(fake: &FakeDiscord, db: &TestDb, token: Option<&str>) -> Command {
    let mut cmd = Command::new(bin::binary("lounge"));
    // An empty config dir: no stray lounge.toml from the machine can leak in.
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .env(
            "XDG_CONFIG_HOME",
            std::env::temp_dir().join("lounge-tests-no-config"),
        )
        .env("LOUNGE_DISCORD__API_BASE", fake.api_base())
        .env("DATABASE_URL", &db.url)
        .env("LOUNGE_LOG__LEVEL", "info,lounge=debug")
        // Tests fire commands faster than people; the limiter has its own test.
        .env("LOUNGE_BOT__COMMAND_BURST", "1000")
        // Bots run in parallel: the default port would let only one of them listen.
        .env("LOUNGE_METRICS__LISTEN", "127.0.0.1:0");
    if let Some(token) = token {
        cmd.env("DISCORD_TOKEN", token);
    }
    cmd
}

pub fn is_channel_post(r: &Recorded, channel: u64) -> bool {
    r.method == "POST" && r.path == format!("/channels/{channel}/messages")
}

/// Every message the bot sends must say explicitly that it pings nobody.
pub fn assert_pings_nobody(r: &Recorded) {
    let am = r
        .allowed_mentions()
        .unwrap_or_else(|| panic!("no allowed_mentions on {} {}: {}", r.method, r.path, r.body));
    assert_eq!(
        am["parse"],
        serde_json::json!([]),
        "allowed_mentions must not parse anything: {am}"
    );
}

/// Gives `user` coins in `db` before a bot is started on it.
pub async fn seed_coins(db: &TestDb, user: u64, amount: i64) {
    let store = db.store().await;
    store
        .adjust_currency(user, amount)
        .await
        .expect("seed coins");
    store.close().await;
}

/// A fake Discord, a database and the real bot connected to both, ready for commands.
pub struct Harness {
    pub fake: FakeDiscord,
    pub db: TestDb,
    pub bot: Running,
}

impl Harness {
    pub async fn start(db: TestDb) -> Self {
        Self::start_with_env(db, &[]).await
    }

    /// Like [`Harness::start`], with extra environment for the bot (settings to try).
    pub async fn start_with_env(db: TestDb, env: &[(&str, &str)]) -> Self {
        Self::start_with_fake(db, FakeDiscord::start().await, env).await
    }

    /// Like [`Harness::start_with_env`], against a fake started with its own options.
    pub async fn start_with_fake(db: TestDb, fake: FakeDiscord, env: &[(&str, &str)]) -> Self {
        let mut cmd = lounge_command(&fake, &db, Some(TOKEN));
        cmd.envs(env.iter().copied());
        let bot = Running::spawn(cmd);
        let harness = Self { fake, db, bot };
        harness.wait_ready().await;
        harness
    }

    pub async fn wait_ready(&self) {
        let bot = &self.bot;
        tokio::select! {
            () = self.fake.wait_ready(READY_TIMEOUT) => {}
            () = async {
                loop {
                    tokio::time::sleep(Duration::from_millis(200)).await;
                    if bot.output().contains("error:") { break }
                }
            } => panic!("the bot failed to start:\n{}", bot.output()),
        }
    }

    /// A member posts `text`; returns what the bot posted back in that channel (content and
    /// embed text).
    pub async fn ask(&self, guild: u64, channel: u64, author: u64, text: &str) -> String {
        self.ask_recorded(guild, channel, author, text).await.text()
    }

    /// Like [`Harness::ask`], returning the whole request the bot made.
    pub async fn ask_recorded(
        &self,
        guild: u64,
        channel: u64,
        author: u64,
        text: &str,
    ) -> lounge_tests::discord::Recorded {
        let skip = self.fake.requests().len();
        self.fake.send_message(guild, channel, author, text);
        let path = format!("/channels/{channel}/messages");
        self.fake
            .wait_for_request(skip, REPLY_TIMEOUT, |r| {
                r.method == "POST" && r.path == path
            })
            .await
    }

    /// A member runs a slash command; returns the bot's interaction response.
    pub async fn slash(
        &self,
        guild: u64,
        channel: u64,
        user: u64,
        name: &str,
        options: serde_json::Value,
    ) -> lounge_tests::discord::Recorded {
        let skip = self.fake.requests().len();
        let i = self.fake.send_slash(guild, channel, user, name, options);
        self.fake
            .wait_for_request(skip, REPLY_TIMEOUT, |r| r.path == i.callback_path())
            .await
    }

    /// Stops the bot (gracefully, checked like [`Harness::finish`]) and hands back the
    /// database, to start again on it.
    pub async fn stop(mut self) -> TestDb {
        self.check_clean_exit().await;
        std::mem::replace(&mut self.db, TestDb::sqlite())
    }

    /// Like [`Harness::stop`], also handing back everything the bot printed.
    pub async fn stop_with_output(mut self) -> (TestDb, String) {
        let output = self.check_clean_exit().await;
        (std::mem::replace(&mut self.db, TestDb::sqlite()), output)
    }

    /// Stops the bot gracefully and checks it exited cleanly and sent nothing invalid.
    pub async fn finish(mut self) {
        self.check_clean_exit().await;
        let db = std::mem::replace(&mut self.db, TestDb::sqlite());
        db.cleanup().await;
    }

    async fn check_clean_exit(&mut self) -> String {
        let status = self.bot.terminate(Duration::from_secs(20)).await;
        let output = self.bot.output();
        if std::env::var_os("LOUNGE_TEST_SHOW_OUTPUT").is_some() {
            eprintln!("---- bot output ----\n{output}\n---- end of bot output ----");
        }
        assert!(
            status.success(),
            "bot exited with {status} after SIGTERM:\n{output}"
        );
        assert!(
            !output.contains(TOKEN),
            "the token appeared in the bot's output"
        );
        assert!(
            output.contains("stopped"),
            "no clean shutdown in the log:\n{output}"
        );
        self.fake.assert_no_violations();
        output
    }
}

impl Drop for Harness {
    fn drop(&mut self) {
        if std::thread::panicking() {
            eprintln!(
                "---- bot output ----\n{}\n---- end of bot output ----",
                self.bot.output()
            );
        }
    }
}
