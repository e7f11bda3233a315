//! The music queue in the store, on both backends: order, limits, the next track taken exactly
//! once however many end-of-track events race, the loop modes, positions, history and settings.

use std::sync::Arc;

use lounge_store::{
    Ended, LoopMode, MAX_SOUNDS, MUSIC_HISTORY, MUSIC_MAX_QUEUE, MusicQueueError, MusicSettings,
    NewTrack, Sound, SoundError, Store, TrackSource,
};
use lounge_tests::db::TestDb;

const GUILD: u64 = 31;
const OTHER: u64 = 32;
const CHANNEL: u64 = 41;
const TEXT: u64 = 51;
const ALICE: u64 = 100;
const BOB: u64 = 101;

conformance!(
    the_queue_keeps_order_through_adds_next_moves_and_removals,
    limits_hold_for_members_and_the_whole_queue,
    concurrent_adds_stop_at_the_limit_with_dense_positions,
    racing_track_ends_advance_the_queue_exactly_once,
    the_loop_modes_replay_the_track_or_requeue_it,
    positions_history_and_settings_persist,
    sounds_are_named_once_limited_and_share_their_files,
);

fn track(title: &str) -> NewTrack {
    NewTrack {
        title: title.to_owned(),
        url: format!("https://example.invalid/{title}"),
        source: TrackSource::YtDlp,
        duration_ms: Some(60_000),
    }
}

async fn titles(store: &Store, guild: u64) -> Vec<String> {
    let queue = store.music_queue(guild).await.unwrap();
    let positions: Vec<i64> = queue.iter().map(|t| t.position).collect();
    let dense: Vec<i64> = (1..=i64::try_from(queue.len()).unwrap()).collect();
    assert_eq!(positions, dense, "positions are dense");
    queue.into_iter().map(|t| t.title).collect()
}

async fn the_queue_keeps_order_through_adds_next_moves_and_removals(store: Store, _: &TestDb) {
    let at = store
        .music_add(GUILD, &[track("a"), track("b")], ALICE, false, None)
        .await
        .unwrap();
    assert_eq!(at, 1);
    let at = store
        .music_add(GUILD, &[track("c")], BOB, false, None)
        .await
        .unwrap();
    assert_eq!(at, 3);
    let at = store
        .music_add(GUILD, &[track("next")], BOB, true, None)
        .await
        .unwrap();
    assert_eq!(at, 1);
    assert_eq!(titles(&store, GUILD).await, ["next", "a", "b", "c"]);
    let moved = store.music_move(GUILD, 4, 2).await.unwrap();
    assert_eq!((moved.title.as_str(), moved.position), ("c", 2));
    assert_eq!(titles(&store, GUILD).await, ["next", "c", "a", "b"]);
    // Past the end goes to the end.
    store.music_move(GUILD, 1, 99).await.unwrap();
    assert_eq!(titles(&store, GUILD).await, ["c", "a", "b", "next"]);
    let removed = store.music_remove(GUILD, 2).await.unwrap();
    assert_eq!(removed.title, "a");
    assert_eq!(removed.requested_by, ALICE);
    assert!(matches!(
        store.music_remove(GUILD, 9).await,
        Err(MusicQueueError::NoSuchEntry(9))
    ));
    assert_eq!(titles(&store, GUILD).await, ["c", "b", "next"]);
    store
        .music_reorder(GUILD, |order| order.reverse())
        .await
        .unwrap();
    assert_eq!(titles(&store, GUILD).await, ["next", "b", "c"]);
    // A reorder that loses a track is refused and changes nothing.
    assert!(
        store
            .music_reorder(GUILD, |order| {
                order.pop();
            })
            .await
            .is_err()
    );
    assert_eq!(titles(&store, GUILD).await, ["next", "b", "c"]);
    // Another guild's queue is its own.
    assert!(titles(&store, OTHER).await.is_empty());
    assert_eq!(store.music_clear(GUILD).await.unwrap(), 3);
    assert!(titles(&store, GUILD).await.is_empty());
}

