//! The bot's layers, read from `cargo metadata` so a dependency that breaks them fails here
//! (the rules are in CONTRIBUTING.md): app → module crates → kit and store → engines.

use std::collections::BTreeMap;
use std::process::Command;

use lounge_tests::bin::workspace_root;

/// Each workspace package with the names of the workspace packages and Discord crates it
/// depends on (normal dependencies only: dev-dependencies are a crate's own tests).
fn workspace_deps() -> BTreeMap<String, Vec<String>> {
    let out = Command::new(env!("CARGO"))
        .args([
            "metadata",
            "--format-version",
            "1",
            "--no-deps",
            "--offline",
        ])
        .current_dir(workspace_root())
        .output()
        .expect("run cargo metadata");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let meta: serde_json::Value = serde_json::from_slice(&out.stdout).expect("metadata is JSON");
    meta["packages"]
        .as_array()
        .expect("packages")
        .iter()
        .map(|p| {
            let deps = p["dependencies"]
                .as_array()
                .expect("dependencies")
                .iter()
                .filter(|d| d["kind"].is_null())
                .map(|d| d["name"].as_str().expect("name").to_owned())
                .filter(|n| n.starts_with("lounge") || n == "poise" || n == "serenity")
                .collect();
            (p["name"].as_str().expect("name").to_owned(), deps)
        })
        .collect()
}

const ENGINES: [&str; 2] = ["lounge-pokemon", "lounge-osrs"];
/// Clients of outside services that know nothing of the bot: modules may use them like the
/// engines.
const CLIENTS: [&str; 1] = ["lounge-spotify"];

#[test]
fn crates_depend_only_on_the_layers_below() {
    let deps = workspace_deps();
    for name in [
        "lounge",
        "lounge-kit",
        "lounge-store",
        "lounge-tests",
        "lounge-plex",
    ] {
        assert!(
            deps.contains_key(name),
            "{name} is missing from the workspace"
        );
    }
    let modules: Vec<&String> = deps
        .keys()
        .filter(|n| n.starts_with("lounge-module-"))
        .collect();
    assert!(modules.len() >= 6, "module crates: {modules:?}");

    let store = &deps["lounge-store"];
    for d in store {
        assert!(
            ENGINES.contains(&d.as_str()),
            "lounge-store may depend on the engines only, not {d}"
        );
    }
    for d in &deps["lounge-kit"] {
        assert!(
            ["lounge-store", "poise", "serenity"].contains(&d.as_str()),
            "lounge-kit may not depend on {d}"
        );
    }
    for m in &modules {
        for d in &deps[*m] {
            let allowed = [
                "lounge-kit",
                "lounge-store",
                "lounge-ipc",
                "poise",
                "serenity",
            ]
            .contains(&d.as_str())
                || ENGINES.contains(&d.as_str())
                || CLIENTS.contains(&d.as_str());
            assert!(
                allowed,
                "{m} may not depend on {d} (another module or the app)"
            );
        }
    }
    assert!(
        !deps["lounge-tests"].iter().any(|d| d == "lounge"),
        "lounge-tests runs the lounge binary and must not link the app"
    );
    // The Plex client is the streamer's, reusable on its own: it knows no bot and no
    // streamer, only the shared `Secret` type.
    for d in &deps["lounge-plex"] {
        assert_eq!(
            d, "lounge-ipc",
            "lounge-plex may depend only on lounge-ipc among our crates (and on no Discord crate), not {d}"
        );
    }
    // The Spotify client likewise knows none of our crates.
    assert!(
        deps["lounge-spotify"].is_empty(),
        "lounge-spotify may depend on none of our crates: {:?}",
        deps["lounge-spotify"]
    );
    for name in deps
        .keys()
        .filter(|n| *n != "lounge-streamer" && *n != "lounge-tests")
    {
        assert!(
            !deps[name].iter().any(|d| d == "lounge-plex"),
            "{name} may not depend on lounge-plex: only the streamer talks to Plex"
        );
    }
}

/// The app lists every module crate it depends on, and depends on every one that exists, so
/// a new module crate can't be forgotten in the list.
#[test]
fn the_app_uses_every_module_crate() {
    let deps = workspace_deps();
    let list = std::fs::read_to_string(workspace_root().join("bot/app/src/modules.rs"))
        .expect("read the module list");
    for m in deps.keys().filter(|n| n.starts_with("lounge-module-")) {
        assert!(deps["lounge"].contains(m), "the app does not depend on {m}");
        let path = m.replace('-', "_");
        assert!(
            list.contains(&format!("{path}::")),
            "bot/app/src/modules.rs does not list {m}"
        );
    }
}
