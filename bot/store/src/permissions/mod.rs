//! Who may run what: allow/deny rules per guild, resolved by a pure function so precedence is
//! tested exhaustively without Discord.
//!
//! Precedence, first match wins:
//! 1. Bot owners and the guild owner are always allowed (nobody can lock them out).
//! 2. A rule for the member (user) — on the command, then on its module.
//! 3. A rule for one of the member's roles — the highest role (by position) that has a rule
//!    decides; on the command before the module for that role.
//! 4. A rule for the channel — on the command, then on its module.
//! 5. No rule: the command's Discord permission defaults decide (e.g. Manage Server for
//!    `/module`); commands without such defaults are allowed.

mod queries;

/// What a rule is about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TargetKind {
    Command,
    Module,
}

impl TargetKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Command => "command",
            Self::Module => "module",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "command" => Some(Self::Command),
            "module" => Some(Self::Module),
            _ => None,
        }
    }
}

/// Whom a rule applies to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Subject {
    User(u64),
    Role(u64),
    Channel(u64),
}

impl Subject {
    pub fn kind(self) -> &'static str {
        match self {
            Self::User(_) => "user",
            Self::Role(_) => "role",
            Self::Channel(_) => "channel",
        }
    }

    pub fn id(self) -> u64 {
        match self {
            Self::User(id) | Self::Role(id) | Self::Channel(id) => id,
        }
    }

    pub fn from_parts(kind: &str, id: u64) -> Option<Self> {
        match kind {
            "user" => Some(Self::User(id)),
            "role" => Some(Self::Role(id)),
            "channel" => Some(Self::Channel(id)),
            _ => None,
        }
    }

    /// How Discord renders it (mentions are sent with pings disabled).
    pub fn mention(self) -> String {
        match self {
            Self::User(id) => format!("<@{id}>"),
            Self::Role(id) => format!("<@&{id}>"),
            Self::Channel(id) => format!("<#{id}>"),
        }
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    pub target_kind: TargetKind,
    /// A command's qualified name or a module's name.
    pub target: String,
    pub subject: Subject,
    pub allow: bool,
}

/// The invocation being decided.
pub struct Invocation<'a> {
    pub user: u64,
    /// The member's roles with their positions (higher is more senior).
    pub roles: &'a [(u64, u16)],
    pub channel: u64,
    /// Qualified command name ("module enable").
    pub command: &'a str,
    pub module: &'a str,
    pub is_owner: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Decision {
    /// Owner bypass.
    Owner,
    /// A rule decided.
    Rule(Rule),
    /// No rule: Discord permission defaults decide.
    Default,
}

impl Decision {
    /// `None` means "ask the Discord permission defaults".
    pub fn allowed(&self) -> Option<bool> {
        match self {
            Self::Owner => Some(true),
            Self::Rule(r) => Some(r.allow),
            Self::Default => None,
        }
    }

    /// Why, in words for `/perm explain`.
    pub fn explain(&self) -> String {
        match self {
            Self::Owner => {
                "they own the server or the bot, and owners can never be locked out".to_owned()
            }
            Self::Rule(r) => format!(
                "the rule `{} {} {}` for {} decided",
                if r.allow { "allow" } else { "deny" },
                r.target_kind.as_str(),
                r.target,
                r.subject.mention()
            ),
            Self::Default => {
                "no rule applies, so the command's Discord permission defaults decide".to_owned()
            }
        }
    }
}

/// Applies the precedence above to the guild's rules.
pub fn decide(rules: &[Rule], inv: &Invocation<'_>) -> Decision {
    if inv.is_owner {
        return Decision::Owner;
    }
    let find = |subject: Subject| {
        let on = |kind: TargetKind, target: &str| {
            rules
                .iter()
                .find(|r| r.subject == subject && r.target_kind == kind && r.target == target)
        };
        on(TargetKind::Command, inv.command).or_else(|| on(TargetKind::Module, inv.module))
    };
    if let Some(r) = find(Subject::User(inv.user)) {
        return Decision::Rule(r.clone());
    }
    let mut ranked = inv.roles.to_vec();
    // Highest position first; ties (never in Discord) broken by id for determinism.
    ranked.sort_by(|a, b| b.1.cmp(&a.1).then(b.0.cmp(&a.0)));
    for (role, _) in ranked {
        if let Some(r) = find(Subject::Role(role)) {
            return Decision::Rule(r.clone());
        }
    }
    if let Some(r) = find(Subject::Channel(inv.channel)) {
        return Decision::Rule(r.clone());
    }
    Decision::Default
}

