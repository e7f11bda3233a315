//! Builds and runs the workspace's real binaries, capturing their output.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

/// Path of a workspace binary, made fresh once per test process.
///
/// A package's integration tests get `CARGO_BIN_EXE_*` only for its own binaries, and these
/// tests live in their own crate, so they ask cargo. They ask for exactly the unit graph of
/// `cargo test --workspace` (every binary package has an integration test, which makes cargo
/// build its binary in that graph): under the README's test command this is a no-op, whereas
/// `cargo build -p lounge` would resolve features differently and compile the stack twice.
///
/// `LOUNGE_TEST_BIN_DIR` runs the tests against binaries from elsewhere instead, such as the
/// ones an installed package put in `/usr/bin` (CI's package check does that).
pub fn binary(name: &str) -> PathBuf {
    static BUILT: OnceLock<()> = OnceLock::new();
    let file = format!("{name}{}", std::env::consts::EXE_SUFFIX);
    if let Some(dir) = std::env::var_os("LOUNGE_TEST_BIN_DIR") {
        return PathBuf::from(dir).join(file);
    }
    BUILT.get_or_init(|| {
        let mut cargo = Command::new(env!("CARGO"));
        // The variables cargo sets for this test process are not the outer build's: ring's
        // build script watches CARGO_MANIFEST_DIR, and inheriting it made every test run
        // rebuild ring and everything above it, twice (here, then again in the next build).
        for (key, _) in std::env::vars_os() {
            let key = key.to_string_lossy();
            if [
                "CARGO_PKG_",
                "CARGO_MANIFEST_",
                "CARGO_CRATE_",
                "CARGO_BIN_",
            ]
            .iter()
            .any(|p| key.starts_with(p))
                || key == "CARGO_PRIMARY_PACKAGE"
                || key == "CARGO_TARGET_TMPDIR"
            {
                cargo.env_remove(key.as_ref());
            }
        }
        let status = cargo
            .args(["test", "--workspace", "--no-run", "--quiet"])
            .current_dir(workspace_root())
            .stdout(Stdio::null())
            .status()
            .expect("run cargo");
        assert!(status.success(), "building the workspace's binaries failed");
    });
    target_dir().join("debug").join(file)
}

/// A release build of `name` in the target dir, for the bench binaries.
pub fn release_binary(name: &str) -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from);
    target.join("release").join(name)
}

/// A clip with a test picture of `size` at `rate` fps and a 440 Hz tone, `seconds` long, in
/// H.264 (x264 at `preset`) and AAC with the index at the front, made by the ffmpeg CLI: the
/// media of the Go Live tests and the benches.
pub fn clip(path: &std::path::Path, size: &str, rate: u32, seconds: u64, preset: &str) {
    let out = Command::new("ffmpeg")
        .args([
            "-hide_banner",
            "-loglevel",
            "error",
            "-y",
            "-f",
            "lavfi",
            "-i",
        ])
        .arg(format!("testsrc2=size={size}:rate={rate}"))
        .args([
            "-f",
            "lavfi",
            "-i",
            "sine=frequency=440:sample_rate=48000",
            "-t",
        ])
        .arg(seconds.to_string())
        .args(["-c:v", "libx264", "-preset", preset, "-c:a", "aac"])
        .args(["-movflags", "+faststart"])
        .arg(path)
        .output()
        .expect("the tests need the ffmpeg CLI (apt-get install ffmpeg)");
    assert!(
        out.status.success(),
        "ffmpeg: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Writes `text` to `path` readable by its owner only, as token files must be.
pub fn write_private(path: &std::path::Path, text: &str) {
    std::fs::write(path, text).expect("write a private file");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).expect("chmod 600");
    }
}

pub fn workspace_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tests/ has a parent")
        .to_path_buf()
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map_or_else(|| workspace_root().join("target"), PathBuf::from)
}

/// A running binary whose stdout and stderr are collected line by line. Killed on drop.
pub struct Running {
    child: Child,
    output: Arc<Mutex<Vec<String>>>,
}

impl Running {
    pub fn spawn(mut command: Command) -> Self {
        command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        let mut child = command.spawn().expect("spawn binary");
        let output = Arc::new(Mutex::new(Vec::new()));
        for stream in [
            child
                .stdout
                .take()
                .map(|s| Box::new(s) as Box<dyn std::io::Read + Send>),
            child.stderr.take().map(|s| Box::new(s) as _),
        ]
        .into_iter()
        .flatten()
        {
            let output = output.clone();
            std::thread::spawn(move || {
                for line in BufReader::new(stream).lines() {
                    let Ok(line) = line else { break };
                    output
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .push(line);
                }
            });
        }
        Self { child, output }
    }

    /// Everything printed so far, stdout and stderr interleaved by line.
    pub fn output(&self) -> String {
        self.output
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .join("\n")
    }

    /// Waits until the output so far contains `needle` (a daemon's "listening on", say).
    pub async fn wait_output(&self, needle: &str, timeout: Duration) {
        let deadline = Instant::now() + timeout;
        while !self.output().contains(needle) {
            assert!(
                Instant::now() < deadline,
                "no `{needle}` within {timeout:?}; output:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The exit status if the process has ended, without waiting.
    pub fn exited(&mut self) -> Option<ExitStatus> {
        self.child.try_wait().expect("try_wait")
    }

    /// Waits for the process to exit on its own.
    pub async fn wait_exit(&mut self, timeout: Duration) -> ExitStatus {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // Let the reader threads drain the pipes.
                tokio::time::sleep(Duration::from_millis(100)).await;
                return status;
            }
            assert!(
                Instant::now() < deadline,
                "process did not exit within {timeout:?}; output:\n{}",
                self.output()
            );
            tokio::time::sleep(Duration::from_millis(25)).await;
        }
    }

    /// Kills the process at once (SIGKILL on Unix): a crash, with no shutdown of its own.
    pub fn kill(&mut self) -> ExitStatus {
        let _ = self.child.kill();
        self.child.wait().expect("wait for the killed process")
    }

    /// Sends SIGTERM (graceful shutdown) and waits for the exit.
    #[cfg(unix)]
    pub async fn terminate(&mut self, timeout: Duration) -> ExitStatus {
        let status = Command::new("kill")
            .args(["-TERM", &self.pid().to_string()])
            .status()
            .expect("run kill");
        assert!(status.success(), "kill -TERM failed");
        self.wait_exit(timeout).await
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
