//! Permission rules end to end: `/perm` and the gate every command passes. The precedence
//! itself is tested over every combination in `bot/src/permissions.rs`.

use lounge_store::Backend;
use lounge_tests::db::TestDb;
use lounge_tests::discord::{
    FakeDiscord, GENERAL_CHANNEL_ID, GUILD_ID, MEMBER_ID, MEMBER_ROLE_ID, MOD_ID, OTHER_CHANNEL_ID,
    OWNER_ID, Options,
};

use crate::util::Harness;

async fn rules_allow_and_deny(backend: Backend) {
    let h = Harness::start(TestDb::new(backend).await).await;
    let (g, o) = (GENERAL_CHANNEL_ID, OTHER_CHANNEL_ID);
    let ask = |channel, author, text: String| {
        let h = &h;
        async move { h.ask(GUILD_ID, channel, author, &text).await }
    };

    // Only Manage Server may write rules.
    let refused = ask(g, MEMBER_ID, format!("!perm deny balance <@{MOD_ID}>")).await;
    assert!(refused.contains("You need these permissions"), "{refused}");

    let set = ask(g, MOD_ID, format!("!perm deny balance <@{MEMBER_ID}>")).await;
    assert!(set.contains("can no longer use command `balance`"), "{set}");
    let denied = ask(g, MEMBER_ID, "!balance".into()).await;
    assert!(
        denied.contains("You can't use `balance` here") && denied.contains("deny command balance"),
        "{denied}"
    );
    // Other commands and other members are unaffected.
    assert!(ask(g, MEMBER_ID, "!ping".into()).await.contains("Pinging"));
    assert!(
        ask(g, MOD_ID, "!balance".into())
            .await
            .contains("has 0 coins")
    );

    // A user rule beats a role rule.
    let role_allow = ask(
        g,
        MOD_ID,
        format!("!perm allow economy <@&{MEMBER_ROLE_ID}>"),
    )
    .await;
    assert!(
        role_allow.contains("can now use module `economy`"),
        "{role_allow}"
    );
    assert!(
        ask(g, MEMBER_ID, "!balance".into())
            .await
            .contains("You can't use")
    );
    let why = ask(g, MOD_ID, format!("!perm explain balance <@{MEMBER_ID}>")).await;
    assert!(
        why.contains("can't use `balance`") && why.contains("deny command balance"),
        "{why}"
    );

    let reset = ask(g, MOD_ID, format!("!perm reset balance <@{MEMBER_ID}>")).await;
    assert!(reset.contains("Removed 1 rule"), "{reset}");
    let why = ask(g, MOD_ID, format!("!perm explain balance <@{MEMBER_ID}>")).await;
    assert!(
        why.contains("can use `balance`") && why.contains("allow module economy"),
        "{why}"
    );

    // A channel rule applies in that channel only (after the role rule is gone).
    ask(g, MOD_ID, "!perm reset economy".into()).await;
    let chan = ask(g, MOD_ID, format!("!perm deny economy <#{g}>")).await;
    assert!(
        chan.contains("can no longer use module `economy`"),
        "{chan}"
    );
    assert!(
        ask(g, MEMBER_ID, "!balance".into())
            .await
            .contains("You can't use")
    );
    assert!(
        ask(o, MEMBER_ID, "!balance".into())
            .await
            .contains("has 0 coins")
    );

    let list = ask(g, MOD_ID, "!perm list".into()).await;
    assert!(
        list.contains("deny module `economy`") && list.contains(&format!("<#{g}>")),
        "{list}"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rules_allow_and_deny_on_sqlite() {
    rules_allow_and_deny(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn rules_allow_and_deny_on_postgres() {
    rules_allow_and_deny(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn owners_cannot_be_locked_out() {
    let h = Harness::start(TestDb::sqlite()).await;
    let g = GENERAL_CHANNEL_ID;
    let note = h
        .ask(
            GUILD_ID,
            g,
            MOD_ID,
            &format!("!perm deny admin <@{OWNER_ID}>"),
        )
        .await;
    assert!(note.contains("rules don't apply to them"), "{note}");
    h.ask(GUILD_ID, g, MOD_ID, &format!("!perm deny admin <#{g}>"))
        .await;
    // The guild owner still reaches the admin commands, even in the denied channel.
    let list = h.ask(GUILD_ID, g, OWNER_ID, "!perm list").await;
    assert!(list.contains("Permission rules"), "{list}");
    let why = h
        .ask(
            GUILD_ID,
            g,
            OWNER_ID,
            &format!("!perm explain \"module list\" <@{OWNER_ID}>"),
        )
        .await;
    assert!(why.contains("can never be locked out"), "{why}");
    // While the moderator, whom the channel rule covers, is now locked out of admin here.
    let locked = h.ask(GUILD_ID, g, MOD_ID, "!perm list").await;
    assert!(
        locked.contains("You can't use `perm list` here"),
        "{locked}"
    );
    h.finish().await;
}

/// Slash options for roles and channels arrive resolved, as Discord sends them.
#[tokio::test(flavor = "multi_thread")]
async fn slash_rules_take_roles_and_channels() {
    let h = Harness::start(TestDb::sqlite()).await;
    let deny = h
        .slash(
            GUILD_ID,
            GENERAL_CHANNEL_ID,
            MOD_ID,
            "perm",
            serde_json::json!([{"type": 1, "name": "deny", "options": [
                {"type": 3, "name": "target", "value": "balance"},
                {"type": 8, "name": "role", "value": MEMBER_ROLE_ID.to_string()}
            ]}]),
        )
        .await;
    assert!(
        deny.text().contains(&format!(
            "<@&{MEMBER_ROLE_ID}> can no longer use command `balance`"
        )),
        "{}",
        deny.text()
    );
    let allow = h
        .slash(
            GUILD_ID,
            GENERAL_CHANNEL_ID,
            MOD_ID,
            "perm",
            serde_json::json!([{"type": 1, "name": "allow", "options": [
                {"type": 3, "name": "target", "value": "balance"},
                {"type": 7, "name": "channel", "value": OTHER_CHANNEL_ID.to_string()}
            ]}]),
        )
        .await;
    assert!(
        allow.text().contains(&format!("<#{OTHER_CHANNEL_ID}>")),
        "{}",
        allow.text()
    );
    // The role rule outranks the channel rule (see the precedence in the README).
    let denied = h
        .ask(GUILD_ID, OTHER_CHANNEL_ID, MEMBER_ID, "!balance")
        .await;
    assert!(denied.contains("You can't use `balance` here"), "{denied}");
    h.finish().await;
}

/// Typed with the prefix, a command meets its slash `default_member_permissions` too: Discord
/// enforces those only for slash use. See: issue #17, item 12.
async fn prefix_use_needs_the_slash_default_permissions(backend: Backend) {
    let h = Harness::start(TestDb::new(backend).await).await;
    let g = GENERAL_CHANNEL_ID;
    for text in [
        "!module list".to_owned(),
        format!("!perm explain balance <@{MEMBER_ID}>"),
        "!perm list".to_owned(),
    ] {
        let refused = h.ask(GUILD_ID, g, MEMBER_ID, &text).await;
        assert!(
            refused.contains("You need these permissions") && refused.contains("Manage Guild"),
            "{text}: {refused}"
        );
    }
    let list = h.ask(GUILD_ID, g, MOD_ID, "!module list").await;
    assert!(list.contains("core — always on"), "{list}");
    let why = h
        .ask(
            GUILD_ID,
            g,
            MOD_ID,
            &format!("!perm explain balance <@{MEMBER_ID}>"),
        )
        .await;
    assert!(why.contains("can use `balance`"), "{why}");
    // Commands without a default stay open to everyone.
    assert!(
        h.ask(GUILD_ID, g, MEMBER_ID, "!ping")
            .await
            .contains("Pinging")
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn prefix_use_needs_the_slash_default_permissions_on_sqlite() {
    prefix_use_needs_the_slash_default_permissions(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn prefix_use_needs_the_slash_default_permissions_on_postgres() {
    prefix_use_needs_the_slash_default_permissions(Backend::Postgres).await;
}

/// A server with rules that deny by role: when the member's roles can't be looked up (not in
/// the cache, Discord failing), the gate refuses with a sentence instead of letting them in.
#[tokio::test(flavor = "multi_thread")]
async fn the_gate_fails_closed_when_the_member_cannot_be_looked_up() {
    let fake = FakeDiscord::start_with(Options {
        large_guilds: true,
        ..Options::default()
    })
    .await;
    let h = Harness::start_with_fake(TestDb::sqlite(), fake, &[]).await;
    let g = GENERAL_CHANNEL_ID;
    let set = h
        .ask(
            GUILD_ID,
            g,
            MOD_ID,
            &format!("!perm deny balance <@&{MEMBER_ROLE_ID}>"),
        )
        .await;
    assert!(set.contains("can no longer use command `balance`"), "{set}");
    // Looked up over REST (the guild came without members), the role rule applies.
    let denied = h.ask(GUILD_ID, g, MEMBER_ID, "!balance").await;
    assert!(denied.contains("You can't use `balance` here"), "{denied}");

    let member_path = format!("/guilds/{GUILD_ID}/members/{MEMBER_ID}");
    h.fake.fail_requests("GET", &member_path, 500, 10);
    let refused = h.ask(GUILD_ID, g, MEMBER_ID, "!balance").await;
    assert!(
        refused.contains("couldn't look up your roles"),
        "must fail closed: {refused}"
    );
    assert!(h.fake.failed_requests("GET", &member_path) >= 1);
    h.finish().await;
}
