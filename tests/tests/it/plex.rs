//! The Plex client against the fake Plex: first the `lounge-plex` library in this process,
//! then the real `lounge-streamer plex ...` commands (login, check, search) run as the owner
//! would. Every test ends with no violations: nothing the real Plex would refuse, and the
//! token never in a URL.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use base64::Engine as _;
use lounge_ipc::to_bot::{ErrorKind, PlexItems, Reply};
use lounge_ipc::to_streamer::{PlexList, PlexSort};
use lounge_plex::model::{ItemType, Resource, parse_container};
use lounge_plex::{
    ClientInfo, Error, Http, Page, PlayState, PlexTv, Secret, Server, Sort, Timeline, Timeouts,
    connection_order,
};
use lounge_tests::bin;
use lounge_tests::discord::{GENERAL_CHANNEL_ID, GUILD_ID, MEMBER_ID};
use lounge_tests::plex::{
    FakePlex, GENERATED_BASE, MACHINE_ID, Options, PLEX_TOKEN, RESOURCES_FIXTURE, SERVER_FIXTURES,
    SERVER_NAME, SERVER_VERSION, dead_address,
};
use serde_json::Value;

fn http() -> Http {
    Http::new(
        ClientInfo::new("lounge-test-client-1", "Lounge", "0.1.0"),
        Timeouts {
            connect: Duration::from_secs(2),
            request: Duration::from_secs(10),
            probe: Duration::from_secs(2),
        },
    )
    .expect("client")
}

fn token() -> Secret {
    Secret::new(PLEX_TOKEN)
}

fn server(fake: &FakePlex) -> Server {
    Server::new(&http(), &fake.url(), token()).expect("server")
}

/// Nothing the client says about an error may contain the token.
fn assert_no_token(e: &Error) {
    for text in [e.to_string(), format!("{e:?}")] {
        assert!(!text.contains(PLEX_TOKEN), "the token leaked: {text}");
    }
}

#[test]
fn every_recorded_answer_parses() {
    for (name, json) in SERVER_FIXTURES {
        let c = parse_container(json).unwrap_or_else(|e| panic!("{name}: {e}"));
        assert!(c.size.is_some(), "{name} has a size");
    }
    let resources: Vec<Resource> = serde_json::from_str(RESOURCES_FIXTURE).expect("resources");
    let order: Vec<(bool, bool)> = connection_order(&resources[0].connections)
        .iter()
        .map(|c| (c.local, c.relay))
        .collect();
    assert_eq!(
        order,
        [(true, false), (false, false), (false, false), (false, true)]
    );
}

#[tokio::test]
async fn a_pin_links_after_the_owner_enters_the_code() {
    let fake = FakePlex::start_with(Options {
        polls_to_link: 2,
        ..Options::default()
    })
    .await;
    let tv = PlexTv::new(&http(), &fake.url()).expect("plex.tv");
    let pin = tv.create_pin().await.expect("pin");
    assert!(pin.auth_token.is_none());
    assert!(!pin.code.is_empty());
    let mut polls = 0;
    let linked = loop {
        polls += 1;
        let p = tv.check_pin(pin.id).await.expect("poll");
        if let Some(t) = p.auth_token {
            break t;
        }
        assert!(polls < 10, "never linked");
    };
    assert_eq!(polls, 3);
    assert_eq!(linked.expose(), PLEX_TOKEN);
    let user = tv.user(&linked).await.expect("user");
    assert_eq!(user.username, "user@example.com");
    let unknown = tv.check_pin(1).await.unwrap_err();
    assert_eq!(unknown.kind(), "not_found", "{unknown}");
    fake.assert_no_violations();
}

#[tokio::test]
async fn discovery_skips_a_dead_local_connection_and_takes_the_remote_one() {
    let fake = FakePlex::start().await;
    let tv = PlexTv::new(&http(), &fake.url()).expect("plex.tv");
    let server = tv.discover(&token()).await.expect("discover");
    assert_eq!(server.base().port(), Some(fake.alt_port()));
    let info = server.info().await.expect("info");
    assert_eq!(
        (info.name.as_str(), info.version.as_str()),
        (SERVER_NAME, SERVER_VERSION)
    );
    assert_eq!(info.machine_identifier, MACHINE_ID);
    // The relay (the fake's main port) answered too, but a remote connection comes first;
    // after discovery everything goes to the remote one.
    let requests = fake.requests();
    let mut identities: Vec<u16> = requests
        .iter()
        .filter(|r| r.path == "/identity")
        .map(|r| r.port)
        .collect();
    identities.sort_unstable();
    let mut both = vec![fake.port(), fake.alt_port()];
    both.sort_unstable();
    assert_eq!(identities, both);
    let root = requests.iter().find(|r| r.path == "/").expect("info");
    assert_eq!(root.port, fake.alt_port());
    fake.assert_no_violations();
}

#[tokio::test]
async fn discovery_falls_back_to_the_relay_and_lists_every_url_when_all_fail() {
    let fake = FakePlex::start().await;
    let dead = [dead_address(), dead_address()];
    fake.set_connections(vec![
        (format!("http://{}", dead[0]), true, false),
        (format!("http://{}", dead[1]), false, false),
        (fake.url(), false, true),
    ]);
    let tv = PlexTv::new(&http(), &fake.url()).expect("plex.tv");
    let server = tv.discover(&token()).await.expect("relay");
    assert_eq!(server.base().port(), Some(fake.port()));

    // Another server on a stale local address is not taken.
    let other = FakePlex::start_with(Options {
        machine_id: "someone-elses-server",
        ..Options::default()
    })
    .await;
    fake.set_connections(vec![
        (other.url(), true, false),
        (fake.alt_url(), false, false),
    ]);
    let server = tv.discover(&token()).await.expect("the listed server");
    assert_eq!(server.base().port(), Some(fake.alt_port()));

    fake.set_connections(vec![
        (other.url(), true, false),
        (format!("http://{}", dead[0]), true, false),
        (format!("http://{}", dead[1]), false, true),
    ]);
    let e = tv.discover(&token()).await.unwrap_err();
    assert!(
        e.to_string()
            .contains("another server answered (someone-elses-server"),
        "{e}"
    );
    assert_eq!(e.kind(), "unreachable");
    let text = e.to_string();
    for d in dead {
        assert!(text.contains(&format!("http://{d}/")), "{text}");
    }
    assert_no_token(&e);
    fake.assert_no_violations();
}

