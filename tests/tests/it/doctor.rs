//! `lounge config check` only looks, `lounge db migrate` migrates, and `lounge doctor` says
//! what works and how to fix what doesn't (#17).

use std::path::Path;
use std::process::{Command, Output};

use lounge_store::Backend;
use lounge_tests::db::TestDb;
use lounge_tests::discord::{self, FakeDiscord, Options};
use serde_json::Value;
use sqlx::Connection;

use crate::util::lounge_command;

/// Runs a `lounge` command to its end, stdout and stderr apart.
async fn output(cmd: Command) -> Output {
    let mut cmd = tokio::process::Command::from(cmd);
    cmd.kill_on_drop(true);
    tokio::time::timeout(std::time::Duration::from_mins(1), cmd.output())
        .await
        .expect("lounge did not exit within a minute")
        .expect("run lounge")
}

fn text(out: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// The migrations this build carries for `backend`, as `lounge db migrate` names them.
fn shipped_migrations(backend: Backend) -> Vec<String> {
    let dir = match backend {
        Backend::Sqlite => "migrations/sqlite",
        Backend::Postgres => "migrations/postgres",
    };
    let mut names: Vec<String> = std::fs::read_dir(lounge_tests::bin::workspace_root().join(dir))
        .unwrap()
        .filter_map(|e| {
            let name = e.ok()?.file_name().into_string().ok()?;
            let (number, rest) = name.strip_suffix(".sql")?.split_once('_')?;
            Some(format!("applied {number} {}", rest.replace('_', " ")))
        })
        .collect();
    names.sort();
    names
}

/// Tables in a PostgreSQL test database's public schema, through a plain connection.
async fn postgres_tables(url: &str) -> i64 {
    let mut conn = sqlx::PgConnection::connect(url).await.unwrap();
    let count: i64 = sqlx::Row::get(
        &sqlx::query(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'",
        )
        .fetch_one(&mut conn)
        .await
        .unwrap(),
        0,
    );
    let _ = conn.close().await;
    count
}

async fn config_check_only_reads_and_db_migrate_applies(backend: Backend) {
    let fake = FakeDiscord::start().await;
    let db = TestDb::new(backend).await;
    let file = lounge_store::sqlite_file(&db.url).map(Path::to_path_buf);
    let lounge = |args: &[&str]| {
        let mut cmd = lounge_command(&fake, &db, Some(discord::TOKEN));
        cmd.args(args);
        cmd
    };

    // A database nobody started the bot on: the check says so and leaves it as it was.
    let out = output(lounge(&["config", "check"])).await;
    let check = text(&out);
    assert!(out.status.success(), "{check}");
    assert!(check.contains("configuration ok"), "{check}");
    let pending = shipped_migrations(backend).len();
    match backend {
        Backend::Sqlite => {
            let file = file.as_deref().unwrap();
            assert!(
                check.contains(&format!("SQLite file {}", file.display()))
                    && check.contains("will be created on first run"),
                "{check}"
            );
            assert!(!file.exists(), "config check created {}", file.display());
            assert!(!file.parent().unwrap().join("lounge.db-wal").exists());
        }
        Backend::Postgres => {
            assert!(
                check.contains("PostgreSQL ok")
                    && check.contains("schema empty")
                    && check.contains(&format!("{pending} pending"))
                    && check.contains("lounge db migrate"),
                "{check}"
            );
            assert_eq!(postgres_tables(&db.url).await, 0, "config check migrated");
        }
    }

    // `db migrate` applies every migration, naming each.
    let out = output(lounge(&["db", "migrate"])).await;
    let migrate = text(&out);
    assert!(out.status.success(), "{migrate}");
    let applied: Vec<&str> = migrate
        .lines()
        .filter(|l| l.starts_with("applied "))
        .collect();
    assert_eq!(applied, shipped_migrations(backend), "{migrate}");
    assert!(
        migrate.contains(&format!(
            "database: {} ok, applied {pending} migrations",
            backend.name()
        )),
        "{migrate}"
    );
    match backend {
        Backend::Sqlite => assert!(file.as_deref().unwrap().is_file()),
        Backend::Postgres => assert!(postgres_tables(&db.url).await > 0),
    }

    // A second run has nothing to do.
    let out = output(lounge(&["db", "migrate"])).await;
    let again = text(&out);
    assert!(out.status.success(), "{again}");
    assert!(
        again.contains(&format!("database: {} ok, up to date", backend.name()))
            && !again.contains("applied "),
        "{again}"
    );

    let out = output(lounge(&["config", "check"])).await;
    let check = text(&out);
    assert!(out.status.success(), "{check}");
    assert!(
        check.contains(&format!("{} ok, schema current", backend.name())),
        "{check}"
    );
    assert!(!check.contains(discord::TOKEN));
    assert!(
        fake.requests().is_empty(),
        "config check and db migrate must not talk to Discord"
    );
    db.cleanup().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn config_check_only_reads_and_db_migrate_applies_on_sqlite() {
    config_check_only_reads_and_db_migrate_applies(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn config_check_only_reads_and_db_migrate_applies_on_postgres() {
    config_check_only_reads_and_db_migrate_applies(Backend::Postgres).await;
}

/// A directory of stand-ins for the tools doctor looks for, to put on PATH alone: what it
/// reports then depends on the test, not on the machine.
fn fake_tools(tools: &[(&str, &str)]) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for (name, version) in tools {
        let path = dir.path().join(name);
        std::fs::write(&path, format!("#!/bin/sh\necho '{version}'\n")).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
    }
    dir
}

fn doctor(fake: &FakeDiscord, db: &TestDb, token: &str, path: &Path, json: bool) -> Command {
    let mut cmd = lounge_command(fake, db, Some(token));
    cmd.env("PATH", path).arg("doctor");
    if json {
        cmd.arg("--json");
    }
    cmd
}

/// The report's line for `check`: its status symbol, a space, then `check: `.
fn line<'a>(report: &'a str, check: &str) -> &'a str {
    let prefix = format!("{check}: ");
    report
        .lines()
        .find(|l| {
            l.split_once(' ')
                .is_some_and(|(_, rest)| rest.starts_with(&prefix))
        })
        .unwrap_or_else(|| panic!("no `{check}` line in:\n{report}"))
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_passes_a_good_setup() {
    let fake = FakeDiscord::start().await;
    let db = TestDb::sqlite();
    db.store().await.close().await;
    let tools = fake_tools(&[
        ("yt-dlp", "2025.11.12"),
        ("node", "v22.11.0"),
        (
            "ffmpeg",
            "ffmpeg version 7.1 Copyright (c) 2000-2024 the FFmpeg developers",
        ),
    ]);
    let out = output(doctor(&fake, &db, discord::TOKEN, tools.path(), false)).await;
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    assert!(line(&report, "configuration").starts_with("✓"), "{report}");
    let token = line(&report, "token");
    assert!(
        token.starts_with("✓")
            && token.contains("accepted")
            && token.contains(&discord::BOT_ID.to_string()),
        "{report}"
    );
    let app = line(&report, "application");
    assert!(
        app.starts_with("✓")
            && app.contains("Lounge")
            && app.contains(&discord::APPLICATION_ID.to_string()),
        "{report}"
    );
    assert!(
        line(&report, "message content intent").starts_with("✓"),
        "{report}"
    );
    let database = line(&report, "database");
    assert!(
        database.starts_with("✓") && database.contains("SQLite reachable, schema current"),
        "{report}"
    );
    assert!(
        line(&report, "streamer").starts_with("- streamer: off"),
        "{report}"
    );
    assert!(line(&report, "yt-dlp").contains("2025.11.12"), "{report}");
    assert!(
        line(&report, "javascript runtime").contains("node v22.11.0"),
        "{report}"
    );
    assert!(
        line(&report, "ffmpeg").contains("ffmpeg version 7.1"),
        "{report}"
    );
    assert!(
        line(&report, "plex").contains("needs the streamer"),
        "{report}"
    );
    assert!(
        !report.contains("✗") && !report.contains("fix:"),
        "{report}"
    );
    assert!(
        !report.contains(discord::TOKEN),
        "the token leaked:\n{report}"
    );
    // It asked Discord, and only looked.
    for path in ["/users/@me", "/oauth2/applications/@me"] {
        assert!(
            fake.requests()
                .iter()
                .any(|r| r.method == "GET" && r.path == path),
            "no GET {path}: {:?}",
            fake.requests()
        );
    }
    assert!(
        fake.requests().iter().all(|r| r.method == "GET"),
        "{:?}",
        fake.requests()
    );
    fake.assert_no_violations();
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_fails_a_wrong_token_with_its_fix_and_never_prints_it() {
    let fake = FakeDiscord::start().await;
    let db = TestDb::sqlite();
    let tools = fake_tools(&[]);
    let out = output(doctor(
        &fake,
        &db,
        discord::WRONG_TOKEN,
        tools.path(),
        false,
    ))
    .await;
    let report = text(&out);
    assert!(!out.status.success(), "{report}");
    let token = line(&report, "token");
    assert!(
        token.starts_with("✗")
            && token.contains("Discord rejected discord.token")
            && token.contains("fix:")
            && token.contains("Reset Token"),
        "{report}"
    );
    assert!(
        line(&report, "application").contains("not checked"),
        "{report}"
    );
    let secret_part = discord::WRONG_TOKEN.rsplit('.').next().unwrap();
    assert!(!report.contains(secret_part), "the token leaked:\n{report}");
    // The rest is still checked: the database is fine, nothing else failed.
    assert!(line(&report, "database").starts_with("✓"), "{report}");
    assert_eq!(report.matches('✗').count(), 1, "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_fails_without_the_message_content_intent() {
    let fake = FakeDiscord::start_with(Options {
        message_content: false,
        ..Options::default()
    })
    .await;
    let db = TestDb::sqlite();
    let tools = fake_tools(&[]);
    let out = output(doctor(&fake, &db, discord::TOKEN, tools.path(), false)).await;
    let report = text(&out);
    assert!(!out.status.success(), "{report}");
    let intent = line(&report, "message content intent");
    assert!(
        intent.starts_with("✗")
            && intent.contains("fix:")
            && intent.contains("Privileged Gateway Intents")
            && intent.contains("Message Content Intent")
            && intent.contains("https://discord.com/developers/applications"),
        "{report}"
    );
    assert!(line(&report, "token").starts_with("✓"), "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn doctor_json_is_one_entry_per_check() {
    let fake = FakeDiscord::start().await;
    let db = TestDb::sqlite();
    let tools = fake_tools(&[]);
    let dir = tempfile::tempdir().unwrap();
    let mut cmd = doctor(&fake, &db, discord::TOKEN, tools.path(), true);
    // A configured streamer that is not running: a warning with its fix, not a failure.
    cmd.env("LOUNGE_STREAMER__SECRET", "doctor-test-secret")
        .env("LOUNGE_STREAMER__SOCKET", dir.path().join("absent.sock"));
    let out = output(cmd).await;
    assert!(out.status.success(), "{}", text(&out));
    assert!(out.stderr.is_empty(), "{}", text(&out));
    let report: Value = serde_json::from_slice(&out.stdout)
        .unwrap_or_else(|e| panic!("not JSON ({e}):\n{}", text(&out)));
    let entries = report.as_array().expect("an array");
    let by_check = |name: &str| {
        entries
            .iter()
            .find(|e| e["check"] == name)
            .unwrap_or_else(|| panic!("no {name} in {report:#}"))
    };
    for e in entries {
        assert!(e["check"].is_string() && e["detail"].is_string(), "{e}");
        assert!(e["fix"].is_string() || e["fix"].is_null(), "{e}");
        assert!(
            ["ok", "warn", "fail", "info"].contains(&e["status"].as_str().unwrap_or_default()),
            "{e}"
        );
    }
    for (check, status) in [
        ("configuration", "ok"),
        ("token", "ok"),
        ("application", "ok"),
        ("message content intent", "ok"),
        ("database", "ok"),
        ("streamer", "warn"),
        ("yt-dlp", "warn"),
        ("javascript runtime", "info"),
        ("ffmpeg", "warn"),
        ("plex", "info"),
    ] {
        assert_eq!(by_check(check)["status"], status, "{check}: {report:#}");
    }
    // The SQLite file is not there yet, and doctor does not make it.
    assert!(
        by_check("database")["detail"]
            .as_str()
            .unwrap()
            .contains("will be created on first run"),
        "{report:#}"
    );
    assert!(!Path::new(&lounge_store::sqlite_file(&db.url).unwrap()).exists());
    let streamer = by_check("streamer");
    assert!(
        streamer["detail"].as_str().unwrap().starts_with("offline")
            && streamer["fix"]
                .as_str()
                .unwrap()
                .contains("start lounge-streamer"),
        "{report:#}"
    );
    assert!(
        by_check("ffmpeg")["fix"]
            .as_str()
            .unwrap()
            .contains("install FFmpeg"),
        "{report:#}"
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.contains(discord::TOKEN) && !text.contains("doctor-test-secret"));
}

/// Through a real `lounge-streamer run`: connected (and Plex asked through it), then refused
/// for a wrong secret.
#[tokio::test(flavor = "multi_thread")]
async fn doctor_reports_the_streamer_link_and_plex_through_it() {
    let fake = FakeDiscord::start().await;
    let db = TestDb::sqlite();
    let tools = fake_tools(&[]);
    let dir = tempfile::tempdir().unwrap();
    let socket = dir.path().join("streamer.sock");
    // x264 forced: probing hardware encoders is slow and beside the point; no Plex token
    // file in its state directory, so Plex is not linked.
    std::fs::write(
        dir.path().join("lounge-streamer.toml"),
        format!(
            "socket = {:?}\nipc_secret = \"doctor-secret\"\nencoder = \"x264\"\nstate_dir = {:?}\n\
             plex_tv_url = \"http://127.0.0.1:9\"\nlog_level = \"info\"\n",
            socket.to_str().unwrap(),
            dir.path().join("state").to_str().unwrap(),
        ),
    )
    .unwrap();
    let mut cmd = Command::new(lounge_tests::bin::binary("lounge-streamer"));
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir.path())
        .arg("--config")
        .arg(dir.path().join("lounge-streamer.toml"))
        .arg("run");
    let streamer = lounge_tests::bin::Running::spawn(cmd);
    streamer
        .wait_output("listening on", std::time::Duration::from_mins(1))
        .await;

    let with_secret = |secret: &str| {
        let mut cmd = doctor(&fake, &db, discord::TOKEN, tools.path(), false);
        cmd.env("LOUNGE_STREAMER__SECRET", secret)
            .env("LOUNGE_STREAMER__SOCKET", &socket);
        cmd
    };
    let out = output(with_secret("doctor-secret")).await;
    let report = text(&out);
    assert!(out.status.success(), "{report}");
    let link = line(&report, "streamer");
    assert!(
        link.starts_with("✓") && link.contains("connected") && link.contains("x264"),
        "{report}"
    );
    let plex = line(&report, "plex");
    assert!(
        plex.starts_with('-') && plex.contains("not linked") && plex.contains("plex login"),
        "{report}"
    );

    let out = output(with_secret("not-the-secret")).await;
    let report = text(&out);
    assert!(!out.status.success(), "{report}");
    let link = line(&report, "streamer");
    assert!(
        link.starts_with("✗") && link.contains("refused") && link.contains("ipc_secret"),
        "{report}"
    );
    assert!(
        line(&report, "plex").contains("needs the streamer"),
        "{report}"
    );
    assert!(!report.contains("doctor-secret") && !report.contains("not-the-secret"));
}

/// `lounge token check` says where the token comes from and whether Discord takes it, from a
/// private `discord.token_file` too; a file others can read is refused. The token is never
/// printed.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread")]
async fn token_check_names_the_source_and_token_files_must_be_private() {
    use std::os::unix::fs::PermissionsExt as _;

    let fake = FakeDiscord::start().await;
    let db = TestDb::sqlite();
    let secret_part = discord::TOKEN.rsplit('.').next().unwrap();

    let from_env = output({
        let mut cmd = lounge_command(&fake, &db, Some(discord::TOKEN));
        cmd.args(["token", "check"]);
        cmd
    })
    .await;
    let report = text(&from_env);
    assert!(from_env.status.success(), "{report}");
    assert!(
        line(&report, "token source").contains("the DISCORD_TOKEN environment variable"),
        "{report}"
    );
    assert!(line(&report, "token").starts_with("✓"), "{report}");
    assert!(!report.contains(secret_part), "the token leaked:\n{report}");

    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, format!("{}\n", discord::TOKEN)).unwrap();
    let with_file = |mode: u32| {
        std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        let mut cmd = lounge_command(&fake, &db, None);
        cmd.env("LOUNGE_DISCORD__TOKEN_FILE", &file)
            .args(["token", "check"]);
        cmd
    };
    let open = output(with_file(0o644)).await;
    let report = text(&open);
    assert!(!open.status.success(), "{report}");
    assert!(
        report.contains("can be read by other users (mode 644)") && report.contains("chmod 600"),
        "{report}"
    );
    let private = output(with_file(0o600)).await;
    let report = text(&private);
    assert!(private.status.success(), "{report}");
    assert!(
        line(&report, "token source").contains(&format!("the token file {}", file.display())),
        "{report}"
    );
    assert!(
        line(&report, "token").starts_with("✓") && line(&report, "token").contains("accepted"),
        "{report}"
    );
    assert!(!report.contains(secret_part), "the token leaked:\n{report}");

    // Both at once is ambiguous: which one is current?
    let mut both = with_file(0o600);
    both.env("DISCORD_TOKEN", discord::TOKEN);
    let both = output(both).await;
    let report = text(&both);
    assert!(!both.status.success(), "{report}");
    assert!(report.contains("set only one of discord.token"), "{report}");
}
