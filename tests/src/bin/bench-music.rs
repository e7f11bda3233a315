//! Music figures: how many songbird players one core carries (Opus passed through untouched,
//! and decoded, mixed at another volume and encoded again), memory per player, and how long
//! the real bot takes from `!play file:…` to the first Opus packet at the voice server.
//!
//! ```text
//! cargo build --release -p lounge
//! cargo run --release -p lounge-tests --bin bench-music -- [passthrough players,…] [mixing players,…] [seconds]
//! ```
//!
//! The players are songbird drivers in this process, each a real voice connection (TLS
//! websocket, UDP, DAVE) to the fake voice server, which runs in a child process so its own
//! decryption is not counted; the CPU figure is this process's user+system time over the
//! measured seconds. The `/play` figure runs the release `lounge` against the fake Discord.
//! Numbers go in docs/PERFORMANCE.md.

use std::io::{BufRead as _, BufReader};
use std::num::NonZeroU64;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lounge_tests::discord::voice::{FakeVoiceOptions, FakeVoiceServer, FrameKind};
use lounge_tests::discord::{
    FakeDiscord, GENERAL_CHANNEL_ID, GUILD_ID, MEMBER_ID, VOICE_CHANNEL_ID,
};

/// The calls the child's voice server knows: token `bench-N` is channel `CHANNEL_BASE + N`.
const CHANNEL_BASE: u64 = 7_000_000_000_000_000_000;
const MAX_PLAYERS: usize = 2000;

fn tone(path: &Path, seconds: u32) {
    let status = Command::new("ffmpeg")
        .args(["-loglevel", "error", "-y", "-f", "lavfi", "-i"])
        .arg(format!(
            "sine=frequency=440:duration={seconds}:sample_rate=48000"
        ))
        .args(["-ac", "2", "-c:a", "libopus", "-b:a", "128k"])
        .arg(path)
        .status()
        .expect("run ffmpeg");
    assert!(status.success(), "ffmpeg could not make the tone");
}

/// This process's CPU time (user + system) and resident memory, from /proc.
fn usage() -> (Duration, u64) {
    let stat = std::fs::read_to_string("/proc/self/stat").expect("/proc/self/stat");
    // Fields after the command name (which may hold spaces, so split after its ')').
    let rest = &stat[stat.rfind(')').expect("stat format") + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks: u64 = fields[11].parse::<u64>().unwrap() + fields[12].parse::<u64>().unwrap();
    // CLK_TCK is 100 on every Linux we run on.
    let cpu = Duration::from_millis(ticks * 10);
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let rss_kb = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next()?.parse().ok())
        .unwrap_or(0);
    (cpu, rss_kb)
}

/// The child: a fake voice server that knows `MAX_PLAYERS` call tokens; prints its endpoint
/// and certificate file, then serves until killed.
async fn serve(dir: &Path) {
    let voice = FakeVoiceServer::start_with(FakeVoiceOptions {
        tls: true,
        ..FakeVoiceOptions::default()
    })
    .await;
    {
        let calls = voice.call_tokens();
        let mut calls = calls.lock().unwrap();
        for n in 0..MAX_PLAYERS {
            calls.insert(format!("bench-{n}"), CHANNEL_BASE + n as u64);
        }
    }
    let ca = dir.join("ca.pem");
    std::fs::write(&ca, voice.ca_pem().expect("TLS")).expect("write ca");
    println!("{} {}", voice.endpoint(), ca.display());
    std::future::pending::<()>().await;
}

