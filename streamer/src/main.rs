//! The `lounge-streamer` command line.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lounge_streamer::config::{self, Loaded};
use lounge_streamer::encoder::{self, Selection};
use lounge_streamer::pipeline::PipelineConfig;
use lounge_streamer::{daemon, doctor, output, plex, system};
use tracing_subscriber::EnvFilter;

/// Lounge's streaming daemon: media in, H.264 + Opus out.
#[derive(Parser)]
#[command(name = "lounge-streamer", version, about, long_about = None)]
struct Cli {
    /// Path to lounge-streamer.toml (default: the OS config dir)
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(clap::Args, Clone, Copy)]
struct Target {
    /// Output width in pixels
    #[arg(long, default_value_t = 1280)]
    width: u32,
    /// Output height in pixels
    #[arg(long, default_value_t = 720)]
    height: u32,
    /// Output frame rate
    #[arg(long, default_value_t = 30)]
    fps: u32,
    /// Video bitrate cap in bits per second (default: by resolution)
    #[arg(long)]
    bitrate: Option<u64>,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the bot over the IPC socket
    Run,
    /// Show the OS, hardware, FFmpeg, every encoder's test result and the encoder choice
    Doctor,
    /// Transcode a local file, or a Plex item (`plex:RATING_KEY`), to a local .mp4/.mkv with
    /// the streaming settings
    Transcode {
        input: PathBuf,
        output: PathBuf,
        #[command(flatten)]
        target: Target,
    },
    /// Send a file as plain RTP (H.264 + Opus) in real time and print its SDP
    RtpOut {
        input: PathBuf,
        /// Where the H.264 RTP goes, e.g. `udp://127.0.0.1:5004`
        #[arg(long)]
        video: String,
        /// Where the Opus RTP goes, e.g. `udp://127.0.0.1:5006`
        #[arg(long)]
        audio: String,
        #[command(flatten)]
        target: Target,
    },
    /// Work with the configuration
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
    /// Manage the owner account's Discord user token for Go Live
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Link the Plex account, check the Plex server, search it
    Plex {
        #[command(subcommand)]
        action: PlexAction,
    },
}

