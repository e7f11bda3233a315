//! The `lounge` command line.
//!
#![doc = include_str!("../README.md")]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod config;
mod health;
mod instance;
mod logging;
mod modules;
mod reference;
mod runtime;

/// Lounge: a Discord bot for your community's lounge.
#[derive(Parser)]
#[command(name = "lounge", version, about, long_about = None)]
struct Cli {
    /// Path to lounge.toml (default: the OS config dir, e.g. ~/.config/lounge/lounge.toml)
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Subcommand)]
enum Command {
    /// Connect to Discord and serve commands (the default)
    Run,
    /// Print every command (module, name, description, parameters, permissions, cooldown)
    /// without connecting to Discord
    Commands {
        /// Machine-readable JSON
        #[arg(long, conflicts_with = "markdown")]
        json: bool,
        /// The Markdown table the README carries
        #[arg(long)]
        markdown: bool,
    },
    /// Work with the configuration
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Check the configuration and the database without connecting to Discord
    Check,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Needs no configuration: it documents the binary itself.
    if let Some(Command::Commands { json, markdown }) = &cli.command {
        print_commands(*json, *markdown);
        return ExitCode::SUCCESS;
    }
    let loaded = match config::load(cli.config.as_deref()) {
        Ok(loaded) => loaded,
        Err(e) => return fail(&e),
    };
    if let Err(e) = logging::init(&loaded.config.log) {
        return fail(&e);
    }
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => return fail(&format!("could not start the async runtime: {e}")),
    };
    match cli.command.unwrap_or(Command::Run) {
        Command::Run => match runtime.block_on(runtime::run(loaded)) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => fail(&e),
        },
        Command::Config {
            action: ConfigAction::Check,
        } => runtime.block_on(config_check(loaded)),
        Command::Commands { .. } => unreachable!("handled before the configuration is loaded"),
    }
}

fn print_commands(json: bool, markdown: bool) {
    if json {
        println!("{}", reference::json());
    } else if markdown {
        print!("{}", reference::markdown());
    } else {
        for e in reference::entries() {
            let params: Vec<String> = e
                .parameters
                .iter()
                .map(|p| {
                    if p.required {
                        format!("<{}>", p.name)
                    } else {
                        format!("[{}]", p.name)
                    }
                })
                .collect();
            let usage = format!("{} {}", e.name, params.join(" "));
            println!("{:<8} {:<28} {}", e.module, usage.trim(), e.description);
        }
    }
}

async fn config_check(loaded: config::Loaded) -> ExitCode {
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
    println!("discord.token: set (hidden)");
    if let Ok(Some(base)) = loaded.api_base() {
        println!("discord.api_base: {base}");
    }
    match loaded.streamer() {
        Ok(Some(s)) => println!(
            "streamer: connects to {} in the background (secret hidden)",
            s.socket.display()
        ),
        Ok(None) => println!("streamer: off (no streamer.secret, or streamer.enabled = false)"),
        Err(e) => return fail(&e),
    }
    let url = match loaded.database_url() {
        Ok(url) => url,
        Err(e) => return fail(&e),
    };
    match lounge_store::Store::open(&url).await {
        Ok(store) => {
            let version = store
                .applied_schema_version()
                .await
                .ok()
                .flatten()
                .unwrap_or(0);
            println!(
                "database: {} ok, schema version {version}",
                store.backend().name()
            );
            store.close().await;
            println!("configuration ok");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::FAILURE
}
