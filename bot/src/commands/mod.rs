//! Every feature area is a module that lists its commands in one place. [`all`] collects them
//! and applies policy by walking the command tree, so no command repeats those checks.

mod core;
pub mod messages;

use crate::{Data, Error};

pub type Command = poise::Command<Data, Error>;

/// A feature area ("cog").
pub struct Module {
    /// Stable name, used in settings and shown in help.
    pub name: &'static str,
    pub description: &'static str,
    /// Core modules cannot be switched off (that would lock admins out of the switches).
    pub core: bool,
    pub commands: fn() -> Vec<Command>,
}

/// Every module the bot has, in help order.
pub fn modules() -> Vec<Module> {
    vec![Module {
        name: "core",
        description: "Latency, help and information about the bot",
        core: true,
        commands: core::commands,
    }]
}

/// All commands, each tagged with its module as the category (which help groups by).
pub fn all() -> Vec<Command> {
    let mut all = Vec::new();
    for module in modules() {
        for mut command in (module.commands)() {
            apply_policy(&mut command, &module);
            all.push(command);
        }
    }
    all
}

fn apply_policy(command: &mut Command, module: &Module) {
    command.category = Some(module.name.into());
    for sub in &mut command.subcommands {
        apply_policy(sub, module);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let all = all();
        assert!(!all.is_empty());
        all.iter().for_each(check);
    }

    #[test]
    fn every_command_has_its_module_as_category() {
        for c in all() {
            assert!(c.category.is_some(), "{}", c.name);
        }
    }
}
