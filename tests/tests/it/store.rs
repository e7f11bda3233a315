//! The storage conformance suite: every test runs against SQLite and PostgreSQL.

use std::sync::Arc;

use lounge::store::{Backend, Store, StoreError, TransferError};
use lounge_tests::db::TestDb;
use rand::{Rng, SeedableRng};

/// Defines `sqlite::name` and `postgres::name` for each `async fn name(Store)` listed.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = lounge_tests::db::TestDb::new(lounge::store::Backend::Sqlite).await;
                    super::$name(db.store().await, &db).await;
                    db.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = lounge_tests::db::TestDb::new(lounge::store::Backend::Postgres).await;
                    super::$name(db.store().await, &db).await;
                    db.cleanup().await;
                }
            )*
        }
    };
}

conformance!(
    migrations_are_idempotent,
    newer_schema_is_refused,
    balances_start_at_zero,
    transfer_moves_exactly_the_amount,
    transfer_refuses_bad_requests,
    concurrent_transfers_conserve_currency,
    guild_prefix_round_trip,
    tags_and_aliases_share_one_namespace,
    concurrent_tag_creation_respects_the_limit,
    concurrent_tag_uses_are_all_counted,
);

async fn migrations_are_idempotent(store: Store, db: &TestDb) {
    let version = store.applied_schema_version().await.unwrap();
    assert!(version.is_some_and(|v| v >= 1));
    store.close().await;
    // A second start applies nothing new and keeps the data.
    let again = db.store().await;
    assert_eq!(again.applied_schema_version().await.unwrap(), version);
}

async fn newer_schema_is_refused(store: Store, db: &TestDb) {
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99999, 'from the future', TRUE, $1, 0)",
    )
    .bind(vec![0u8; 48])
    .execute(store.pool())
    .await
    .unwrap();
    store.close().await;
    let err = Store::open(&db.url).await.unwrap_err();
    assert!(
        matches!(
            err,
            StoreError::SchemaTooNew {
                database: 99999,
                ..
            }
        ),
        "{err:?}"
    );
    let msg = err.to_string();
    assert!(
        msg.contains("99999") && msg.contains("upgrade lounge"),
        "{msg}"
    );
}

async fn balances_start_at_zero(store: Store, _: &TestDb) {
    assert_eq!(store.balance(42).await.unwrap(), 0);
    assert_eq!(store.adjust_currency(42, 500).await.unwrap(), 500);
    assert_eq!(store.balance(42).await.unwrap(), 500);
    let err = store.adjust_currency(42, -501).await.unwrap_err();
    assert!(
        matches!(
            err,
            TransferError::InsufficientFunds {
                balance: 500,
                needed: 501
            }
        ),
        "{err:?}"
    );
    assert_eq!(store.adjust_currency(42, -500).await.unwrap(), 0);
}

async fn transfer_moves_exactly_the_amount(store: Store, _: &TestDb) {
    store.adjust_currency(1, 100).await.unwrap();
    let t = store.transfer_currency(1, 2, 30).await.unwrap();
    assert_eq!((t.from_balance, t.to_balance), (70, 30));
    // The other direction takes the other lock order.
    let t = store.transfer_currency(2, 1, 30).await.unwrap();
    assert_eq!((t.from_balance, t.to_balance), (0, 100));
}

async fn transfer_refuses_bad_requests(store: Store, _: &TestDb) {
    store.adjust_currency(10, 50).await.unwrap();
    let err = store.transfer_currency(10, 11, 51).await.unwrap_err();
    assert!(
        matches!(
            err,
            TransferError::InsufficientFunds {
                balance: 50,
                needed: 51
            }
        ),
        "{err:?}"
    );
    // Same when the recipient sorts first (credit happens before the failed debit).
    let err = store.transfer_currency(10, 9, 51).await.unwrap_err();
    assert!(
        matches!(err, TransferError::InsufficientFunds { .. }),
        "{err:?}"
    );
    assert!(matches!(
        store.transfer_currency(10, 10, 1).await,
        Err(TransferError::SameUser)
    ));
    assert!(matches!(
        store.transfer_currency(10, 11, 0).await,
        Err(TransferError::NonPositive)
    ));
    assert!(matches!(
        store.transfer_currency(10, 11, -5).await,
        Err(TransferError::NonPositive)
    ));
    assert_eq!(store.balance(10).await.unwrap(), 50);
    assert_eq!(store.balance(11).await.unwrap(), 0);
    assert_eq!(store.balance(9).await.unwrap(), 0);
}