async fn players(endpoint: &str, tone: &Path, count: usize, volume: f32, seconds: u64) {
    let (_, rss_before) = usage();
    // songbird's file input owns its path ('static).
    let owned = PathBuf::from(tone);
    let mut drivers = Vec::with_capacity(count);
    for n in 0..count {
        let mut driver = songbird::Driver::new(songbird::Config::default());
        let info = songbird::ConnectionInfo {
            channel_id: NonZeroU64::new(CHANNEL_BASE + n as u64).unwrap().into(),
            endpoint: endpoint.to_owned(),
            guild_id: NonZeroU64::new(GUILD_ID + n as u64).unwrap().into(),
            session_id: format!("bench-session-{n}"),
            token: format!("bench-{n}"),
            user_id: NonZeroU64::new(1_000_000_000_000_000_001).unwrap().into(),
        };
        driver
            .connect(info)
            .await
            .unwrap_or_else(|e| panic!("player {n} could not connect: {e}"));
        let track =
            songbird::tracks::Track::from(songbird::input::File::new(owned.clone())).volume(volume);
        let handle = driver.play(track);
        drivers.push((driver, handle));
    }
    // Past the start (probing, the first packets) before measuring.
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (cpu0, rss) = usage();
    let wall0 = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let (cpu1, _) = usage();
    let wall = wall0.elapsed().as_secs_f64();
    let mut playing = 0;
    for (_, handle) in &drivers {
        if handle
            .get_info()
            .await
            .is_ok_and(|i| i.playing == songbird::tracks::PlayMode::Play)
        {
            playing += 1;
        }
    }
    let cores = cpu1.saturating_sub(cpu0).as_secs_f64() / wall;
    let per_core = if cores > 0.0 {
        count as f64 / cores
    } else {
        f64::INFINITY
    };
    let per_player_kib = rss.saturating_sub(rss_before) as f64 / count as f64;
    // A player songbird gave up on (its mixer could not keep up) makes the figure meaningless.
    let verdict = if playing == count {
        String::new()
    } else {
        format!("  INVALID: only {playing} of {count} still playing (CPU saturated)")
    };
    println!(
        "{:>11} {count:>5} players: {cores:.3} cores busy -> {per_core:.0} players per core, {per_player_kib:.0} KiB each{verdict}",
        if (volume - 1.0).abs() < f32::EPSILON {
            "passthrough"
        } else {
            "mixing"
        },
    );
    drop(drivers);
    tokio::time::sleep(Duration::from_millis(500)).await;
}

/// `!play file:tone.ogg` in the release bot → the first audio frame at the voice server;
/// the first play includes joining voice (websocket, UDP, DAVE), the others don't.
async fn first_packet(dir: &Path, tone: &Path, rounds: usize) {
    let lounge = lounge_tests::bin::release_binary("lounge");
    assert!(
        lounge.exists(),
        "{} does not exist: cargo build --release -p lounge first",
        lounge.display()
    );
    let voice = FakeVoiceServer::start_with(FakeVoiceOptions {
        tls: true,
        ..FakeVoiceOptions::default()
    })
    .await;
    let ca = dir.join("bot-ca.pem");
    std::fs::write(&ca, voice.ca_pem().expect("TLS")).unwrap();
    let fake = FakeDiscord::start().await;
    fake.set_voice_server(&voice);
    let db = dir.join("bench.db");
    let mut cmd = Command::new(&lounge);
    cmd.env_clear()
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("HOME", dir)
        .env("XDG_CONFIG_HOME", dir.join("no-config"))
        .env("LOUNGE_DISCORD__API_BASE", fake.api_base())
        .env("DATABASE_URL", format!("sqlite://{}", db.display()))
        .env("DISCORD_TOKEN", lounge_tests::discord::TOKEN)
        .env("LOUNGE_LOG__LEVEL", "warn")
        .env("LOUNGE_BOT__COMMAND_BURST", "1000")
        .env("LOUNGE_METRICS__LISTEN", "127.0.0.1:0")
        .env("SSL_CERT_FILE", &ca)
        .env(
            "LOUNGE_MUSIC__ROOTS",
            format!("[{:?}]", tone.parent().unwrap().to_str().unwrap()),
        )
        .stdout(Stdio::null())
        .stderr(Stdio::null());
    let mut bot = lounge_tests::bin::Running::spawn(cmd);
    fake.wait_ready(Duration::from_mins(1)).await;
    fake.member_voice(GUILD_ID, Some(VOICE_CHANNEL_ID), MEMBER_ID);
    let name = tone.file_name().unwrap().to_str().unwrap();
    let mut warm = Vec::new();
    for round in 0..rounds {
        let before = voice
            .frames()
            .iter()
            .filter(|f| f.kind == FrameKind::Audio)
            .count();
        let asked = Instant::now();
        fake.send_message(
            GUILD_ID,
            GENERAL_CHANNEL_ID,
            MEMBER_ID,
            &format!("!play file:{name}"),
        );
        voice
            .wait_frames(Duration::from_secs(30), "the first packet", |f| {
                f.iter().filter(|f| f.kind == FrameKind::Audio).count() > before
            })
            .await;
        let took = asked.elapsed();
        if round == 0 {
            println!(
                "/play to first packet, joining voice first: {:.0} ms",
                took.as_secs_f64() * 1000.0
            );
        } else {
            warm.push(took);
        }
        fake.send_message(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, "!stop");
        tokio::time::sleep(Duration::from_millis(700)).await;
    }
    warm.sort();
    if !warm.is_empty() {
        let ms = |d: Duration| d.as_secs_f64() * 1000.0;
        println!(
            "/play to first packet, already in voice ({} plays): p50 {:.0} ms, max {:.0} ms",
            warm.len(),
            ms(warm[warm.len() / 2]),
            ms(*warm.last().unwrap())
        );
    }
    let _ = bot.terminate(Duration::from_secs(20)).await;
}