#[cfg(test)]
mod tests {
    use super::*;

    const USER: u64 = 1;
    const LOW_ROLE: u64 = 10;
    const HIGH_ROLE: u64 = 11;
    const CHANNEL: u64 = 20;

    fn rule(kind: TargetKind, subject: Subject, allow: bool) -> Rule {
        let target = match kind {
            TargetKind::Command => "balance",
            TargetKind::Module => "economy",
        };
        Rule {
            target_kind: kind,
            target: target.to_owned(),
            subject,
            allow,
        }
    }

    fn inv(is_owner: bool) -> Invocation<'static> {
        Invocation {
            user: USER,
            roles: &[(LOW_ROLE, 1), (HIGH_ROLE, 5)],
            channel: CHANNEL,
            command: "balance",
            module: "economy",
            is_owner,
        }
    }

    /// Every combination of the six rule slots (user/role/channel × command/module), each
    /// absent, allow or deny (3^6 = 729 cases), against an independent statement of the
    /// precedence: the first present slot in order decides.
    #[test]
    fn precedence_over_every_combination() {
        let slots = [
            (TargetKind::Command, Subject::User(USER)),
            (TargetKind::Module, Subject::User(USER)),
            (TargetKind::Command, Subject::Role(HIGH_ROLE)),
            (TargetKind::Module, Subject::Role(HIGH_ROLE)),
            (TargetKind::Command, Subject::Channel(CHANNEL)),
            (TargetKind::Module, Subject::Channel(CHANNEL)),
        ];
        for case in 0..3usize.pow(6) {
            let mut rules = Vec::new();
            let mut expected = None;
            let mut n = case;
            for (kind, subject) in slots {
                let state = n % 3;
                n /= 3;
                if state == 0 {
                    continue;
                }
                let allow = state == 1;
                rules.push(rule(kind, subject, allow));
                expected = expected.or(Some(allow));
            }
            // Rules for other targets and subjects must never matter.
            rules.push(Rule {
                target_kind: TargetKind::Command,
                target: "give".into(),
                subject: Subject::User(USER),
                allow: false,
            });
            rules.push(rule(TargetKind::Command, Subject::User(99), false));
            rules.push(rule(TargetKind::Command, Subject::Channel(98), false));
            rules.reverse(); // order in storage must not matter either
            let got = decide(&rules, &inv(false)).allowed();
            assert_eq!(got, expected, "case {case}: rules {rules:?}");
            assert_eq!(
                decide(&rules, &inv(true)),
                Decision::Owner,
                "owners bypass every rule (case {case})"
            );
        }
    }

    #[test]
    fn highest_role_with_a_rule_decides() {
        let rules = vec![
            rule(TargetKind::Command, Subject::Role(LOW_ROLE), true),
            rule(TargetKind::Module, Subject::Role(HIGH_ROLE), false),
        ];
        // The high role's module rule beats the low role's command rule: roles are ranked first.
        assert_eq!(decide(&rules, &inv(false)).allowed(), Some(false));
        let rules = vec![rule(TargetKind::Command, Subject::Role(LOW_ROLE), true)];
        assert_eq!(decide(&rules, &inv(false)).allowed(), Some(true));
    }

    #[test]
    fn explanations_name_the_rule() {
        let rules = vec![rule(TargetKind::Module, Subject::Channel(CHANNEL), false)];
        let text = decide(&rules, &inv(false)).explain();
        assert!(
            text.contains("deny module economy") && text.contains("<#20>"),
            "{text}"
        );
        assert!(
            decide(&[], &inv(false))
                .explain()
                .contains("no rule applies")
        );
    }
}
