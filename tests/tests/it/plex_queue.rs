//! The watch party's queue in the store, on both backends: order, votes, the next entry taken
//! exactly once, and the queue's limit under concurrent adds.

use std::collections::BTreeSet;
use std::sync::Arc;

use lounge_store::{MAX_QUEUE, NowPlaying, QueueError, Store};
use lounge_tests::db::TestDb;

const GUILD: u64 = 11;
const OTHER: u64 = 12;
const CHANNEL: u64 = 21;

conformance!(
    the_queue_keeps_order_through_moves_removals_and_votes,
    the_next_entry_is_taken_exactly_once_by_concurrent_takers,
    concurrent_adds_stop_at_the_limit_with_dense_positions,
    now_playing_survives_and_moves_between_guilds,
);

fn keys(entries: &[lounge_store::QueueEntry]) -> Vec<String> {
    entries.iter().map(|e| e.rating_key.clone()).collect()
}

async fn the_queue_keeps_order_through_moves_removals_and_votes(store: Store, _: &TestDb) {
    for (i, key) in ["1", "2", "3", "4"].iter().enumerate() {
        let at = store
            .queue_add(GUILD, key, &format!("Film {key}"), 100)
            .await
            .unwrap();
        assert_eq!(at, i as i64 + 1);
    }
    store.queue_add(OTHER, "9", "Elsewhere", 100).await.unwrap();
    assert_eq!(
        keys(&store.queue(GUILD).await.unwrap()),
        ["1", "2", "3", "4"]
    );

    let moved = store.queue_move(GUILD, 4, 1).await.unwrap();
    assert_eq!((moved.rating_key.as_str(), moved.position), ("4", 1));
    assert_eq!(
        keys(&store.queue(GUILD).await.unwrap()),
        ["4", "1", "2", "3"]
    );
    // Past the end means the end.
    store.queue_move(GUILD, 1, 99).await.unwrap();
    assert_eq!(
        keys(&store.queue(GUILD).await.unwrap()),
        ["1", "2", "3", "4"]
    );
    assert!(matches!(
        store.queue_move(GUILD, 7, 1).await,
        Err(QueueError::NoSuchEntry(7))
    ));

    let removed = store.queue_remove(GUILD, 2).await.unwrap();
    assert_eq!(removed.rating_key, "2");
    let left = store.queue(GUILD).await.unwrap();
    assert_eq!(keys(&left), ["1", "3", "4"]);
    assert_eq!(
        left.iter().map(|e| e.position).collect::<Vec<_>>(),
        [1, 2, 3]
    );

    // Two votes for the last entry put it next; a second vote by the same member is refused.
    assert_eq!(store.queue_vote(GUILD, 3, 500).await.unwrap(), 1);
    assert!(matches!(
        store.queue_vote(GUILD, 3, 500).await,
        Err(QueueError::AlreadyVoted(3))
    ));
    assert_eq!(store.queue_vote(GUILD, 3, 501).await.unwrap(), 2);
    assert_eq!(store.queue_vote(GUILD, 1, 502).await.unwrap(), 1);
    let next = store
        .queue_take_next(GUILD, CHANNEL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(next.rating_key, "4");
    assert_eq!(store.now_playing().await.unwrap(), Some(next.clone()));
    // Then the entry with one vote, then the one without.
    assert_eq!(
        store
            .queue_take_next(GUILD, CHANNEL)
            .await
            .unwrap()
            .unwrap()
            .rating_key,
        "1"
    );

    // An entry that could not play goes back to the head of the queue.
    let failed = store
        .queue_take_next(GUILD, CHANNEL)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(failed.rating_key, "3");
    store.queue_add(GUILD, "5", "Film 5", 100).await.unwrap();
    store.queue_put_back(&failed).await.unwrap();
    assert_eq!(keys(&store.queue(GUILD).await.unwrap()), ["3", "5"]);
    assert_eq!(store.now_playing().await.unwrap(), None);

    // Shuffle keeps the entries; clear empties this guild only.
    store
        .queue_reorder(GUILD, |order| order.reverse())
        .await
        .unwrap();
    assert_eq!(keys(&store.queue(GUILD).await.unwrap()), ["5", "3"]);
    assert!(
        store
            .queue_reorder(GUILD, |order| order.push(12_345))
            .await
            .is_err(),
        "a reorder that invents an entry is refused"
    );
    assert_eq!(store.queue_clear(GUILD).await.unwrap(), 2);
    assert!(store.queue(GUILD).await.unwrap().is_empty());
    assert_eq!(keys(&store.queue(OTHER).await.unwrap()), ["9"]);
    assert!(
        store
            .queue_take_next(GUILD, CHANNEL)
            .await
            .unwrap()
            .is_none()
    );
}

async fn the_next_entry_is_taken_exactly_once_by_concurrent_takers(store: Store, _: &TestDb) {
    const ENTRIES: usize = 24;
    for i in 0..ENTRIES {
        store
            .queue_add(GUILD, &i.to_string(), "Film", 100)
            .await
            .unwrap();
    }
    let store = Arc::new(store);
    let takers: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut taken = Vec::new();
                while let Some(now) = store.queue_take_next(GUILD, CHANNEL).await.unwrap() {
                    taken.push(now.rating_key);
                }
                taken
            })
        })
        .collect();
    let mut all = Vec::new();
    for t in takers {
        all.extend(t.await.unwrap());
    }
    assert_eq!(all.len(), ENTRIES, "each entry taken once: {all:?}");
    let distinct: BTreeSet<_> = all.iter().collect();
    assert_eq!(distinct.len(), ENTRIES);
    assert!(store.queue(GUILD).await.unwrap().is_empty());
}