#[tokio::main(flavor = "multi_thread")]
async fn main() {
    let mut args = std::env::args().skip(1);
    let first = args.next();
    if first.as_deref() == Some("serve") {
        let dir = PathBuf::from(args.next().expect("serve DIR"));
        serve(&dir).await;
        return;
    }
    let counts = |list: Option<String>, default: &str| -> Vec<usize> {
        list.as_deref()
            .unwrap_or(default)
            .split(',')
            .map(|n| n.parse::<usize>().expect("player counts").min(MAX_PLAYERS))
            .collect()
    };
    let passthrough = counts(first, "100,400");
    let mixing = counts(args.next(), "50,100");
    let seconds: u64 = args.next().and_then(|s| s.parse().ok()).unwrap_or(10);
    // songbird's TLS reads SSL_CERT_FILE (through rustls-native-certs) and this crate forbids
    // `unsafe` (setting the environment), so the measuring process is this program again,
    // started with the voice server's certificate in its environment.
    let Ok(voice) = std::env::var("LOUNGE_BENCH_VOICE") else {
        let dir = tempfile::tempdir().expect("temp dir");
        let mut server = Command::new(std::env::current_exe().expect("this program"))
            .arg("serve")
            .arg(dir.path())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the voice server");
        let mut line = String::new();
        BufReader::new(server.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("the voice server's address");
        let (_, ca) = line
            .trim()
            .split_once(' ')
            .expect("endpoint and certificate");
        let status = Command::new(std::env::current_exe().expect("this program"))
            .args(std::env::args().skip(1))
            .env("SSL_CERT_FILE", ca)
            .env("LOUNGE_BENCH_VOICE", line.trim())
            .status()
            .expect("run the measurements");
        let _ = server.kill();
        std::process::exit(status.code().unwrap_or(1));
    };
    let (endpoint, _) = voice.split_once(' ').expect("endpoint and certificate");
    let dir = tempfile::tempdir().expect("temp dir");
    let tone_path = dir.path().join("tone.ogg");
    tone(&tone_path, 120);
    println!(
        "cores on this machine: {}",
        std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
    );
    for &count in &passthrough {
        players(endpoint, &tone_path, count, 1.0, seconds).await;
    }
    for &count in &mixing {
        players(endpoint, &tone_path, count, 0.8, seconds).await;
    }
    first_packet(dir.path(), &tone_path, 11).await;
}
