//! The command reference, built from the command tree itself: `lounge commands [--json]`
//! prints it without connecting to Discord, and the README's table is this output (a test
//! fails when they drift).

use std::fmt::Write as _;

use serde::Serialize;

use lounge_kit::Command;

use crate::modules::commands as all;

#[derive(Serialize)]
pub struct Entry {
    pub module: String,
    pub name: String,
    pub description: String,
    pub parameters: Vec<Parameter>,
    /// Discord permissions a member needs by default to see the slash command.
    pub default_member_permissions: Option<String>,
    /// Permissions checked when the command runs.
    pub required_permissions: Option<String>,
    pub owners_only: bool,
    pub guild_only: bool,
    pub aliases: Vec<String>,
    /// Default cooldowns, e.g. "5 s per user" (servers can override them).
    pub cooldown: Option<String>,
}

#[derive(Serialize)]
pub struct Parameter {
    pub name: String,
    pub description: String,
    pub required: bool,
}

/// Every invocable command (leaves of the tree), in help order.
pub fn entries() -> Vec<Entry> {
    let commands = all();
    let mut out = Vec::new();
    for c in &commands {
        // A prefix-only twin of a slash command (`!play`'s rest-of-message form) is the same
        // command to a member: the slash one is its entry.
        let twin = c.slash_action.is_none()
            && commands
                .iter()
                .any(|o| o.slash_action.is_some() && o.name == c.name);
        if !twin {
            walk(c, None, &mut out);
        }
    }
    out
}

fn walk(c: &Command, parent_perms: Option<String>, out: &mut Vec<Entry>) {
    let perms = |p: poise::serenity_prelude::Permissions| (!p.is_empty()).then(|| p.to_string());
    let default_perms = perms(c.default_member_permissions).or(parent_perms);
    if !c.subcommands.is_empty() {
        for sub in &c.subcommands {
            walk(sub, default_perms.clone(), out);
        }
        return;
    }
    let cooldown = c.cooldown_config.read().ok().and_then(|cfg| {
        let parts: Vec<String> = [
            ("user", cfg.user),
            ("channel", cfg.channel),
            ("guild", cfg.guild),
        ]
        .into_iter()
        .filter_map(|(bucket, d)| d.map(|d| format!("{} s per {bucket}", d.as_secs())))
        .collect();
        (!parts.is_empty()).then(|| parts.join(", "))
    });
    out.push(Entry {
        module: c.category.as_deref().unwrap_or("other").to_owned(),
        name: c.qualified_name.to_string(),
        description: c.description.as_deref().unwrap_or_default().to_owned(),
        parameters: c
            .parameters
            .iter()
            .map(|p| Parameter {
                name: p.name.to_string(),
                description: p.description.as_deref().unwrap_or_default().to_owned(),
                required: p.required,
            })
            .collect(),
        default_member_permissions: default_perms,
        required_permissions: perms(c.required_permissions),
        owners_only: c.owners_only,
        guild_only: c.guild_only,
        aliases: c.aliases.iter().map(ToString::to_string).collect(),
        cooldown,
    });
}

/// The Markdown table the README carries between its `commands` markers.
pub fn markdown() -> String {
    let mut out = String::from(
        "| module | command | what it does | who can use it | cooldown |\n|---|---|---|---|---|\n",
    );
    for e in entries() {
        let mut usage = format!("/{}", e.name);
        for p in &e.parameters {
            let _ = if p.required {
                write!(usage, " <{}>", p.name)
            } else {
                write!(usage, " [{}]", p.name)
            };
        }
        let who = if e.owners_only {
            "bot owners".to_owned()
        } else if let Some(p) = e
            .required_permissions
            .as_ref()
            .or(e.default_member_permissions.as_ref())
        {
            format!("members with {p}")
        } else {
            "everyone".to_owned()
        };
        let _ = writeln!(
            out,
            "| {} | `{usage}` | {} | {who} | {} |",
            e.module,
            e.description,
            e.cooldown.as_deref().unwrap_or("—")
        );
    }
    out
}

pub fn json() -> String {
    serde_json::to_string_pretty(&entries()).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
}
