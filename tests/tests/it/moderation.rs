//! Moderation commands: Discord permissions and the role hierarchy, end to end.
//!
//! The fixture's roles, highest first: Admin (admin), Lounge (the bot), Moderator (moderator),
//! Member (member); the owner has no role but owns the server.

use lounge_tests::db::TestDb;
use lounge_tests::discord::{
    ADMIN_ID, GENERAL_CHANNEL_ID, GUILD_ID, MEMBER_ID, MOD_ID, OTHER_CHANNEL_ID, OWNER_ID, Recorded,
};

use crate::util::{Harness, REPLY_TIMEOUT, assert_pings_nobody};

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
            "Kicked <@{MEMBER_ID}> (case #1). Reason: spam links (by moderator)"
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
        banned.contains(&format!("Banned <@{MEMBER_ID}> (case #3). Reason: raids")),
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

/// Warnings, notes and actions become numbered cases; moderators read, edit, take back and
/// delete them.
#[tokio::test(flavor = "multi_thread")]
async fn every_action_is_a_numbered_case_moderators_can_review() {
    let h = Harness::start(TestDb::sqlite()).await;
    let refused = h
        .ask(GUILD_ID, G, MEMBER_ID, &format!("!warn <@{MOD_ID}> rude"))
        .await;
    assert!(refused.contains("Moderate Members"), "{refused}");
    let up = h
        .ask(GUILD_ID, G, MOD_ID, &format!("!warn <@{ADMIN_ID}> rude"))
        .await;
    assert!(up.contains("must be above theirs"), "{up}");
    let empty = h
        .ask(GUILD_ID, G, MOD_ID, &format!("!warn <@{MEMBER_ID}>   "))
        .await;
    assert!(
        empty.contains("Too few arguments") && empty.contains("/help warn"),
        "{empty}"
    );

    let first = h
        .ask_recorded(
            GUILD_ID,
            G,
            MOD_ID,
            &format!("!warn <@{MEMBER_ID}> spamming @everyone"),
        )
        .await;
    assert_pings_nobody(&first);
    assert!(
        first
            .text()
            .contains("(case #1); 1 warning in force. Reason: spamming"),
        "{}",
        first.text()
    );
    let second = h
        .ask(GUILD_ID, G, MOD_ID, &format!("!warn <@{MEMBER_ID}> again"))
        .await;
    assert!(
        second.contains("(case #2); 2 warnings in force"),
        "{second}"
    );
    let note = h
        .ask(
            GUILD_ID,
            G,
            MOD_ID,
            &format!("!note <@{MEMBER_ID}> seems to be a raid alt"),
        )
        .await;
    assert!(note.contains("case #3"), "{note}");
    let kicked = h
        .ask(
            GUILD_ID,
            G,
            MOD_ID,
            &format!("!kick <@{MEMBER_ID}> third strike"),
        )
        .await;
    assert!(kicked.contains("(case #4)"), "{kicked}");

    let warnings = h
        .ask(GUILD_ID, G, MOD_ID, &format!("!warnings <@{MEMBER_ID}>"))
        .await;
    assert!(
        warnings.contains("Warnings for member (2)")
            && warnings.contains("**#2** warn")
            && !warnings.contains("note"),
        "{warnings}"
    );
    let unwarn = h.ask(GUILD_ID, G, MOD_ID, "!unwarn 1").await;
    assert!(unwarn.contains("Took back warning #1"), "{unwarn}");
    let twice = h.ask(GUILD_ID, G, MOD_ID, "!unwarn 1").await;
    assert!(twice.contains("already taken back"), "{twice}");
    let not_warn = h.ask(GUILD_ID, G, MOD_ID, "!unwarn 3").await;
    assert!(not_warn.contains("isn't a warning"), "{not_warn}");
    let all = h
        .ask(GUILD_ID, G, MOD_ID, &format!("!cases <@{MEMBER_ID}>"))
        .await;
    assert!(
        all.contains("Cases for member (4)")
            && all.contains("**#4** kick")
            && all.contains("**#3** note")
            && all.contains("taken back"),
        "{all}"
    );

    let shown = h.ask(GUILD_ID, G, MOD_ID, "!case show 4").await;
    assert!(
        shown.contains("Case #4 · kick") && shown.contains("third strike"),
        "{shown}"
    );
    let edited = h
        .ask(
            GUILD_ID,
            G,
            MOD_ID,
            "!case reason 4 three warnings in a day",
        )
        .await;
    assert!(edited.contains("Case #4 now reads"), "{edited}");
    let shown = h.ask(GUILD_ID, G, MOD_ID, "!case show 4").await;
    assert!(shown.contains("three warnings in a day"), "{shown}");
    // Deleting needs Manage Server.
    let denied = h.ask(GUILD_ID, G, MEMBER_ID, "!case delete 3").await;
    assert!(denied.contains("Manage Guild"), "{denied}");
    let deleted = h.ask(GUILD_ID, G, ADMIN_ID, "!case delete 3").await;
    assert!(deleted.contains("Deleted case #3"), "{deleted}");
    let gone = h.ask(GUILD_ID, G, MOD_ID, "!case show 3").await;
    assert!(gone.contains("no case #3"), "{gone}");
    // Numbers are never reused.
    let next = h
        .ask(
            GUILD_ID,
            G,
            MOD_ID,
            &format!("!warn <@{MEMBER_ID}> back again"),
        )
        .await;
    assert!(next.contains("(case #5)"), "{next}");
    let bad = h.ask(GUILD_ID, G, MOD_ID, "!case show 0").await;
    assert!(bad.contains("at least 1"), "{bad}");
    h.finish().await;
}

