//! THE list of modules: adding one is a line here (and a dependency in Cargo.toml). Order is
//! help order and the order event hooks run in.

use lounge_kit::{Command, Module};

pub fn all() -> Vec<Module> {
    vec![
        lounge_module_admin::CORE,
        lounge_module_admin::ADMIN,
        lounge_module_moderation::MODULE,
        lounge_module_admin::TAGS,
        lounge_module_economy::MODULE,
        lounge_module_media::STREAM,
        lounge_module_music::MODULE,
        lounge_module_pokemon::MODULE,
        lounge_module_osrs::MODULE,
    ]
}

/// Every command, with policy applied.
pub fn commands() -> Vec<Command> {
    lounge_kit::policy::collect(&all())
}

#[cfg(test)]
mod tests {
    use lounge_kit::find_command;

    use super::*;
    use poise::serenity_prelude as serenity;

    /// Discord rejects a command without a description (and each parameter's), and our
    /// `///` lines are those descriptions: check every one is there and within limits.
    #[test]
    fn every_command_and_parameter_is_described() {
        fn check(c: &Command) {
            let d = c.description.as_deref().unwrap_or_default();
            assert!(
                !d.is_empty() && d.chars().count() <= 100,
                "{}: bad description {d:?}",
                c.qualified_name
            );
            for p in &c.parameters {
                let d = p.description.as_deref().unwrap_or_default();
                assert!(
                    !d.is_empty() && d.chars().count() <= 100,
                    "{} {}: bad description",
                    c.qualified_name,
                    p.name
                );
            }
            c.subcommands.iter().for_each(check);
        }
        let all = commands();
        assert!(!all.is_empty());
        all.iter().for_each(check);
    }

    /// A member who lacks a permission every subcommand requires never sees the group.
    #[test]
    fn groups_default_to_what_all_their_subcommands_require() {
        let find = |name: &str| commands().into_iter().find(|c| c.name == name).unwrap();
        let manage = serenity::Permissions::MANAGE_GUILD;
        for name in ["perm", "cooldown", "alias", "settings"] {
            assert!(
                find(name).default_member_permissions.contains(manage),
                "{name}"
            );
        }
        // Anyone may use some `/tag` subcommands, so the group stays visible.
        assert!(find("tag").default_member_permissions.is_empty());
        assert!(find("ping").default_member_permissions.is_empty());
        assert_eq!(
            find("kick").default_member_permissions,
            serenity::Permissions::KICK_MEMBERS
        );
    }

    /// Discord enforces `default_member_permissions` only for slash use, so every command
    /// (and group) must also require them, which poise checks for prefix use too.
    /// See: issue #17, item 12.
    #[test]
    fn no_command_relies_on_default_member_permissions_alone() {
        fn check(c: &Command) {
            assert!(
                c.required_permissions
                    .contains(c.default_member_permissions),
                "{}: default {} but requires only {}",
                c.qualified_name,
                c.default_member_permissions,
                c.required_permissions
            );
            c.subcommands.iter().for_each(check);
        }
        let all = commands();
        assert!(all.iter().any(|c| !c.default_member_permissions.is_empty()));
        all.iter().for_each(check);
    }

