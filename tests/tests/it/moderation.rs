//! Moderation commands: Discord permissions and the role hierarchy, end to end.
//!
//! The fixture's roles, highest first: Admin (admin), Lounge (the bot), Moderator (moderator),
//! Member (member); the owner has no role but owns the server.

use lounge_tests::db::TestDb;
use lounge_tests::discord::{
    ADMIN_ID, GENERAL_CHANNEL_ID, GUILD_ID, MEMBER_ID, MOD_ID, OWNER_ID, Recorded,
};

use crate::util::Harness;

const G: u64 = GENERAL_CHANNEL_ID;

fn moderation_requests(h: &Harness) -> Vec<Recorded> {
    h.fake
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with(&format!("/guilds/{GUILD_ID}/")) && r.method != "GET")
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn moderators_act_only_below_themselves_and_the_bot() {
    let h = Harness::start(TestDb::sqlite()).await;

    let member = h
        .ask(GUILD_ID, G, MEMBER_ID, &format!("!kick <@{MOD_ID}>"))
        .await;
    assert!(member.contains("You need these permissions"), "{member}");

    let above = h
        .ask(GUILD_ID, G, MOD_ID, &format!("!kick <@{ADMIN_ID}> because"))
        .await;
    assert!(
        above.contains("your highest role (@Moderator) must be above theirs (@Admin)"),
        "{above}"
    );
    let owner = h
        .ask(GUILD_ID, G, MOD_ID, &format!("!ban <@{OWNER_ID}>"))
        .await;
    assert!(owner.contains("Nobody can ban the server owner"), "{owner}");
    // The owner outranks Admin, but the bot does not: the refusal says how to fix that.
    let bot_below = h
        .ask(GUILD_ID, G, OWNER_ID, &format!("!timeout <@{ADMIN_ID}> 1h"))
        .await;
    assert!(
        bot_below.contains("my highest role (@Lounge) must be above theirs (@Admin)")
            && bot_below.contains("Move my role up"),
        "{bot_below}"
    );
    let me = h
        .ask(GUILD_ID, G, MOD_ID, &format!("!kick <@{MOD_ID}>"))
        .await;
    assert!(me.contains("You can't kick yourself"), "{me}");
    assert!(
        moderation_requests(&h).is_empty(),
        "nothing refused may reach Discord"
    );

    let kicked = h
        .ask(
            GUILD_ID,
            G,
            MOD_ID,
            &format!("!kick <@{MEMBER_ID}> spam links"),
        )
        .await;
    assert!(
        kicked.contains(&format!(
            "Kicked <@{MEMBER_ID}>. Reason: spam links (by moderator)"
        )),
        "{kicked}"
    );
    let done = moderation_requests(&h);
    assert_eq!(done.len(), 1, "{done:?}");
    assert_eq!(done[0].method, "DELETE");
    assert_eq!(
        done[0].path,
        format!("/guilds/{GUILD_ID}/members/{MEMBER_ID}")
    );
    let reason = done[0].audit_log_reason.as_deref().unwrap_or_default();
    assert!(
        reason.contains("spam") && reason.contains("moderator"),
        "{reason}"
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn timeouts_and_bans_reach_discord_with_their_details() {
    let h = Harness::start(TestDb::sqlite()).await;

    let unreadable = h
        .ask(
            GUILD_ID,
            G,
            MOD_ID,
            &format!("!timeout <@{MEMBER_ID}> soonish"),
        )
        .await;
    assert!(
        unreadable.contains("couldn't read `soonish`"),
        "{unreadable}"
    );
    let long = h
        .ask(GUILD_ID, G, MOD_ID, &format!("!timeout <@{MEMBER_ID}> 30d"))
        .await;
    assert!(long.contains("at most 28 days"), "{long}");

    let before = now_unix();
    let timed = h
        .ask(
            GUILD_ID,
            G,
            MOD_ID,
            &format!("!timeout <@{MEMBER_ID}> 1h30m loud"),
        )
        .await;
    assert!(
        timed.contains(&format!("Timed out <@{MEMBER_ID}> until <t:")),
        "{timed}"
    );
    let patch = moderation_requests(&h).pop().expect("a member edit");
    assert_eq!(patch.method, "PATCH");
    let until = patch.body["communication_disabled_until"]
        .as_str()
        .expect("a timestamp");
    let until = serenity::model::Timestamp::parse(until)
        .unwrap()
        .unix_timestamp();
    assert!(
        (before + 5400..=now_unix() + 5400).contains(&until),
        "1h30m from now, got {until}"
    );
    let lifted = h
        .ask(GUILD_ID, G, MOD_ID, &format!("!untimeout <@{MEMBER_ID}>"))
        .await;
    assert!(lifted.contains("can talk again"), "{lifted}");
    let patch = moderation_requests(&h).pop().unwrap();
    assert_eq!(
        patch.body["communication_disabled_until"],
        serde_json::Value::Null
    );

    // Without Ban Members there is no ban; with it, a ban goes out as PUT with no body.
    let denied = h
        .ask(GUILD_ID, G, MEMBER_ID, &format!("!ban <@{MOD_ID}>"))
        .await;
    assert!(denied.contains("You need these permissions"), "{denied}");
    let banned = h
        .ask(GUILD_ID, G, MOD_ID, &format!("!ban <@{MEMBER_ID}> 1 raids"))
        .await;
    assert!(
        banned.contains(&format!("Banned <@{MEMBER_ID}>. Reason: raids")),
        "{banned}"
    );
    let ban = moderation_requests(&h).pop().unwrap();
    assert_eq!(
        (ban.method.as_str(), ban.path.as_str()),
        (
            "PUT",
            format!("/guilds/{GUILD_ID}/bans/{MEMBER_ID}").as_str()
        )
    );
    h.finish().await;
}

fn now_unix() -> i64 {
    serenity::model::Timestamp::now().unix_timestamp()
}
