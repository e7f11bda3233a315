//! One process per bot (#17 item 6): two processes with the same token both served every
//! command (double transfers, double spawns). The instance lock's conformance on both backends,
//! then end to end: a second process waits, saying why, without connecting, and takes over when
//! the first stops or dies; a process that loses the lock stops serving.

use std::time::Duration;

use lounge_store::{Backend, InstanceLock, LockAttempt, RenewError, Store, bot_instance_key};
use lounge_tests::bin::Running;
use lounge_tests::db::TestDb;
use lounge_tests::discord::{
    APPLICATION_ID, FakeDiscord, GENERAL_CHANNEL_ID, GUILD_ID, MEMBER_ID, TOKEN,
};
use sqlx::Row;

use crate::util::{Harness, READY_TIMEOUT, lounge_command};

conformance!(
    instance_lock_is_exclusive_until_released,
    instance_lock_of_a_holder_that_stops_is_taken_over,
    instance_lock_renewal_notices_another_holder,
);

const LEASE: Duration = Duration::from_secs(30);
/// How long a freed lock may take to show as free (a PostgreSQL session ending is
/// asynchronous); a wait on a condition, not a timing assertion.
const FREED_TIMEOUT: Duration = Duration::from_secs(15);

fn taken(attempt: LockAttempt) -> InstanceLock {
    match attempt {
        LockAttempt::Taken(lock) => lock,
        LockAttempt::Busy { holder } => panic!("the lock is held by {holder:?}"),
    }
}

fn busy(attempt: LockAttempt) -> Option<String> {
    match attempt {
        LockAttempt::Taken(lock) => panic!("took a held lock as {}", lock.holder()),
        LockAttempt::Busy { holder } => holder,
    }
}

