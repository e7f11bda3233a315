//! The OSRS game: storage conformance on both backends (payouts exactly once, also under
//! concurrent claimers), and end to end through the fake Discord (trips posted where they
//! started, including trips that end while no bot is running).

use std::collections::BTreeMap;
use std::sync::Arc;

use lounge_osrs::{
    Amount, Assignment, Bank, Character, CombatStyle, Skill, Skills, TripOutcome, TripRequest, data,
};
use lounge_store::{
    AccountMode, Backend, Board, NewCharacter, NewTrip, OsrsStoreError, SlayerResult, Store,
    TripKind,
};
use lounge_tests::bin::Running;
use lounge_tests::db::TestDb;
use lounge_tests::discord::{
    FakeDiscord, GENERAL_CHANNEL_ID, GUILD_ID, MEMBER_ID, MOD_ID, OTHER_CHANNEL_ID, Recorded, TOKEN,
};
use rand::SeedableRng;
use serde_json::json;

use crate::util::{
    Harness, READY_TIMEOUT, REPLY_TIMEOUT, assert_pings_nobody, is_channel_post, lounge_command,
};

conformance!(
    osrs_characters_are_unique_by_user_and_name,
    osrs_trip_is_paid_once_and_supplies_taken_at_start,
    osrs_concurrent_claimers_pay_a_trip_exactly_once,
    osrs_missing_supplies_refuse_the_trip,
    osrs_equipping_swaps_through_the_bank,
    osrs_travel_moves_the_character,
    osrs_leaderboards_rank_per_guild_and_globally,
    osrs_achievements_are_granted_once,
    osrs_owed_result_is_taken_by_one_process_after_its_lease,
    osrs_slayer_task_counts_kills_once_and_pays_on_completion,
    osrs_concurrent_payouts_count_task_kills_once,
    osrs_skip_racing_the_completing_payout_settles_one_way,
    osrs_unreadable_trips_end_refunded_without_holding_up_the_rest,
);

fn item(name: &str) -> u32 {
    data().item_by_name(name).expect("item in the data").id
}

async fn make_character(store: &Store, user: u64, name: &str) {
    let mut bank = Bank::new();
    bank.add(item("Shrimps"), 10);
    bank.add(item("Bronze axe"), 1);
    store
        .osrs_create_character(&NewCharacter {
            user,
            name,
            mode: AccountMode::Members,
            world: 302,
            location: "Lumbridge",
            bank: &bank,
            equipment: &[("weapon", item("Bronze sword"))],
        })
        .await
        .expect("create character");
}

/// A combat trip that ended a second ago: `xp` Strength, `bones` Bones, 2 Shrimps eaten.
fn due_trip(user: u64, xp: u64, bones: u64) -> NewTrip {
    let mut loot = Bank::new();
    loot.add(item("Bones"), bones);
    let mut consumed = Bank::new();
    consumed.add(item("Shrimps"), 2);
    let now = chrono_now();
    NewTrip {
        user,
        guild: Some(GUILD_ID),
        channel: GENERAL_CHANNEL_ID,
        kind: TripKind::Kill,
        target: "Goblin".into(),
        seed: 7,
        outcome: Some(TripOutcome {
            duration_secs: 60,
            completed: bones,
            xp: BTreeMap::from([(Skill::Strength, xp)]),
            loot,
            consumed,
            events: Vec::new(),
        }),
        consumed: {
            let mut c = Bank::new();
            c.add(item("Shrimps"), 2);
            c
        },
        started_at: now - 61_000,
        ends_at: now - 1_000,
        slayer_task: None,
    }
}

fn chrono_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .expect("clock after 1970")
        .as_millis() as i64
}

async fn osrs_characters_are_unique_by_user_and_name(store: Store, _: &TestDb) {
    make_character(&store, 1, "Zezima").await;
    let ch = store.osrs_character(1).await.unwrap().expect("stored");
    assert_eq!(
        (ch.name.as_str(), ch.mode, ch.world, ch.location.as_str()),
        ("Zezima", AccountMode::Members, 302, "Lumbridge")
    );
    assert_eq!(ch.skills.level(Skill::Hitpoints), 10);
    assert_eq!(ch.skills.total_level(), 33);
    assert_eq!(
        store.osrs_bank(1).await.unwrap().amount(item("Shrimps")),
        10
    );
    assert_eq!(
        store.osrs_equipment(1).await.unwrap(),
        vec![("weapon".to_owned(), item("Bronze sword"))]
    );
    assert!(store.osrs_character(2).await.unwrap().is_none());

    let err = store
        .osrs_create_character(&NewCharacter {
            user: 1,
            name: "Another",
            mode: AccountMode::Free,
            world: 301,
            location: "Lumbridge",
            bank: &Bank::new(),
            equipment: &[],
        })
        .await
        .unwrap_err();
    assert!(
        matches!(err, OsrsStoreError::AlreadyHasCharacter),
        "{err:?}"
    );
    let err = store
        .osrs_create_character(&NewCharacter {
            user: 2,
            name: "ZEZIMA",
            mode: AccountMode::Free,
            world: 301,
            location: "Lumbridge",
            bank: &Bank::new(),
            equipment: &[],
        })
        .await
        .unwrap_err();
    assert!(matches!(err, OsrsStoreError::NameTaken), "{err:?}");
    assert!(store.osrs_character(2).await.unwrap().is_none());
}