async fn limits_hold_for_members_and_the_whole_queue(store: Store, _: &TestDb) {
    store
        .music_add(GUILD, &[track("a"), track("b")], ALICE, false, Some(3))
        .await
        .unwrap();
    // All or nothing: two more would make four.
    assert!(matches!(
        store
            .music_add(GUILD, &[track("c"), track("d")], ALICE, false, Some(3))
            .await,
        Err(MusicQueueError::UserLimit(3))
    ));
    assert_eq!(titles(&store, GUILD).await, ["a", "b"]);
    // Someone else still may.
    store
        .music_add(GUILD, &[track("c"), track("d")], BOB, false, Some(3))
        .await
        .unwrap();
    let many: Vec<NewTrack> = (0..MUSIC_MAX_QUEUE - 4)
        .map(|i| track(&format!("t{i}")))
        .collect();
    store
        .music_add(GUILD, &many, BOB, false, None)
        .await
        .unwrap();
    assert!(matches!(
        store
            .music_add(GUILD, &[track("over")], BOB, false, None)
            .await,
        Err(MusicQueueError::Full)
    ));
    assert_eq!(
        store.music_queue(GUILD).await.unwrap().len(),
        usize::try_from(MUSIC_MAX_QUEUE).unwrap()
    );
}

async fn concurrent_adds_stop_at_the_limit_with_dense_positions(store: Store, _: &TestDb) {
    let store = Arc::new(store);
    let near: Vec<NewTrack> = (0..MUSIC_MAX_QUEUE - 5)
        .map(|i| track(&format!("t{i}")))
        .collect();
    store
        .music_add(GUILD, &near, ALICE, false, None)
        .await
        .unwrap();
    let tasks: Vec<_> = (0..12)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .music_add(GUILD, &[track(&format!("late{i}"))], BOB + i, false, None)
                    .await
            })
        })
        .collect();
    let mut added = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(_) => added += 1,
            Err(MusicQueueError::Full) => {}
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    assert_eq!(added, 5, "exactly the room left");
    assert_eq!(
        titles(&store, GUILD).await.len(),
        usize::try_from(MUSIC_MAX_QUEUE).unwrap()
    );
}

async fn racing_track_ends_advance_the_queue_exactly_once(store: Store, _: &TestDb) {
    let store = Arc::new(store);
    let tracks: Vec<NewTrack> = ["one", "two", "three", "four"]
        .iter()
        .map(|t| track(t))
        .collect();
    store
        .music_add(GUILD, &tracks, ALICE, false, None)
        .await
        .unwrap();
    let first = store
        .music_advance(GUILD, CHANNEL, TEXT, Ended::Skipped, None)
        .await
        .unwrap()
        .expect("a track plays");
    assert_eq!(first.track.title, "one");
    assert_eq!((first.channel_id, first.text_channel_id), (CHANNEL, TEXT));
    // The track's end and several skips of the same play, all at once.
    let tasks: Vec<_> = (0..8)
        .map(|i| {
            let store = store.clone();
            let ended = if i % 2 == 0 {
                Ended::Finished
            } else {
                Ended::Skipped
            };
            tokio::spawn(async move {
                store
                    .music_advance(GUILD, CHANNEL, TEXT, ended, Some(first.started_at))
                    .await
                    .unwrap()
            })
        })
        .collect();
    for t in tasks {
        let now = t.await.unwrap().expect("something plays");
        assert_eq!(now.track.title, "two", "every racer sees the one advance");
    }
    assert_eq!(titles(&store, GUILD).await, ["three", "four"]);
    let history = store.music_history(GUILD).await.unwrap();
    assert_eq!(history.len(), 1, "the first track ended once");
    assert_eq!(history[0].title, "one");
    // When the queue runs out, nothing plays.
    for _ in 0..3 {
        store
            .music_advance(GUILD, CHANNEL, TEXT, Ended::Finished, None)
            .await
            .unwrap();
    }
    assert!(store.music_now(GUILD).await.unwrap().is_none());
    assert_eq!(store.music_history(GUILD).await.unwrap().len(), 4);
}