    /// poise checks `#[min]`/`#[max]` for slash options only; bounds that must also hold for
    /// prefix arguments are `lounge_kit::Bounded` parameters.
    #[test]
    fn no_command_bounds_its_arguments_for_slash_alone() {
        fn scan(dir: &std::path::Path, found: &mut Vec<String>) {
            for entry in std::fs::read_dir(dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    scan(&path, found);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path).unwrap();
                    for (i, line) in text.lines().enumerate() {
                        let line = line.trim_start();
                        if line.starts_with("#[min") || line.starts_with("#[max") {
                            found.push(format!("{}:{}", path.display(), i + 1));
                        }
                    }
                }
            }
        }
        let bot = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
        let mut found = Vec::new();
        for dir in ["modules", "kit/src", "app/src"] {
            scan(&bot.join(dir), &mut found);
        }
        assert!(
            found.is_empty(),
            "use lounge_kit::Bounded instead of #[min]/#[max]: {found:?}"
        );
        // The scan reads real sources: this file is among them.
        assert!(
            std::fs::read_to_string(bot.join("app/src/modules.rs"))
                .unwrap()
                .contains("no_command_bounds_its_arguments_for_slash_alone")
        );
    }

    #[test]
    fn every_command_has_its_module_as_category() {
        for c in commands() {
            assert!(c.category.is_some(), "{}", c.name);
        }
    }

    #[test]
    fn finds_commands_by_name_case_insensitively() {
        let all = commands();
        assert_eq!(
            find_command(&all, "PING").map(|c| c.name.to_string()),
            Some("ping".to_owned())
        );
        assert!(find_command(&all, "nope").is_none());
    }

    /// Aliases resolve against the whole command tree, so these live with the list.
    mod aliases {
        use std::collections::HashMap;

        use lounge_kit::Command;
        use lounge_module_admin::alias::{MAX_CHAIN, resolve};

        use super::commands;

        fn builtins() -> Vec<Command> {
            commands()
        }

        fn map(pairs: &[(&str, &str)]) -> HashMap<String, String> {
            pairs
                .iter()
                .map(|(a, b)| ((*a).to_owned(), (*b).to_owned()))
                .collect()
        }

        #[test]
        fn expands_to_the_command_with_fixed_then_caller_args() {
            let aliases = map(&[("gift", "give"), ("p", "settings prefix")]);
            let c = builtins();
            assert_eq!(
                resolve(&c, &aliases, "gift", "@bob 5").unwrap(),
                "give @bob 5"
            );
            assert_eq!(resolve(&c, &aliases, "p", "").unwrap(), "settings prefix");
            assert_eq!(
                resolve(&c, &aliases, "p", "?").unwrap(),
                "settings prefix ?"
            );
        }

        #[test]
        fn follows_chains_and_keeps_each_steps_fixed_args() {
            let aliases = map(&[("a", "b x"), ("b", "c y"), ("c", "help")]);
            assert_eq!(
                resolve(&builtins(), &aliases, "a", "z").unwrap(),
                "help y x z"
            );
        }

        #[test]
        fn builtin_command_aliases_count_as_builtins() {
            let aliases = map(&[("money", "bal")]);
            assert_eq!(resolve(&builtins(), &aliases, "money", "").unwrap(), "bal");
        }

        #[test]
        fn refuses_loops_naming_the_cycle() {
            let aliases = map(&[("a", "b"), ("b", "a 1")]);
            let err = resolve(&builtins(), &aliases, "a", "").unwrap_err();
            assert!(err.contains("`a` → `b` → `a`"), "{err}");
            let selfish = map(&[("me", "me")]);
            assert!(
                resolve(&builtins(), &selfish, "me", "")
                    .unwrap_err()
                    .contains("loop")
            );
        }

        #[test]
        fn refuses_unknown_targets_and_runaway_chains() {
            let dangling = map(&[("a", "nothing-here")]);
            let err = resolve(&builtins(), &dangling, "a", "").unwrap_err();
            assert!(err.contains("`nothing-here` is not a command"), "{err}");

            let chain: Vec<(String, String)> = (0..=MAX_CHAIN)
                .map(|i| (format!("s{i}"), format!("s{}", i + 1)))
                .chain([(format!("s{}", MAX_CHAIN + 1), "ping".to_owned())])
                .collect();
            let long: HashMap<String, String> = chain.into_iter().collect();
            assert!(
                resolve(&builtins(), &long, "s0", "")
                    .unwrap_err()
                    .contains("longer")
            );
            assert_eq!(
                resolve(&builtins(), &long, &format!("s{}", MAX_CHAIN - 6), "").unwrap(),
                "ping"
            );
        }
    }
}