async fn osrs_trip_is_paid_once_and_supplies_taken_at_start(store: Store, _: &TestDb) {
    make_character(&store, 1, "Zezima").await;
    let before = store.osrs_character(1).await.unwrap().unwrap().skills;
    let id = store.osrs_start_trip(&due_trip(1, 500, 4)).await.unwrap();
    // Supplies leave the bank when the trip starts; loot arrives only at the payout.
    let bank = store.osrs_bank(1).await.unwrap();
    assert_eq!(bank.amount(item("Shrimps")), 8);
    assert_eq!(bank.amount(item("Bones")), 0);
    let err = store.osrs_start_trip(&due_trip(1, 1, 1)).await.unwrap_err();
    assert!(matches!(err, OsrsStoreError::TripRunning), "{err:?}");
    assert_eq!(store.osrs_bank(1).await.unwrap().amount(item("Shrimps")), 8);

    assert_eq!(
        store.osrs_due_trips(chrono_now(), 10).await.unwrap(),
        vec![id]
    );
    assert_eq!(store.osrs_due_trip_count(chrono_now()).await.unwrap(), 1);
    let active = store.osrs_active_trip(1).await.unwrap().expect("active");
    assert_eq!(active.id, id);
    assert_eq!(active.seed, 7);

    let paid = store.osrs_claim_trip(id).await.unwrap().expect("paid now");
    assert_eq!(paid.outcome, active.outcome);
    assert!(store.osrs_claim_trip(id).await.unwrap().is_none());
    assert!(
        store
            .osrs_due_trips(chrono_now(), 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.osrs_due_trip_count(chrono_now()).await.unwrap(), 0);
    assert!(store.osrs_active_trip(1).await.unwrap().is_none());
    assert_eq!(
        store.osrs_last_trip(1).await.unwrap().map(|t| t.id),
        Some(id)
    );

    let after = store.osrs_character(1).await.unwrap().unwrap().skills;
    assert_eq!(after.xp(Skill::Strength), before.xp(Skill::Strength) + 500);
    assert_eq!(after.level(Skill::Strength), 5);
    assert_eq!(store.osrs_bank(1).await.unwrap().amount(item("Bones")), 4);
    assert_eq!(
        store.osrs_kills(1).await.unwrap(),
        vec![("Goblin".to_owned(), 4)]
    );
    // The stored level follows the experience (the leaderboards read it).
    let board = store
        .osrs_leaderboard(Board::TotalLevel, None, 10)
        .await
        .unwrap();
    assert_eq!(board[0].value, i64::from(after.total_level()));
    // Free again: a new trip may start.
    store.osrs_start_trip(&due_trip(1, 1, 1)).await.unwrap();
    // The worker sleeps until the next trip ends; due ones don't count (they are being paid).
    assert_eq!(store.osrs_next_trip_end(chrono_now()).await.unwrap(), None);
    make_character(&store, 2, "Later").await;
    let mut later = due_trip(2, 1, 1);
    later.ends_at = chrono_now() + 60_000;
    store.osrs_start_trip(&later).await.unwrap();
    assert_eq!(
        store.osrs_next_trip_end(chrono_now()).await.unwrap(),
        Some(later.ends_at)
    );
    // The backlog counts the due trip only, not the one still running.
    assert_eq!(store.osrs_due_trip_count(chrono_now()).await.unwrap(), 1);
}

/// Several processes catching up at once all try to claim the same due trips: each trip must
/// be paid by exactly one claimer, and credited exactly once.
async fn osrs_concurrent_claimers_pay_a_trip_exactly_once(store: Store, _: &TestDb) {
    const USERS: u64 = 5;
    const CLAIMERS: usize = 12;
    let mut ids = Vec::new();
    for user in 1..=USERS {
        make_character(&store, user, &format!("Player {user}")).await;
        ids.push(
            store
                .osrs_start_trip(&due_trip(user, 1_000, 3))
                .await
                .unwrap(),
        );
    }
    let store = Arc::new(store);
    let mut tasks = Vec::new();
    for &id in &ids {
        for _ in 0..CLAIMERS {
            let store = store.clone();
            tasks.push(tokio::spawn(async move {
                (id, store.osrs_claim_trip(id).await)
            }));
        }
    }
    let mut wins: BTreeMap<i64, usize> = BTreeMap::new();
    for task in tasks {
        let (id, result) = task.await.unwrap();
        match result {
            Ok(Some(trip)) => {
                assert_eq!(trip.id, id);
                *wins.entry(id).or_default() += 1;
            }
            Ok(None) => {}
            Err(e) => panic!("claiming trip {id} failed: {e:?}"),
        }
    }
    for &id in &ids {
        assert_eq!(wins.get(&id), Some(&1), "trip {id} was paid {wins:?} times");
    }
    for user in 1..=USERS {
        let skills = store.osrs_character(user).await.unwrap().unwrap().skills;
        assert_eq!(skills.xp(Skill::Strength), 1_000, "user {user}");
        assert_eq!(
            store.osrs_bank(user).await.unwrap().amount(item("Bones")),
            3
        );
        assert_eq!(
            store.osrs_kills(user).await.unwrap(),
            vec![("Goblin".to_owned(), 3)]
        );
    }
}

async fn osrs_missing_supplies_refuse_the_trip(store: Store, _: &TestDb) {
    make_character(&store, 1, "Zezima").await;
    let mut trip = due_trip(1, 10, 1);
    trip.consumed = Bank::new();
    trip.consumed.add(item("Shrimps"), 11);
    let err = store.osrs_start_trip(&trip).await.unwrap_err();
    assert!(
        matches!(
            err,
            OsrsStoreError::MissingItem {
                needed: 11,
                have: 10,
                ..
            }
        ),
        "{err:?}"
    );
    // Nothing of the refused trip stays behind.
    assert!(store.osrs_active_trip(1).await.unwrap().is_none());
    assert_eq!(
        store.osrs_bank(1).await.unwrap().amount(item("Shrimps")),
        10
    );
    // Using up the last of an item removes it from the bank.
    trip.consumed = Bank::new();
    trip.consumed.add(item("Shrimps"), 10);
    store.osrs_start_trip(&trip).await.unwrap();
    let bank = store.osrs_bank(1).await.unwrap();
    assert_eq!(bank.amount(item("Shrimps")), 0);
    assert!(bank.iter().all(|(_, q)| q > 0));
}

async fn osrs_equipping_swaps_through_the_bank(store: Store, _: &TestDb) {
    make_character(&store, 1, "Zezima").await;
    let (axe, sword) = (item("Bronze axe"), item("Bronze sword"));
    let removed = store
        .osrs_equip(1, axe, "weapon", &["shield"])
        .await
        .unwrap();
    assert_eq!(removed, vec![sword]);
    let bank = store.osrs_bank(1).await.unwrap();
    assert_eq!((bank.amount(axe), bank.amount(sword)), (0, 1));
    assert_eq!(
        store.osrs_equipment(1).await.unwrap(),
        vec![("weapon".to_owned(), axe)]
    );
    let err = store.osrs_equip(1, axe, "weapon", &[]).await.unwrap_err();
    assert!(matches!(err, OsrsStoreError::MissingItem { .. }), "{err:?}");
    assert_eq!(store.osrs_unequip(1, "weapon").await.unwrap(), Some(axe));
    assert_eq!(store.osrs_unequip(1, "weapon").await.unwrap(), None);
    assert_eq!(store.osrs_bank(1).await.unwrap().amount(axe), 1);
    assert!(store.osrs_equipment(1).await.unwrap().is_empty());
}

async fn osrs_travel_moves_the_character(store: Store, _: &TestDb) {
    make_character(&store, 1, "Zezima").await;
    let mut trip = due_trip(1, 0, 0);
    trip.kind = TripKind::Travel;
    trip.target = "Draynor Village".into();
    trip.outcome = None;
    trip.consumed = Bank::new();
    let id = store.osrs_start_trip(&trip).await.unwrap();
    let paid = store.osrs_claim_trip(id).await.unwrap().expect("paid");
    assert_eq!(paid.kind, TripKind::Travel);
    assert!(paid.outcome.is_none());
    let ch = store.osrs_character(1).await.unwrap().unwrap();
    assert_eq!(ch.location, "Draynor Village");
    assert!(store.osrs_kills(1).await.unwrap().is_empty());
}

async fn osrs_leaderboards_rank_per_guild_and_globally(store: Store, _: &TestDb) {
    for (user, name, xp, kills) in [
        (1, "Alpha", 100, 2),
        (2, "Bravo", 5_000, 9),
        (3, "Charlie", 40_000, 1),
    ] {
        make_character(&store, user, name).await;
        let id = store
            .osrs_start_trip(&due_trip(user, xp, kills))
            .await
            .unwrap();
        store.osrs_claim_trip(id).await.unwrap().expect("paid");
    }
    // Charlie plays only in another guild.
    store.osrs_note_guild(GUILD_ID, 1).await.unwrap();
    store.osrs_note_guild(GUILD_ID, 2).await.unwrap();
    store.osrs_note_guild(GUILD_ID, 2).await.unwrap();
    store.osrs_note_guild(99, 3).await.unwrap();

    let names = |rows: Vec<lounge_store::Ranked>| -> Vec<(String, i64)> {
        rows.into_iter().map(|r| (r.name, r.value)).collect()
    };
    let global = names(
        store
            .osrs_leaderboard(Board::Skill(Skill::Strength), None, 10)
            .await
            .unwrap(),
    );
    assert_eq!(
        global,
        vec![
            ("Charlie".to_owned(), 40_000),
            ("Bravo".to_owned(), 5_000),
            ("Alpha".to_owned(), 100)
        ]
    );
    let here = names(
        store
            .osrs_leaderboard(Board::Skill(Skill::Strength), Some(GUILD_ID), 10)
            .await
            .unwrap(),
    );
    assert_eq!(
        here,
        vec![("Bravo".to_owned(), 5_000), ("Alpha".to_owned(), 100)]
    );
    let kills = names(
        store
            .osrs_leaderboard(Board::Kills("Goblin"), Some(GUILD_ID), 10)
            .await
            .unwrap(),
    );
    assert_eq!(
        kills,
        vec![("Bravo".to_owned(), 9), ("Alpha".to_owned(), 2)]
    );
    let total = store
        .osrs_leaderboard(Board::TotalLevel, None, 2)
        .await
        .unwrap();
    assert_eq!(total.len(), 2);
    assert_eq!(total[0].name, "Charlie");
    assert!(total[0].value > total[1].value);
    assert!(
        store
            .osrs_leaderboard(Board::Kills("Zulrah"), None, 10)
            .await
            .unwrap()
            .is_empty()
    );
}

async fn osrs_achievements_are_granted_once(store: Store, _: &TestDb) {
    make_character(&store, 1, "Zezima").await;
    let first = store
        .osrs_grant_achievements(1, &["kills_1", "total_500"])
        .await
        .unwrap();
    assert_eq!(first, vec!["kills_1".to_owned(), "total_500".to_owned()]);
    let again = store
        .osrs_grant_achievements(1, &["kills_1", "kills_100"])
        .await
        .unwrap();
    assert_eq!(again, vec!["kills_100".to_owned()]);
    let all: Vec<String> = store
        .osrs_achievements(1)
        .await
        .unwrap()
        .into_iter()
        .map(|a| a.0)
        .collect();
    assert_eq!(all.len(), 3);
}

/// A paid trip's result is owed until recorded as posted. The payer holds the lease; once
/// it runs out, one of many racing processes takes it, and the achievements it announces are
/// fixed by the first attempt.
async fn osrs_owed_result_is_taken_by_one_process_after_its_lease(store: Store, _: &TestDb) {
    make_character(&store, 1, "Owed").await;
    let id = store.osrs_start_trip(&due_trip(1, 100, 2)).await.unwrap();
    let now = chrono_now();
    assert!(
        store
            .osrs_owed_announcements(now, 10)
            .await
            .unwrap()
            .is_empty()
    );
    store.osrs_claim_trip(id).await.unwrap().expect("paid");
    // The payer's lease: nobody else may post it yet.
    assert!(
        store
            .osrs_owed_announcements(now, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .osrs_take_announcement(id, now)
            .await
            .unwrap()
            .is_none()
    );

    let later = now + lounge_store::ANNOUNCE_LEASE_MS + 1_000;
    assert_eq!(
        store.osrs_owed_announcements(later, 10).await.unwrap(),
        vec![id]
    );
    let store = Arc::new(store);
    let racers: Vec<_> = (0..8)
        .map(|_| {
            let store = Arc::clone(&store);
            tokio::spawn(async move { store.osrs_take_announcement(id, later).await.unwrap() })
        })
        .collect();
    let mut taken = 0;
    for r in racers {
        if let Some(trip) = r.await.unwrap() {
            assert_eq!(trip.id, id);
            assert!(!trip.active);
            taken += 1;
        }
    }
    assert_eq!(taken, 1, "the lease was taken {taken} times");
    // Taken again, it is not owed until that lease runs out too.
    assert!(
        store
            .osrs_owed_announcements(later, 10)
            .await
            .unwrap()
            .is_empty()
    );

    let first = vec!["First blood".to_owned()];
    assert_eq!(store.osrs_fix_earned(id, &first).await.unwrap(), first);
    assert_eq!(store.osrs_fix_earned(id, &[]).await.unwrap(), first);
    assert_eq!(
        store.osrs_trip(id).await.unwrap().unwrap().earned,
        Some(first)
    );

    store.osrs_mark_announced(id, later).await.unwrap();
    let much_later = later + 10 * lounge_store::ANNOUNCE_LEASE_MS;
    assert!(
        store
            .osrs_owed_announcements(much_later, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        store
            .osrs_take_announcement(id, much_later)
            .await
            .unwrap()
            .is_none()
    );
}

/// A Vannaka task of `quantity` goblins, as the engine would give it.
fn goblins(quantity: u32) -> Assignment {
    Assignment {
        master: "Vannaka".into(),
        category: "goblins".into(),
        quantity,
    }
}

/// Sets a character's Slayer points and completed tasks, as if earned before.
async fn set_slayer(store: &Store, user: u64, points: i64, streak: i64) {
    sqlx::query(
        "INSERT INTO osrs_slayer (user_id, points, streak) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id) DO UPDATE SET points = excluded.points, streak = excluded.streak",
    )
    .bind(user as i64)
    .bind(points)
    .bind(streak)
    .execute(store.pool())
    .await
    .unwrap();
}

/// A due kill trip of `kills` goblins on Slayer task `task`.
fn task_trip(user: u64, kills: u64, task: i64) -> NewTrip {
    let mut trip = due_trip(user, 10, kills);
    trip.slayer_task = Some(task);
    trip
}

async fn osrs_slayer_task_counts_kills_once_and_pays_on_completion(store: Store, _: &TestDb) {
    make_character(&store, 1, "Slayer").await;
    let fresh = store.osrs_slayer_status(1).await.unwrap();
    assert_eq!((fresh.points, fresh.streak, fresh.task), (0, 0, None));
    let task = store
        .osrs_assign_slayer_task(1, &goblins(10))
        .await
        .unwrap();
    assert_eq!((task.quantity, task.remaining), (10, 10));
    let err = store
        .osrs_assign_slayer_task(1, &goblins(5))
        .await
        .unwrap_err();
    assert!(matches!(err, OsrsStoreError::TaskAssigned), "{err:?}");

    // Four kills count once, however often the trip is claimed.
    let id = store
        .osrs_start_trip(&task_trip(1, 4, task.id))
        .await
        .unwrap();
    let paid = store.osrs_claim_trip(id).await.unwrap().expect("paid");
    let progress = SlayerResult {
        master: "Vannaka".into(),
        category: "goblins".into(),
        remaining: 6,
        completed: false,
        points: 0,
        streak: 0,
    };
    assert_eq!(paid.slayer.as_ref(), Some(&progress));
    assert!(store.osrs_claim_trip(id).await.unwrap().is_none());
    // Stored with the trip, so a re-post of the result says the same.
    assert_eq!(
        store.osrs_trip(id).await.unwrap().unwrap().slayer,
        Some(progress)
    );
    assert_eq!(
        store.osrs_slayer_task(1).await.unwrap().unwrap().remaining,
        6
    );

    // The rest completes it: the 10th task from Vannaka is worth 20 points.
    set_slayer(&store, 1, 0, 9).await;
    let id = store
        .osrs_start_trip(&task_trip(1, 6, task.id))
        .await
        .unwrap();
    let paid = store.osrs_claim_trip(id).await.unwrap().expect("paid");
    let done = paid.slayer.expect("counted");
    assert_eq!(
        (done.completed, done.remaining, done.points, done.streak),
        (true, 0, 20, 10)
    );
    let status = store.osrs_slayer_status(1).await.unwrap();
    assert_eq!((status.points, status.streak, status.task), (20, 10, None));

    // Skipping costs 30: refused with 20, and the task stays.
    let next = store.osrs_assign_slayer_task(1, &goblins(7)).await.unwrap();
    let err = store.osrs_skip_slayer_task(1, 30).await.unwrap_err();
    assert!(
        matches!(
            err,
            OsrsStoreError::NotEnoughPoints {
                needed: 30,
                have: 20
            }
        ),
        "{err:?}"
    );
    assert_eq!(
        store.osrs_slayer_task(1).await.unwrap().map(|t| t.id),
        Some(next.id)
    );
    // A trip started on the task, then the task is skipped: the trip's kills count for
    // nothing and pay no points.
    let id = store
        .osrs_start_trip(&task_trip(1, 7, next.id))
        .await
        .unwrap();
    set_slayer(&store, 1, 45, 10).await;
    let (skipped, left) = store.osrs_skip_slayer_task(1, 30).await.unwrap();
    assert_eq!((skipped.id, left), (next.id, 15));
    let paid = store.osrs_claim_trip(id).await.unwrap().expect("paid");
    assert_eq!(paid.slayer, None);
    let status = store.osrs_slayer_status(1).await.unwrap();
    assert_eq!((status.points, status.streak, status.task), (15, 10, None));
    let err = store.osrs_skip_slayer_task(1, 30).await.unwrap_err();
    assert!(matches!(err, OsrsStoreError::NoTask), "{err:?}");
    // Off-task kill trips leave Slayer alone.
    let id = store.osrs_start_trip(&due_trip(1, 10, 3)).await.unwrap();
    assert_eq!(
        store.osrs_claim_trip(id).await.unwrap().unwrap().slayer,
        None
    );
}

/// Many processes claim the same due trips on tasks: each task is counted down and completed
/// once, and its points paid once.
async fn osrs_concurrent_payouts_count_task_kills_once(store: Store, _: &TestDb) {
    const USERS: u64 = 5;
    const CLAIMERS: usize = 12;
    let mut trips = Vec::new();
    for user in 1..=USERS {
        make_character(&store, user, &format!("Slayer {user}")).await;
        set_slayer(&store, user, 0, 9).await;
        let task = store
            .osrs_assign_slayer_task(user, &goblins(8))
            .await
            .unwrap();
        // Two users' trips leave some of the task; the others finish it.
        let kills = if user <= 2 { 5 } else { 8 };
        trips.push((
            user,
            kills,
            store
                .osrs_start_trip(&task_trip(user, kills, task.id))
                .await
                .unwrap(),
        ));
    }
    let store = Arc::new(store);
    let mut tasks = Vec::new();
    for &(_, _, id) in &trips {
        for _ in 0..CLAIMERS {
            let store = store.clone();
            tasks.push(tokio::spawn(async move { store.osrs_claim_trip(id).await }));
        }
    }
    let mut paid = 0;
    for task in tasks {
        if task.await.unwrap().expect("claim").is_some() {
            paid += 1;
        }
    }
    assert_eq!(paid, trips.len());
    for &(user, kills, _) in &trips {
        let status = store.osrs_slayer_status(user).await.unwrap();
        if kills == 8 {
            assert_eq!(
                (status.points, status.streak, status.task),
                (20, 10, None),
                "user {user}"
            );
        } else {
            assert_eq!((status.points, status.streak), (0, 9), "user {user}");
            assert_eq!(status.task.map(|t| t.remaining), Some(3), "user {user}");
        }
    }
}

/// A skip and the payout that completes the same task, at once: either the skip wins (points
/// taken, the kills count for nothing) or the completion does (points paid, nothing to skip),
/// never both.
async fn osrs_skip_racing_the_completing_payout_settles_one_way(store: Store, _: &TestDb) {
    const USERS: u64 = 8;
    let mut trips = Vec::new();
    for user in 1..=USERS {
        make_character(&store, user, &format!("Racer {user}")).await;
        set_slayer(&store, user, 30, 9).await;
        let task = store
            .osrs_assign_slayer_task(user, &goblins(5))
            .await
            .unwrap();
        trips.push((
            user,
            store
                .osrs_start_trip(&task_trip(user, 5, task.id))
                .await
                .unwrap(),
        ));
    }
    let store = Arc::new(store);
    let mut races = Vec::new();
    for &(user, id) in &trips {
        let (a, b) = (store.clone(), store.clone());
        let claim = tokio::spawn(async move { a.osrs_claim_trip(id).await });
        let skip = tokio::spawn(async move { b.osrs_skip_slayer_task(user, 30).await });
        races.push((user, claim, skip));
    }
    for (user, claim, skip) in races {
        let paid = claim.await.unwrap().expect("claim").expect("paid once");
        let skip = skip.await.unwrap();
        let status = store.osrs_slayer_status(user).await.unwrap();
        assert_eq!(status.task, None, "user {user}");
        match skip {
            Ok((_, left)) => {
                assert_eq!(left, 0);
                assert_eq!(paid.slayer, None, "user {user}: counted a skipped task");
                assert_eq!((status.points, status.streak), (0, 9), "user {user}");
            }
            Err(OsrsStoreError::NoTask) => {
                assert!(paid.slayer.is_some_and(|s| s.completed), "user {user}");
                assert_eq!((status.points, status.streak), (50, 10), "user {user}");
            }
            Err(e) => panic!("user {user}: skip failed: {e:?}"),
        }
    }
}

// ---- end to end ----

/// More trips whose stored outcome no longer decodes than the worker claims per batch, ahead of
/// good ones: each is ended once, unpaid, with its supplies back in the bank (from the column
/// kept at its start, from the readable part of its outcome, or not at all when nothing reads),
/// and the good trips behind them are still paid.
async fn osrs_unreadable_trips_end_refunded_without_holding_up_the_rest(store: Store, _: &TestDb) {
    const BROKEN: u64 = 55;
    const GOOD: u64 = 5;
    for user in 1..=BROKEN + GOOD {
        make_character(&store, user, &format!("Player{user}")).await;
        let mut trip = due_trip(user, 100, 2);
        // The broken ones end first, so they fill the first batch.
        trip.ends_at -= if user <= BROKEN { 10_000 } else { 0 };
        let id = store.osrs_start_trip(&trip).await.unwrap();
        assert_eq!(
            store.osrs_bank(user).await.unwrap().amount(item("Shrimps")),
            8
        );
        let (outcome, consumed) = match user {
            // A trip from before the supplies column, whose outcome reads only in part.
            1 => (r#"{"duration_secs":"soon","consumed":{"315":2}}"#, None),
            // Nothing readable at all.
            2 => ("not json", None),
            _ if user <= BROKEN => (r#"{"duration_secs":60,"xp":{"NoSuchSkill":5}}"#, Some(())),
            _ => continue,
        };
        let sql = if consumed.is_some() {
            "UPDATE osrs_trips SET outcome = $1 WHERE id = $2"
        } else {
            "UPDATE osrs_trips SET outcome = $1, consumed = NULL WHERE id = $2"
        };
        sqlx::query(sql)
            .bind(outcome)
            .bind(id)
            .execute(store.pool())
            .await
            .unwrap();
    }
    assert_eq!(
        item("Shrimps"),
        315,
        "the partial outcome above names Shrimps by id"
    );

    // What the payout worker does: claim due trips in batches until none are left.
    let (mut failed, mut paid) = (Vec::new(), Vec::new());
    for _round in 0..3 {
        for id in store.osrs_due_trips(chrono_now(), 50).await.unwrap() {
            let trip = store.osrs_claim_trip(id).await.unwrap().expect("claimed");
            if trip.failure.is_some() {
                failed.push(trip);
            } else {
                paid.push(trip);
            }
        }
    }
    assert!(
        store
            .osrs_due_trips(chrono_now(), 50)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(failed.len() as u64, BROKEN);
    assert_eq!(paid.len() as u64, GOOD);
    for trip in &failed {
        let failure = trip.failure.as_ref().unwrap();
        assert!(trip.outcome.is_none());
        assert!(!failure.error.is_empty());
        let shrimps = store
            .osrs_bank(trip.user_id)
            .await
            .unwrap()
            .amount(item("Shrimps"));
        if trip.user_id == 2 {
            assert_eq!(failure.refunded, None);
            assert_eq!(shrimps, 8, "nothing to refund from");
        } else {
            assert_eq!(
                failure.refunded.as_ref().map(|b| b.amount(item("Shrimps"))),
                Some(2)
            );
            assert_eq!(
                shrimps, 10,
                "user {}: supplies back exactly once",
                trip.user_id
            );
        }
        // Nothing was paid, the trip is over, and it reads back as failed.
        assert_eq!(
            store
                .osrs_bank(trip.user_id)
                .await
                .unwrap()
                .amount(item("Bones")),
            0
        );
        assert!(
            store
                .osrs_active_trip(trip.user_id)
                .await
                .unwrap()
                .is_none()
        );
        assert!(store.osrs_claim_trip(trip.id).await.unwrap().is_none());
        let again = store.osrs_trip(trip.id).await.unwrap().unwrap();
        assert_eq!(again.failure, trip.failure);
    }
    for trip in &paid {
        assert_eq!(
            store
                .osrs_bank(trip.user_id)
                .await
                .unwrap()
                .amount(item("Bones")),
            2
        );
    }
    // The announcement lease works for failed trips as for paid ones.
    let owed = store
        .osrs_owed_announcements(chrono_now() + 60_000, 100)
        .await
        .unwrap();
    assert_eq!(owed.len() as u64, BROKEN + GOOD);
    store.osrs_start_trip(&due_trip(1, 1, 1)).await.unwrap();
}

/// Trips in tests last a thousandth of their game time.
const FAST: (&str, &str) = ("LOUNGE_GAMES__TRIP_TIME_SCALE", "0.001");

/// Waits for a message the bot posts in `channel` containing `needle`, after request `skip`.
async fn posted(fake: &FakeDiscord, skip: usize, channel: u64, needle: &str) -> Recorded {
    fake.wait_for_request(skip, REPLY_TIMEOUT, |r| {
        is_channel_post(r, channel) && r.text().contains(needle)
    })
    .await
}

/// Trip results the payout worker posted (they mention the player; `/osrs trip` replies
/// showing the last trip don't).
fn results_posted(fake: &FakeDiscord, needle: &str) -> usize {
    fake.requests()
        .iter()
        .filter(|r| is_result(r, needle))
        .count()
}

fn is_result(r: &Recorded, needle: &str) -> bool {
    r.method == "POST"
        && r.path.ends_with("/messages")
        && r.content().is_some_and(|c| c.starts_with("<@"))
        && r.text().contains(needle)
}

async fn kill_trip_result_is_posted_where_it_started(backend: Backend) {
    let h = Harness::start_with_env(TestDb::new(backend).await, &[FAST]).await;
    let (g, c) = (GUILD_ID, OTHER_CHANNEL_ID);
    let none = h.ask(g, c, MEMBER_ID, "!osrs kill goblin").await;
    assert!(none.contains("don't have a character yet"), "{none}");
    let bad = h.ask(g, c, MEMBER_ID, "!osrs create <@1> members").await;
    assert!(bad.contains("1 to 12 letters"), "{bad}");
    let made = h.ask(g, c, MEMBER_ID, "!osrs create Zezima members").await;
    assert!(made.contains("Welcome, **Zezima**"), "{made}");
    let twice = h.ask(g, c, MEMBER_ID, "!osrs create Other free").await;
    assert!(twice.contains("already have a character"), "{twice}");
    let taken = h.ask(g, c, MOD_ID, "!osrs create zezima free").await;
    assert!(taken.contains("name is taken"), "{taken}");
    let typo = h.ask(g, c, MEMBER_ID, "!osrs kill goblni").await;
    assert!(
        typo.contains("Unknown monster \"goblni\"") && typo.contains("Goblin"),
        "{typo}"
    );
    // Prefix arguments meet the slash option's bounds before any engine work.
    let huge = h.ask(g, c, MEMBER_ID, "!osrs kill goblin 10000000").await;
    assert!(
        huge.contains("`10000000`") && huge.contains("from 1 to 100000"),
        "{huge}"
    );
    let none_at_all = h.ask(g, c, MEMBER_ID, "!osrs skill \"Oak tree\" 0").await;
    assert!(none_at_all.contains("from 1 to 30"), "{none_at_all}");
    // The same bounds are registered for the slash option.
    let osrs = h
        .fake
        .registered_commands(None)
        .into_iter()
        .find(|c| c["name"] == "osrs")
        .expect("/osrs is registered");
    let kill = osrs["options"]
        .as_array()
        .and_then(|o| o.iter().find(|o| o["name"] == "kill"))
        .expect("/osrs kill");
    let quantity = kill["options"]
        .as_array()
        .and_then(|o| o.iter().find(|o| o["name"] == "quantity"))
        .expect("its quantity option");
    assert_eq!(
        (
            &quantity["type"],
            &quantity["min_value"],
            &quantity["max_value"]
        ),
        (&json!(4), &json!(1.0), &json!(100_000.0)),
        "{quantity}"
    );
    // Chickens can't hurt anyone, so only the trip limit stops this one.
    let long = h.ask(g, c, MEMBER_ID, "!osrs kill chicken 5000").await;
    assert!(
        long.contains("30-minute trip limit") && long.contains("Chicken kills fit"),
        "{long}"
    );
    let elsewhere = h.ask(g, c, MEMBER_ID, "!osrs skill \"Oak tree\"").await;
    assert!(
        elsewhere.contains("Draynor Village") && elsewhere.contains("/osrs travel"),
        "{elsewhere}"
    );
    let stats = h.ask(g, c, MEMBER_ID, "!osrs stats").await;
    assert!(
        stats.contains("Zezima's stats") && stats.contains("Total level") && stats.contains("33"),
        "{stats}"
    );

    let skip = h.fake.requests().len();
    h.fake.send_message(g, c, MEMBER_ID, "!osrs kill goblin 5");
    let started = posted(&h.fake, skip, c, "is now killing 5 × Goblin").await;
    assert_pings_nobody(&started);
    let result = posted(&h.fake, skip, c, "Zezima killed 5 × Goblin").await;
    assert_pings_nobody(&result);
    assert!(
        result
            .content()
            .is_some_and(|t| t.contains(&MEMBER_ID.to_string()))
    );
    let text = result.text();
    assert!(
        text.contains("Strength +") && text.contains("Bones"),
        "{text}"
    );

    let last = h.ask(g, c, MEMBER_ID, "!osrs trip").await;
    assert!(
        last.contains("killed 5 × Goblin") && last.contains("last trip"),
        "{last}"
    );
    let bank = h.ask(g, c, MEMBER_ID, "!osrs bank").await;
    assert!(bank.contains("Bones") && bank.contains("worth"), "{bank}");
    let kc = h.ask(g, c, MEMBER_ID, "!osrs kills").await;
    assert!(kc.contains("Goblin: **5**"), "{kc}");
    let board = h.ask(g, c, MEMBER_ID, "!osrs leaderboard").await;
    assert!(board.contains("1.** Zezima"), "{board}");
    let ach = h.ask(g, c, MEMBER_ID, "!osrs achievements").await;
    assert!(ach.contains("First blood"), "{ach}");

    let store = h.db.store().await;
    assert_eq!(
        store.osrs_kills(MEMBER_ID).await.unwrap(),
        vec![("Goblin".to_owned(), 5)]
    );
    assert_eq!(results_posted(&h.fake, "Zezima killed"), 1);
    let sent_nonce = result.body.get("nonce").cloned();
    assert!(
        sent_nonce
            .as_ref()
            .is_some_and(serde_json::Value::is_string)
            && result.body["enforce_nonce"] == json!(true),
        "the result carries no enforced nonce: {}",
        result.body
    );

    // A bot that posted and died before recording it: the result is owed again, and the
    // re-post, with the same nonce, gives back the message Discord already has.
    let trip = store
        .osrs_last_trip(MEMBER_ID)
        .await
        .unwrap()
        .expect("the trip");
    sqlx::query("UPDATE osrs_trips SET announced_at = NULL, announce_lease = 0 WHERE id = $1")
        .bind(trip.id)
        .execute(store.pool())
        .await
        .unwrap();
    h.fake
        .wait_until("the owed result to be posted again", REPLY_TIMEOUT, |f| {
            (results_posted(f, "Zezima killed") == 2).then_some(())
        })
        .await;
    let again = h
        .fake
        .requests()
        .into_iter()
        .filter(|r| is_result(r, "Zezima killed"))
        .nth(1)
        .expect("the re-post");
    assert_eq!(
        again.body.get("nonce"),
        sent_nonce.as_ref(),
        "a different nonce"
    );
    let shown = h
        .fake
        .channel_messages(c)
        .into_iter()
        .filter(|m| m["content"].as_str().is_some_and(|t| t.starts_with("<@")))
        .count();
    assert_eq!(shown, 1, "the channel shows the result {shown} times");
    wait_announced(&store, trip.id).await;

    // A bot that paid a trip and died before posting anything: the result is not posted
    // while its lease lasts, then it is, once.
    make_character(&store, MOD_ID, "Owed").await;
    let mut owed = due_trip(MOD_ID, 100, 3);
    owed.channel = c;
    owed.ends_at = chrono_now() + 3_600_000;
    let id = store.osrs_start_trip(&owed).await.unwrap();
    store.osrs_claim_trip(id).await.unwrap().expect("paid");
    tokio::time::sleep(std::time::Duration::from_secs(2)).await;
    assert_eq!(
        results_posted(&h.fake, "Owed killed"),
        0,
        "posted under another's lease"
    );
    sqlx::query("UPDATE osrs_trips SET announce_lease = 0 WHERE id = $1")
        .bind(id)
        .execute(store.pool())
        .await
        .unwrap();
    let late = posted(&h.fake, 0, c, "Owed killed 3 × Goblin").await;
    assert_pings_nobody(&late);
    wait_announced(&store, id).await;
    assert_eq!(results_posted(&h.fake, "Owed killed"), 1);
    store.close().await;
    h.finish().await;
}

/// Waits until the worker has recorded trip `id`'s result as posted.
async fn wait_announced(store: &Store, id: i64) {
    let deadline = std::time::Instant::now() + REPLY_TIMEOUT;
    loop {
        let row: Option<i64> =
            sqlx::query_scalar("SELECT announced_at FROM osrs_trips WHERE id = $1")
                .bind(id)
                .fetch_one(store.pool())
                .await
                .unwrap();
        if row.is_some() {
            return;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "trip {id} never recorded as posted"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_trip_result_is_posted_where_it_started_on_sqlite() {
    kill_trip_result_is_posted_where_it_started(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn kill_trip_result_is_posted_where_it_started_on_postgres() {
    kill_trip_result_is_posted_where_it_started(Backend::Postgres).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn worlds_travel_and_skilling_follow_the_rules() {
    let h = Harness::start_with_env(TestDb::sqlite(), &[FAST]).await;
    let (g, c) = (GUILD_ID, GENERAL_CHANNEL_ID);
    // As slash commands: subcommand options, a choice, and a private error.
    let none = h
        .slash(
            g,
            c,
            MOD_ID,
            "osrs",
            json!([{"type": 1, "name": "stats", "options": []}]),
        )
        .await;
    assert_eq!(none.body["data"]["flags"], 64, "{}", none.body);
    assert!(
        none.content()
            .is_some_and(|t| t.contains("don't have a character")),
        "{}",
        none.body
    );
    let made = h
        .slash(
            g,
            c,
            MOD_ID,
            "osrs",
            json!([{"type": 1, "name": "create", "options": [
                {"type": 3, "name": "name", "value": "Freddy"},
                {"type": 4, "name": "mode", "value": 1},
            ]}]),
        )
        .await
        .text();
    assert!(
        made.contains("free account") && made.contains("world 301"),
        "{made}"
    );
    // Autocomplete: game data for monsters, the character's own gear for what to take off.
    let monsters = suggestions(&h, "kill", "monster", "gobl").await;
    assert!(monsters.contains(&"Goblin".to_owned()), "{monsters:?}");
    assert!(
        monsters.iter().all(|m| m.to_lowercase().contains("gobl")),
        "{monsters:?}"
    );
    let worn = suggestions(&h, "unequip", "item", "").await;
    assert_eq!(worn.len(), 2, "{worn:?}");
    assert!(
        worn.contains(&"Bronze sword".to_owned()) && worn.contains(&"Wooden shield".to_owned()),
        "{worn:?}"
    );
    let members = h.ask(g, c, MOD_ID, "!osrs world 302").await;
    assert!(members.contains("free-to-play"), "{members}");
    let nowhere = h.ask(g, c, MOD_ID, "!osrs world 1").await;
    assert!(nowhere.contains("no world 1"), "{nowhere}");
    let hop = h.ask(g, c, MOD_ID, "!osrs world 308").await;
    assert!(hop.contains("hop to world 308"), "{hop}");
    let list = h.ask(g, c, MOD_ID, "!osrs world").await;
    assert!(
        list.contains("**308** free") && list.contains("← you"),
        "{list}"
    );
    let demon = h.ask(g, c, MOD_ID, "!osrs kill \"Abyssal demon\"").await;
    assert!(demon.contains("members-only"), "{demon}");

    let skip = h.fake.requests().len();
    h.fake
        .send_message(g, c, MOD_ID, "!osrs travel draynor village");
    posted(&h.fake, skip, c, "is now travelling to Draynor Village").await;
    posted(&h.fake, skip, c, "Freddy arrived in Draynor Village").await;
    let stats = h.ask(g, c, MOD_ID, "!osrs stats").await;
    assert!(stats.contains("World 308 · Draynor Village"), "{stats}");
    let high = h.ask(g, c, MOD_ID, "!osrs skill \"Yew tree\"").await;
    assert!(
        high.contains("You need Woodcutting 60 (you have 1)"),
        "{high}"
    );

    let skip = h.fake.requests().len();
    h.fake.send_message(g, c, MOD_ID, "!osrs skill tree 5");
    posted(&h.fake, skip, c, "is now at the Tree").await;
    let result = posted(&h.fake, skip, c, "Freddy finished").await;
    assert!(result.text().contains("Woodcutting +"), "{}", result.text());
    let bank = h.ask(g, c, MOD_ID, "!osrs bank name").await;
    assert!(bank.contains("**Logs**"), "{bank}");
    // Gear: a two-handed bow takes the sword and shield off; arrows go in the ammo slot.
    let bow = h.ask(g, c, MOD_ID, "!osrs equip shortbow").await;
    assert!(
        bow.contains("put on your Shortbow")
            && bow.contains("Bronze sword")
            && bow.contains("Wooden shield"),
        "{bow}"
    );
    let nothing = h.ask(g, c, MOD_ID, "!osrs equip Rune platebody").await;
    assert!(nothing.contains("You need Defence 40"), "{nothing}");
    h.ask(g, c, MOD_ID, "!osrs equip bronze arrow").await;
    let gear = h.ask(g, c, MOD_ID, "!osrs gear").await;
    assert!(
        gear.contains("Weapon: Shortbow")
            && gear.contains("Ammo: Bronze arrow")
            && gear.contains("Shield: —"),
        "{gear}"
    );
    // Men are in Draynor Village, where Freddy is; chickens are not.
    let chicken = h.ask(g, c, MOD_ID, "!osrs kill chicken 2 ranged").await;
    assert!(
        chicken.contains("found in Lumbridge or Falador") && chicken.contains("/osrs travel"),
        "{chicken}"
    );
    let skip = h.fake.requests().len();
    h.fake.send_message(g, c, MOD_ID, "!osrs kill man 2 ranged");
    posted(&h.fake, skip, c, "is now killing 2 × Man").await;
    let result = posted(&h.fake, skip, c, "Freddy killed 2 × Man").await;
    let text = result.text();
    assert!(
        text.contains("Ranged +") && text.contains("Bronze arrow"),
        "{text}"
    );
    let off = h.ask(g, c, MOD_ID, "!osrs unequip shortbow").await;
    assert!(off.contains("took off your Shortbow"), "{off}");

    let board = h.ask(g, c, MOD_ID, "!osrs leaderboard woodcutting").await;
    assert!(
        board.contains("Woodcutting experience") && board.contains("Freddy"),
        "{board}"
    );
    h.finish().await;
}

/// The values `/osrs <sub>` suggests while the moderator types `typed` into `option`.
async fn suggestions(h: &Harness, sub: &str, option: &str, typed: &str) -> Vec<String> {
    suggestions_for(h, MOD_ID, sub, option, typed).await
}

/// A trip that ends while no bot runs is paid when the bot comes back, exactly once, also with
/// a second bot process started on the same database beside it (it waits for the instance lock
/// instead of catching up too; see: #17 item 6).
async fn trip_ending_while_offline_is_paid_once_after_restart(backend: Backend) {
    // Real-time trips: this one cannot end before the bot is stopped.
    let h = Harness::start(TestDb::new(backend).await).await;
    let (g, c) = (GUILD_ID, GENERAL_CHANNEL_ID);
    let made = h.ask(g, c, MEMBER_ID, "!osrs create Lynx members").await;
    assert!(made.contains("Welcome"), "{made}");
    let started = h.ask(g, c, MEMBER_ID, "!osrs kill goblin 5").await;
    assert!(started.contains("is now killing 5 × Goblin"), "{started}");
    let again = h.ask(g, c, MEMBER_ID, "!osrs kill goblin 1").await;
    assert!(
        again.contains("already killing 5 × Goblin") && again.contains("One trip at a time"),
        "{again}"
    );
    let busy = h.ask(g, c, MEMBER_ID, "!osrs world 303").await;
    assert!(busy.contains("can't do that while killing"), "{busy}");
    let status = h.ask(g, c, MEMBER_ID, "!osrs trip").await;
    assert!(
        status.contains("back <t:") && status.contains("left"),
        "{status}"
    );
    let db = h.stop().await;

    // While no bot runs, the trip's end passes.
    let store = db.store().await;
    let trip = store
        .osrs_active_trip(MEMBER_ID)
        .await
        .unwrap()
        .expect("still active");
    let outcome = trip.outcome.clone().expect("combat outcome");
    let before = store
        .osrs_character(MEMBER_ID)
        .await
        .unwrap()
        .unwrap()
        .skills;
    // The stored seed replays the stored outcome: a fresh character with the starter kit,
    // eating its best food (shrimps).
    let (bank, worn) = lounge_osrs::starter_kit(data());
    let fresh = Character {
        skills: Skills::default(),
        equipment: worn.iter().map(|w| w.1).collect(),
        inventory: bank,
    };
    let request = TripRequest::Combat {
        monster: "Goblin".into(),
        amount: Amount::Count(5),
        style: CombatStyle::Melee,
        food: Some(item("Shrimps")),
        on_task: false,
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(trip.seed);
    let replayed = lounge_osrs::simulate(data(), &fresh, &request, &mut rng).unwrap();
    assert_eq!(
        replayed, outcome,
        "seed {} does not replay the trip",
        trip.seed
    );
    let bones_before = store
        .osrs_bank(MEMBER_ID)
        .await
        .unwrap()
        .amount(item("Bones"));
    sqlx::query("UPDATE osrs_trips SET ends_at = $1 WHERE id = $2")
        .bind(chrono_now() - 1_000)
        .bind(trip.id)
        .execute(store.pool())
        .await
        .unwrap();
    store.close().await;

    // The bot catches up on what ended offline; a second process on the database waits.
    let h = Harness::start(db).await;
    let second_fake = FakeDiscord::start().await;
    let mut second = Running::spawn(lounge_command(&second_fake, &h.db, Some(TOKEN)));
    second
        .wait_output("another lounge process is serving this bot", READY_TIMEOUT)
        .await;
    let caught_up = "caught up on trips that ended while offline";
    h.fake
        .wait_until("the bot to catch up", REPLY_TIMEOUT, |_| {
            h.bot.output().contains(caught_up).then_some(())
        })
        .await;
    assert!(!second.output().contains(caught_up), "{}", second.output());
    assert_eq!(second_fake.identify_count(), 0, "{}", second.output());
    let needle = "Lynx killed 5 × Goblin";
    let posts = results_posted(&h.fake, needle) + results_posted(&second_fake, needle);
    assert_eq!(
        posts,
        1,
        "the result was posted {posts} times\nfirst bot:\n{}\nsecond bot:\n{}",
        h.bot.output(),
        second.output()
    );
    let result = h
        .fake
        .requests()
        .into_iter()
        .chain(second_fake.requests())
        .find(|r| is_result(r, needle))
        .expect("the result");
    assert!(
        is_channel_post(&result, c),
        "posted in the wrong place: {}",
        result.path
    );
    assert_pings_nobody(&result);

    let store = h.db.store().await;
    let after = store
        .osrs_character(MEMBER_ID)
        .await
        .unwrap()
        .unwrap()
        .skills;
    for skill in Skill::ALL {
        let gained = outcome.xp.get(&skill).copied().unwrap_or(0);
        assert_eq!(
            u64::from(after.xp(skill)),
            u64::from(before.xp(skill)) + gained,
            "{skill:?}"
        );
    }
    assert_eq!(
        store
            .osrs_bank(MEMBER_ID)
            .await
            .unwrap()
            .amount(item("Bones")),
        bones_before + outcome.loot.amount(item("Bones"))
    );
    assert_eq!(
        store.osrs_kills(MEMBER_ID).await.unwrap(),
        vec![("Goblin".to_owned(), 5)]
    );
    assert!(store.osrs_active_trip(MEMBER_ID).await.unwrap().is_none());
    store.close().await;

    let status = second.terminate(std::time::Duration::from_secs(20)).await;
    assert!(
        status.success(),
        "second bot: {status}\n{}",
        second.output()
    );
    second_fake.assert_no_violations();
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn trip_ending_while_offline_is_paid_once_after_restart_on_sqlite() {
    trip_ending_while_offline_is_paid_once_after_restart(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn trip_ending_while_offline_is_paid_once_after_restart_on_postgres() {
    trip_ending_while_offline_is_paid_once_after_restart(Backend::Postgres).await;
}

/// A trip whose stored outcome no longer reads (written by another version, or damaged) is
/// ended by the payout worker with its supplies returned and its owner told where it started,
/// logged once, and the trip behind it is still paid.
async fn unreadable_trip_is_ended_refunded_and_reported(backend: Backend) {
    let h = Harness::start(TestDb::new(backend).await).await;
    let (g, c) = (GUILD_ID, GENERAL_CHANNEL_ID);
    for (user, name) in [(MEMBER_ID, "Lynx"), (MOD_ID, "Puma")] {
        let made = h
            .ask(g, c, user, &format!("!osrs create {name} members"))
            .await;
        assert!(made.contains("Welcome"), "{made}");
        let started = h.ask(g, c, user, "!osrs kill goblin 5").await;
        assert!(started.contains("is now killing 5 × Goblin"), "{started}");
    }
    let db = h.stop().await;
    let store = db.store().await;
    let broken = store.osrs_active_trip(MEMBER_ID).await.unwrap().unwrap();
    let good = store.osrs_active_trip(MOD_ID).await.unwrap().unwrap();
    let (starter, _) = lounge_osrs::starter_kit(data());
    let used = broken.outcome.as_ref().unwrap().consumed.clone();
    sqlx::query(
        "UPDATE osrs_trips SET outcome = 'from a newer version', ends_at = $1 WHERE id = $2",
    )
    .bind(chrono_now() - 2_000)
    .bind(broken.id)
    .execute(store.pool())
    .await
    .unwrap();
    sqlx::query("UPDATE osrs_trips SET ends_at = $1 WHERE id = $2")
        .bind(chrono_now() - 1_000)
        .bind(good.id)
        .execute(store.pool())
        .await
        .unwrap();
    store.close().await;

    let h = Harness::start(db).await;
    let failed = posted(
        &h.fake,
        0,
        c,
        "Lynx's trip (killing Goblin) couldn't be finished",
    )
    .await;
    assert!(
        failed
            .content()
            .is_some_and(|m| m.contains(&format!("<@{MEMBER_ID}>")))
    );
    assert_pings_nobody(&failed);
    let back = if used.is_empty() {
        "It had used no supplies"
    } else {
        "Its supplies are back in your bank"
    };
    assert!(failed.text().contains(back), "{}", failed.text());
    posted(&h.fake, 0, c, "Puma killed 5 × Goblin").await;

    let store = h.db.store().await;
    assert_eq!(
        store.osrs_bank(MEMBER_ID).await.unwrap(),
        starter,
        "supplies back, nothing paid"
    );
    assert!(store.osrs_kills(MEMBER_ID).await.unwrap().is_empty());
    assert!(store.osrs_active_trip(MEMBER_ID).await.unwrap().is_none());
    store.close().await;
    // Logged once, not once a round.
    tokio::time::sleep(std::time::Duration::from_secs(3)).await;
    let logged = h
        .bot
        .output()
        .matches("stored outcome can't be read")
        .count();
    assert_eq!(logged, 1, "{}", h.bot.output());
    let again = h.ask(g, c, MEMBER_ID, "!osrs kill goblin 1").await;
    assert!(again.contains("is now killing 1 × Goblin"), "{again}");
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unreadable_trip_is_ended_refunded_and_reported_on_sqlite() {
    unreadable_trip_is_ended_refunded_and_reported(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn unreadable_trip_is_ended_refunded_and_reported_on_postgres() {
    unreadable_trip_is_ended_refunded_and_reported(Backend::Postgres).await;
}

/// Monsters are fought where they live; Slayer tasks are given by masters the character's
/// combat level allows, counted by kill trips, paid in points when done, and skipped for
/// points.
#[tokio::test(flavor = "multi_thread")]
async fn slayer_tasks_and_monster_locations() {
    let h = Harness::start_with_env(TestDb::sqlite(), &[FAST]).await;
    let (g, c) = (GUILD_ID, GENERAL_CHANNEL_ID);
    let made = h.ask(g, c, MEMBER_ID, "!osrs create Slayer members").await;
    assert!(made.contains("Welcome"), "{made}");

    // Seagulls live in Port Sarim, not in Lumbridge where a character starts.
    let wrong = h.ask(g, c, MEMBER_ID, "!osrs kill seagull 2").await;
    assert!(
        wrong.contains("can't fight Seagull in Lumbridge")
            && wrong.contains("found in Port Sarim")
            && wrong.contains("`/osrs travel Port Sarim`"),
        "{wrong}"
    );
    // Autocomplete puts the monsters of Lumbridge first.
    let suggested = suggestions_for(&h, MEMBER_ID, "kill", "monster", "").await;
    assert!(
        suggested.len() > 5
            && suggested[..5]
                .iter()
                .all(|m| data().monster(m).unwrap().is_at("Lumbridge")),
        "{suggested:?}"
    );

    // Slayer: Vannaka wants combat level 40; a new character gets Turael's tasks.
    let high = h.ask(g, c, MEMBER_ID, "!osrs slayer task vannaka").await;
    assert!(
        high.contains("Vannaka only gives tasks") && high.contains("combat level 40"),
        "{high}"
    );
    let none = h.ask(g, c, MEMBER_ID, "!osrs slayer skip").await;
    assert!(none.contains("You have no Slayer task"), "{none}");
    let given = h.ask(g, c, MEMBER_ID, "!osrs slayer task").await;
    assert!(given.contains("Turael gives you a Slayer task"), "{given}");
    let store = h.db.store().await;
    let task = store
        .osrs_slayer_task(MEMBER_ID)
        .await
        .unwrap()
        .expect("stored task");
    assert_eq!(task.master, "Turael");
    assert!(
        ["birds", "goblins", "monkeys", "rats", "spiders"].contains(&task.category.as_str())
            && (10..=30).contains(&task.quantity),
        "{task:?}"
    );
    assert!(given.contains(&task.category), "{given}");
    let again = h.ask(g, c, MEMBER_ID, "!osrs slayer task").await;
    assert!(again.contains("already have a Slayer task"), "{again}");
    // From here the task is 3 goblins from Vannaka and this is the character's 10th, so the
    // points are known (the draw itself is the engine's, tested there).
    sqlx::query(
        "UPDATE osrs_slayer_tasks SET master = 'Vannaka', category = 'goblins', quantity = 3, \
         remaining = 3 WHERE id = $1",
    )
    .bind(task.id)
    .execute(store.pool())
    .await
    .unwrap();
    set_slayer(&store, MEMBER_ID, 0, 9).await;
    let status = h.ask(g, c, MEMBER_ID, "!osrs slayer status").await;
    assert!(
        status.contains("kill **3 more** of goblins") && status.contains("Tasks completed"),
        "{status}"
    );

    let skip = h.fake.requests().len();
    h.fake.send_message(g, c, MEMBER_ID, "!osrs kill goblin 2");
    let started = posted(&h.fake, skip, c, "is now killing 2 × Goblin").await;
    assert!(
        started
            .text()
            .contains("counts toward your Slayer task (3 goblins left)"),
        "{}",
        started.text()
    );
    let result = posted(&h.fake, skip, c, "Slayer killed 2 × Goblin").await;
    let text = result.text();
    assert!(
        text.contains("1 goblins left on your task") && text.contains("Slayer +"),
        "{text}"
    );
    // Without an amount the trip is the rest of the task, even when more would fit.
    let skip = h.fake.requests().len();
    h.fake.send_message(g, c, MEMBER_ID, "!osrs kill goblin");
    posted(&h.fake, skip, c, "is now killing 1 × Goblin").await;
    let result = posted(&h.fake, skip, c, "Slayer killed 1 × Goblin").await;
    assert!(
        result
            .text()
            .contains("Task complete: goblins for Vannaka! +20 Slayer points (10 tasks done)"),
        "{}",
        result.text()
    );
    let status = h.ask(g, c, MEMBER_ID, "!osrs slayer status").await;
    assert!(
        status.contains("You have no Slayer task") && status.contains("20"),
        "{status}"
    );
    let state = store.osrs_slayer_status(MEMBER_ID).await.unwrap();
    assert_eq!((state.points, state.streak, state.task), (20, 10, None));
    assert_eq!(
        store.osrs_kills(MEMBER_ID).await.unwrap(),
        vec![("Goblin".to_owned(), 3)]
    );

    // Skipping costs 30 points: refused with 20, done with 45.
    let given = h.ask(g, c, MEMBER_ID, "!osrs slayer task turael").await;
    assert!(given.contains("Turael gives you"), "{given}");
    let poor = h.ask(g, c, MEMBER_ID, "!osrs slayer skip").await;
    assert!(
        poor.contains("costs 30 Slayer points and you have 20"),
        "{poor}"
    );
    assert!(store.osrs_slayer_task(MEMBER_ID).await.unwrap().is_some());
    set_slayer(&store, MEMBER_ID, 45, 10).await;
    let skipped = h.ask(g, c, MEMBER_ID, "!osrs slayer skip").await;
    assert!(
        skipped.contains("cancelled for 30 Slayer points; 15 left"),
        "{skipped}"
    );
    assert!(store.osrs_slayer_task(MEMBER_ID).await.unwrap().is_none());

    // After travelling, the seagulls can be fought.
    let skip = h.fake.requests().len();
    h.fake
        .send_message(g, c, MEMBER_ID, "!osrs travel port sarim");
    posted(&h.fake, skip, c, "Slayer arrived in Port Sarim").await;
    let skip = h.fake.requests().len();
    h.fake.send_message(g, c, MEMBER_ID, "!osrs kill seagull 2");
    posted(&h.fake, skip, c, "is now killing 2 × Seagull").await;
    posted(&h.fake, skip, c, "Slayer killed 2 × Seagull").await;

    // Slayer is members' content: a free character can't get a task.
    h.ask(g, c, MOD_ID, "!osrs create Freebie free").await;
    let free = h.ask(g, c, MOD_ID, "!osrs slayer task").await;
    assert!(free.contains("Slayer is members-only content"), "{free}");
    store.close().await;
    h.finish().await;
}

/// The values `/osrs <sub>` suggests to `user` while they type `typed` into `option`.
async fn suggestions_for(
    h: &Harness,
    user: u64,
    sub: &str,
    option: &str,
    typed: &str,
) -> Vec<String> {
    let skip = h.fake.requests().len();
    let typing = h.fake.send_autocomplete(
        GUILD_ID,
        GENERAL_CHANNEL_ID,
        user,
        "osrs",
        json!([{"type": 1, "name": sub, "options": [
            {"type": 3, "name": option, "value": typed, "focused": true},
        ]}]),
    );
    let answer = h
        .fake
        .wait_for_request(skip, REPLY_TIMEOUT, |r| r.path == typing.callback_path())
        .await;
    assert_eq!(answer.body["type"], 8, "{}", answer.body);
    answer.body["data"]["choices"]
        .as_array()
        .expect("choices")
        .iter()
        .filter_map(|c| c["value"].as_str().map(str::to_owned))
        .collect()
}