async fn concurrent_adds_stop_at_the_limit_with_dense_positions(store: Store, _: &TestDb) {
    let store = Arc::new(store);
    let adders: Vec<_> = (0..MAX_QUEUE + 20)
        .map(|i| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.queue_add(GUILD, &i.to_string(), "Film", 100).await })
        })
        .collect();
    let (mut added, mut full) = (0, 0);
    for a in adders {
        match a.await.unwrap() {
            Ok(_) => added += 1,
            Err(QueueError::Full) => full += 1,
            Err(e) => panic!("{e}"),
        }
    }
    assert_eq!((added, full), (MAX_QUEUE, 20));
    let positions: Vec<i64> = store
        .queue(GUILD)
        .await
        .unwrap()
        .iter()
        .map(|e| e.position)
        .collect();
    assert_eq!(positions, (1..=MAX_QUEUE).collect::<Vec<_>>());
}

async fn now_playing_survives_and_moves_between_guilds(store: Store, db: &TestDb) {
    let now = NowPlaying {
        guild_id: GUILD,
        channel_id: CHANNEL,
        rating_key: "42".into(),
        title: "Heat (1995)".into(),
        requested_by: 100,
        position_ms: 0,
    };
    store.set_now_playing(&now).await.unwrap();
    assert!(store.set_now_position(GUILD, "42", 61_000).await.unwrap());
    assert!(
        !store.set_now_position(GUILD, "43", 5).await.unwrap(),
        "a report for another item changes nothing"
    );
    store.close().await;
    let store = db.store().await;
    let back = store.now_playing().await.unwrap().unwrap();
    assert_eq!(back.position_ms, 61_000);
    assert_eq!(back.rating_key, "42");
    // The streamer plays in one place: playing in another guild ends the first.
    store
        .set_now_playing(&NowPlaying {
            guild_id: OTHER,
            ..now.clone()
        })
        .await
        .unwrap();
    assert_eq!(store.now_playing().await.unwrap().unwrap().guild_id, OTHER);
    store.clear_now_playing(OTHER).await.unwrap();
    assert_eq!(store.now_playing().await.unwrap(), None);
}
