//! The command line itself, without Discord: help, version and argument errors. (The
//! end-to-end tests against the fake Discord are in the workspace's `tests/` crate.)

use std::process::Command;

fn lounge(args: &[&str]) -> (bool, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_lounge"))
        .args(args)
        .env_remove("DISCORD_TOKEN")
        .output()
        .expect("run lounge");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.success(), text)
}

#[test]
fn help_lists_the_subcommands_and_the_config_flag() {
    let (ok, text) = lounge(&["--help"]);
    assert!(ok, "{text}");
    for expected in ["run", "config", "db", "doctor", "--config"] {
        assert!(
            text.contains(expected),
            "`{expected}` missing from --help:\n{text}"
        );
    }
}

#[test]
fn version_matches_the_package() {
    let (ok, text) = lounge(&["--version"]);
    assert!(ok);
    assert_eq!(text.trim(), format!("lounge {}", env!("CARGO_PKG_VERSION")));
}

#[test]
fn unknown_subcommand_is_an_error_not_a_run() {
    let (ok, text) = lounge(&["frobnicate"]);
    assert!(!ok);
    assert!(text.contains("frobnicate"), "{text}");
}

#[test]
fn missing_config_file_is_named() {
    let (ok, text) = lounge(&["--config", "/nonexistent/lounge.toml", "config", "check"]);
    assert!(!ok);
    assert!(
        text.contains("/nonexistent/lounge.toml") && text.contains("does not exist"),
        "{text}"
    );
}

#[test]
fn readme_command_reference_is_current() {
    let (ok, table) = lounge(&["commands", "--markdown"]);
    assert!(ok, "{table}");
    let readme = std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/../../README.md"))
        .expect("README.md");
    let start = readme
        .find("<!-- commands:start -->\n")
        .expect("start marker")
        + "<!-- commands:start -->\n".len();
    let end = readme.find("<!-- commands:end -->").expect("end marker");
    assert_eq!(
        &readme[start..end],
        table,
        "README's command table is stale: regenerate it with `cargo run -p lounge -- commands --markdown`"
    );
}

#[test]
fn commands_json_describes_every_command() {
    let (ok, text) = lounge(&["commands", "--json"]);
    assert!(ok, "{text}");
    let v: serde_json::Value = serde_json::from_str(&text).expect("valid JSON");
    let list = v.as_array().expect("an array");
    let give = list
        .iter()
        .find(|c| c["name"] == "give")
        .expect("give listed");
    assert_eq!(give["module"], "economy");
    assert_eq!(give["parameters"][1]["name"], "amount");
    assert_eq!(give["parameters"][1]["required"], true);
    let unload = list
        .iter()
        .find(|c| c["name"] == "module unload")
        .expect("subcommands are listed by full name");
    assert_eq!(unload["owners_only"], true);
    // No configuration or token is needed for this.
    assert!(!text.contains("discord.token"));
}
