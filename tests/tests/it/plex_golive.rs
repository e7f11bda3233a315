//! Plex in Go Live end to end: a member's `/plex play` goes from the real bot to the real
//! `lounge-streamer`, which resolves the item through the fake Plex (downloaded with the token
//! in a header, or read from disk), streams it to the fake voice server where the frames
//! decode, and reports progress back to Plex: timeline with increasing time, "stopped" at the
//! end, a scrobble past 90 %, and a resume that starts at Continue Watching's position.

use std::time::Duration;

use lounge_tests::db::TestDb;
use lounge_tests::discord::voice::FakeVoiceServer;
use lounge_tests::discord::{GENERAL_CHANNEL_ID, GUILD_ID, MEMBER_ID, Recorded, VOICE_CHANNEL_ID};
use lounge_tests::plex::{FakePlex, GENERATED_BASE, Options, PLEX_TOKEN, TimelineReport};
use serde_json::{Value, json};

use crate::golive::{
    GoLiveStreamer, ORDER_TIMEOUT, bot_env, clip, first_frames_decode, option, stream_cmd,
};
use crate::util::Harness;
use lounge_tests::discord::STREAMER_USER_TOKEN;

const CLIP_SECONDS: u32 = 6;
const RESUME_AT_MS: u64 = 2_000;

/// Runs `/plex <sub>` as `user` and returns the bot's first answer.
async fn plex_cmd(h: &Harness, user: u64, sub: &str, options: Value) -> Recorded {
    crate::golive::command_as(h, user, "plex", sub, options).await
}

fn item(key: u64) -> Value {
    option("item", json!(key.to_string()))
}