#[tokio::test]
async fn libraries_children_metadata_on_deck_and_recently_added() {
    let fake = FakePlex::start().await;
    let s = server(&fake);
    let libs = s.libraries().await.expect("libraries");
    let summary: Vec<(&str, &str, Option<&str>)> = libs
        .iter()
        .map(|l| {
            (
                l.key.as_str(),
                l.title.as_str(),
                l.kind.as_ref().map(ItemType::as_str),
            )
        })
        .collect();
    assert_eq!(
        summary,
        [
            ("1", "Movies", Some("movie")),
            ("2", "TV Shows", Some("show")),
            ("3", "Photos", Some("photo")),
            ("5", "Music", Some("artist")),
        ]
    );
    let shows = s
        .library_items("2", Sort::Title, Page::first(25))
        .await
        .expect("shows");
    let titles: Vec<&str> = shows.items.iter().map(|m| m.title.as_str()).collect();
    assert_eq!(titles, ["Game of Thrones", "The 100"]);
    let seasons = s.children("22", Page::first(25)).await.expect("seasons");
    assert!(seasons.items.iter().all(|m| m.kind == ItemType::Season));
    let episodes = s.children("89", Page::first(25)).await.expect("episodes");
    let pilot = &episodes.items[0];
    assert_eq!(
        (
            pilot.kind.clone(),
            pilot.title.as_str(),
            pilot.index,
            pilot.parent_index
        ),
        (ItemType::Episode, "Pilot", Some(1), Some(1))
    );
    assert_eq!(pilot.grandparent_title.as_deref(), Some("The 100"));

    let movie = s.metadata("108").await.expect("metadata");
    let part = &movie.media[0].part[0];
    assert!(part.key.as_deref().unwrap().starts_with("/library/parts/"));
    assert!(part.file.is_some() && part.size.is_some());
    assert!(!part.stream.is_empty(), "streams of a full record");

    let missing = s.metadata("424242").await.unwrap_err();
    assert_eq!(missing.kind(), "not_found");
    assert!(missing.to_string().contains("424242"), "{missing}");

    let deck = s.on_deck(Page::first(10)).await.expect("on deck");
    assert_eq!(deck.items[0].view_offset, Some(600_000));
    let recent = s.recently_added(Page::first(5)).await.expect("recent");
    assert_eq!(recent.items.len(), 5);
    let added: Vec<i64> = recent.items.iter().map(|m| m.added_at.unwrap()).collect();
    assert!(added.windows(2).all(|w| w[0] >= w[1]), "{added:?}");
    fake.assert_no_violations();
}

#[tokio::test]
async fn a_10000_item_library_pages_without_overlap_in_every_sort() {
    let fake = FakePlex::start_with(Options {
        generated_items: 10_000,
        ..Options::default()
    })
    .await;
    let s = server(&fake);
    let total = fake.library_len("1");
    assert!(total > 10_000);
    for sort in [Sort::RecentlyAdded, Sort::Title, Sort::Year, Sort::Rating] {
        let mut seen = std::collections::HashSet::new();
        let mut previous: Option<lounge_plex::model::Metadata> = None;
        // Three pages from the start and one far in: each ≤ the size asked and in order.
        for start in [0, 25, 50, 9_000] {
            if start == 9_000 {
                previous = None;
            }
            let page = s
                .library_items("1", sort, Page { start, size: 25 })
                .await
                .expect("page");
            assert_eq!(page.items.len(), 25);
            assert_eq!(page.total, Some(total as u64));
            assert_eq!(page.offset, u64::from(start));
            for item in &page.items {
                assert!(seen.insert(item.rating_key.clone()), "{sort:?}: overlap");
                if let Some(prev) = &previous {
                    let in_order = match sort {
                        Sort::RecentlyAdded => prev.added_at >= item.added_at,
                        Sort::Title => prev.title.to_lowercase() <= item.title.to_lowercase(),
                        Sort::Year => prev.year >= item.year,
                        Sort::Rating => prev.rating >= item.rating,
                    };
                    assert!(in_order, "{sort:?}: {} before {}", prev.title, item.title);
                }
                previous = Some(item.clone());
            }
        }
    }
    // A page larger than the client's cap is asked at the cap.
    let big = s
        .library_items(
            "1",
            Sort::Title,
            Page {
                start: 0,
                size: 5_000,
            },
        )
        .await
        .expect("capped page");
    assert_eq!(big.items.len(), lounge_plex::MAX_PAGE as usize);
    fake.assert_no_violations();
}

#[tokio::test]
async fn search_finds_items_skips_people_and_answers_nothing_for_no_match() {
    let fake = FakePlex::start_with(Options {
        generated_items: 10_000,
        ..Options::default()
    })
    .await;
    let s = server(&fake);
    let hits = s.search("buck", 10).await.expect("search");
    assert_eq!(hits.len(), 1);
    assert_eq!(hits[0].title, "Big Buck Bunny");
    let earth = s.search("earth", 10).await.expect("search");
    assert!(
        earth.iter().all(|m| m.kind == ItemType::Episode),
        "{earth:?}"
    );
    assert_eq!(earth.len(), 2);
    let capped = s.search("heat", 10).await.expect("search");
    assert_eq!(capped.len(), 10, "at most `limit` per type");
    assert!(
        capped[0].rating_key.parse::<u64>().unwrap() >= GENERATED_BASE,
        "{capped:?}"
    );
    assert!(s.search("zzzz-nothing", 10).await.expect("none").is_empty());
    fake.assert_no_violations();
}