/// Acquires `key` as soon as it is free.
async fn take_when_free(store: &Store, key: &str, holder: &str, lease: Duration) -> InstanceLock {
    let deadline = tokio::time::Instant::now() + FREED_TIMEOUT;
    loop {
        match store
            .acquire_instance_lock(key, holder, lease)
            .await
            .unwrap()
        {
            LockAttempt::Taken(lock) => return lock,
            LockAttempt::Busy { holder } => assert!(
                tokio::time::Instant::now() < deadline,
                "still held by {holder:?} after {FREED_TIMEOUT:?}"
            ),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn instance_lock_is_exclusive_until_released(store: Store, db: &TestDb) {
    let key = bot_instance_key(42);
    let mut first = taken(
        store
            .acquire_instance_lock(&key, "first", LEASE)
            .await
            .unwrap(),
    );
    // Another process, on its own pool.
    let other = db.store().await;
    let holder = busy(
        other
            .acquire_instance_lock(&key, "second", LEASE)
            .await
            .unwrap(),
    );
    assert_eq!(holder.as_deref(), Some("first"));
    // Other bots are not held up.
    let elsewhere = taken(
        other
            .acquire_instance_lock(&bot_instance_key(43), "second", LEASE)
            .await
            .unwrap(),
    );
    first.renew().await.unwrap();
    busy(
        other
            .acquire_instance_lock(&key, "second", LEASE)
            .await
            .unwrap(),
    );

    first.release().await.unwrap();
    let second = taken(
        other
            .acquire_instance_lock(&key, "second", LEASE)
            .await
            .unwrap(),
    );
    assert_eq!(second.holder(), "second");
    let holder = busy(
        store
            .acquire_instance_lock(&key, "first", LEASE)
            .await
            .unwrap(),
    );
    assert_eq!(holder.as_deref(), Some("second"));
    second.release().await.unwrap();
    elsewhere.release().await.unwrap();
    other.close().await;
}

/// A process that dies without releasing: on SQLite its row lasts until the lease runs out, on
/// PostgreSQL the lock ends with its session.
async fn instance_lock_of_a_holder_that_stops_is_taken_over(store: Store, db: &TestDb) {
    let key = bot_instance_key(42);
    let other = db.store().await;
    match store.backend() {
        Backend::Sqlite => {
            let lease = Duration::from_millis(300);
            let mut stale = taken(
                store
                    .acquire_instance_lock(&key, "first", lease)
                    .await
                    .unwrap(),
            );
            // It stops renewing (hung or dead); only its lease keeps others out.
            let mut second = take_when_free(&other, &key, "second", LEASE).await;
            assert_eq!(second.holder(), "second");
            // The old holder finds out at its next renewal and must stop.
            let err = stale.renew().await.unwrap_err();
            assert!(
                matches!(&err, RenewError::Taken { holder: Some(h) } if h == "second"),
                "{err:?}"
            );
            assert!(err.is_lost());
            second.renew().await.unwrap();
            second.release().await.unwrap();
        }
        Backend::Postgres => {
            let short = Duration::from_millis(100);
            let first = taken(
                store
                    .acquire_instance_lock(&key, "first", short)
                    .await
                    .unwrap(),
            );
            // The lease does not free a lock whose session lives: it bounds only how long the
            // holder serves without confirming it.
            tokio::time::sleep(short * 3).await;
            busy(
                other
                    .acquire_instance_lock(&key, "second", LEASE)
                    .await
                    .unwrap(),
            );
            // The process dies: its connection closes and the server drops the lock.
            drop(first);
            let second = take_when_free(&other, &key, "second", LEASE).await;
            second.release().await.unwrap();
        }
    }
    other.close().await;
}

/// The PostgreSQL backend pid of the session named for `holder`, if it is alive.
async fn lock_session(store: &Store, holder: &str) -> Option<i32> {
    sqlx::query(
        "SELECT pid FROM pg_stat_activity WHERE application_name = $1 AND datname = current_database()",
    )
    .bind(format!("lounge: {holder}"))
    .fetch_optional(store.pool())
    .await
    .unwrap()
    .map(|r| r.get(0))
}

/// Ends the session holding the lock for `holder` (the network or the server dropping it) and
/// waits until it is gone.
async fn end_lock_session(store: &Store, holder: &str) {
    let pid = lock_session(store, holder)
        .await
        .expect("the lock's session");
    sqlx::query("SELECT pg_terminate_backend($1)")
        .bind(pid)
        .execute(store.pool())
        .await
        .unwrap();
    let deadline = tokio::time::Instant::now() + FREED_TIMEOUT;
    while lock_session(store, holder).await == Some(pid) {
        assert!(
            tokio::time::Instant::now() < deadline,
            "session {pid} lives on"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

async fn instance_lock_renewal_notices_another_holder(store: Store, db: &TestDb) {
    let key = bot_instance_key(42);
    let other = db.store().await;
    let mut first = taken(
        store
            .acquire_instance_lock(&key, "first", LEASE)
            .await
            .unwrap(),
    );
    let thief = match store.backend() {
        Backend::Sqlite => {
            sqlx::query("UPDATE instance_locks SET holder = 'thief'")
                .execute(other.pool())
                .await
                .unwrap();
            None
        }
        Backend::Postgres => {
            // A lost session with nobody else waiting: the lock is taken again on a new one
            // (the old session is gone, so a live one is new).
            end_lock_session(&store, "first").await;
            first.renew().await.unwrap();
            assert!(lock_session(&store, "first").await.is_some());
            busy(
                other
                    .acquire_instance_lock(&key, "second", LEASE)
                    .await
                    .unwrap(),
            );
            // Lost again, and this time another process takes it first.
            end_lock_session(&store, "first").await;
            Some(take_when_free(&other, &key, "thief", LEASE).await)
        }
    };
    let err = first.renew().await.unwrap_err();
    assert!(
        matches!(&err, RenewError::Taken { holder: Some(h) } if h == "thief"),
        "{err:?}"
    );
    assert!(err.is_lost());
    if let Some(thief) = thief {
        thief.release().await.unwrap();
    }
    other.close().await;
}

// End to end.

/// Short enough that a crashed process's lock runs out within the test's patience.
const FAST_LEASE: (&str, &str) = ("LOUNGE_BOT__INSTANCE_LEASE_SECONDS", "3");
const WAITING: &str = "another lounge process is serving this bot";

fn second_process(fake: &FakeDiscord, db: &TestDb) -> Running {
    let mut cmd = lounge_command(fake, db, Some(TOKEN));
    cmd.env(FAST_LEASE.0, FAST_LEASE.1);
    Running::spawn(cmd)
}

/// Waits until `count` lines of the output contain `needle`.
async fn wait_lines(bot: &Running, needle: &str, count: usize) {
    let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
    while bot.output().lines().filter(|l| l.contains(needle)).count() < count {
        assert!(
            tokio::time::Instant::now() < deadline,
            "fewer than {count} lines with `{needle}`:\n{}",
            bot.output()
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
}

/// Nothing of the second process reached its Discord's gateway.
fn assert_not_connected(fake: &FakeDiscord, bot: &Running) {
    assert_eq!(fake.identify_count(), 0, "{}", bot.output());
    assert!(
        !fake
            .requests()
            .iter()
            .any(|r| r.path.starts_with("/gateway")),
        "asked for the gateway while waiting:\n{}",
        bot.output()
    );
    assert!(fake.registered_commands(None).is_empty());
}

async fn answers_ping(h: &Harness) {
    let reply = h
        .ask(GUILD_ID, GENERAL_CHANNEL_ID, MEMBER_ID, "!ping")
        .await;
    assert_eq!(reply, "Pinging…", "{}", h.bot.output());
}

async fn a_second_process_waits_until_the_first_stops(backend: Backend) {
    // The first on the default lease: only its release lets the second in within the test.
    let first = Harness::start(TestDb::new(backend).await).await;
    // The second has its own fake Discord, so whatever it did there would show.
    let fake = FakeDiscord::start().await;
    let second = second_process(&fake, &first.db);
    // It says why it waits and who holds the lock, and keeps waiting.
    wait_lines(&second, WAITING, 2).await;
    let output = second.output();
    let line = output.lines().find(|l| l.contains(WAITING)).unwrap();
    assert!(
        line.contains(&format!("application {APPLICATION_ID}"))
            && line.contains(&format!("pid {} on ", first.bot.pid()))
            && line.contains("waiting for it to stop")
            && line.contains("WARN"),
        "{line}"
    );
    assert!(!output.contains("error:"), "{output}");
    assert_not_connected(&fake, &second);
    // The first serves on.
    answers_ping(&first).await;

    let (db, first_output) = first.stop_with_output().await;
    assert!(
        first_output.contains("instance lock released"),
        "{first_output}"
    );
    let h = Harness {
        fake,
        db,
        bot: second,
    };
    h.wait_ready().await;
    answers_ping(&h).await;
    assert!(
        h.bot.output().contains("instance lock taken"),
        "{}",
        h.bot.output()
    );
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_process_waits_until_the_first_stops_on_sqlite() {
    a_second_process_waits_until_the_first_stops(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_second_process_waits_until_the_first_stops_on_postgres() {
    a_second_process_waits_until_the_first_stops(Backend::Postgres).await;
}

async fn a_killed_process_is_replaced(backend: Backend) {
    let mut first = Harness::start_with_env(TestDb::new(backend).await, &[FAST_LEASE]).await;
    let fake = FakeDiscord::start().await;
    let second = second_process(&fake, &first.db);
    wait_lines(&second, WAITING, 1).await;
    assert_not_connected(&fake, &second);

    // No shutdown, no release: SQLite's lease runs out, PostgreSQL's session ends.
    first.bot.kill();
    let db = std::mem::replace(&mut first.db, TestDb::sqlite());
    let h = Harness {
        fake,
        db,
        bot: second,
    };
    h.wait_ready().await;
    answers_ping(&h).await;
    h.finish().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_process_is_replaced_on_sqlite() {
    a_killed_process_is_replaced(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_process_is_replaced_on_postgres() {
    a_killed_process_is_replaced(Backend::Postgres).await;
}

/// Takes the running bot's lock away as another process could: on SQLite by taking its row
/// over, on PostgreSQL by ending its session and locking before the bot locks again.
async fn steal_the_lock(store: &Store) -> Option<InstanceLock> {
    let key = bot_instance_key(APPLICATION_ID);
    match store.backend() {
        Backend::Sqlite => {
            let stolen = sqlx::query("UPDATE instance_locks SET holder = 'pid 1 on elsewhere'")
                .execute(store.pool())
                .await
                .unwrap();
            assert_eq!(stolen.rows_affected(), 1);
            None
        }
        Backend::Postgres => {
            let deadline = tokio::time::Instant::now() + READY_TIMEOUT;
            loop {
                sqlx::query(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity \
                     WHERE application_name LIKE 'lounge: pid %' AND datname = current_database()",
                )
                .execute(store.pool())
                .await
                .unwrap();
                let attempt = store
                    .acquire_instance_lock(&key, "pid 1 on elsewhere", LEASE)
                    .await
                    .unwrap();
                if let LockAttempt::Taken(lock) = attempt {
                    return Some(lock);
                }
                assert!(
                    tokio::time::Instant::now() < deadline,
                    "the bot kept its lock"
                );
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }
}

async fn a_process_that_loses_the_lock_stops_serving(backend: Backend) {
    let mut h = Harness::start_with_env(TestDb::new(backend).await, &[FAST_LEASE]).await;
    answers_ping(&h).await;
    let store = h.db.store().await;
    let thief = steal_the_lock(&store).await;

    let status = h.bot.wait_exit(READY_TIMEOUT).await;
    let output = h.bot.output();
    if std::env::var_os("LOUNGE_TEST_SHOW_OUTPUT").is_some() {
        eprintln!("---- bot output ----\n{output}\n---- end of bot output ----");
    }
    assert!(!status.success(), "exited with {status}:\n{output}");
    assert!(
        output.contains(
            "error: lost the instance lock: another process holds it now (pid 1 on elsewhere)"
        ),
        "{output}"
    );
    assert!(output.contains("stopped"), "{output}");
    assert!(!h.fake.connected(), "{output}");
    if let Some(thief) = thief {
        thief.release().await.unwrap();
    }
    store.close().await;
    std::mem::replace(&mut h.db, TestDb::sqlite())
        .cleanup()
        .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_process_that_loses_the_lock_stops_serving_on_sqlite() {
    a_process_that_loses_the_lock_stops_serving(Backend::Sqlite).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_process_that_loses_the_lock_stops_serving_on_postgres() {
    a_process_that_loses_the_lock_stops_serving(Backend::Postgres).await;
}