#[derive(Subcommand)]
enum PlexAction {
    /// Link the Plex account: shows a code to enter at plex.tv/link, waits up to 10 minutes,
    /// and stores the token where the config says
    Login {
        /// Read a Plex token from stdin instead of linking with a code
        #[arg(long)]
        token_stdin: bool,
        /// How often plex.tv is asked whether the code was entered (tests shorten it)
        #[arg(long, hide = true, value_name = "MS")]
        poll_interval_ms: Option<u64>,
        /// When to give up waiting for the code (tests shorten it)
        #[arg(long, hide = true, value_name = "MS")]
        give_up_after_ms: Option<u64>,
    },
    /// Show the Plex server, its version and libraries, or exactly what is wrong
    Check {
        /// Print JSON: an ok flag with the server and libraries, or the error's kind and message
        #[arg(long)]
        json: bool,
    },
    /// Search the Plex server
    Search {
        /// What to look for
        query: String,
        /// Print JSON: an ok flag and the results (rating key, type, title, year; show, season
        /// and index for episodes)
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum TokenAction {
    /// Store the token read from stdin in the OS keyring (then set `token_keyring = true`)
    Set,
    /// Load the token from where the configuration says, and say where it came from
    Check,
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Check the configuration without starting anything
    Check,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let loaded = match config::load(cli.config.as_deref()) {
        Ok(loaded) => loaded,
        Err(e) => return fail(&e),
    };
    let level = loaded.config.log_level.as_deref().unwrap_or("info");
    let filter = match EnvFilter::try_new(level) {
        Ok(f) => f,
        Err(e) => return fail(&format!("log_level `{level}` is not a valid filter: {e}")),
    };
    // Logs go to stderr so stdout carries only command output (the SDP, the doctor report).
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        // Colour only for a terminal: journald and log files would keep the escape codes.
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .try_init();
    // Token commands need neither FFmpeg nor anything else the media side loads.
    if let Command::Token { action } = &cli.command {
        return token_command(&loaded, action);
    }
    if let Command::Plex { action } = &cli.command {
        return plex_command(&loaded, action);
    }
    if let Err(e) = lounge_streamer::init_ffmpeg() {
        return fail(&e);
    }
    match cli.command {
        Command::Run => run(&loaded),
        Command::Doctor => {
            let system = system::detect();
            let forced = match loaded.encoder() {
                Ok(f) => f.map(encoder::VideoBackend::name),
                Err(e) => return fail(&e),
            };
            let selection = encoder::select(system.os, forced, true);
            print!("{}", doctor::report(&system, &selection));
            println!("\n{}", plex_link(&loaded));
            if selection.chosen.is_some() {
                ExitCode::SUCCESS
            } else {
                ExitCode::FAILURE
            }
        }
        Command::Transcode {
            input,
            output,
            target,
        } => {
            let config = match pipeline_config(&loaded, target) {
                Ok(c) => c,
                Err(e) => return fail(&e),
            };
            let source = match input.to_str().and_then(|s| s.strip_prefix("plex:")) {
                Some(key) => match block_on(plex::resolve(&loaded, key)) {
                    Ok(Ok(resolved)) => {
                        eprintln!(
                            "Plex item {key} ({}): reading {}",
                            resolved.item.title,
                            resolved.describe()
                        );
                        resolved.input
                    }
                    Ok(Err(e)) => return fail(&e),
                    Err(e) => return fail(&e),
                },
                None => lounge_streamer::pipeline::Input::File(input),
            };
            match output::transcode_input(&source, &output, config) {
                Ok(stats) => {
                    println!(
                        "wrote {}: {} video frames, {} audio packets in {:.2}s ({:.1} fps)",
                        output.display(),
                        stats.video_packets,
                        stats.audio_packets,
                        stats.elapsed.as_secs_f64(),
                        stats.fps()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        Command::RtpOut {
            input,
            video,
            audio,
            target,
        } => {
            let config = match pipeline_config(&loaded, target) {
                Ok(c) => c,
                Err(e) => return fail(&e),
            };
            let result = output::rtp_out(&input, &video, &audio, config, |sdp| {
                use std::io::Write as _;
                print!("{sdp}");
                let _ = std::io::stdout().flush();
            });
            match result {
                Ok(stats) => {
                    eprintln!(
                        "sent {} video frames, {} audio packets",
                        stats.video_packets, stats.audio_packets
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        Command::Config {
            action: ConfigAction::Check,
        } => config_check(&loaded),
        Command::Token { .. } | Command::Plex { .. } => {
            unreachable!("handled before FFmpeg starts")
        }
    }
}

fn choose_encoder(loaded: &Loaded) -> Result<Selection, String> {
    let forced = loaded.encoder().map_err(|e| e.to_string())?;
    let selection = encoder::select(
        std::env::consts::OS,
        forced.map(encoder::VideoBackend::name),
        false,
    );
    if selection.chosen.is_none() {
        return Err(selection.reason);
    }
    Ok(selection)
}

fn pipeline_config(loaded: &Loaded, target: Target) -> Result<PipelineConfig, String> {
    if target.width < 16
        || target.height < 16
        || !target.width.is_multiple_of(2)
        || !target.height.is_multiple_of(2)
    {
        return Err("--width and --height must be even and at least 16".to_owned());
    }
    if !(1..=120).contains(&target.fps) {
        return Err("--fps must be between 1 and 120".to_owned());
    }
    let selection = choose_encoder(loaded)?;
    let backend = selection.chosen.ok_or_else(|| selection.reason.clone())?;
    let mut config = PipelineConfig::new(backend, target.width, target.height, target.fps);
    if let Some(bitrate) = target.bitrate {
        config.video.bitrate = bitrate;
    }
    Ok(config)
}

fn run(loaded: &Loaded) -> ExitCode {
    eprintln!("{}", daemon::SELFBOT_WARNING);
    if let Err(e) = loaded.validate() {
        return fail(&e);
    }
    let selection = match choose_encoder(loaded) {
        Ok(s) => s,
        Err(e) => return fail(&e),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("could not start the async runtime: {e}")),
    };
    match runtime.block_on(daemon::run(loaded, &selection)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => fail(&e),
    }
}

fn config_check(loaded: &Loaded) -> ExitCode {
    match &loaded.file {
        Some(file) => println!("config file: {}", file.display()),
        None => println!(
            "config file: none (looked for {})",
            loaded.suggested_file.display()
        ),
    }
    if let Err(e) = loaded.validate() {
        return fail(&e);
    }
    println!("ipc_secret: set (hidden)");
    if let Ok(socket) = loaded.socket() {
        println!("socket: {}", socket.display());
    }
    match loaded.encoder() {
        Ok(Some(b)) => println!("encoder: {} (forced)", b.name()),
        _ => println!("encoder: auto (probed at start)"),
    }
    println!("accept_selfbot_risk: {}", loaded.config.accept_selfbot_risk);
    match &loaded.config.plex_url {
        Some(url) => match lounge_plex::parse_base(url) {
            Ok(url) => println!("plex_url: {}", lounge_plex::redact(&url)),
            Err(e) => return fail(&e),
        },
        None => println!("plex_url: unset (the server is found through plex.tv)"),
    }
    match plex::token_store(loaded) {
        Ok(store) => println!("plex token: kept in {store}"),
        Err(e) => return fail(&e),
    }
    println!("configuration ok");
    ExitCode::SUCCESS
}

fn token_command(loaded: &Loaded, action: &TokenAction) -> ExitCode {
    use lounge_streamer::golive::token;
    match action {
        TokenAction::Set => {
            let mut raw = String::new();
            if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut raw) {
                return fail(&format!("could not read the token from stdin: {e}"));
            }
            match token::store_keyring(token::KEYRING, &raw) {
                Ok(()) => {
                    println!(
                        "stored the token in {}; set `token_keyring = true` in {} to use it",
                        token::KEYRING,
                        loaded.suggested_file.display()
                    );
                    ExitCode::SUCCESS
                }
                Err(e) => fail(&e),
            }
        }
        TokenAction::Check => match loaded.token() {
            Ok(t) => {
                println!("token: loaded from {} (not shown)", t.source());
                ExitCode::SUCCESS
            }
            Err(e) => fail(&e),
        },
    }
}

fn block_on<F: std::future::Future>(f: F) -> Result<F::Output, String> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("could not start the async runtime: {e}"))?;
    Ok(runtime.block_on(f))
}

/// `doctor`'s line about Plex: linked (server, version, libraries) or what is wrong.
fn plex_link(loaded: &Loaded) -> String {
    match block_on(plex::check(loaded)) {
        Ok(Ok(report)) => format!(
            "Plex:     linked to {} (version {}) at {}, {} libraries",
            report.server.name,
            report.server.version,
            report.server.url,
            report.libraries.len()
        ),
        Ok(Err(e @ plex::Problem::NoToken(_))) => format!("Plex:     not linked: {e}"),
        Ok(Err(e)) => format!("Plex:     not working: {e}"),
        Err(e) => format!("Plex:     not checked: {e}"),
    }
}

fn json_error(e: &plex::Problem) -> String {
    serde_json::json!({"ok": false, "error": {"kind": e.kind(), "message": e.to_string()}})
        .to_string()
}

fn plex_command(loaded: &Loaded, action: &PlexAction) -> ExitCode {
    match action {
        PlexAction::Login {
            token_stdin,
            poll_interval_ms,
            give_up_after_ms,
        } => {
            let how = if *token_stdin {
                let mut raw = String::new();
                if let Err(e) = std::io::Read::read_to_string(&mut std::io::stdin(), &mut raw) {
                    return fail(&format!("could not read the token from stdin: {e}"));
                }
                plex::Login::Token(lounge_plex::Secret::new(raw.trim()))
            } else {
                plex::Login::Pin {
                    poll: poll_interval_ms
                        .map_or(plex::LOGIN_POLL, std::time::Duration::from_millis),
                    give_up: give_up_after_ms
                        .map_or(plex::LOGIN_TIMEOUT, std::time::Duration::from_millis),
                }
            };
            let said = |line: &str| {
                use std::io::Write as _;
                println!("{line}");
                let _ = std::io::stdout().flush();
            };
            match block_on(plex::login(loaded, how, said)) {
                Ok(Ok((user, store))) => {
                    println!(
                        "linked to the Plex account {}; the token is stored in {store} (not shown)",
                        user.username
                    );
                    ExitCode::SUCCESS
                }
                Ok(Err(e)) => fail(&e),
                Err(e) => fail(&e),
            }
        }
        PlexAction::Check { json } => match block_on(plex::check(loaded)) {
            Ok(Ok(report)) => {
                if *json {
                    println!(
                        "{}",
                        serde_json::json!({"ok": true, "server": report.server, "libraries": report.libraries})
                    );
                } else {
                    print!("{report}");
                }
                ExitCode::SUCCESS
            }
            Ok(Err(e)) if *json => {
                println!("{}", json_error(&e));
                ExitCode::FAILURE
            }
            Ok(Err(e)) => fail(&e),
            Err(e) => fail(&e),
        },
        PlexAction::Search { query, json } => match block_on(plex::search(loaded, query)) {
            Ok(Ok(results)) => {
                if *json {
                    println!(
                        "{}",
                        serde_json::json!({"ok": true, "query": query, "results": results})
                    );
                } else if results.is_empty() {
                    println!("no results for \"{query}\"");
                } else {
                    for r in &results {
                        println!("{r}");
                    }
                }
                ExitCode::SUCCESS
            }
            Ok(Err(e)) if *json => {
                println!("{}", json_error(&e));
                ExitCode::FAILURE
            }
            Ok(Err(e)) => fail(&e),
            Err(e) => fail(&e),
        },
    }
}

fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::FAILURE
}