#[tokio::test]
async fn timeline_scrobble_poster_and_a_ranged_part_download() {
    let dir = tempfile::tempdir().expect("temp dir");
    let video = dir.path().join("video.bin");
    let bytes: Vec<u8> = (0..10_000u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(&video, &bytes).expect("write");
    let fake = FakePlex::start_with(Options {
        video: Some(video),
        ..Options::default()
    })
    .await;
    let s = server(&fake);
    for (state, time) in [
        (PlayState::Playing, 0),
        (PlayState::Playing, 10_000),
        (PlayState::Paused, 12_000),
        (PlayState::Stopped, 12_000),
    ] {
        s.timeline(&Timeline {
            rating_key: "90".into(),
            state,
            time,
            duration: 2_580_000,
        })
        .await
        .expect("timeline");
    }
    let reports = fake.timelines();
    let states: Vec<(&str, u64)> = reports.iter().map(|r| (r.state.as_str(), r.time)).collect();
    assert_eq!(
        states,
        [
            ("playing", 0),
            ("playing", 10_000),
            ("paused", 12_000),
            ("stopped", 12_000)
        ]
    );
    s.scrobble("90").await.expect("scrobble");
    assert_eq!(fake.scrobbles(), ["90"]);
    assert_eq!(s.scrobble("424242").await.unwrap_err().kind(), "not_found");

    let (png, kind) = s
        .photo("/library/metadata/55/thumb/1579514152", 160, 240)
        .await
        .expect("poster");
    assert_eq!(
        (png.as_slice(), kind.as_str()),
        (lounge_tests::plex::poster_png(), "image/png")
    );

    let movie = s.metadata("55").await.expect("metadata");
    let key = movie.media[0].part[0].key.clone().expect("part key");
    let part = s.part_url(&key).expect("part url");
    assert!(!part.url.as_str().contains(PLEX_TOKEN));
    let client = reqwest::Client::new();
    let mut req = client
        .get(part.url.clone())
        .header("range", "bytes=100-199");
    for (name, value) in part.headers() {
        req = req.header(name, value.expose());
    }
    let resp = req.send().await.expect("download");
    assert_eq!(resp.status(), 206);
    assert_eq!(
        resp.headers()["content-range"].to_str().unwrap(),
        "bytes 100-199/10000"
    );
    assert_eq!(&resp.bytes().await.unwrap()[..], &bytes[100..200]);
    fake.assert_no_violations();
}

#[tokio::test]
async fn a_revoked_token_a_dead_server_and_tls_are_told_apart() {
    let fake = FakePlex::start().await;
    let s = server(&fake);
    s.info().await.expect("ok before");
    fake.revoke_token();
    let e = s.libraries().await.unwrap_err();
    assert_eq!(e.kind(), "token_revoked", "{e}");
    assert!(e.to_string().contains("401"), "{e}");
    assert_no_token(&e);
    let tv = PlexTv::new(&http(), &fake.url()).expect("plex.tv");
    assert_eq!(tv.user(&token()).await.unwrap_err().kind(), "token_revoked");

    let dead = dead_address();
    let gone = Server::new(&http(), &format!("http://{dead}"), token()).expect("server");
    let e = gone.info().await.unwrap_err();
    assert_eq!(e.kind(), "unreachable", "{e}");
    assert!(e.to_string().contains(&dead.to_string()), "{e}");
    assert_no_token(&e);

    // TLS to a server that speaks plain HTTP: the handshake fails, and says so.
    let tls = Server::new(
        &http(),
        &format!("https://127.0.0.1:{}", fake.port()),
        token(),
    )
    .expect("server");
    let e = tls.identity().await.unwrap_err();
    assert_eq!(e.kind(), "tls", "{e}");
    assert_no_token(&e);

    assert_eq!(
        Server::new(&http(), &fake.url(), Secret::new(""))
            .unwrap_err()
            .kind(),
        "no_token"
    );
    fake.assert_no_violations();
}

// ---- the real `lounge-streamer plex ...` commands ----

/// A streamer config for Plex in a temp dir, with a 0600 token file.
struct Owner {
    dir: tempfile::TempDir,
}

impl Owner {
    fn new(fake: &FakePlex, plex_url: Option<&str>, token: Option<&str>) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        let token_file = dir.path().join("plex-token");
        let mut config = format!(
            "ipc_secret = \"s\"\nencoder = \"x264\"\nplex_tv_url = {:?}\nplex_token_file = {:?}\nstate_dir = {:?}\n",
            fake.url(),
            token_file.to_str().expect("UTF-8"),
            dir.path().join("state").to_str().expect("UTF-8"),
        );
        if let Some(url) = plex_url {
            let _ = writeln!(config, "plex_url = {url:?}");
        }
        std::fs::write(dir.path().join("lounge-streamer.toml"), config).expect("config");
        if let Some(token) = token {
            bin::write_private(&token_file, token);
        }
        Self { dir }
    }

    fn token_file(&self) -> PathBuf {
        self.dir.path().join("plex-token")
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut cmd = Command::new(bin::binary("lounge-streamer"));
        cmd.env_clear()
            .env("PATH", std::env::var_os("PATH").unwrap_or_default())
            .env("HOME", self.dir.path())
            .arg("--config")
            .arg(self.dir.path().join("lounge-streamer.toml"))
            .args(args);
        cmd
    }

    /// Runs a command to its end (on a blocking thread: the fake runs on this runtime).
    async fn run(&self, args: &[&str], stdin: Option<&str>) -> Output {
        let mut cmd = self.command(args);
        let stdin = stdin.map(str::to_owned);
        tokio::task::spawn_blocking(move || {
            cmd.stdin(if stdin.is_some() {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
            let mut child = cmd.spawn().expect("spawn lounge-streamer");
            if let Some(text) = stdin {
                use std::io::Write as _;
                child
                    .stdin
                    .take()
                    .expect("stdin")
                    .write_all(text.as_bytes())
                    .expect("write stdin");
            }
            child.wait_with_output().expect("wait")
        })
        .await
        .expect("join")
    }
}

fn text(out: &Output) -> (String, String) {
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert!(
        !stdout.contains(PLEX_TOKEN) && !stderr.contains(PLEX_TOKEN),
        "the token appeared in the output:\n{stdout}\n{stderr}"
    );
    (stdout, stderr)
}

fn json_of(out: &Output) -> Value {
    let (stdout, stderr) = text(out);
    serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("not JSON ({e}):\n{stdout}\n{stderr}"))
}

#[tokio::test]
async fn plex_login_links_with_a_pin_and_stores_the_token_privately() {
    let fake = FakePlex::start_with(Options {
        polls_to_link: 3,
        ..Options::default()
    })
    .await;
    let owner = Owner::new(&fake, None, None);
    let out = owner
        .run(&["plex", "login", "--poll-interval-ms", "20"], None)
        .await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stdout.contains("https://plex.tv/link"), "{stdout}");
    assert!(stdout.contains("waiting up to 10 minutes"), "{stdout}");
    let pins: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/api/v2/pins/"))
        .collect();
    assert_eq!(pins.len(), 4, "polled until linked");
    let code = format!(
        "L{:03}",
        pins[0]
            .path
            .rsplit('/')
            .next()
            .unwrap()
            .parse::<u64>()
            .unwrap()
            % 1000
    );
    assert!(stdout.contains(&code), "the code is shown: {stdout}");
    assert!(stdout.contains("user@example.com"), "{stdout}");
    let stored = std::fs::read_to_string(owner.token_file()).expect("token file");
    assert_eq!(stored.trim(), PLEX_TOKEN);
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        let mode = std::fs::metadata(owner.token_file())
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600);
    }
    // The client identifier is generated once and kept: a second command sends the same.
    let id_file = owner.dir.path().join("state").join("plex-client-id");
    let id = std::fs::read_to_string(&id_file).expect("client id kept");
    let out = owner.run(&["plex", "check"], None).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    let ids: std::collections::HashSet<_> = fake
        .requests()
        .into_iter()
        .filter_map(|r| r.client_identifier)
        .collect();
    assert_eq!(ids.len(), 1, "{ids:?}");
    assert!(ids.contains(id.trim()));
    fake.assert_no_violations();
}

