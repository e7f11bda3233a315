//! Plex figures against the loopback fakes: search latency on a 10,000-item library (what
//! `/plex search` and its autocomplete wait for), time from a Plex play order to the first
//! video frame at the voice server (direct play from disk, and download from Plex), and the
//! streamer's memory while it plays.
//!
//! ```text
//! cargo build --release -p lounge-streamer
//! cargo run --release -p lounge-tests --bin bench-plex -- [searches] [path/to/lounge-streamer]
//! ```
//!
//! The streamer is the real binary, asked over IPC exactly as the bot asks it; Plex is the fake
//! Plex with 10,000 generated films, Discord the fake gateway and voice server. Numbers go in
//! docs/PERFORMANCE.md.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lounge_ipc::to_bot::Reply;
use lounge_ipc::to_streamer::{Command as Order, Source};
use lounge_ipc::{Client, ClientConfig, Secret};
use lounge_tests::discord::voice::{FakeVoiceServer, FrameKind};
use lounge_tests::discord::{FakeDiscord, GUILD_ID, STREAMER_USER_TOKEN, VOICE_CHANNEL_ID};
use lounge_tests::plex::{FakePlex, GENERATED_BASE, Options, PLEX_TOKEN};

const SECRET: &str = "bench";
const LIBRARY: usize = 10_000;
/// What members type: whole words, prefixes as autocomplete sends them, and misses.
const QUERIES: [&str; 12] = [
    "heat",
    "he",
    "night river",
    "orb",
    "storm 00",
    "lantern",
    "copper win",
    "e",
    "signal",
    "zzz",
    "harbor echo",
    "winter",
];

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let searches: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(300);
    let binary = args.next().map_or_else(
        || lounge_tests::bin::release_binary("lounge-streamer"),
        PathBuf::from,
    );
    assert!(
        binary.exists(),
        "{} does not exist: cargo build --release -p lounge-streamer first",
        binary.display()
    );

    let dir = tempfile::tempdir().expect("temp dir");
    let video = dir.path().join("part.mp4");
    lounge_tests::bin::clip(&video, "1280x720", 30, 30, "veryfast");
    let plex = FakePlex::start_with(Options {
        generated_items: LIBRARY,
        video: Some(video),
        video_duration_ms: Some(30_000),
        ..Options::default()
    })
    .await;
    let fake = FakeDiscord::start().await;
    let voice = FakeVoiceServer::start().await;
    fake.set_voice_server(&voice);
    let socket = dir.path().join("s.sock");
    let token = dir.path().join("token");
    let plex_token = dir.path().join("plex-token");
    lounge_tests::bin::write_private(&token, STREAMER_USER_TOKEN);
    lounge_tests::bin::write_private(&plex_token, PLEX_TOKEN);
    let config = dir.path().join("lounge-streamer.toml");
    std::fs::write(
        &config,
        format!(
            "socket = {:?}\nipc_secret = {SECRET:?}\nencoder = \"x264\"\nlog_level = \"warn\"\n\
             accept_selfbot_risk = true\ntoken_file = {:?}\ngateway_url = {:?}\n\
             plex_url = {:?}\nplex_tv_url = {:?}\nplex_token_file = {:?}\nstate_dir = {:?}\n",
            socket.to_str().expect("UTF-8"),
            token.to_str().expect("UTF-8"),
            fake.gateway_url(),
            plex.url(),
            plex.url(),
            plex_token.to_str().expect("UTF-8"),
            dir.path().join("state").to_str().expect("UTF-8"),
        ),
    )
    .expect("config");
    let mut child = Command::new(&binary)
        .arg("--config")
        .arg(&config)
        .arg("run")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("start lounge-streamer");
    let pid = child.id();
    let client = Client::spawn(ClientConfig::new(&socket, Secret::new(SECRET)));
    client
        .wait_connected(Duration::from_secs(30))
        .await
        .expect("the streamer comes up");

    // Search, one request at a time as members type.
    let mut latencies = Vec::with_capacity(searches);
    let mut hits = 0;
    for i in 0..searches {
        let query = QUERIES[i % QUERIES.len()].to_owned();
        let asked = Instant::now();
        let reply = client
            .request(Order::PlexSearch { query })
            .await
            .expect("search");
        latencies.push(asked.elapsed());
        if let Reply::PlexItems(items) = reply {
            hits += items.items.len();
        }
    }
    latencies.sort();
    let at = |p: usize| latencies[(latencies.len() * p / 100).min(latencies.len() - 1)];
    let rss_idle = rss_kib(pid);

    // Play: join, then each way a Plex item is read, to its first video frame.
    client
        .request(Order::JoinVoice {
            guild_id: Some(GUILD_ID),
            channel_id: VOICE_CHANNEL_ID,
        })
        .await
        .expect("join");
    let mut firsts = Vec::new();
    let mut peak_rss = 0;
    for (what, key) in [
        ("from disk", GENERATED_BASE + 1),
        ("downloaded from Plex", GENERATED_BASE),
    ] {
        // The last item's frames still in flight must not count as this one's.
        let _ = client.request(Order::Stop).await;
        tokio::time::sleep(Duration::from_secs(1)).await;
        let before = voice.frames().len();
        let ordered = Instant::now();
        client
            .request(Order::Play {
                source: Source::Plex {
                    rating_key: key.to_string(),
                },
                start_offset_ms: 0,
                tracks: lounge_ipc::to_streamer::Tracks::default(),
            })
            .await
            .expect("play");
        let frames = voice
            .wait_frames(Duration::from_mins(1), "the first video frame", |f| {
                f[before..].iter().any(|f| f.kind == FrameKind::Video)
            })
            .await;
        let first = frames[before..]
            .iter()
            .find(|f| f.kind == FrameKind::Video)
            .map(|f| f.packets[0].arrived)
            .expect("a video frame");
        firsts.push((what, first.saturating_duration_since(ordered)));
        // Memory while it plays: sampled for 10 s.
        for _ in 0..20 {
            tokio::time::sleep(Duration::from_millis(500)).await;
            peak_rss = peak_rss.max(rss_kib(pid).unwrap_or(0));
        }
    }
    let _ = client.request(Order::Stop).await;
    let _ = client.request(Order::Shutdown).await;
    let _ = child.wait();

    println!("bench-plex: {LIBRARY}-item library, {searches} searches, x264 720p30");
    println!(
        "  search over IPC: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({hits} results in all)",
        ms(at(50)),
        ms(at(99)),
        ms(latencies[latencies.len() - 1])
    );
    for (what, d) in firsts {
        println!("  play order to first video frame, {what}: {:.0} ms", ms(d));
    }
    match (rss_idle, peak_rss) {
        (Some(idle), peak) if peak > 0 => println!(
            "  lounge-streamer memory: {:.0} MiB idle, {:.0} MiB peak while playing",
            kib_to_mib(idle),
            kib_to_mib(peak)
        ),
        _ => println!("  lounge-streamer memory: not available on this OS"),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[allow(clippy::cast_precision_loss, reason = "KiB to MiB for a report")]
fn kib_to_mib(kib: u64) -> f64 {
    kib as f64 / 1024.0
}

/// Resident memory of `pid` in KiB, from /proc (Linux only).
fn rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))?
        .split_whitespace()
        .next()?
        .parse()
        .ok()
}