async fn the_loop_modes_replay_the_track_or_requeue_it(store: Store, _: &TestDb) {
    store
        .music_add(
            GUILD,
            &[track("a"), track("b"), track("c")],
            ALICE,
            false,
            None,
        )
        .await
        .unwrap();
    let a = store
        .music_advance(GUILD, CHANNEL, TEXT, Ended::Skipped, None)
        .await
        .unwrap()
        .unwrap();
    let mut settings = store.music_settings(GUILD).await.unwrap();
    settings.loop_mode = LoopMode::Track;
    store.set_music_settings(GUILD, &settings).await.unwrap();
    let again = store
        .music_advance(GUILD, CHANNEL, TEXT, Ended::Finished, Some(a.started_at))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(again.track.title, "a", "the track loops");
    assert_ne!(again.started_at, a.started_at, "as a new play");
    assert_eq!(titles(&store, GUILD).await, ["b", "c"]);
    // A skip moves on even while the track loops.
    let b = store
        .music_advance(GUILD, CHANNEL, TEXT, Ended::Skipped, Some(again.started_at))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b.track.title, "b");
    settings.loop_mode = LoopMode::Queue;
    store.set_music_settings(GUILD, &settings).await.unwrap();
    // With the queue looping, what finished goes back in line.
    let c = store
        .music_advance(GUILD, CHANNEL, TEXT, Ended::Finished, Some(b.started_at))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(c.track.title, "c");
    assert_eq!(titles(&store, GUILD).await, ["b"]);
    let b_again = store
        .music_advance(GUILD, CHANNEL, TEXT, Ended::Finished, Some(c.started_at))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(b_again.track.title, "b");
    assert_eq!(
        b_again.track.requested_by, ALICE,
        "a requeued track keeps its requester"
    );
    assert_eq!(titles(&store, GUILD).await, ["c"]);
}

async fn positions_history_and_settings_persist(store: Store, _: &TestDb) {
    assert_eq!(
        store.music_settings(GUILD).await.unwrap(),
        MusicSettings::default()
    );
    store
        .music_add(GUILD, &[track("a")], ALICE, false, None)
        .await
        .unwrap();
    store
        .music_add(OTHER, &[track("x")], BOB, false, None)
        .await
        .unwrap();
    let a = store
        .music_advance(GUILD, CHANNEL, TEXT, Ended::Skipped, None)
        .await
        .unwrap()
        .unwrap();
    store
        .music_advance(OTHER, CHANNEL + 1, TEXT, Ended::Skipped, None)
        .await
        .unwrap()
        .unwrap();
    assert!(
        store
            .music_save_position(GUILD, a.started_at, 12_345, true)
            .await
            .unwrap()
    );
    assert!(
        !store
            .music_save_position(GUILD, a.started_at + 1, 1, false)
            .await
            .unwrap(),
        "a stale play's position is not saved"
    );
    let playing = store.music_playing().await.unwrap();
    assert_eq!(playing.len(), 2, "both guilds resume after a restart");
    let now = playing.iter().find(|n| n.guild_id == GUILD).unwrap();
    assert_eq!((now.position_ms, now.paused), (12_345, true));
    store
        .music_set_duration(GUILD, a.started_at, 99_000)
        .await
        .unwrap();
    assert_eq!(
        store
            .music_now(GUILD)
            .await
            .unwrap()
            .unwrap()
            .track
            .duration_ms,
        Some(99_000)
    );
    let stopped = store.music_stop(GUILD).await.unwrap().unwrap();
    assert_eq!(stopped.track.title, "a");
    assert!(store.music_now(GUILD).await.unwrap().is_none());
    assert_eq!(store.music_playing().await.unwrap().len(), 1);

    let settings = MusicSettings {
        volume: 150,
        loop_mode: LoopMode::Queue,
        dj_role: Some(777),
        always_on: true,
    };
    store.set_music_settings(GUILD, &settings).await.unwrap();
    assert_eq!(store.music_settings(GUILD).await.unwrap(), settings);
    // Out of range is clamped, never stored.
    store
        .set_music_settings(
            GUILD,
            &MusicSettings {
                volume: 900,
                ..settings
            },
        )
        .await
        .unwrap();
    assert_eq!(store.music_settings(GUILD).await.unwrap().volume, 200);

    // The history keeps the last MUSIC_HISTORY plays, newest first.
    let many: Vec<NewTrack> = (0..MUSIC_HISTORY + 5)
        .map(|i| track(&format!("h{i}")))
        .collect();
    store
        .music_add(GUILD, &many, ALICE, false, None)
        .await
        .unwrap();
    store
        .set_music_settings(GUILD, &MusicSettings::default())
        .await
        .unwrap();
    for _ in 0..=MUSIC_HISTORY + 5 {
        store
            .music_advance(GUILD, CHANNEL, TEXT, Ended::Finished, None)
            .await
            .unwrap();
    }
    let history = store.music_history(GUILD).await.unwrap();
    assert_eq!(history.len(), usize::try_from(MUSIC_HISTORY).unwrap());
    assert_eq!(history[0].title, format!("h{}", MUSIC_HISTORY + 4));
}