/// Posts of `case` to the modlog channel that Discord accepted.
fn modlog_posts(h: &Harness, case: &str) -> Vec<Recorded> {
    let path = format!("/channels/{OTHER_CHANNEL_ID}/messages");
    h.fake
        .requests()
        .into_iter()
        .filter(|r| r.method == "POST" && r.path == path && r.status < 300)
        .filter(|r| r.text().contains(&format!("Case #{case} ")))
        .collect()
}

/// Every case is posted to the modlog once: straight away, or by the worker after a failed
/// post, never twice.
#[tokio::test(flavor = "multi_thread")]
async fn cases_reach_the_modlog_once_even_after_a_failed_post() {
    let h = Harness::start(TestDb::sqlite()).await;
    let denied = h
        .ask(
            GUILD_ID,
            G,
            MEMBER_ID,
            &format!("!modlog set <#{OTHER_CHANNEL_ID}>"),
        )
        .await;
    assert!(denied.contains("Manage Guild"), "{denied}");
    let set = h
        .ask(
            GUILD_ID,
            G,
            MOD_ID,
            &format!("!modlog set <#{OTHER_CHANNEL_ID}>"),
        )
        .await;
    assert!(
        set.contains(&format!("posted in <#{OTHER_CHANNEL_ID}>")),
        "{set}"
    );

    h.ask(
        GUILD_ID,
        G,
        MOD_ID,
        &format!("!warn <@{MEMBER_ID}> spamming"),
    )
    .await;
    let first = h
        .fake
        .wait_until("case #1 in the modlog", REPLY_TIMEOUT, |_| {
            modlog_posts(&h, "1").into_iter().next()
        })
        .await;
    assert!(first.text().contains("Case #1 · warn") && first.text().contains("spamming"));
    assert_eq!(first.body["enforce_nonce"], true, "{:?}", first.body);
    assert!(first.body["nonce"].as_str().is_some_and(|n| n.len() <= 25));
    crate::util::assert_pings_nobody(&first);

    // Discord fails the next post: it stays owed and the worker posts it once the lease ends.
    h.fake.fail_requests(
        "POST",
        &format!("/channels/{OTHER_CHANNEL_ID}/messages"),
        500,
        1,
    );
    h.ask(GUILD_ID, G, MOD_ID, &format!("!warn <@{MEMBER_ID}> again"))
        .await;
    h.fake
        .wait_until(
            "case #2 in the modlog",
            std::time::Duration::from_secs(40),
            |_| modlog_posts(&h, "2").into_iter().next(),
        )
        .await;
    assert_eq!(
        h.fake
            .failed_requests("POST", &format!("/channels/{OTHER_CHANNEL_ID}/messages")),
        1
    );

    let off = h.ask(GUILD_ID, G, MOD_ID, "!modlog off").await;
    assert!(off.contains("no longer posted"), "{off}");
    h.ask(
        GUILD_ID,
        G,
        MOD_ID,
        &format!("!warn <@{MEMBER_ID}> unlogged"),
    )
    .await;
    h.ask(
        GUILD_ID,
        G,
        MOD_ID,
        &format!("!modlog set <#{OTHER_CHANNEL_ID}>"),
    )
    .await;
    h.ask(
        GUILD_ID,
        G,
        MOD_ID,
        &format!("!warn <@{MEMBER_ID}> logged again"),
    )
    .await;
    h.fake
        .wait_until("case #4 in the modlog", REPLY_TIMEOUT, |_| {
            modlog_posts(&h, "4").into_iter().next()
        })
        .await;
    assert!(
        modlog_posts(&h, "3").is_empty(),
        "case #3 was recorded with the modlog off"
    );
    // Once each, in the channel as Discord keeps it.
    let kept = h.fake.channel_messages(OTHER_CHANNEL_ID);
    for case in ["1", "2", "4"] {
        let n = kept
            .iter()
            .filter(|m| m.to_string().contains(&format!("Case #{case} ")))
            .count();
        assert_eq!(n, 1, "case #{case} in {kept:?}");
    }
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn slow_mode_is_set_within_discords_limits() {
    let h = Harness::start(TestDb::sqlite()).await;
    let refused = h.ask(GUILD_ID, G, MEMBER_ID, "!slowmode 10").await;
    assert!(refused.contains("Manage Channels"), "{refused}");
    let long = h.ask(GUILD_ID, G, MOD_ID, "!slowmode 99999").await;
    assert!(long.contains("from 0 to 21600"), "{long}");
    let set = h.ask(GUILD_ID, G, MOD_ID, "!slowmode 30").await;
    assert!(
        set.contains(&format!("one message every 30 s in <#{G}>")),
        "{set}"
    );
    let edit = h
        .fake
        .requests()
        .into_iter()
        .find(|r| r.method == "PATCH" && r.path == format!("/channels/{G}"))
        .expect("the channel edit");
    assert_eq!(edit.body, serde_json::json!({"rate_limit_per_user": 30}));
    assert!(
        edit.audit_log_reason
            .as_deref()
            .is_some_and(|r| r.contains("moderator")),
        "{edit:?}"
    );
    let off = h
        .ask(
            GUILD_ID,
            G,
            MOD_ID,
            &format!("!slowmode 0 <#{OTHER_CHANNEL_ID}>"),
        )
        .await;
    assert!(
        off.contains(&format!("Slow mode is off in <#{OTHER_CHANNEL_ID}>")),
        "{off}"
    );
    h.finish().await;
}

/// A kick's reason is free text of any length; its case still shows and reaches the modlog.
#[tokio::test(flavor = "multi_thread")]
async fn a_long_action_reason_is_kept_to_what_a_case_can_show() {
    let h = Harness::start(TestDb::sqlite()).await;
    h.ask(
        GUILD_ID,
        G,
        MOD_ID,
        &format!("!modlog set <#{OTHER_CHANNEL_ID}>"),
    )
    .await;
    let reason = "x".repeat(1500);
    let kicked = h
        .ask(
            GUILD_ID,
            G,
            MOD_ID,
            &format!("!kick <@{MEMBER_ID}> {reason}"),
        )
        .await;
    assert!(kicked.contains("(case #1)"), "{kicked}");
    let shown = h.ask_recorded(GUILD_ID, G, MOD_ID, "!case show 1").await;
    let field = shown.embeds()[0]["fields"]
        .as_array()
        .and_then(|f| f.iter().find(|f| f["name"] == "Reason"))
        .and_then(|f| f["value"].as_str())
        .expect("a reason field")
        .to_owned();
    assert_eq!(field.chars().count(), 512, "{field}");
    assert!(field.ends_with('…'));
    h.fake
        .wait_until("case #1 in the modlog", REPLY_TIMEOUT, |_| {
            modlog_posts(&h, "1").into_iter().next()
        })
        .await;
    h.finish().await;
}
