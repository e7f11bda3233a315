//! Go Live figures against the loopback fakes: time from the bot's orders to the first video
//! frame at the voice server, frame-time jitter, and the streamer's CPU for one 720p30 stream.
//!
//! ```text
//! cargo build --release -p lounge-streamer
//! cargo run --release -p lounge-tests --bin bench-golive -- [seconds] [path/to/lounge-streamer]
//! ```
//!
//! The streamer is the real binary (release build by default, from the target dir), driven over
//! IPC exactly as the bot drives it; Discord is the fake gateway and the fake voice server, which
//! decrypts the transport and DAVE and records when each packet arrived. Numbers go in
//! docs/PERFORMANCE.md.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use lounge_ipc::to_streamer::{Command as Order, Source};
use lounge_ipc::{Client, ClientConfig, Secret};
use lounge_tests::discord::voice::{FakeVoiceServer, FrameKind, ReceivedFrame};
use lounge_tests::discord::{FakeDiscord, GUILD_ID, STREAMER_USER_TOKEN, VOICE_CHANNEL_ID};

const SECRET: &str = "bench";
const FPS: u32 = 30;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().and_then(|a| a.parse().ok()).unwrap_or(20);
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
    let media = dir.path().join("media");
    std::fs::create_dir_all(&media).expect("media dir");
    lounge_tests::bin::clip(
        &media.join("clip.mp4"),
        "1280x720",
        FPS,
        seconds + 5,
        "veryfast",
    );

    let fake = FakeDiscord::start().await;
    let voice = FakeVoiceServer::start().await;
    fake.set_voice_server(&voice);
    let socket = dir.path().join("s.sock");
    let token = dir.path().join("token");
    lounge_tests::bin::write_private(&token, STREAMER_USER_TOKEN);
    let config = dir.path().join("lounge-streamer.toml");
    std::fs::write(
        &config,
        format!(
            "socket = {:?}\nipc_secret = {SECRET:?}\nencoder = \"x264\"\nlog_level = \"warn\"\n\
             accept_selfbot_risk = true\ntoken_file = {:?}\ngateway_url = {:?}\nmedia_roots = [{:?}]\n",
            socket.to_str().expect("UTF-8"),
            token.to_str().expect("UTF-8"),
            fake.gateway_url(),
            media.to_str().expect("UTF-8"),
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
    let ordered = Instant::now();
    client
        .request(Order::JoinVoice {
            guild_id: Some(GUILD_ID),
            channel_id: VOICE_CHANNEL_ID,
        })
        .await
        .expect("join");
    let joined = Instant::now();
    client
        .request(Order::Play {
            source: Source::Url {
                url: "clip.mp4".into(),
            },
            start_offset_ms: 0,
            tracks: lounge_ipc::to_streamer::Tracks::default(),
        })
        .await
        .expect("play");
    let first = voice
        .wait_frames(Duration::from_mins(1), "the first video frame", |f| {
            f.iter().any(|f| f.kind == FrameKind::Video)
        })
        .await;
    let first_at = first
        .iter()
        .find(|f| f.kind == FrameKind::Video)
        .map(|f| f.packets[0].arrived)
        .expect("a video frame");
    let cpu_start = cpu_ticks(pid);
    let measured_from = Instant::now();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    let cpu = cpu_ticks(pid).zip(cpu_start).map(|(end, start)| {
        #[allow(clippy::cast_precision_loss, reason = "ticks over seconds")]
        let used = (end - start) as f64 / clock_ticks_per_second();
        100.0 * used / measured_from.elapsed().as_secs_f64()
    });
    let frames = voice.frames();
    let _ = client.request(Order::Stop).await;
    let _ = client.request(Order::Shutdown).await;
    let _ = child.wait();

    let video: Vec<&ReceivedFrame> = frames
        .iter()
        .filter(|f| f.kind == FrameKind::Video && f.packets[0].arrived >= measured_from)
        .collect();
    let (mean, p99, max) = jitter(&video);
    println!("bench-golive: 1280x720@{FPS}, x264, {seconds} s measured");
    println!(
        "  order to first video frame: {:.0} ms (join {:.0} ms, then play to first frame {:.0} ms)",
        ms(first_at - ordered),
        ms(joined - ordered),
        ms(first_at - joined)
    );
    println!(
        "  frame-time jitter over {} frames: mean {mean:.2} ms, p99 {p99:.2} ms, max {max:.2} ms",
        video.len()
    );
    match cpu {
        Some(cpu) => println!("  lounge-streamer CPU: {cpu:.0}% of one core"),
        None => println!("  lounge-streamer CPU: not available on this OS"),
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// |arrival gap − RTP timestamp gap| between consecutive frames' first packets, in ms: how far
/// the send schedule strays from the media clock (RFC 3550's D, per frame).
fn jitter(frames: &[&ReceivedFrame]) -> (f64, f64, f64) {
    let mut d: Vec<f64> = frames
        .windows(2)
        .map(|w| {
            let arrival = w[1].packets[0]
                .arrived
                .duration_since(w[0].packets[0].arrived)
                .as_secs_f64();
            let media = f64::from(w[1].timestamp.wrapping_sub(w[0].timestamp)) / 90_000.0;
            (arrival - media).abs() * 1000.0
        })
        .collect();
    if d.is_empty() {
        return (0.0, 0.0, 0.0);
    }
    d.sort_by(f64::total_cmp);
    #[allow(clippy::cast_precision_loss, reason = "a frame count")]
    let mean = d.iter().sum::<f64>() / d.len() as f64;
    let p99 = d[(d.len() * 99 / 100).min(d.len() - 1)];
    (mean, p99, d[d.len() - 1])
}

/// utime + stime of `pid`, from /proc (Linux only).
fn cpu_ticks(pid: u32) -> Option<u64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name may hold spaces; fields after its closing parenthesis are fixed.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(utime + stime)
}

fn clock_ticks_per_second() -> f64 {
    Command::new("getconf")
        .arg("CLK_TCK")
        .output()
        .ok()
        .and_then(|o| String::from_utf8(o.stdout).ok())
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or(100.0)
}