#[tokio::test]
async fn plex_login_gives_up_when_the_code_is_never_entered() {
    let fake = FakePlex::start_with(Options {
        polls_to_link: 1_000_000,
        ..Options::default()
    })
    .await;
    let owner = Owner::new(&fake, None, None);
    let out = owner
        .run(
            &[
                "plex",
                "login",
                "--poll-interval-ms",
                "20",
                "--give-up-after-ms",
                "300",
            ],
            None,
        )
        .await;
    let (stdout, stderr) = text(&out);
    assert!(!out.status.success(), "{stdout}");
    assert!(stderr.contains("not linked within 1 second"), "{stderr}");
    assert!(!owner.token_file().exists());
    fake.assert_no_violations();
}

#[tokio::test]
async fn plex_login_token_stdin_checks_the_token_before_storing_it() {
    let fake = FakePlex::start().await;
    let owner = Owner::new(&fake, None, None);
    let out = owner
        .run(
            &["plex", "login", "--token-stdin"],
            Some(&format!("  {PLEX_TOKEN}\n")),
        )
        .await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert_eq!(
        std::fs::read_to_string(owner.token_file()).unwrap().trim(),
        PLEX_TOKEN
    );
    // A token plex.tv refuses is not stored.
    let other = Owner::new(&fake, None, None);
    let out = other
        .run(&["plex", "login", "--token-stdin"], Some("not-the-token"))
        .await;
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(stderr.contains("refused the token"), "{stderr}");
    assert!(!other.token_file().exists());
    let out = other
        .run(&["plex", "login", "--token-stdin"], Some(" \n"))
        .await;
    assert!(!out.status.success());
}

#[tokio::test]
async fn plex_check_reports_the_server_or_exactly_what_is_wrong() {
    let fake = FakePlex::start().await;
    // Discovered through plex.tv.
    let owner = Owner::new(&fake, None, Some(PLEX_TOKEN));
    let out = owner.run(&["plex", "check"], None).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains(SERVER_NAME) && stdout.contains(SERVER_VERSION),
        "{stdout}"
    );
    assert!(
        stdout.contains("Movies") && stdout.contains(&fake.alt_url()),
        "{stdout}"
    );

    let out = owner.run(&["plex", "check", "--json"], None).await;
    let v = json_of(&out);
    assert_eq!(v["ok"], true);
    assert_eq!(v["server"]["name"], SERVER_NAME);
    assert_eq!(v["server"]["version"], SERVER_VERSION);
    assert_eq!(
        v["libraries"][0],
        serde_json::json!({"key": "1", "title": "Movies", "type": "movie"})
    );

    // No token.
    let none = Owner::new(&fake, Some(&fake.url()), None);
    let out = none.run(&["plex", "check", "--json"], None).await;
    assert!(!out.status.success());
    let v = json_of(&out);
    assert_eq!(
        (v["ok"].clone(), v["error"]["kind"].clone()),
        (false.into(), "no_token".into())
    );
    assert!(
        v["error"]["message"]
            .as_str()
            .unwrap()
            .contains("plex login"),
        "{v}"
    );

    // Server down at the configured URL.
    let dead = fake.dead_url();
    let down = Owner::new(&fake, Some(&dead), Some(PLEX_TOKEN));
    let out = down.run(&["plex", "check"], None).await;
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("not reachable") && stderr.contains(&dead),
        "{stderr}"
    );
    let v = json_of(&down.run(&["plex", "check", "--json"], None).await);
    assert_eq!(v["error"]["kind"], "unreachable");

    // Revoked: one clear sentence, for both the direct URL and discovery.
    fake.revoke_token();
    for owner in [
        &owner,
        &Owner::new(&fake, Some(&fake.url()), Some(PLEX_TOKEN)),
    ] {
        let out = owner.run(&["plex", "check"], None).await;
        let (_, stderr) = text(&out);
        assert!(!out.status.success());
        assert!(
            stderr.contains("Plex refused the token")
                && stderr.contains("lounge-streamer plex login"),
            "{stderr}"
        );
        let v = json_of(&owner.run(&["plex", "check", "--json"], None).await);
        assert_eq!(v["error"]["kind"], "token_revoked");
    }
    fake.assert_no_violations();
}

#[tokio::test]
async fn plex_search_prints_results_and_says_when_there_are_none() {
    let fake = FakePlex::start().await;
    let owner = Owner::new(&fake, Some(&fake.url()), Some(PLEX_TOKEN));
    let out = owner.run(&["plex", "search", "earth"], None).await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(
        stdout.contains("The 100") && stdout.contains("S01E02") && stdout.contains("Earth Skills"),
        "{stdout}"
    );

    let v = json_of(
        &owner
            .run(&["plex", "search", "earth", "--json"], None)
            .await,
    );
    let results = v["results"].as_array().expect("results");
    assert_eq!(results.len(), 2);
    let skills = results
        .iter()
        .find(|r| r["title"] == "Earth Skills")
        .expect("episode");
    assert_eq!(skills["rating_key"], "91");
    assert_eq!(skills["type"], "episode");
    assert_eq!(skills["show"], "The 100");
    assert_eq!(skills["season"], 1);
    assert_eq!(skills["index"], 2);
    let movie = json_of(
        &owner
            .run(&["plex", "search", "bunny", "--json"], None)
            .await,
    );
    assert_eq!(
        movie["results"][0],
        serde_json::json!({"rating_key": "55", "type": "movie", "title": "Big Buck Bunny", "year": 2008})
    );

    let out = owner.run(&["plex", "search", "zzzz-nothing"], None).await;
    let (stdout, _) = text(&out);
    assert!(out.status.success());
    assert!(stdout.contains("no results"), "{stdout}");
    let v = json_of(
        &owner
            .run(&["plex", "search", "zzzz-nothing", "--json"], None)
            .await,
    );
    assert_eq!(v["results"], serde_json::json!([]));
    fake.assert_no_violations();
}

#[tokio::test]
async fn doctor_reports_the_plex_link() {
    let fake = FakePlex::start().await;
    let owner = Owner::new(&fake, Some(&fake.url()), Some(PLEX_TOKEN));
    let out = owner.run(&["doctor"], None).await;
    let (stdout, stderr) = text(&out);
    assert!(
        stdout.contains(&format!(
            "Plex:     linked to {SERVER_NAME} (version {SERVER_VERSION})"
        )),
        "{stdout}\n{stderr}"
    );
    fake.revoke_token();
    let out = owner.run(&["doctor"], None).await;
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains("Plex:     not working: Plex refused the token"),
        "{stdout}"
    );
    fake.assert_no_violations();
}

