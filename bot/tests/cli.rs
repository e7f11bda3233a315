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
    for expected in ["run", "config", "--config"] {
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