fn clip(name: &str, sha: &str) -> Sound {
    Sound {
        name: name.to_owned(),
        sha256: sha.to_owned(),
        duration_ms: 1500,
        size_bytes: 20_000,
        added_by: ALICE,
        plays: 0,
    }
}

async fn sounds_are_named_once_limited_and_share_their_files(store: Store, _: &TestDb) {
    let store = Arc::new(store);
    store.sound_add(GUILD, &clip("horn", "aa11")).await.unwrap();
    assert!(matches!(
        store.sound_add(GUILD, &clip("horn", "bb22")).await,
        Err(SoundError::Exists(name)) if name == "horn"
    ));
    // The same bytes in another guild: one file, still used after one guild removes it.
    store.sound_add(OTHER, &clip("horn", "aa11")).await.unwrap();
    let (removed, still_used) = store.sound_remove(GUILD, "horn").await.unwrap().unwrap();
    assert_eq!((removed.sha256.as_str(), still_used), ("aa11", true));
    let (_, still_used) = store.sound_remove(OTHER, "horn").await.unwrap().unwrap();
    assert!(!still_used, "the last user of the bytes is gone");
    assert!(store.sound_remove(OTHER, "horn").await.unwrap().is_none());
    // Concurrent adds stop at the limit.
    let tasks: Vec<_> = (0..MAX_SOUNDS + 10)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .sound_add(GUILD, &clip(&format!("s{i}"), "cc33"))
                    .await
            })
        })
        .collect();
    let mut added = 0;
    for t in tasks {
        match t.await.unwrap() {
            Ok(()) => added += 1,
            Err(SoundError::Full) => {}
            Err(e) => panic!("unexpected: {e}"),
        }
    }
    assert_eq!(added, MAX_SOUNDS);
    assert_eq!(
        store.sounds(GUILD).await.unwrap().len(),
        usize::try_from(MAX_SOUNDS).unwrap()
    );
    // Which hundred won the race is the scheduler's business: count a play of one of them.
    let kept = store.sounds(GUILD).await.unwrap()[0].name.clone();
    store.sound_played(GUILD, &kept).await.unwrap();
    assert_eq!(store.sound(GUILD, &kept).await.unwrap().unwrap().plays, 1);
    assert_eq!(store.gif_rating(GUILD).await.unwrap(), None);
    store.set_gif_rating(GUILD, "pg-13").await.unwrap();
    store.set_gif_rating(GUILD, "g").await.unwrap();
    assert_eq!(store.gif_rating(GUILD).await.unwrap().as_deref(), Some("g"));
}