/// A 2-second 320x240 H.264 + AAC file for the fake to serve as every part.
fn make_video(dir: &Path) -> PathBuf {
    let path = dir.join("part.mp4");
    let status = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg("testsrc2=size=320x240:rate=25")
        .args(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=48000"])
        .args([
            "-t", "2", "-c:v", "libx264", "-pix_fmt", "yuv420p", "-c:a", "aac",
        ])
        .args(["-movflags", "+faststart"])
        .arg(&path)
        .status()
        .expect("run ffmpeg");
    assert!(status.success(), "ffmpeg made no test video");
    path
}

/// Frames of the first video stream and its size, by ffprobe.
fn probe(path: &Path) -> (u64, u64, u64) {
    let out = Command::new("ffprobe")
        .args(["-v", "error", "-select_streams", "v:0", "-count_frames"])
        .args([
            "-show_entries",
            "stream=width,height,nb_read_frames",
            "-of",
            "csv=p=0",
        ])
        .arg(path)
        .output()
        .expect("run ffprobe");
    let text = String::from_utf8_lossy(&out.stdout);
    let v: Vec<u64> = text
        .trim()
        .split(',')
        .map(|n| n.parse().unwrap_or_else(|_| panic!("ffprobe said {text}")))
        .collect();
    (v[0], v[1], v[2])
}

#[tokio::test]
async fn transcode_plays_a_plex_item_from_disk_or_by_download_with_the_token_in_a_header() {
    let dir = tempfile::tempdir().expect("temp dir");
    let video = make_video(dir.path());
    let fake = FakePlex::start_with(Options {
        generated_items: 3,
        video: Some(video.clone()),
        ..Options::default()
    })
    .await;
    let owner = Owner::new(&fake, Some(&fake.url()), Some(PLEX_TOKEN));
    let size = ["--width", "320", "--height", "240", "--fps", "25"];
    // What the same file gives when transcoded as a file: each Plex way must match it.
    let direct = dir.path().join("direct.mp4");
    let out = owner
        .run(
            &[
                &[
                    "transcode",
                    video.to_str().unwrap(),
                    direct.to_str().unwrap(),
                ][..],
                &size,
            ]
            .concat(),
            None,
        )
        .await;
    assert!(out.status.success(), "{:?}", text(&out));
    let expected = probe(&direct);
    assert_eq!((expected.0, expected.1), (320, 240));
    assert!(expected.2 >= 45, "{expected:?}");

    // Its part's file is not on this machine: downloaded from the server.
    let remote = dir.path().join("remote.mp4");
    let key = format!("plex:{GENERATED_BASE}");
    let out = owner
        .run(
            &[
                "transcode",
                &key,
                remote.to_str().unwrap(),
                "--width",
                "320",
                "--height",
                "240",
                "--fps",
                "25",
            ],
            None,
        )
        .await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("download from Plex"), "{stderr}");
    assert_eq!(probe(&remote), expected);
    let parts: Vec<_> = fake
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/library/parts/"))
        .collect();
    assert!(!parts.is_empty(), "no download");
    assert!(
        parts.iter().all(|r| r.token_ok && r.status < 300),
        "{parts:?}"
    );
    assert!(
        parts.iter().all(|r| r.client_identifier.is_some()),
        "FFmpeg sends the client headers too"
    );

    // Its part's file is readable here: no HTTP for the media at all.
    let before = fake.requests().len();
    let local = dir.path().join("local.mp4");
    let key = format!("plex:{}", GENERATED_BASE + 1);
    let out = owner
        .run(
            &[
                "transcode",
                &key,
                local.to_str().unwrap(),
                "--width",
                "320",
                "--height",
                "240",
                "--fps",
                "25",
            ],
            None,
        )
        .await;
    let (stdout, stderr) = text(&out);
    assert!(out.status.success(), "{stdout}\n{stderr}");
    assert!(stderr.contains("the file "), "{stderr}");
    assert_eq!(probe(&local), expected);
    assert!(
        !fake.requests()[before..]
            .iter()
            .any(|r| r.path.starts_with("/library/parts/")),
        "a local file was downloaded"
    );

    // A photo and an unknown item are refused with the reason.
    let out = owner
        .run(
            &[
                "transcode",
                "plex:64",
                dir.path().join("x.mp4").to_str().unwrap(),
            ],
            None,
        )
        .await;
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(stderr.contains("photos do not play"), "{stderr}");
    let out = owner
        .run(
            &[
                "transcode",
                "plex:424242",
                dir.path().join("x.mp4").to_str().unwrap(),
            ],
            None,
        )
        .await;
    let (_, stderr) = text(&out);
    assert!(!out.status.success());
    assert!(
        stderr.contains("Plex has no item with rating key 424242"),
        "{stderr}"
    );
    fake.assert_no_violations();
}

#[tokio::test]
async fn the_fake_flags_what_plex_would_refuse() {
    let fake = FakePlex::start().await;
    let client = reqwest::Client::new();
    // No client headers, no JSON, the token in the query string.
    let resp = client
        .get(format!(
            "{}/library/sections?X-Plex-Token={PLEX_TOKEN}",
            fake.url()
        ))
        .send()
        .await
        .expect("request");
    assert_eq!(resp.status(), 401, "a token in the query is not accepted");
    let v = fake.violations().join("\n");
    for needle in [
        "no X-Plex-Client-Identifier",
        "no X-Plex-Product",
        "application/json",
        "query string",
        "no X-Plex-Token header",
    ] {
        assert!(v.contains(needle), "{needle} not flagged:\n{v}");
    }
    // A page larger than the fake allows.
    let big = FakePlex::start_with(Options {
        max_page: 10,
        ..Options::default()
    })
    .await;
    let s = Server::new(&http(), &big.url(), token()).expect("server");
    s.library_items("1", Sort::Title, Page::first(50))
        .await
        .expect("page");
    assert!(
        big.violations()
            .iter()
            .any(|v| v.contains("X-Plex-Container-Size 50")),
        "{:?}",
        big.violations()
    );
}

#[tokio::test]
async fn a_token_file_others_can_read_is_refused_and_search_json_names_the_error() {
    let fake = FakePlex::start().await;
    let owner = Owner::new(&fake, Some(&fake.url()), Some(PLEX_TOKEN));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(owner.token_file(), std::fs::Permissions::from_mode(0o644))
            .expect("chmod");
        let out = owner.run(&["plex", "check"], None).await;
        let (_, stderr) = text(&out);
        assert!(!out.status.success());
        assert!(stderr.contains("chmod 600"), "{stderr}");
        std::fs::remove_file(owner.token_file()).expect("rm");
    }
    #[cfg(not(unix))]
    std::fs::remove_file(owner.token_file()).expect("rm");
    let out = owner.run(&["plex", "search", "heat", "--json"], None).await;
    assert!(!out.status.success());
    let v = json_of(&out);
    assert_eq!(v["ok"], false);
    assert_eq!(v["error"]["kind"], "no_token");
    fake.assert_no_violations();
}

