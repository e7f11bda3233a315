//! Helpers shared by the streamer's integration tests: real media made with the `ffmpeg` CLI,
//! `ffprobe` to check results, and running the real binary.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

pub const BIN: &str = env!("CARGO_BIN_EXE_lounge-streamer");

fn run_tool(program: &str, args: &[&str]) -> Output {
    match Command::new(program).args(args).output() {
        Ok(out) => out,
        Err(e) => panic!(
            "could not run `{program}` ({e}); the streamer tests need the FFmpeg CLI tools: \
             apt-get install ffmpeg"
        ),
    }
}

/// A test video made by `ffmpeg` from lavfi sources: `testsrc2` picture, optional `sine`
/// audio, encoded with B-frames so tests can tell the streamer removed them.
pub struct Media<'a> {
    pub size: &'a str,
    pub rate: u32,
    pub seconds: u32,
    pub audio: bool,
}

impl Media<'_> {
    pub fn make(&self, dir: &Path, name: &str) -> PathBuf {
        let path = dir.join(name);
        let video = format!("testsrc2=size={}:rate={}", self.size, self.rate);
        let seconds = self.seconds.to_string();
        let mut args = vec![
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            &video,
        ];
        if self.audio {
            args.extend(["-f", "lavfi", "-i", "sine=frequency=440:sample_rate=44100"]);
        }
        args.extend([
            "-t",
            &seconds,
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-bf",
            "2",
        ]);
        if self.audio {
            args.extend(["-c:a", "aac"]);
        }
        let path_str = path.to_str().expect("temp paths are UTF-8");
        args.push(path_str);
        let out = run_tool("ffmpeg", &args);
        assert!(
            out.status.success(),
            "ffmpeg failed: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        path
    }
}

/// An audio-only file (no video stream at all).
pub fn make_audio_only(dir: &Path) -> PathBuf {
    let path = dir.join("audio.ogg");
    let out = run_tool(
        "ffmpeg",
        &[
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
            "sine",
            "-t",
            "1",
            "-c:a",
            "libopus",
            path.to_str().expect("UTF-8"),
        ],
    );
    assert!(
        out.status.success(),
        "ffmpeg failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    path
}

/// `ffprobe`'s view of one stream: `key=value` pairs of `-show_streams` with frames counted.
pub type Probe = HashMap<String, String>;

pub fn probe_streams(path: &Path) -> Vec<Probe> {
    let out = run_tool(
        "ffprobe",
        &[
            "-v",
            "error",
            "-count_frames",
            "-show_entries",
            "stream=index,codec_type,codec_name,width,height,nb_read_frames,has_b_frames,sample_rate,channels",
            "-of",
            "default=noprint_wrappers=0",
            path.to_str().expect("UTF-8"),
        ],
    );
    assert!(
        out.status.success(),
        "ffprobe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut streams = Vec::new();
    let mut current = Probe::new();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        match line {
            "[STREAM]" => current = Probe::new(),
            "[/STREAM]" => streams.push(std::mem::take(&mut current)),
            _ => {
                if let Some((k, v)) = line.split_once('=') {
                    current.insert(k.to_owned(), v.to_owned());
                }
            }
        }
    }
    streams
}

pub fn stream_of<'a>(streams: &'a [Probe], kind: &str) -> Option<&'a Probe> {
    streams
        .iter()
        .find(|s| s.get("codec_type").map(String::as_str) == Some(kind))
}