async fn wait_timelines(
    plex: &FakePlex,
    what: &str,
    done: impl Fn(&[TimelineReport]) -> bool,
) -> Vec<TimelineReport> {
    let deadline = tokio::time::Instant::now() + ORDER_TIMEOUT;
    loop {
        let reports = plex.timelines();
        if done(&reports) {
            return reports;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "timed out waiting for {what}: {reports:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The message the bot posted last in the test channel that has a button whose id ends with
/// `suffix`: its id and that button's id.
fn button(h: &Harness, suffix: &str) -> (u64, String) {
    for message in h.fake.channel_messages(GENERAL_CHANNEL_ID).iter().rev() {
        let ids = message["components"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|row| row["components"].as_array().cloned().unwrap_or_default())
            .filter_map(|b| b["custom_id"].as_str().map(str::to_owned));
        for id in ids {
            if id.ends_with(suffix) {
                let mid = message["id"].as_str().and_then(|s| s.parse().ok());
                return (mid.expect("a message id"), id);
            }
        }
    }
    panic!("no `{suffix}` button in the channel");
}

/// Everything a Plex Go Live test runs against; dropped in reverse order.
struct Party {
    h: Harness,
    voice: FakeVoiceServer,
    plex: FakePlex,
    setup: GoLiveStreamer,
    streamer: lounge_tests::bin::Running,
    _media: tempfile::TempDir,
    env: Vec<(&'static str, String)>,
}

/// The fakes, the bot and a streamer linked to the fake Plex, whose first generated items
/// serve a clip of `clip_seconds`; the member is in the voice channel.
async fn plex_setup(clip_seconds: u32, resume_offset_ms: Option<u64>) -> Party {
    let media = tempfile::tempdir().expect("temp dir");
    let video = clip(media.path(), "part.mp4", clip_seconds);
    let plex = FakePlex::start_with(Options {
        generated_items: 3,
        video: Some(video),
        video_duration_ms: Some(u64::from(clip_seconds) * 1000),
        resume_offset_ms,
        ..Options::default()
    })
    .await;
    let voice = FakeVoiceServer::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let env = bot_env(dir.path());
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let h = Harness::start_with_env(TestDb::sqlite(), &pairs).await;
    h.fake.set_voice_server(&voice);
    let token_file = dir.path().join("plex-token");
    let extra = format!(
        "plex_url = {:?}\nplex_tv_url = {:?}\nplex_token_file = {:?}\nstate_dir = {:?}\n\
         plex_timeline_seconds = 1",
        plex.url(),
        plex.url(),
        token_file.to_str().expect("UTF-8"),
        dir.path().join("state").to_str().expect("UTF-8"),
    );
    let setup = GoLiveStreamer::at_with(dir, &h.fake, true, STREAMER_USER_TOKEN, &extra);
    lounge_tests::bin::write_private(&token_file, PLEX_TOKEN);
    let streamer = setup.start(&h).await;
    h.fake
        .member_voice(GUILD_ID, Some(VOICE_CHANNEL_ID), MEMBER_ID);
    Party {
        h,
        voice,
        plex,
        setup,
        streamer,
        _media: media,
        env,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn plex_play_streams_the_item_reports_progress_and_resumes() {
    // Named, not `..`: the streamer's directory and the clip must outlive the test.
    let Party {
        h,
        voice,
        plex,
        streamer,
        setup: _setup,
        _media,
        env: _,
    } = plex_setup(CLIP_SECONDS, Some(RESUME_AT_MS)).await;
    // Bad input first: not a key, and a key Plex doesn't have.
    let typo = plex_cmd(
        &h,
        MEMBER_ID,
        "play",
        json!([option("item", json!("heat"))]),
    )
    .await;
    assert!(typo.text().contains("isn't a Plex item"), "{}", typo.text());
    let missing = plex_cmd(&h, MEMBER_ID, "play", json!([item(99_999_999)])).await;
    assert!(
        !missing.text().contains("Playing"),
        "an unknown item must not play: {}",
        missing.text()
    );

    // A language the item has no track in, and one that isn't a language.
    let german = plex_cmd(
        &h,
        MEMBER_ID,
        "play",
        json!([item(GENERATED_BASE), option("audio", json!("de"))]),
    )
    .await;
    assert!(
        german
            .text()
            .contains("no audio or subtitle track in that language"),
        "{}",
        german.text()
    );
    let nonsense = plex_cmd(
        &h,
        MEMBER_ID,
        "play",
        json!([
            item(GENERATED_BASE),
            option("subtitles", json!("en; rm -rf"))
        ]),
    )
    .await;
    assert!(
        nonsense.text().contains("isn't a language"),
        "{}",
        nonsense.text()
    );

    // The first generated item is not on this machine: the streamer downloads it from Plex.
    let reply = plex_cmd(&h, MEMBER_ID, "play", json!([item(GENERATED_BASE)])).await;
    assert!(
        reply.text().contains("Playing **") && reply.text().contains("from the start"),
        "{}\n{}",
        reply.text(),
        streamer.output()
    );
    first_frames_decode(&voice).await;
    let key = GENERATED_BASE.to_string();
    // It plays to its end; Plex heard it all along and was told it stopped, and it was
    // watched to the end so it is marked watched.
    let reports = wait_timelines(&plex, "the stopped report", |r| {
        r.iter()
            .any(|t| t.rating_key == key && t.state == "stopped")
    })
    .await;
    let mine: Vec<&TimelineReport> = reports.iter().filter(|t| t.rating_key == key).collect();
    let playing: Vec<u64> = mine
        .iter()
        .filter(|t| t.state == "playing")
        .map(|t| t.time)
        .collect();
    assert!(playing.len() >= 3, "a report a second: {mine:?}");
    assert!(
        playing.windows(2).all(|w| w[0] <= w[1]) && playing.last() > playing.first(),
        "time increases: {playing:?}"
    );
    assert!(
        mine.iter()
            .all(|t| t.duration == u64::from(CLIP_SECONDS) * 1000)
    );
    let stopped = mine.last().expect("reports");
    assert_eq!(stopped.state, "stopped", "{mine:?}");
    assert!(stopped.time >= 5_000, "{mine:?}");
    let deadline = tokio::time::Instant::now() + ORDER_TIMEOUT;
    while !plex.scrobbles().contains(&key) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "{:?}",
            plex.scrobbles()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let parts: Vec<_> = plex
        .requests()
        .into_iter()
        .filter(|r| r.path.starts_with("/library/parts/"))
        .collect();
    assert!(
        !parts.is_empty() && parts.iter().all(|r| r.token_ok),
        "the part was downloaded with the token: {parts:?}"
    );

    // The second is on this disk and was left at 0:02: the member is asked, and resumes.
    let resume_key = (GENERATED_BASE + 1).to_string();
    let question = plex_cmd(&h, MEMBER_ID, "play", json!([item(GENERATED_BASE + 1)])).await;
    assert!(
        question.text().contains("You stopped") && question.text().contains("0:02"),
        "{}",
        question.text()
    );
    let (message, resume) = button(&h, ":choose:0");
    let skip = h.fake.requests().len();
    h.fake
        .press_button(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, message, &resume);
    let playing = h
        .fake
        .wait_for_request(skip, ORDER_TIMEOUT, |r| {
            r.method == "POST" && r.path.starts_with("/webhooks/") && r.text().contains("Playing")
        })
        .await;
    assert!(playing.text().contains("from 0:02"), "{}", playing.text());
    let resumed = wait_timelines(&plex, "the resumed item's report", |r| {
        r.iter().any(|t| t.rating_key == resume_key)
    })
    .await;
    let first = resumed
        .iter()
        .find(|t| t.rating_key == resume_key)
        .expect("a report");
    assert!(
        first.time >= RESUME_AT_MS,
        "starts at the offset: {first:?}"
    );
    assert!(
        !plex.requests().iter().any(|r| r
            .path
            .starts_with(&format!("/library/parts/{}", GENERATED_BASE + 1))),
        "a part on this disk is read from disk, not downloaded"
    );

    let stopped = stream_cmd(&h, "stop", json!([])).await;
    assert!(stopped.text().contains("Stopped"), "{}", stopped.text());
    wait_timelines(&plex, "the resumed item's stop", |r| {
        r.iter()
            .any(|t| t.rating_key == resume_key && t.state == "stopped")
    })
    .await;
    assert!(
        !plex.scrobbles().contains(&resume_key),
        "stopped early: not watched"
    );
    assert_eq!(voice.violations(), Vec::<String>::new());
    h.fake.assert_no_violations();
    plex.assert_no_violations();
    drop(streamer);
    h.finish().await;
}

/// The first report for `key` that arrived after `skip` reports.
async fn playing_after(plex: &FakePlex, skip: usize, key: u64, what: &str) -> TimelineReport {
    let key = key.to_string();
    let reports = wait_timelines(plex, what, |r| {
        r.iter()
            .skip(skip)
            .any(|t| t.rating_key == key && t.state == "playing")
    })
    .await;
    reports
        .into_iter()
        .skip(skip)
        .find(|t| t.rating_key == key && t.state == "playing")
        .expect("found above")
}

/// The watch party: a queue that starts when nothing plays, votes that pick what plays
/// next, the next entry playing when one finishes, a skip by whoever asked for it, and a
/// queue and position that survive restarting the bot and then the streamer.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_watch_party_queue_votes_skips_and_survives_restarts() {
    let Party {
        mut h,
        voice,
        plex,
        setup,
        streamer,
        _media,
        env,
    } = plex_setup(12, None).await;
    let (first, second, third) = (GENERATED_BASE, GENERATED_BASE + 1, GENERATED_BASE + 2);
    let queue = |sub: &str, options: Value| json!([{"type": 1, "name": sub, "options": options}]);

    // Nothing plays and the member is in voice: the first entry starts at once.
    let started = plex_cmd(&h, MEMBER_ID, "queue", queue("add", json!([item(first)]))).await;
    assert!(started.text().contains("Playing **"), "{}", started.text());
    playing_after(&plex, 0, first, "the first entry").await;
    for (key, at) in [(second, "#1"), (third, "#2")] {
        let added = plex_cmd(&h, MEMBER_ID, "queue", queue("add", json!([item(key)]))).await;
        assert!(added.text().contains(at), "{}", added.text());
    }
    // A vote puts the third before the second.
    let entry = |n: i64| json!([{"type": 4, "name": "entry", "value": n}]);
    let voted = plex_cmd(&h, MEMBER_ID, "vote", entry(2)).await;
    assert!(voted.text().contains("1 vote"), "{}", voted.text());
    let again = plex_cmd(&h, MEMBER_ID, "vote", entry(2)).await;
    assert!(again.text().contains("already voted"), "{}", again.text());
    let listed = plex_cmd(&h, MEMBER_ID, "queue", queue("list", json!([]))).await;
    assert!(
        listed.text().contains("#1") && listed.text().contains("1 vote"),
        "{}",
        listed.text()
    );
    crate::util::assert_pings_nobody(&listed);

    // Someone not watching may not vote or skip.
    h.fake.member_voice(GUILD_ID, None, MEMBER_ID);
    for (sub, options) in [("skip", json!([])), ("vote", entry(1))] {
        let outside = plex_cmd(&h, MEMBER_ID, sub, options).await;
        assert!(
            outside.text().contains("Join <#"),
            "{sub}: {}",
            outside.text()
        );
    }
    h.fake
        .member_voice(GUILD_ID, Some(VOICE_CHANNEL_ID), MEMBER_ID);

    // The first plays to its end; the voted entry follows by itself.
    let before = plex.timelines().len();
    playing_after(
        &plex,
        before,
        third,
        "the voted entry after the first finished",
    )
    .await;

    // The member asked for it, so their skip is at once: the second entry plays.
    let before = plex.timelines().len();
    let skipped = plex_cmd(&h, MEMBER_ID, "skip", json!([])).await;
    assert!(skipped.text().contains("Skipped"), "{}", skipped.text());
    playing_after(&plex, before, second, "the entry after the skip").await;
    let third_key = third.to_string();
    assert!(
        plex.timelines()
            .iter()
            .any(|t| t.rating_key == third_key && t.state == "stopped"),
        "the skipped item was reported stopped"
    );
    let added = plex_cmd(&h, MEMBER_ID, "queue", queue("add", json!([item(first)]))).await;
    assert!(added.text().contains("#1"), "{}", added.text());

    // The bot restarts: the streamer plays on and the queue is still there.
    let identifies = h.fake.identify_count();
    h.bot.terminate(ORDER_TIMEOUT).await;
    let pairs: Vec<(&str, &str)> = env.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let mut cmd = crate::util::lounge_command(&h.fake, &h.db, Some(lounge_tests::discord::TOKEN));
    cmd.envs(pairs.iter().copied());
    h.bot = lounge_tests::bin::Running::spawn(cmd);
    h.fake
        .wait_until("the bot back", ORDER_TIMEOUT, |f| {
            (f.identify_count() > identifies).then_some(())
        })
        .await;
    let listed = plex_cmd(&h, MEMBER_ID, "queue", queue("list", json!([]))).await;
    assert!(listed.text().contains("#1"), "{}", listed.text());

    // The streamer restarts: the bot sends it back into the channel with the same item, from
    // about where it was.
    let second_key = second.to_string();
    let last_time = plex
        .timelines()
        .iter()
        .filter(|t| t.rating_key == second_key)
        .map(|t| t.time)
        .max()
        .unwrap_or(0);
    drop(streamer);
    let before = plex.timelines().len();
    let streamer = setup.start(&h).await;
    let resumed = playing_after(&plex, before, second, "the item resumed after the restart").await;
    assert!(
        resumed.time + 11_000 >= last_time,
        "resumed from its recorded position (recorded every 10 s): {resumed:?}, last {last_time}"
    );
    assert_eq!(h.fake.user_voice_channel(GUILD_ID), Some(VOICE_CHANNEL_ID));
    assert_eq!(voice.violations(), Vec::<String>::new());
    h.fake.assert_no_violations();
    plex.assert_no_violations();
    drop(streamer);
    h.finish().await;
}