/// The Plex token in the OS keyring where it works; where it does not (a process without a
/// session keyring, like this sandbox), the error says to use `plex_token_file`.
#[test]
fn the_keyring_keeps_the_plex_token_or_says_why_not() {
    use lounge_streamer::golive::token::KeyringEntry;
    use lounge_streamer::plex::{Problem, TokenStore, load_from, store_token};
    let store = TokenStore::Keyring(KeyringEntry {
        service: "lounge-streamer-tests",
        name: "plex-token-roundtrip",
    });
    match store_token(&store, &token()) {
        Ok(()) => {
            assert_eq!(
                load_from(store.clone()).expect("loads").expose(),
                PLEX_TOKEN
            );
            store_token(&store, &Secret::new("")).expect("overwrite");
            assert!(matches!(load_from(store), Err(Problem::NoToken(_))));
        }
        Err(e) => {
            eprintln!("the OS keyring is not usable here, checking its error instead: {e}");
            assert_eq!(e.kind(), "keyring");
            assert!(e.to_string().contains("plex_token_file"), "{e}");
            assert!(!e.to_string().contains(PLEX_TOKEN));
        }
    }
}

// ---- the daemon's Plex requests over IPC (what the bot's `/plex` commands ask) ----

/// Runs `lounge-streamer run` for `owner` on a socket in its temp dir and connects a client.
async fn daemon(owner: &Owner) -> (bin::Running, lounge_ipc::Client) {
    let (streamer, socket) = run_daemon(owner).await;
    let client = lounge_ipc::Client::spawn(lounge_ipc::ClientConfig::new(
        socket,
        lounge_ipc::Secret::new("s"),
    ));
    client
        .wait_connected(Duration::from_secs(30))
        .await
        .expect("the client connects");
    (streamer, client)
}

/// Runs `lounge-streamer run` for `owner` on a socket in its temp dir, once it listens.
async fn run_daemon(owner: &Owner) -> (bin::Running, PathBuf) {
    let socket = owner.dir.path().join("streamer.sock");
    let config = owner.dir.path().join("lounge-streamer.toml");
    let mut text = std::fs::read_to_string(&config).expect("config");
    let _ = writeln!(
        text,
        "socket = {:?}\nlog_level = \"info\"",
        socket.to_str().expect("UTF-8")
    );
    std::fs::write(&config, text).expect("config");
    let streamer = bin::Running::spawn(owner.command(&["run"]));
    streamer
        .wait_output("listening on", Duration::from_mins(1))
        .await;
    (streamer, socket)
}

async fn ask(client: &lounge_ipc::Client, command: lounge_ipc::to_streamer::Command) -> Reply {
    client.request(command).await.expect("an answer")
}

async fn refused(
    client: &lounge_ipc::Client,
    command: lounge_ipc::to_streamer::Command,
) -> (ErrorKind, String) {
    failure(client.request(command).await)
}

fn failure(answer: Result<Reply, lounge_ipc::ClientError>) -> (ErrorKind, String) {
    match answer {
        Err(lounge_ipc::ClientError::Streamer { kind, detail }) => {
            assert!(!detail.contains(PLEX_TOKEN), "the token leaked: {detail}");
            (kind, detail)
        }
        other => panic!("expected the streamer to refuse, got {other:?}"),
    }
}

/// One page of a Plex list, asked of the daemon.
async fn browse(client: &lounge_ipc::Client, list: PlexList, page_no: u32) -> PlexItems {
    page(
        ask(
            client,
            lounge_ipc::to_streamer::Command::PlexBrowse {
                list,
                page: page_no,
            },
        )
        .await,
    )
}

