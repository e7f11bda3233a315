//! `/lyrics` end to end: the real bot against a loopback LRCLIB.

use lounge_tests::db::TestDb;
use lounge_tests::discord::{GENERAL_CHANNEL_ID, GUILD_ID, MEMBER_ID};
use lounge_tests::lrclib::FakeLrclib;

use crate::util::Harness;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lyrics_come_from_lrclib_by_artist_and_title_else_by_search_in_pages() {
    let lrclib = FakeLrclib::start().await;
    let url = lrclib.url();
    let h = Harness::start_with_env(TestDb::sqlite(), &[("LOUNGE_MUSIC__LRCLIB_URL", &url)]).await;
    let ask = |text: &'static str| h.ask_recorded(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, text);

    // "Artist - Title" asks /api/get; the decoration after the title is left out.
    let found = ask("!lyrics Queen - Bohemian Rhapsody (Official Video)").await;
    let text = found.text();
    assert!(text.contains("Is this the real life?"), "{text}");
    assert!(
        text.contains("Queen — Bohemian Rhapsody") && text.contains("LRCLIB"),
        "{text}"
    );
    crate::util::assert_pings_nobody(&found);
    assert!(
        lrclib.requests()[0].starts_with("/api/get?"),
        "{:?}",
        lrclib.requests()
    );

    // Other words search.
    let searched = ask("!lyrics testers long").await.text();
    assert!(searched.contains("Verse line 1\n"), "{searched}");
    assert!(
        !searched.contains(&format!("Verse line {}", lounge_tests::lrclib::LONG_LINES)),
        "a long text is paged"
    );
    assert!(
        lrclib
            .requests()
            .iter()
            .any(|r| r.starts_with("/api/search?"))
    );

    let instrumental = ask("!lyrics Nobody - Quiet Piece").await.text();
    assert!(instrumental.contains("instrumental"), "{instrumental}");
    let none = ask("!lyrics Someone - Unknown Song").await.text();
    assert!(none.contains("found no lyrics"), "{none}");
    let nothing = ask("!lyrics").await.text();
    assert!(nothing.contains("Nothing is playing"), "{nothing}");
    assert!(lrclib.violations().is_empty(), "{:?}", lrclib.violations());
    h.finish().await;
}