/// Picture types (`I`, `P`, `B`) of every video frame, in order.
pub fn picture_types(path: &Path) -> Vec<String> {
    let out = run_tool(
        "ffprobe",
        &[
            "-v",
            "error",
            "-select_streams",
            "v:0",
            "-show_entries",
            "frame=pict_type",
            "-of",
            "csv=p=0",
            path.to_str().expect("UTF-8"),
        ],
    );
    assert!(
        out.status.success(),
        "ffprobe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| l.trim().trim_end_matches(',').to_owned())
        .filter(|l| !l.is_empty())
        .collect()
}

/// Runs the real binary with no config file from the user's home and no inherited
/// `LOUNGE_STREAMER_*` variables.
pub fn streamer(args: &[&str], config: Option<&Path>, env: &[(&str, &str)]) -> Output {
    let mut cmd = Command::new(BIN);
    match config {
        Some(config) => {
            cmd.arg("--config").arg(config);
        }
        // Keep a developer's own ~/.config/lounge-streamer out of the test.
        None => {
            cmd.env("XDG_CONFIG_HOME", "/nonexistent-lounge-test");
        }
    }
    cmd.args(args);
    for (k, _) in std::env::vars() {
        if k.starts_with("LOUNGE_STREAMER_") {
            cmd.env_remove(k);
        }
    }
    cmd.env("LOUNGE_STREAMER_LOG_LEVEL", "warn");
    cmd.envs(env.iter().copied());
    cmd.output().expect("the streamer binary runs")
}

pub fn text(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).into_owned()
}

/// Kills a spawned process when dropped, so a failing assertion leaves no daemon behind.
pub struct Reap(pub Option<std::process::Child>);

impl Drop for Reap {
    fn drop(&mut self) {
        if let Some(mut child) = self.0.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

/// A port that was free a moment ago, for a receiver to bind.
pub fn free_udp_port() -> u16 {
    std::net::UdpSocket::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A `gst-launch-1.0 -e` receiver that is listening once `launch` returns.
pub struct Gst {
    child: Reap,
    drain: Option<std::thread::JoinHandle<usize>>,
}

impl Gst {
    pub fn launch(pipeline: &str) -> Self {
        use std::io::{BufRead as _, BufReader};

        let child = Command::new("gst-launch-1.0")
            .arg("-e")
            .args(pipeline.split_whitespace())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("gst-launch-1.0 runs (apt-get install gstreamer1.0-tools gstreamer1.0-plugins-good gstreamer1.0-plugins-bad)");
        let mut child = Reap(Some(child));
        let stdout = child.0.as_mut().unwrap().stdout.take().unwrap();
        let mut lines = BufReader::new(stdout).lines();
        // Sending before the receiver listens would lose the first keyframe.
        loop {
            match lines.next() {
                Some(Ok(line)) if line.contains("PLAYING") => break,
                Some(Ok(_)) => {}
                _ => panic!("gst-launch exited before playing"),
            }
        }
        let drain = Some(std::thread::spawn(move || lines.count()));
        Self { child, drain }
    }

    /// Lets the jitter buffers release their tail, then ends the stream with SIGINT so `-e`
    /// finalises the files, and checks gst-launch succeeded.
    pub fn finish(mut self) {
        std::thread::sleep(std::time::Duration::from_millis(600));
        let mut child = self.child.0.take().unwrap();
        let status = Command::new("kill")
            .args(["-INT", &child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
        let status = child.wait().unwrap();
        let stderr = child
            .stderr
            .take()
            .map(|mut e| {
                let mut s = String::new();
                let _ = std::io::Read::read_to_string(&mut e, &mut s);
                s
            })
            .unwrap_or_default();
        self.drain.take().unwrap().join().unwrap();
        assert!(status.success(), "gst-launch failed: {status}\n{stderr}");
    }
}

/// The MD5 of every decoded video frame, in order (`ffmpeg -f framemd5`): two streams that
/// decode to the same pictures give the same list, whatever their container or timestamps.
pub fn frame_hashes(path: &Path) -> Vec<String> {
    let out = run_tool(
        "ffmpeg",
        &[
            "-v",
            "error",
            "-i",
            path.to_str().expect("UTF-8"),
            "-map",
            "0:v:0",
            // Every decoded frame once: no frame-rate conversion from container timestamps.
            "-fps_mode",
            "passthrough",
            "-f",
            "framemd5",
            "-",
        ],
    );
    assert!(
        out.status.success(),
        "ffmpeg failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter(|l| !l.starts_with('#'))
        .filter_map(|l| l.rsplit(',').next().map(|h| h.trim().to_owned()))
        .collect()
}