fn page(reply: Reply) -> PlexItems {
    match reply {
        Reply::PlexItems(items) => items,
        other => panic!("expected Plex items, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_daemon_answers_the_bots_plex_requests_over_ipc() {
    use lounge_ipc::to_streamer::Command as C;
    let fake = FakePlex::start_with(Options {
        generated_items: 10_000,
        ..Options::default()
    })
    .await;
    let owner = Owner::new(&fake, Some(&fake.url()), Some(PLEX_TOKEN));
    let (mut streamer, client) = daemon(&owner).await;

    let Reply::PlexLibraries { libraries } = ask(&client, C::PlexLibraries).await else {
        panic!("libraries");
    };
    let libraries: Vec<(&str, &str, &str)> = libraries
        .iter()
        .map(|l| (l.key.as_str(), l.title.as_str(), l.kind.as_str()))
        .collect();
    assert_eq!(
        libraries,
        [
            ("1", "Movies", "movie"),
            ("2", "TV Shows", "show"),
            ("3", "Photos", "photo"),
            ("5", "Music", "artist"),
        ]
    );

    let hits = page(
        ask(
            &client,
            C::PlexSearch {
                query: "buck".into(),
            },
        )
        .await,
    );
    let titles: Vec<&str> = hits.items.iter().map(|i| i.title.as_str()).collect();
    assert_eq!(titles, ["Big Buck Bunny"]);
    assert_eq!(hits.total, 1);
    let none = page(
        ask(
            &client,
            C::PlexSearch {
                query: "zzzz-nothing".into(),
            },
        )
        .await,
    );
    assert!(none.items.is_empty() && none.total == 0, "{none:?}");

    // Pages of the 10,000-item library: 25 each, the library's total, no overlap.
    let total = fake.library_len("1") as u64;
    let mut seen = std::collections::HashSet::new();
    for n in [0, 1, 300] {
        let p = browse(
            &client,
            PlexList::Library {
                key: "1".into(),
                sort: PlexSort::Title,
            },
            n,
        )
        .await;
        assert_eq!((p.page, p.total, p.items.len()), (n, total, 25));
        for item in p.items {
            assert!(seen.insert(item.rating_key), "page {n} overlaps");
        }
    }

    let episodes = browse(
        &client,
        PlexList::Children {
            rating_key: "89".into(),
        },
        0,
    )
    .await;
    let pilot = &episodes.items[0];
    assert_eq!(
        (
            pilot.kind.as_str(),
            pilot.title.as_str(),
            pilot.index,
            pilot.parent_index,
            pilot.grandparent_title.as_deref()
        ),
        ("episode", "Pilot", Some(1), Some(1), Some("The 100"))
    );
    let deck = browse(&client, PlexList::OnDeck, 0).await;
    assert!(!deck.items.is_empty());
    let recent = browse(&client, PlexList::RecentlyAdded, 0).await;
    assert_eq!(recent.items.len(), 25);

    let Reply::PlexMetadata(movie) = ask(
        &client,
        C::PlexMetadata {
            rating_key: "108".into(),
        },
    )
    .await
    else {
        panic!("metadata");
    };
    assert_eq!(movie.kind, "movie");
    assert!(!movie.parts.is_empty(), "{movie:?}");
    let (kind, detail) = refused(
        &client,
        C::PlexMetadata {
            rating_key: "424242".into(),
        },
    )
    .await;
    assert_eq!(kind, ErrorKind::SourceNotFound, "{detail}");

    let Reply::PlexPoster(poster) = ask(
        &client,
        C::PlexPoster {
            rating_key: "55".into(),
        },
    )
    .await
    else {
        panic!("poster");
    };
    let png = base64::engine::general_purpose::STANDARD
        .decode(&poster.data_base64)
        .expect("base64");
    assert_eq!(
        (png.as_slice(), poster.content_type.as_str()),
        (lounge_tests::plex::poster_png(), "image/png")
    );

    // The owner revokes the token: the next request says the link is gone.
    fake.revoke_token();
    let (kind, detail) = refused(&client, C::PlexLibraries).await;
    assert_eq!(kind, ErrorKind::PlexNotLinked, "{detail}");
    streamer.terminate(Duration::from_secs(10)).await;
    fake.assert_no_violations();

    // No token stored at all, and a Plex server that is not there.
    let unlinked = Owner::new(&fake, Some(&fake.url()), None);
    let (mut streamer, client) = daemon(&unlinked).await;
    let (kind, detail) = refused(&client, C::PlexLibraries).await;
    assert_eq!(kind, ErrorKind::PlexNotLinked, "{detail}");
    streamer.terminate(Duration::from_secs(10)).await;
    let dead = format!("http://{}", dead_address());
    let gone = Owner::new(&fake, Some(&dead), Some(PLEX_TOKEN));
    let (mut streamer, client) = daemon(&gone).await;
    let (kind, detail) = refused(
        &client,
        C::PlexSearch {
            query: "heat".into(),
        },
    )
    .await;
    assert_eq!(kind, ErrorKind::PlexUnavailable, "{detail}");
    streamer.terminate(Duration::from_secs(10)).await;
}

// ---- the bot's `/plex` commands, end to end: member → bot → streamer → Plex ----

/// Asks until the bot's link to the streamer is up (it connects in the background).
async fn ask_linked(h: &crate::util::Harness, text: &str) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_mins(1);
    loop {
        let reply = h.ask(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, text).await;
        if !reply.starts_with("The streamer is") {
            return reply;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "the bot never reached the streamer: {reply}"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn members_search_list_and_look_up_the_owners_plex_through_the_bot() {
    let fake = FakePlex::start().await;
    let owner = Owner::new(&fake, Some(&fake.url()), Some(PLEX_TOKEN));
    let (mut streamer, socket) = run_daemon(&owner).await;
    let h = bot_linked_to(&socket, lounge_tests::discord::FakeDiscord::start().await).await;

    let found = ask_linked(&h, "!plex search earth").await;
    assert!(
        found.contains("The 100 · S1E2 · **Earth Skills** · episode · `91`"),
        "{found}"
    );
    let film = h
        .ask(
            GUILD_ID,
            GENERAL_CHANNEL_ID,
            MEMBER_ID,
            "!plex search bunny",
        )
        .await;
    assert!(
        film.contains("**Big Buck Bunny** (2008) · movie · `55`"),
        "{film}"
    );
    let none = h
        .ask(
            GUILD_ID,
            GENERAL_CHANNEL_ID,
            MEMBER_ID,
            "!plex search zzzz-nothing",
        )
        .await;
    assert!(
        none.contains("Nothing in the owner's Plex matches `zzzz-nothing`"),
        "{none}"
    );

    let libraries = h
        .ask(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, "!plex libraries")
        .await;
    assert!(
        libraries.contains("**Movies** · movie · `1`") && libraries.contains("**TV Shows**"),
        "{libraries}"
    );
    let movies = h
        .ask(
            GUILD_ID,
            GENERAL_CHANNEL_ID,
            MEMBER_ID,
            "!plex browse 1 title",
        )
        .await;
    assert!(
        movies.contains("Plex library · page 1 of 1") && movies.contains("**Big Buck Bunny**"),
        "{movies}"
    );
    let past = h
        .ask(
            GUILD_ID,
            GENERAL_CHANNEL_ID,
            MEMBER_ID,
            "!plex browse 1 title 99",
        )
        .await;
    assert!(past.contains("Page 99 of that library is empty"), "{past}");
    // Browsing walks library → show → season → episode with select menus.
    let first = h
        .ask_recorded(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, "!plex browse")
        .await;
    assert!(first.text().contains("**TV Shows**"), "{}", first.text());
    let message: u64 = h
        .fake
        .channel_messages(GENERAL_CHANNEL_ID)
        .last()
        .and_then(|m| m["id"].as_str()?.parse().ok())
        .expect("the browser's message");
    for (pick, shows) in [
        ("2", "The 100"),
        ("children:22", "Season 1"),
        ("children:89", "Earth Skills"),
        ("item:91", "Earth Skills"),
    ] {
        let after = pick_in(&h, message, pick).await;
        assert!(after.contains(shows), "{pick}: {after}");
    }
    let embed = h.fake.message(message).expect("the browser");
    let play = embed["components"]
        .as_array()
        .into_iter()
        .flatten()
        .flat_map(|r| r["components"].as_array().cloned().unwrap_or_default())
        .find_map(|c| {
            c["custom_id"]
                .as_str()
                .filter(|id| id.ends_with(":play"))
                .map(str::to_owned)
        })
        .expect("an episode has a Play button");
    // Not in a voice channel: the Play button says so instead of streaming anywhere.
    let skip = h.fake.requests().len();
    h.fake
        .press_button(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, message, &play);
    let said = h
        .fake
        .wait_for_request(skip, crate::util::REPLY_TIMEOUT, |r| {
            r.method == "POST" && r.text().contains("voice channel")
        })
        .await;
    assert!(
        said.text().contains("Join a voice channel first"),
        "{}",
        said.text()
    );

    let recorded = h
        .ask_recorded(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, "!plex info 55")
        .await;
    let info = recorded.text();
    assert!(
        info.contains("Big Buck Bunny (2008)") && info.contains("Plex item 55"),
        "{info}"
    );
    // The poster went up as an attachment (Discord can't reach the home server), the one the
    // streamer fetched through Plex's photo transcoder, shown as the embed's thumbnail.
    let files: Vec<_> = recorded.files.iter().map(|f| f.filename.as_str()).collect();
    assert_eq!(files, ["poster.png"], "{:?}", recorded.body);
    assert_eq!(recorded.files[0].data, lounge_tests::plex::poster_png());
    assert_eq!(
        recorded.body["embeds"][0]["thumbnail"]["url"],
        "attachment://poster.png"
    );
    // Its tracks and rating, as Plex names them.
    let tracks = h
        .ask(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, "!plex info 159637")
        .await;
    assert!(
        tracks.contains("English (EAC3 5.1)") && tracks.contains("English SDH (SRT)"),
        "{tracks}"
    );
    let bad = h
        .ask(
            GUILD_ID,
            GENERAL_CHANNEL_ID,
            MEMBER_ID,
            "!plex info drop table",
        )
        .await;
    assert!(bad.contains("isn't a Plex item"), "{bad}");

    // Typing into /plex info suggests titles, whose values are the rating keys.
    let suggested = suggest(&h, "bunny").await;
    assert_eq!(
        suggested.body["data"]["choices"],
        serde_json::json!([{"name": "Big Buck Bunny (2008)", "value": "55"}]),
        "{:?}",
        suggested.body
    );

    // The streamer gone: a sentence, not an error reference.
    streamer.terminate(Duration::from_secs(20)).await;
    let gone = ask_linked_until_offline(&h).await;
    assert!(
        gone.starts_with("The streamer is") && gone.contains("lounge-streamer run"),
        "{gone}"
    );
    fake.assert_no_violations();
    h.finish().await;
}

/// Picks `value` in the browser's select menu and returns the message's text once the bot
/// edited it.
async fn pick_in(h: &crate::util::Harness, message: u64, value: &str) -> String {
    let select = h
        .fake
        .message(message)
        .and_then(|m| {
            m["components"].as_array()?.iter().find_map(|r| {
                r["components"].as_array()?.iter().find_map(|c| {
                    (c["type"] == 3).then(|| c["custom_id"].as_str().map(str::to_owned))?
                })
            })
        })
        .expect("a select menu");
    let skip = h.fake.requests().len();
    h.fake.choose_in_select(
        GUILD_ID,
        GENERAL_CHANNEL_ID,
        MEMBER_ID,
        message,
        &select,
        &[value],
    );
    let path = format!("/channels/{GENERAL_CHANNEL_ID}/messages/{message}");
    h.fake
        .wait_for_request(skip, crate::util::REPLY_TIMEOUT, |r| {
            r.method == "PATCH" && r.path == path
        })
        .await
        .text()
}

/// The bot against `discord`, linked to the streamer listening on `socket`.
async fn bot_linked_to(
    socket: &Path,
    discord: lounge_tests::discord::FakeDiscord,
) -> crate::util::Harness {
    let socket = socket.to_str().expect("UTF-8");
    crate::util::Harness::start_with_fake(
        lounge_tests::db::TestDb::sqlite(),
        discord,
        &[
            ("LOUNGE_STREAMER__SOCKET", socket),
            ("LOUNGE_STREAMER__SECRET", "s"),
        ],
    )
    .await
}

/// Types `partial` into `/plex info`'s item option; returns the bot's autocomplete answer.
async fn suggest(h: &crate::util::Harness, partial: &str) -> lounge_tests::discord::Recorded {
    let skip = h.fake.requests().len();
    let typing = h.fake.send_autocomplete(
        GUILD_ID,
        GENERAL_CHANNEL_ID,
        MEMBER_ID,
        "plex",
        serde_json::json!([{"type": 1, "name": "info", "options": [
            {"type": 3, "name": "item", "value": partial, "focused": true},
        ]}]),
    );
    h.fake
        .wait_for_request(skip, crate::util::REPLY_TIMEOUT, |r| {
            r.path == typing.callback_path()
        })
        .await
}

/// Asks `/plex libraries` until the bot notices the streamer is gone.
async fn ask_linked_until_offline(h: &crate::util::Harness) -> String {
    let deadline = tokio::time::Instant::now() + Duration::from_mins(1);
    loop {
        let reply = h
            .ask(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, "!plex libraries")
            .await;
        if !reply.contains("**Movies**") {
            return reply;
        }
        assert!(tokio::time::Instant::now() < deadline, "{reply}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Plex slower than Discord's three seconds: autocomplete answers in time with no choices,
/// a search defers and then answers; a revoked token is a sentence in Discord. The fake
/// Discord forgets an interaction not answered within three seconds, as Discord does.
#[tokio::test(flavor = "multi_thread")]
async fn slow_plex_is_answered_in_time_and_a_revoked_token_is_explained() {
    let fake = FakePlex::start_with(Options {
        delay: Duration::from_secs(2),
        ..Options::default()
    })
    .await;
    let owner = Owner::new(&fake, Some(&fake.url()), Some(PLEX_TOKEN));
    let (_streamer, socket) = run_daemon(&owner).await;
    let discord = lounge_tests::discord::FakeDiscord::start_with(lounge_tests::discord::Options {
        interaction_deadline: Some(Duration::from_secs(3)),
        ..lounge_tests::discord::Options::default()
    })
    .await;
    let h = bot_linked_to(&socket, discord).await;
    // Wait for the link (a libraries list takes the slow Plex too).
    ask_linked(&h, "!plex libraries").await;

    let suggested = suggest(&h, "bunny").await;
    assert_eq!(suggested.status, 204, "answered in time: {suggested:?}");
    assert_eq!(suggested.body["data"]["choices"], serde_json::json!([]));

    let search = |query: &str| {
        serde_json::json!([{"type": 1, "name": "search", "options": [
            {"type": 3, "name": "query", "value": query},
        ]}])
    };
    let answer = |query: &'static str| {
        let h = &h;
        async move {
            let skip = h.fake.requests().len();
            let i = h.fake.send_slash(
                GUILD_ID,
                GENERAL_CHANNEL_ID,
                MEMBER_ID,
                "plex",
                search(query),
            );
            let first = h
                .fake
                .wait_for_request(skip, crate::util::REPLY_TIMEOUT, |r| {
                    r.path == i.callback_path()
                })
                .await;
            assert_eq!(
                (first.status, first.body["type"].clone()),
                (204, 5.into()),
                "deferred in time"
            );
            let webhook = format!("/{}", i.token);
            h.fake
                .wait_for_request(skip, Duration::from_secs(30), |r| {
                    r.path.starts_with("/webhooks/") && r.path.contains(&webhook)
                })
                .await
                .text()
        }
    };
    let found = answer("bunny").await;
    assert!(found.contains("Big Buck Bunny"), "{found}");

    fake.revoke_token();
    let revoked = answer("bunny").await;
    assert!(
        revoked.contains("isn't linked to a Plex account") && revoked.contains("plex login"),
        "{revoked}"
    );
    h.fake.assert_no_violations();
    h.finish().await;
}
