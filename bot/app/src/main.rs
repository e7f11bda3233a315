//! The `lounge` command line.
//!
#![doc = include_str!("../README.md")]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod config;
mod doctor;
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
    /// Work with the database
    Db {
        #[command(subcommand)]
        action: DbAction,
    },
    /// Work with the bot token
    Token {
        #[command(subcommand)]
        action: TokenAction,
    },
    /// Check everything the bot needs (configuration, token, Discord application and intents,
    /// database, streamer, yt-dlp, FFmpeg, Plex) and say how to fix what fails
    Doctor {
        /// Machine-readable JSON: an array of {check, status, detail, fix}
        #[arg(long)]
        json: bool,
    },
}

#[derive(Subcommand)]
enum ConfigAction {
    /// Check the configuration and the database without connecting to Discord or changing
    /// anything (the schema is compared, not migrated)
    Check,
}

#[derive(Subcommand)]
enum TokenAction {
    /// Say where the token comes from (never printing it) and whether Discord accepts it
    Check,
}

#[derive(Subcommand)]
enum DbAction {
    /// Apply pending migrations (what `lounge run` does at start-up) and say which
    Migrate,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    // Needs no configuration: it documents the binary itself.
    if let Some(Command::Commands { json, markdown }) = &cli.command {
        print_commands(*json, *markdown);
        return ExitCode::SUCCESS;
    }
    // Loads the configuration itself, so that a broken one is a failed check with its fix
    // rather than an early exit; and installs no logger, so its report is all it prints.
    if let Some(Command::Doctor { json }) = &cli.command {
        return doctor::main(cli.config.as_deref(), *json);
    }
    if let Some(Command::Token {
        action: TokenAction::Check,
    }) = &cli.command
    {
        return doctor::token_check(cli.config.as_deref());
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
        Command::Db {
            action: DbAction::Migrate,
        } => runtime.block_on(db_migrate(loaded)),
        Command::Commands { .. } | Command::Doctor { .. } | Command::Token { .. } => {
            unreachable!("handled before the configuration is loaded")
        }
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
    // Looks only: a check that migrated (or created a SQLite file) would change what it
    // reports on, and an operator checking before an upgrade must be able to see what the
    // upgrade will do.
    match db_report(&url).await {
        Ok(line) => {
            println!("database: {line}");
            println!("configuration ok");
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

/// What `config check` and `doctor` say about the database, read without changing it.
pub(crate) async fn db_report(url: &str) -> Result<String, lounge_store::StoreError> {
    let Some(store) = lounge_store::Store::inspect(url).await? else {
        let path =
            lounge_store::sqlite_file(url).map_or_else(String::new, |p| p.display().to_string());
        return Ok(format!(
            "SQLite file {path} does not exist yet; it will be created on first run \
             (`lounge run`, or `lounge db migrate`)"
        ));
    };
    let status = store.migration_status().await;
    let backend = store.backend().name();
    store.close().await;
    let status = status?;
    if let Some(database) = status.too_new() {
        return Err(lounge_store::StoreError::SchemaTooNew {
            database,
            known: status.newest_known,
        });
    }
    Ok(format!("{backend} ok, {}", schema_summary(&status)))
}

/// "schema current (version 10)", or what is pending and how it gets applied.
pub(crate) fn schema_summary(status: &lounge_store::MigrationStatus) -> String {
    if let Some(failed) = status.failed {
        return format!(
            "migration {failed:04} failed part-way (sqlx marks the database dirty): repair or \
             restore the database, then run `lounge db migrate`"
        );
    }
    if status.is_current() {
        return format!("schema current (version {})", status.newest_known);
    }
    let at = status.version().map_or_else(
        || "empty (no migrations applied)".to_owned(),
        |v| format!("at version {v}"),
    );
    let names: Vec<String> = status
        .pending
        .iter()
        .map(|m| format!("{:04} {}", m.version, m.description))
        .collect();
    format!(
        "schema {at}, {} pending ({}); `lounge run` applies them at start-up, `lounge db migrate` now",
        status.pending.len(),
        names.join(", ")
    )
}

async fn db_migrate(loaded: config::Loaded) -> ExitCode {
    if let Err(e) = loaded.validate_settings() {
        return fail(&e);
    }
    let url = match loaded.database_url() {
        Ok(url) => url,
        Err(e) => return fail(&e),
    };
    let store = match lounge_store::Store::connect(&url).await {
        Ok(store) => store,
        Err(e) => return fail(&e),
    };
    let backend = store.backend().name();
    let applied = store.migrate().await;
    store.close().await;
    match applied {
        Ok(applied) if applied.is_empty() => {
            println!("database: {backend} ok, up to date");
            ExitCode::SUCCESS
        }
        Ok(applied) => {
            for m in &applied {
                println!("applied {:04} {}", m.version, m.description);
            }
            println!(
                "database: {backend} ok, applied {} migration{}",
                applied.len(),
                if applied.len() == 1 { "" } else { "s" }
            );
            ExitCode::SUCCESS
        }
        Err(e) => fail(&e),
    }
}

fn fail(e: &dyn std::fmt::Display) -> ExitCode {
    eprintln!("error: {e}");
    ExitCode::FAILURE
}
