//! `/gif` end to end: the real bot against a loopback GIPHY serving a recorded search.

use lounge_tests::db::TestDb;
use lounge_tests::discord::{GENERAL_CHANNEL_ID, GUILD_ID, MEMBER_ID, OWNER_ID};
use lounge_tests::giphy::{self, FakeGiphy, GIPHY_KEY, NOTHING_QUERY};

use crate::util::{Harness, assert_pings_nobody};

async fn bot(giphy: &FakeGiphy, budget: &str) -> Harness {
    let url = giphy.url();
    Harness::start_with_env(
        TestDb::sqlite(),
        &[
            ("LOUNGE_GIPHY__API_KEY", GIPHY_KEY),
            ("LOUNGE_GIPHY__API_URL", &url),
            ("LOUNGE_GIPHY__HOURLY_BUDGET", budget),
        ],
    )
    .await
}

fn assert_clean(h: &Harness, giphy: &FakeGiphy) {
    assert!(giphy.violations().is_empty(), "{:?}", giphy.violations());
    assert!(
        !h.bot.output().contains(GIPHY_KEY),
        "the GIPHY key appeared in the bot's output"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_search_shows_a_credited_gif_and_repeats_come_from_the_cache_past_the_budget() {
    let giphy = FakeGiphy::start().await;
    let h = bot(&giphy, "3").await;
    let ask = |text: &'static str| h.ask_recorded(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, text);

    let found = ask("!gif always sunny").await;
    assert_pings_nobody(&found);
    let embed = found
        .embeds()
        .first()
        .cloned()
        .unwrap_or_else(|| panic!("no embed: {}", found.body));
    let image = embed["image"]["url"].as_str().unwrap_or_default();
    assert!(
        giphy::fixture_images().iter().any(|u| u == image),
        "not an image from the recording: {embed}"
    );
    assert_eq!(embed["footer"]["text"], "Powered by GIPHY", "{embed}");
    assert!(
        embed["url"]
            .as_str()
            .is_some_and(|u| u.starts_with("https://giphy.com/gifs/")),
        "{embed}"
    );
    assert!(
        embed["title"].as_str().is_some_and(|t| !t.is_empty()),
        "{embed}"
    );
    assert_eq!(giphy.calls(), 1);
    let sent = giphy.requests()[0].clone();
    assert!(sent.starts_with("/v1/gifs/search?"), "{sent}");
    for (name, value) in [
        ("api_key", GIPHY_KEY),
        ("q", "always sunny"),
        ("limit", "25"),
        ("rating", "pg"),
        ("lang", "en"),
    ] {
        assert_eq!(
            giphy::param(&sent, name).as_deref(),
            Some(value),
            "{name} in {sent}"
        );
    }

    // The same words in another case and spacing are the same search: no call.
    let again = ask("!gif  Always   SUNNY ").await;
    assert!(!again.embeds().is_empty(), "{}", again.body);
    assert_eq!(giphy.calls(), 1, "{:?}", giphy.requests());

    // Two more searches spend the budget of 3, and a fourth rests without asking GIPHY.
    for q in ["!gif cats", "!gif dogs"] {
        let r = ask(q).await;
        assert!(!r.embeds().is_empty(), "{q}: {}", r.body);
    }
    assert_eq!(giphy.calls(), 3);
    let resting = ask("!gif birds").await;
    assert_pings_nobody(&resting);
    let text = resting.text();
    assert!(
        text.contains("GIF search is resting") && text.contains("minutes"),
        "{text}"
    );
    assert_eq!(giphy.calls(), 3, "{:?}", giphy.requests());
    // What was found this hour still comes, from the cache.
    let cached = ask("!gif cats").await;
    assert!(!cached.embeds().is_empty(), "{}", cached.body);
    assert_eq!(giphy.calls(), 3);

    assert_clean(&h, &giphy);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_queries_empty_answers_and_giphy_failures_are_sentences() {
    let giphy = FakeGiphy::start().await;
    let h = bot(&giphy, "100").await;
    let harness = &h;
    let ask = |text: String| async move {
        harness
            .ask(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, &text)
            .await
    };

    let empty = ask("!gif".to_owned()).await;
    assert!(empty.contains("Tell me what to look for"), "{empty}");
    let long = ask(format!("!gif {}", "a".repeat(51))).await;
    assert!(long.contains("too long"), "{long}");
    assert_eq!(giphy.calls(), 0, "refused queries never reach GIPHY");
    // 50 characters are fine.
    let fifty = ask(format!("!gif {}", "b".repeat(50))).await;
    assert!(!fifty.contains("too long"), "{fifty}");
    assert_eq!(giphy.calls(), 1);

    let nothing = ask(format!("!gif {NOTHING_QUERY}")).await;
    assert!(nothing.contains("has no GIFs"), "{nothing}");

    giphy.fail_next(500);
    let down = ask("!gif broken".to_owned()).await;
    assert!(down.contains("GIPHY didn't answer"), "{down}");
    giphy.fail_next(401);
    let refused = ask("!gif refused".to_owned()).await;
    assert!(
        refused.contains("refused this bot's API key") && refused.contains("giphy.api_key"),
        "{refused}"
    );
    // A failure is not cached: the same search asks again.
    let retried = ask("!gif broken".to_owned()).await;
    assert!(!retried.contains("didn't answer"), "{retried}");
    assert_eq!(giphy.calls(), 5);

    // GIPHY's own count ran out (ours restarts with the bot): rest for the hour.
    giphy.fail_next(429);
    let limited = ask("!gif limited".to_owned()).await;
    assert!(limited.contains("GIF search is resting"), "{limited}");
    let after = ask("!gif something new".to_owned()).await;
    assert!(after.contains("GIF search is resting"), "{after}");
    assert_eq!(giphy.calls(), 6, "{:?}", giphy.requests());

    assert_clean(&h, &giphy);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_servers_rating_is_set_with_manage_server_and_sent_to_giphy() {
    let giphy = FakeGiphy::start().await;
    let h = bot(&giphy, "100").await;
    let g = GENERAL_CHANNEL_ID;

    let refused = h.ask(GUILD_ID, g, MEMBER_ID, "!gifrating g").await;
    assert!(
        refused.contains("You need these permissions") && refused.contains("Manage Guild"),
        "{refused}"
    );
    let unknown = h.ask(GUILD_ID, g, OWNER_ID, "!gifrating nc-17").await;
    assert!(unknown.contains("nc-17"), "{unknown}");

    let changed = h
        .ask_recorded(GUILD_ID, g, OWNER_ID, "!gifrating pg-13")
        .await;
    assert_pings_nobody(&changed);
    assert!(changed.text().contains("pg-13"), "{}", changed.text());

    let found = h.ask_recorded(GUILD_ID, g, MEMBER_ID, "!gif cats").await;
    assert!(!found.embeds().is_empty(), "{}", found.body);
    let search = giphy.requests().last().cloned().expect("a search");
    assert_eq!(
        giphy::param(&search, "rating").as_deref(),
        Some("pg-13"),
        "{search}"
    );

    assert_clean(&h, &giphy);
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_api_key_the_owner_is_told_what_to_set() {
    let giphy = FakeGiphy::start().await;
    let url = giphy.url();
    let h = Harness::start_with_env(TestDb::sqlite(), &[("LOUNGE_GIPHY__API_URL", &url)]).await;

    let reply = h
        .ask_recorded(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, "!gif cats")
        .await;
    assert_pings_nobody(&reply);
    assert!(reply.text().contains("giphy.api_key"), "{}", reply.text());
    assert!(reply.embeds().is_empty());
    assert_eq!(giphy.calls(), 0);

    h.finish().await;
}