/// 1,000 concurrent random transfers among 20 users: the total is conserved, no balance goes
/// negative, and each final balance equals its start plus what the successful transfers
/// say it received minus what it sent (nothing lost, nothing duplicated).
async fn concurrent_transfers_conserve_currency(store: Store, _: &TestDb) {
    const USERS: u64 = 20;
    const START: i64 = 1_000;
    const TRANSFERS: usize = 1_000;
    for user in 1..=USERS {
        store.adjust_currency(user, START).await.unwrap();
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let plan: Vec<(u64, u64, i64)> = (0..TRANSFERS)
        .map(|_| {
            let from = rng.random_range(1..=USERS);
            let mut to = rng.random_range(1..=USERS);
            while to == from {
                to = rng.random_range(1..=USERS);
            }
            (from, to, rng.random_range(1..=400))
        })
        .collect();
    let store = Arc::new(store);
    let tasks: Vec<_> = plan
        .into_iter()
        .map(|(from, to, amount)| {
            let store = store.clone();
            tokio::spawn(async move {
                (
                    from,
                    to,
                    amount,
                    store.transfer_currency(from, to, amount).await,
                )
            })
        })
        .collect();
    let mut expected = vec![START; USERS as usize + 1];
    let (mut ok, mut refused) = (0, 0);
    for task in tasks {
        let (from, to, amount, result) = task.await.unwrap();
        match result {
            Ok(_) => {
                ok += 1;
                expected[from as usize] -= amount;
                expected[to as usize] += amount;
            }
            Err(TransferError::InsufficientFunds { .. }) => refused += 1,
            Err(e) => panic!("transfer {from}->{to} of {amount} failed: {e:?}"),
        }
    }
    assert!(
        ok > 0 && refused > 0,
        "the workload should exercise both outcomes: {ok} ok, {refused} refused"
    );
    let mut total = 0;
    for user in 1..=USERS {
        let balance = store.balance(user).await.unwrap();
        assert!(balance >= 0, "user {user} went negative: {balance}");
        assert_eq!(
            balance, expected[user as usize],
            "user {user}'s balance disagrees with the successful transfers"
        );
        total += balance;
    }
    assert_eq!(total, START * USERS as i64);
}

async fn guild_prefix_round_trip(store: Store, _: &TestDb) {
    assert_eq!(store.guild_prefix(5).await.unwrap(), None);
    store.set_guild_prefix(5, Some("?")).await.unwrap();
    assert_eq!(store.guild_prefix(5).await.unwrap().as_deref(), Some("?"));
    store.set_guild_prefix(5, None).await.unwrap();
    assert_eq!(store.guild_prefix(5).await.unwrap(), None);
    assert_eq!(store.guild_locale(5).await.unwrap(), "en-US");
}

#[test]
fn backend_is_chosen_by_url() {
    assert_eq!(Backend::from_url("sqlite://x.db").unwrap(), Backend::Sqlite);
    assert_eq!(
        Backend::from_url("postgres://u@h/d").unwrap(),
        Backend::Postgres
    );
    assert_eq!(
        Backend::from_url("postgresql://u@h/d").unwrap(),
        Backend::Postgres
    );
    let err = Backend::from_url("mysql://u@h/d").unwrap_err().to_string();
    assert!(err.contains("mysql:") && err.contains("sqlite://"), "{err}");
}

async fn tags_and_aliases_share_one_namespace(store: Store, _: &TestDb) {
    use lounge::store::NameError;
    let g = 7;
    store.create_tag(g, "hi", "hello", 1, 10).await.unwrap();
    let again = store.create_tag(g, "hi", "other", 2, 10).await.unwrap_err();
    assert!(matches!(again, NameError::Taken(_)), "{again}");
    let alias = store
        .create_alias(g, "hi", "ping", 1, 10)
        .await
        .unwrap_err();
    assert!(matches!(alias, NameError::TakenByTag(_)), "{alias}");
    store.create_alias(g, "p", "ping", 1, 10).await.unwrap();
    let tag = store.create_tag(g, "p", "x", 1, 10).await.unwrap_err();
    assert!(matches!(tag, NameError::TakenByAlias(_)), "{tag}");
    // Another guild has its own namespace.
    store.create_tag(8, "p", "x", 1, 10).await.unwrap();

    assert!(store.edit_tag(g, "hi", "changed").await.unwrap());
    assert!(!store.edit_tag(g, "nope", "changed").await.unwrap());
    let t = store.tag(g, "hi").await.unwrap().unwrap();
    assert_eq!(
        (t.content.as_str(), t.creator_id, t.uses),
        ("changed", 1, 0)
    );
    assert!(t.updated_at >= t.created_at);
    assert!(store.delete_tag(g, "hi").await.unwrap());
    assert!(!store.delete_tag(g, "hi").await.unwrap());
    assert_eq!(
        store.alias(g, "p").await.unwrap().unwrap().expansion,
        "ping"
    );
    assert!(store.delete_alias(g, "p").await.unwrap());
    assert!(store.alias(g, "p").await.unwrap().is_none());
    assert!(store.tags(g).await.unwrap().is_empty());
}

/// The count limit holds when many creations race: the guild row lock serialises them.
async fn concurrent_tag_creation_respects_the_limit(store: Store, _: &TestDb) {
    let limit = 5;
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .create_tag(9, &format!("t{i}"), "x", i, limit)
                    .await
                    .is_ok()
            })
        })
        .collect();
    let mut created = 0;
    for t in tasks {
        created += i64::from(t.await.unwrap());
    }
    assert_eq!(created, limit);
    assert_eq!(store.tags(9).await.unwrap().len(), 5);
}

async fn concurrent_tag_uses_are_all_counted(store: Store, _: &TestDb) {
    store.create_tag(3, "t", "x", 1, 10).await.unwrap();
    let tasks: Vec<_> = (0..50)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.count_tag_use(3, "t").await.unwrap() })
        })
        .collect();
    for t in tasks {
        t.await.unwrap();
    }
    assert_eq!(store.tag(3, "t").await.unwrap().unwrap().uses, 50);
}
