//! The storage conformance suite: every test runs against SQLite and PostgreSQL.

use std::sync::Arc;

use lounge_store::{
    Backend, ClaimError, ClaimRules, NewPokemon, NewSpawn, PokemonError, Store, StoreError,
    TradeSide, TransferError, no_trade_evolution,
};
use lounge_tests::db::TestDb;
use rand::{Rng, SeedableRng};

/// Defines `sqlite::name` and `postgres::name` for each `async fn name(Store)` listed.
macro_rules! conformance {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = lounge_tests::db::TestDb::new(lounge_store::Backend::Sqlite).await;
                    super::$name(db.store().await, &db).await;
                    db.cleanup().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let db = lounge_tests::db::TestDb::new(lounge_store::Backend::Postgres).await;
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
    migration_status_compares_the_table_with_the_binary,
    inspecting_never_writes,
    balances_start_at_zero,
    transfer_moves_exactly_the_amount,
    transfer_refuses_bad_requests,
    concurrent_transfers_conserve_currency,
    guild_prefix_round_trip,
    tags_and_aliases_share_one_namespace,
    concurrent_tag_creation_respects_the_limit,
    concurrent_tag_uses_are_all_counted,
    concurrent_catchers_have_exactly_one_winner,
    concurrent_trades_and_releases_conserve_pokemon_and_coins,
    trade_is_all_or_nothing,
    item_evolution_charges_once_and_changes_the_species_once,
    open_trades_hold_their_offers_and_swap_on_the_second_confirmation,
    concurrent_confirmations_swap_exactly_once,
    thousands_of_concurrent_trade_steps_and_releases_conserve_everything,
    battle_teams_keep_their_order_and_lose_what_changes_hands,
    held_items_move_between_bag_and_pokemon_exactly_once,
    a_trade_evolution_uses_the_held_item_in_the_swap,
    concurrent_holds_takes_releases_and_trades_conserve_items_and_coins,
    concurrent_battle_payouts_pay_exactly_what_was_recorded,
    a_battle_payout_that_cannot_be_paid_stores_nothing,
    claims_open_once_a_period_and_keep_their_streak,
    concurrent_claims_pay_exactly_once,
    a_claim_the_balance_cannot_hold_is_not_used_up,
    concurrent_cases_get_distinct_numbers_never_reused,
    reputation_is_given_once_a_day_even_when_raced,
    an_owed_modlog_post_is_taken_by_one_process_after_its_lease,
    leaderboards_rank_by_score_then_id,
);

async fn migrations_are_idempotent(store: Store, db: &TestDb) {
    let version = store.applied_schema_version().await.unwrap();
    assert!(version.is_some_and(|v| v >= 1));
    store.close().await;
    // A second start applies nothing new and keeps the data.
    let again = db.store().await;
    assert_eq!(again.applied_schema_version().await.unwrap(), version);
}

async fn migration_status_compares_the_table_with_the_binary(store: Store, _db: &TestDb) {
    let status = store.migration_status().await.unwrap();
    assert!(status.is_current(), "{status:?}");
    assert!(status.pending.is_empty() && status.failed.is_none());
    assert_eq!(status.version(), Some(status.newest_known));
    // One applied row per migration file shipped for this backend.
    let dir = match store.backend() {
        Backend::Sqlite => "migrations/sqlite",
        Backend::Postgres => "migrations/postgres",
    };
    let files = std::fs::read_dir(lounge_tests::bin::workspace_root().join(dir))
        .unwrap()
        .count();
    assert_eq!(status.applied.len(), files, "{status:?}");

    // Forget the newest migration: it is pending again, and only it.
    let newest = status.newest_known;
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1")
        .bind(newest)
        .execute(store.pool())
        .await
        .unwrap();
    let status = store.migration_status().await.unwrap();
    assert!(!status.is_current());
    assert_eq!(
        status.pending.iter().map(|m| m.version).collect::<Vec<_>>(),
        [newest]
    );
    assert!(!status.pending[0].description.is_empty());
    assert!(status.version().unwrap() < newest);

    // A version this binary does not know makes the schema too new.
    sqlx::query(
        "INSERT INTO _sqlx_migrations (version, description, success, checksum, execution_time) \
         VALUES (99999, 'from the future', TRUE, $1, 0)",
    )
    .bind(vec![0u8; 48])
    .execute(store.pool())
    .await
    .unwrap();
    let status = store.migration_status().await.unwrap();
    assert_eq!(status.too_new(), Some(99999));
    assert!(!status.is_current());
}

/// What `lounge config check` and `lounge doctor` open: it reads the schema and refuses to
/// change anything.
async fn inspecting_never_writes(store: Store, db: &TestDb) {
    store.close().await;
    let inspected = Store::inspect(&db.url).await.unwrap().expect("it exists");
    assert!(inspected.migration_status().await.unwrap().is_current());
    let write = sqlx::query("CREATE TABLE doctor_probe (x INTEGER)")
        .execute(inspected.pool())
        .await;
    assert!(write.is_err(), "an inspecting pool wrote to the database");
    inspected.close().await;
    let again = db.store().await;
    let tables: i64 = sqlx::Row::get(
        &sqlx::query(match again.backend() {
            Backend::Sqlite => "SELECT COUNT(*) FROM sqlite_master WHERE name = 'doctor_probe'",
            Backend::Postgres => {
                "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'doctor_probe'"
            }
        })
        .fetch_one(again.pool())
        .await
        .unwrap(),
        0,
    );
    assert_eq!(tables, 0);
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
    use lounge_store::NameError;
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

fn spawn_in(channel: u64, species: u16) -> NewSpawn {
    NewSpawn {
        guild: 1,
        channel,
        species,
        level: 5,
        shiny: false,
        nature: 0,
        ivs: [31; 6],
    }
}

fn pokemon_of(species: u16) -> NewPokemon {
    NewPokemon {
        species,
        level: 5,
        exp: 125,
        nature: 0,
        ivs: [31; 6],
        shiny: false,
        friendship: 70,
        moves: vec![33],
    }
}

/// Gives `user` a fresh Pokémon the way the game does: a spawn, then a catch.
async fn give_pokemon(store: &Store, user: u64, species: u16) -> i64 {
    let spawn = store.create_spawn(&spawn_in(999, species)).await.unwrap();
    store
        .catch_spawn(spawn, user, &pokemon_of(species), None, 0)
        .await
        .unwrap()
        .id
}

/// An open trade holds what it offers (no release, no second trade), any change clears both
/// confirmations, the second confirmation swaps, and cancelled or idle trades free it all.
async fn open_trades_hold_their_offers_and_swap_on_the_second_confirmation(
    store: Store,
    _: &TestDb,
) {
    use lounge_store::{Confirmation, TRADE_IDLE_MS, TradeChange};
    let now = 1_000_000;
    let (p1, p2) = (
        give_pokemon(&store, 1, 25).await,
        give_pokemon(&store, 2, 133).await,
    );
    store.adjust_currency(1, 100).await.unwrap();

    let t = store.trade_open(7, 1, 2, now).await.unwrap();
    assert_eq!(
        (t.users, t.coins, t.confirmed),
        ([1, 2], [0, 0], [false, false])
    );
    for (a, b, busy) in [(1, 3, 1), (3, 2, 2)] {
        let e = store.trade_open(7, a, b, now).await;
        assert!(
            matches!(e, Err(PokemonError::InTrade { user }) if user == busy),
            "{e:?}"
        );
    }
    assert!(matches!(
        store.trade_confirm(1, now, &no_trade_evolution).await,
        Err(PokemonError::Invalid(_))
    ));

    let add = |pokemon: Vec<i64>, coins| TradeChange::Add { pokemon, coins };
    let e = store.trade_change(1, &add(vec![p2], 0), now).await;
    assert!(
        matches!(e, Err(PokemonError::NotOwned { id, .. }) if id == p2),
        "{e:?}"
    );
    let t = store
        .trade_change(1, &add(vec![p1], 50), now)
        .await
        .unwrap();
    assert_eq!((t.pokemon.clone(), t.coins), ([vec![p1], vec![]], [50, 0]));
    let e = store.trade_change(1, &add(vec![p1], 0), now).await;
    assert!(
        matches!(e, Err(PokemonError::Offered { id }) if id == p1),
        "{e:?}"
    );
    let e = store.trade_change(1, &add(vec![], 51), now).await;
    assert!(
        matches!(e, Err(PokemonError::InsufficientFunds { needed: 101, .. })),
        "{e:?}"
    );
    // An amount past i64 on top of the offer is refused, not wrapped around.
    let e = store.trade_change(1, &add(vec![], i64::MAX), now).await;
    assert!(matches!(e, Err(PokemonError::Invalid(_))), "{e:?}");
    let e = store.release_pokemon(p1, 1).await;
    assert!(
        matches!(e, Err(PokemonError::Offered { id }) if id == p1),
        "{e:?}"
    );
    assert!(store.trade_change(3, &add(vec![], 1), now).await.is_err());

    let Confirmation::Waiting(t) = store
        .trade_confirm(1, now, &no_trade_evolution)
        .await
        .unwrap()
    else {
        panic!("one confirmation swapped");
    };
    assert_eq!(t.confirmed, [true, false]);
    let t = store.trade_change(2, &add(vec![p2], 0), now).await.unwrap();
    assert_eq!(t.confirmed, [false, false], "a change keeps a confirmation");
    let Confirmation::Waiting(_) = store
        .trade_confirm(2, now, &no_trade_evolution)
        .await
        .unwrap()
    else {
        panic!("one confirmation swapped");
    };
    assert_eq!(store.pokemon(p1).await.unwrap().unwrap().owner, 1);
    let Confirmation::Done { trade, .. } = store
        .trade_confirm(1, now, &no_trade_evolution)
        .await
        .unwrap()
    else {
        panic!("two confirmations did not swap");
    };
    assert_eq!(trade.pokemon, [vec![p1], vec![p2]]);
    assert_eq!(store.pokemon(p1).await.unwrap().unwrap().owner, 2);
    assert_eq!(store.pokemon(p2).await.unwrap().unwrap().owner, 1);
    assert_eq!(
        (
            store.balance(1).await.unwrap(),
            store.balance(2).await.unwrap()
        ),
        (50, 50)
    );
    assert!(store.trade_of(1, now).await.unwrap().is_none());
    assert!(!store.is_offered(p1).await.unwrap());

    // Cancelled: freed at once.
    store.trade_open(7, 2, 1, now).await.unwrap();
    store.trade_change(2, &add(vec![p1], 0), now).await.unwrap();
    let e = store
        .trade_change(
            2,
            &TradeChange::Remove {
                pokemon: vec![p2],
                coins: 0,
            },
            now,
        )
        .await;
    assert!(
        matches!(e, Err(PokemonError::NotOffered { id }) if id == p2),
        "{e:?}"
    );
    store.trade_cancel(1, now).await.unwrap();
    assert!(!store.is_offered(p1).await.unwrap());
    assert!(matches!(
        store.trade_cancel(1, now).await,
        Err(PokemonError::NoTrade)
    ));

    // Idle: given up once TRADE_IDLE_MS have passed since the last change.
    store.trade_open(7, 2, 1, now).await.unwrap();
    store
        .trade_change(2, &add(vec![p1], 0), now + 1_000)
        .await
        .unwrap();
    assert_eq!(
        store
            .trade_expire(now + 1_000 + TRADE_IDLE_MS)
            .await
            .unwrap(),
        0
    );
    let later = now + 1_001 + TRADE_IDLE_MS;
    assert!(store.trade_of(2, later).await.unwrap().is_none());
    assert!(!store.is_offered(p1).await.unwrap());
    assert_eq!(store.release_pokemon(p1, 2).await.unwrap().id, p1);
}

/// Both members confirm at the same moment, many times over: each trade swaps exactly once
/// and the Pokémon goes back and forth without ever being lost or doubled.
async fn concurrent_confirmations_swap_exactly_once(store: Store, _: &TestDb) {
    use lounge_store::{Confirmation, TradeChange};
    let p = give_pokemon(&store, 1, 25).await;
    let store = Arc::new(store);
    for round in 0..12_i64 {
        let owner = if round % 2 == 0 { 1 } else { 2 };
        let now = 1_000_000 + round;
        store.trade_open(7, 1, 2, now).await.unwrap();
        let add = TradeChange::Add {
            pokemon: vec![p],
            coins: 0,
        };
        store.trade_change(owner, &add, now).await.unwrap();
        let confirms: Vec<_> = [1, 2]
            .map(|u| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    store
                        .trade_confirm(u, now, &no_trade_evolution)
                        .await
                        .unwrap()
                })
            })
            .into_iter()
            .collect();
        let mut done = 0;
        for c in confirms {
            if matches!(c.await.unwrap(), Confirmation::Done { .. }) {
                done += 1;
            }
        }
        assert_eq!(done, 1, "round {round}: {done} swaps");
        let now_owner = store.pokemon(p).await.unwrap().unwrap().owner;
        assert_eq!(now_owner, 3 - owner, "round {round}");
        assert!(store.trade_of(1, now).await.unwrap().is_none());
    }
    let count: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM pokemon")
        .fetch_one(store.pool())
        .await
        .unwrap();
    assert_eq!(count, 1);
}

/// Six members each take 400 random steps at once through the trade flow (open, add, take
/// back, confirm, cancel) and releases, over the same Pokémon and coins: afterwards every coin
/// is still there, exactly the released Pokémon are gone, every completed swap is in the
/// history, and nothing is left held by a trade that is not open. Refusals are expected
/// (busy members, held or moved Pokémon, short balances); a storage error is not.
async fn thousands_of_concurrent_trade_steps_and_releases_conserve_everything(
    store: Store,
    _: &TestDb,
) {
    use lounge_store::{Confirmation, TradeChange};
    const USERS: u64 = 6;
    const STEPS: usize = 400;
    let mut initial = 0;
    for user in 1..=USERS {
        store.adjust_currency(user, 500).await.unwrap();
        for species in 1..=4 {
            give_pokemon(&store, user, species).await;
            initial += 1;
        }
    }
    let store = Arc::new(store);
    let tasks: Vec<_> = (1..=USERS)
        .map(|user| {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(user);
                let (mut released, mut swaps) = (Vec::new(), 0);
                for step in 0..STEPS {
                    let now = 1_000_000 + step as i64;
                    let result = match rng.random_range(0..10) {
                        0 | 1 => {
                            let mut other = rng.random_range(1..=USERS);
                            if other == user {
                                other = user % USERS + 1;
                            }
                            store.trade_open(7, user, other, now).await.map(drop)
                        }
                        2..=4 => {
                            let mine = store.owned_pokemon(user).await.unwrap();
                            let pokemon = mine
                                .iter()
                                .filter(|_| rng.random_range(0..3) == 0)
                                .map(|p| p.id)
                                .collect();
                            let coins = rng.random_range(0..=150);
                            let change = TradeChange::Add { pokemon, coins };
                            store.trade_change(user, &change, now).await.map(drop)
                        }
                        5 => {
                            let change = TradeChange::Remove {
                                pokemon: Vec::new(),
                                coins: rng.random_range(1..=100),
                            };
                            store.trade_change(user, &change, now).await.map(drop)
                        }
                        6 | 7 => match store.trade_confirm(user, now, &no_trade_evolution).await {
                            Ok(Confirmation::Done { .. }) => {
                                swaps += 1;
                                Ok(())
                            }
                            other => other.map(drop),
                        },
                        8 => store.trade_cancel(user, now).await.map(drop),
                        _ => {
                            let mine = store.owned_pokemon(user).await.unwrap();
                            if mine.len() <= 1 {
                                continue;
                            }
                            let p = mine[rng.random_range(0..mine.len())].id;
                            match store.release_pokemon(p, user).await {
                                Ok(gone) => {
                                    released.push(gone.id);
                                    Ok(())
                                }
                                Err(e) => Err(e),
                            }
                        }
                    };
                    if let Err(PokemonError::Store(e)) = result {
                        panic!("member {user}, step {step}: {e}");
                    }
                }
                (released, swaps)
            })
        })
        .collect();
    let (mut released, mut swaps) = (Vec::new(), 0);
    for t in tasks {
        let (r, s) = t.await.unwrap();
        released.extend(r);
        swaps += s;
    }
    // On a loaded machine the random interleaving may never line two confirmations up; one
    // trade finished on purpose after it keeps the checks below about completed trades real.
    let now = 1_000_000 + STEPS as i64 + 1;
    for user in 1..=USERS {
        let _ = store.trade_cancel(user, now).await;
    }
    let mut richest = 1;
    for user in 1..=USERS {
        if store.balance(user).await.unwrap() > store.balance(richest).await.unwrap() {
            richest = user;
        }
    }
    let partner = richest % USERS + 1;
    store.trade_open(7, richest, partner, now).await.unwrap();
    let offer = TradeChange::Add {
        pokemon: Vec::new(),
        coins: 1,
    };
    store.trade_change(richest, &offer, now).await.unwrap();
    store
        .trade_confirm(richest, now, &no_trade_evolution)
        .await
        .unwrap();
    match store
        .trade_confirm(partner, now, &no_trade_evolution)
        .await
        .unwrap()
    {
        Confirmation::Done { .. } => swaps += 1,
        Confirmation::Waiting(t) => panic!("both confirmed, yet the trade waits: {t:?}"),
    }

    let count = |sql: &'static str| {
        let store = Arc::clone(&store);
        async move {
            sqlx::query_scalar::<_, i64>(sql)
                .fetch_one(store.pool())
                .await
                .unwrap()
        }
    };
    assert_eq!(
        count("SELECT CAST(COALESCE(SUM(currency), 0) AS BIGINT) FROM users").await,
        500 * USERS as i64,
        "coins were created or destroyed"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM pokemon").await,
        initial - released.len() as i64
    );
    for id in &released {
        assert!(
            store.pokemon(*id).await.unwrap().is_none(),
            "#{id} came back"
        );
    }
    assert!(
        swaps > 0,
        "no trade ever completed: the test exercised nothing"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM pokemon_open_trades WHERE state = 'done'").await,
        swaps
    );
    assert_eq!(count("SELECT COUNT(*) FROM pokemon_trades").await, swaps);
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM pokemon_trade_offers o JOIN pokemon_open_trades t \
             ON t.id = o.trade WHERE t.state <> 'open'"
        )
        .await,
        0
    );
    assert_eq!(
        count(
            "SELECT COUNT(*) FROM pokemon_trade_offers o JOIN pokemon o2 ON o2.id = o.pokemon_id \
             WHERE o2.owner_id <> o.user_id"
        )
        .await,
        0,
        "an open trade offers a Pokémon its member no longer owns"
    );
    assert_eq!(
        count("SELECT COUNT(*) FROM pokemon_trade_members m JOIN pokemon_open_trades t ON t.id = m.trade WHERE t.state <> 'open'").await,
        0
    );
}

/// Evolving with an item is paid and applied together: refused without the coins (nothing
/// changes), and eight concurrent attempts on one Pokémon evolve it once and charge once.
async fn item_evolution_charges_once_and_changes_the_species_once(store: Store, _: &TestDb) {
    let d = lounge_pokemon::data::dex();
    let (pikachu, raichu) = (
        d.species_named("Pikachu").unwrap().num,
        d.species_named("Raichu").unwrap().num,
    );
    let id = give_pokemon(&store, 1, pikachu).await;
    let before = store.pokemon(id).await.unwrap().unwrap();

    store.adjust_currency(1, 299).await.unwrap();
    let poor = store.evolve_with_item(&before, raichu, 300).await;
    assert!(
        matches!(
            poor,
            Err(PokemonError::InsufficientFunds {
                balance: 299,
                needed: 300,
                ..
            })
        ),
        "{poor:?}"
    );
    assert_eq!(store.pokemon(id).await.unwrap().unwrap().species, pikachu);
    assert_eq!(store.balance(1).await.unwrap(), 299);

    store.adjust_currency(1, 8 * 300 - 299).await.unwrap();
    let store = Arc::new(store);
    let tries: Vec<_> = (0..8)
        .map(|_| {
            let (store, before) = (Arc::clone(&store), before.clone());
            tokio::spawn(async move { store.evolve_with_item(&before, raichu, 300).await })
        })
        .collect();
    let mut evolved = 0;
    for t in tries {
        match t.await.unwrap() {
            Ok(_) => evolved += 1,
            Err(PokemonError::Invalid(_)) => {}
            Err(e) => panic!("unexpected refusal: {e:?}"),
        }
    }
    assert_eq!(evolved, 1, "evolved {evolved} times");
    assert_eq!(store.pokemon(id).await.unwrap().unwrap().species, raichu);
    assert_eq!(
        store.balance(1).await.unwrap(),
        7 * 300,
        "charged more than once"
    );
    assert!(store.dex(1).await.unwrap().contains(&raichu));

    // Someone else's Pokémon: refused, nothing charged.
    let theirs = give_pokemon(&store, 2, pikachu).await;
    let mut stolen = store.pokemon(theirs).await.unwrap().unwrap();
    stolen.owner = 1;
    let refused = store.evolve_with_item(&stolen, raichu, 300).await;
    assert!(
        matches!(refused, Err(PokemonError::NotOwned { .. })),
        "{refused:?}"
    );
    assert_eq!(store.balance(1).await.unwrap(), 7 * 300);
    assert_eq!(
        store.pokemon(theirs).await.unwrap().unwrap().species,
        pikachu
    );
}

/// 24 members throw a ball at the same spawn at once, five spawns in a row: each spawn has
/// exactly one winner, exactly one Pokémon is created, and only the winner's ball is used.
async fn concurrent_catchers_have_exactly_one_winner(store: Store, _: &TestDb) {
    const CATCHERS: u64 = 24;
    let store = Arc::new(store);
    for user in 1..=CATCHERS {
        store.adjust_currency(user, 1_000).await.unwrap();
        store.buy_item(user, "poke-ball", 5, 20).await.unwrap();
    }
    for round in 0..5u16 {
        let spawn = store.create_spawn(&spawn_in(7, 25 + round)).await.unwrap();
        let tasks: Vec<_> = (1..=CATCHERS)
            .map(|user| {
                let store = store.clone();
                tokio::spawn(async move {
                    let new = pokemon_of(25 + round);
                    let result = store
                        .catch_spawn(spawn, user, &new, Some("poke-ball"), 10)
                        .await;
                    (user, result)
                })
            })
            .collect();
        let mut winners = Vec::new();
        let mut losers = Vec::new();
        for task in tasks {
            match task.await.unwrap() {
                (user, Ok(p)) => {
                    assert_eq!(p.owner, user);
                    winners.push(user);
                }
                (user, Err(PokemonError::AlreadyCaught { by })) => losers.push((user, by)),
                (user, Err(e)) => panic!("catcher {user} failed: {e:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: winners {winners:?}");
        let winner = winners[0];
        assert!(
            losers.iter().all(|&(_, by)| by == winner),
            "every loser must be told who won: {losers:?}"
        );
        let latest = store.latest_spawn(7).await.unwrap().unwrap();
        assert_eq!((latest.id, latest.caught_by), (spawn, Some(winner)));
    }
    let mut pokemon = 0;
    let mut balls = 0;
    for user in 1..=CATCHERS {
        let owned = store.pokemon_count(user).await.unwrap();
        pokemon += owned;
        let left = store.item_count(user, "poke-ball").await.unwrap();
        assert_eq!(
            left,
            5 - owned,
            "user {user} caught {owned} and has {left} balls"
        );
        balls += left;
        assert_eq!(store.balance(user).await.unwrap(), 1_000 - 100 + 10 * owned);
    }
    assert_eq!(pokemon, 5);
    assert_eq!(balls, 5 * CATCHERS as i64 - 5);
}

/// A trade that fails half-way (the second Pokémon is not the named owner's) changes nothing,
/// and neither does one whose coins are not covered.
async fn trade_is_all_or_nothing(store: Store, _: &TestDb) {
    let a1 = give_pokemon(&store, 1, 1).await;
    let a2 = give_pokemon(&store, 1, 4).await;
    let b1 = give_pokemon(&store, 2, 7).await;
    let c1 = give_pokemon(&store, 3, 10).await;
    store.adjust_currency(1, 50).await.unwrap();
    let a = |pokemon: Vec<i64>, coins| TradeSide {
        user: 1,
        pokemon,
        coins,
    };
    let b = |pokemon: Vec<i64>, coins| TradeSide {
        user: 2,
        pokemon,
        coins,
    };
    let err = store
        .trade(&a(vec![a1, c1], 0), &b(vec![b1], 0), &no_trade_evolution)
        .await;
    assert!(
        matches!(err, Err(PokemonError::NotOwned { id, owner: 1 }) if id == c1),
        "{err:?}"
    );
    let err = store
        .trade(&a(vec![a1], 51), &b(vec![b1], 0), &no_trade_evolution)
        .await;
    assert!(
        matches!(err, Err(PokemonError::InsufficientFunds { user: 1, .. })),
        "{err:?}"
    );
    for (id, owner) in [(a1, 1), (a2, 1), (b1, 2), (c1, 3)] {
        assert_eq!(store.pokemon(id).await.unwrap().unwrap().owner, owner);
    }
    assert_eq!(store.balance(1).await.unwrap(), 50);
    assert!(matches!(
        store
            .trade(&a(vec![a1], 0), &a(vec![a2], 0), &no_trade_evolution)
            .await,
        Err(PokemonError::Invalid(_))
    ));
    assert!(matches!(
        store
            .trade(&a(vec![a1], 0), &b(vec![a1], 0), &no_trade_evolution)
            .await,
        Err(PokemonError::Invalid(_))
    ));

    store
        .trade(&a(vec![a1, a2], 50), &b(vec![b1], 0), &no_trade_evolution)
        .await
        .unwrap();
    for (id, owner) in [(a1, 2), (a2, 2), (b1, 1), (c1, 3)] {
        assert_eq!(store.pokemon(id).await.unwrap().unwrap().owner, owner);
    }
    assert_eq!(store.balance(1).await.unwrap(), 0);
    assert_eq!(store.balance(2).await.unwrap(), 50);
    // Receiving counts for the Pokédex.
    assert!(store.dex(2).await.unwrap().contains(&1));
}

async fn team_ids(store: &Store, user: u64) -> Vec<i64> {
    store
        .team(user)
        .await
        .unwrap()
        .iter()
        .map(|p| p.id)
        .collect()
}

/// A team is saved in order and replaced whole; a refused change keeps the old team; a
/// Pokémon traded away or released leaves its team for good (also when it comes back), and
/// one that changed owner behind the team's back is not read as part of it.
async fn battle_teams_keep_their_order_and_lose_what_changes_hands(store: Store, _: &TestDb) {
    let a1 = give_pokemon(&store, 1, 1).await;
    let a2 = give_pokemon(&store, 1, 4).await;
    let a3 = give_pokemon(&store, 1, 7).await;
    let b1 = give_pokemon(&store, 2, 10).await;
    assert!(team_ids(&store, 1).await.is_empty());

    let team = store.set_team(1, &[a3, a1]).await.unwrap();
    assert_eq!(team.iter().map(|p| p.id).collect::<Vec<_>>(), [a3, a1]);
    assert_eq!(team_ids(&store, 1).await, [a3, a1]);

    let err = store.set_team(1, &[]).await;
    assert!(matches!(err, Err(PokemonError::Invalid(_))), "{err:?}");
    let err = store.set_team(1, &[a1, a2, a3, 100, 101, 102, 103]).await;
    assert!(matches!(err, Err(PokemonError::Invalid(_))), "{err:?}");
    let err = store.set_team(1, &[a2, a1, a2]).await;
    assert!(
        matches!(err, Err(PokemonError::ListedTwice { id }) if id == a2),
        "{err:?}"
    );
    // The first Pokémon is fine; the refusal of the second must undo its insert too.
    let err = store.set_team(1, &[a2, b1]).await;
    assert!(
        matches!(err, Err(PokemonError::NotOwned { id, owner: 1 }) if id == b1),
        "{err:?}"
    );
    assert_eq!(
        team_ids(&store, 1).await,
        [a3, a1],
        "a refusal changes nothing"
    );

    store.set_team(1, &[a2]).await.unwrap();
    assert_eq!(team_ids(&store, 1).await, [a2]);
    store.set_team(1, &[a1, a2, a3]).await.unwrap();

    let side = |user, pokemon| TradeSide {
        user,
        pokemon,
        coins: 0,
    };
    store
        .trade(&side(1, vec![a1]), &side(2, vec![b1]), &no_trade_evolution)
        .await
        .unwrap();
    assert_eq!(team_ids(&store, 1).await, [a2, a3]);
    store
        .trade(&side(2, vec![a1]), &side(1, vec![]), &no_trade_evolution)
        .await
        .unwrap();
    assert_eq!(team_ids(&store, 1).await, [a2, a3], "a1 came back, benched");

    store.release_pokemon(a3, 1).await.unwrap();
    assert_eq!(team_ids(&store, 1).await, [a2]);
    let rows: i64 = sqlx::Row::get(
        &sqlx::query("SELECT COUNT(*) FROM pokemon_teams WHERE pokemon_id = $1")
            .bind(a3)
            .fetch_one(store.pool())
            .await
            .unwrap(),
        0,
    );
    assert_eq!(rows, 0, "the release took it out of the team");

    // An owner change the team rows did not see (a trade racing `set_team`).
    sqlx::query("UPDATE pokemon SET owner_id = 2 WHERE id = $1")
        .bind(a2)
        .execute(store.pool())
        .await
        .unwrap();
    assert!(team_ids(&store, 1).await.is_empty());
    // The new owner can use it: the stale row does not block it.
    store.set_team(2, &[a2]).await.unwrap();
    assert_eq!(team_ids(&store, 2).await, [a2]);

    assert!(store.clear_team(2).await.unwrap());
    assert!(!store.clear_team(2).await.unwrap());
    assert!(team_ids(&store, 2).await.is_empty());
}

#[derive(Debug, Clone)]
enum Op {
    Trade(TradeSide, TradeSide),
    Release(i64, u64),
}

/// 400 concurrent trades and releases among 8 members over the same 40 Pokémon, most of them
/// naming an owner that is out of date by the time they run: every Pokémon ends with exactly
/// one owner, and each member's Pokémon count and coins equal the start plus what the
/// successful operations say (nothing lost, nothing duplicated).
async fn concurrent_trades_and_releases_conserve_pokemon_and_coins(store: Store, _: &TestDb) {
    const USERS: u64 = 8;
    const PER_USER: usize = 5;
    const OPS: usize = 400;
    let mut initial_owner = std::collections::HashMap::new();
    for user in 1..=USERS {
        store.adjust_currency(user, 300).await.unwrap();
        for i in 0..PER_USER {
            let id = give_pokemon(&store, user, 1 + i as u16).await;
            initial_owner.insert(id, user);
        }
    }
    let ids: Vec<i64> = {
        let mut v: Vec<i64> = initial_owner.keys().copied().collect();
        v.sort_unstable();
        v
    };
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let plan: Vec<Op> = (0..OPS)
        .map(|_| {
            if rng.random_range(0..5) == 0 {
                let id = ids[rng.random_range(0..ids.len())];
                return Op::Release(id, rng.random_range(1..=USERS));
            }
            let a = rng.random_range(1..=USERS);
            let mut b = rng.random_range(1..=USERS);
            while b == a {
                b = rng.random_range(1..=USERS);
            }
            // Pokémon "believed" to be each side's: right at first, stale later.
            let pick = |user: u64, rng: &mut rand_chacha::ChaCha8Rng| {
                let mut mine: Vec<i64> = ids
                    .iter()
                    .copied()
                    .filter(|id| initial_owner[id] == user || rng.random_range(0..6) == 0)
                    .collect();
                let keep = rng.random_range(0..=2).min(mine.len());
                let mut out = Vec::new();
                for _ in 0..keep {
                    out.push(mine.swap_remove(rng.random_range(0..mine.len())));
                }
                out
            };
            let a_side = TradeSide {
                user: a,
                pokemon: pick(a, &mut rng),
                coins: rng.random_range(0..=120),
            };
            let mut b_side = TradeSide {
                user: b,
                pokemon: pick(b, &mut rng),
                coins: rng.random_range(0..=120),
            };
            b_side.pokemon.retain(|id| !a_side.pokemon.contains(id));
            Op::Trade(a_side, b_side)
        })
        .collect();
    let store = Arc::new(store);
    let tasks: Vec<_> = plan
        .into_iter()
        .map(|op| {
            let store = store.clone();
            tokio::spawn(async move {
                let result = match &op {
                    Op::Trade(a, b) => store.trade(a, b, &no_trade_evolution).await.map(|_| ()),
                    Op::Release(id, user) => store.release_pokemon(*id, *user).await.map(|_| ()),
                };
                (op, result)
            })
        })
        .collect();
    let mut count = vec![PER_USER as i64; USERS as usize + 1];
    let mut coins = vec![300i64; USERS as usize + 1];
    let mut gone = std::collections::HashSet::new();
    let (mut trades, mut releases, mut refused) = (0, 0, 0);
    for task in tasks {
        let (op, result) = task.await.unwrap();
        match (op, result) {
            (Op::Trade(a, b), Ok(())) => {
                trades += 1;
                for (from, to) in [(&a, &b), (&b, &a)] {
                    count[from.user as usize] -= from.pokemon.len() as i64;
                    count[to.user as usize] += from.pokemon.len() as i64;
                    coins[from.user as usize] -= from.coins;
                    coins[to.user as usize] += from.coins;
                }
            }
            (Op::Release(id, user), Ok(())) => {
                releases += 1;
                count[user as usize] -= 1;
                assert!(gone.insert(id), "#{id} was released twice");
            }
            (
                _,
                Err(
                    PokemonError::NotOwned { .. }
                    | PokemonError::InsufficientFunds { .. }
                    | PokemonError::Invalid(_),
                ),
            ) => refused += 1,
            (op, Err(e)) => panic!("{op:?} failed: {e:?}"),
        }
    }
    assert!(
        trades > 10 && releases > 0 && refused > 10,
        "the workload should exercise every outcome: {trades} trades, {releases} releases, {refused} refused"
    );
    let mut seen = std::collections::HashSet::new();
    for user in 1..=USERS {
        let owned = store.owned_pokemon(user).await.unwrap();
        assert_eq!(
            owned.len() as i64,
            count[user as usize],
            "user {user}'s Pokémon disagree with the successful operations"
        );
        for p in owned {
            assert!(seen.insert(p.id), "#{} has two owners", p.id);
        }
        assert_eq!(store.balance(user).await.unwrap(), coins[user as usize]);
    }
    let expected: std::collections::HashSet<i64> = ids
        .iter()
        .copied()
        .filter(|id| !gone.contains(id))
        .collect();
    assert_eq!(
        seen, expected,
        "every unreleased Pokémon has exactly one owner"
    );
}

/// Inspecting a SQLite database that does not exist yet creates neither it nor its directory.
#[tokio::test]
async fn inspecting_a_missing_sqlite_file_creates_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state").join("lounge.db");
    let url = format!("sqlite://{}?mode=rwc", file.display());
    assert!(Store::inspect(&url).await.unwrap().is_none());
    assert!(!file.parent().unwrap().exists());
}

/// A hand-written `sqlite://PATH`, as packagers and admins write it, creates the file and its
/// directory on first start like the default URL does; an explicit `mode` is still obeyed.
#[tokio::test]
async fn a_plain_sqlite_path_is_created_on_first_open() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("state").join("lounge.db");
    let url = format!("sqlite://{}", file.display());
    let store = Store::open(&url).await.unwrap();
    assert!(store.applied_schema_version().await.unwrap().unwrap() > 0);
    store.close().await;
    assert!(file.is_file());

    let missing = dir.path().join("missing.db");
    let read_only = format!("sqlite://{}?mode=ro", missing.display());
    assert!(Store::open(&read_only).await.is_err());
    assert!(!missing.exists(), "mode=ro must not create the file");
}

fn species_num(name: &str) -> u16 {
    lounge_pokemon::data::dex().species_named(name).unwrap().num
}

/// `/pokemon hold` and `/pokemon takeitem` in the store: an item is bought (a conditional
/// debit) or taken from the bag, given only to a Pokémon its owner has that holds nothing and
/// is not offered, taken back into the bag, and returned to the bag on release; every refusal
/// charges nothing.
async fn held_items_move_between_bag_and_pokemon_exactly_once(store: Store, _: &TestDb) {
    use lounge_store::{HeldFrom, Progress, TradeChange};
    let onix = give_pokemon(&store, 1, species_num("Onix")).await;
    let other = give_pokemon(&store, 1, species_num("Pikachu")).await;
    let theirs = give_pokemon(&store, 2, species_num("Eevee")).await;
    store.adjust_currency(1, 500).await.unwrap();

    let bought = store.hold_item(onix, 1, "Metal Coat", 300).await.unwrap();
    assert_eq!(bought, HeldFrom::Bought { balance: 200 });
    let p = store.pokemon(onix).await.unwrap().unwrap();
    assert_eq!(p.held_item.as_deref(), Some("Metal Coat"));
    let e = store.hold_item(onix, 1, "Leftovers", 100).await;
    assert!(
        matches!(&e, Err(PokemonError::AlreadyHolding { id, item }) if *id == onix && item == "Metal Coat"),
        "{e:?}"
    );
    let e = store.hold_item(theirs, 1, "Leftovers", 100).await;
    assert!(matches!(e, Err(PokemonError::NotOwned { .. })), "{e:?}");
    let e = store.hold_item(other, 1, "Leftovers", 300).await;
    assert!(
        matches!(
            e,
            Err(PokemonError::InsufficientFunds {
                balance: 200,
                needed: 300,
                ..
            })
        ),
        "{e:?}"
    );
    assert_eq!(
        store.balance(1).await.unwrap(),
        200,
        "refusals cost nothing"
    );
    assert_eq!(store.pokemon(other).await.unwrap().unwrap().held_item, None);

    // Taken into the bag, and from the bag to another Pokémon for free.
    assert_eq!(store.take_held_item(onix, 1).await.unwrap(), "Metal Coat");
    assert_eq!(store.item_count(1, "Metal Coat").await.unwrap(), 1);
    assert!(matches!(
        store.take_held_item(onix, 1).await,
        Err(PokemonError::NotHolding { .. })
    ));
    assert!(matches!(
        store.take_held_item(theirs, 1).await,
        Err(PokemonError::NotOwned { .. })
    ));
    assert_eq!(
        store.hold_item(other, 1, "Metal Coat", 300).await.unwrap(),
        HeldFrom::Bag
    );
    assert_eq!(store.item_count(1, "Metal Coat").await.unwrap(), 0);
    assert_eq!(store.balance(1).await.unwrap(), 200);

    // Growth that read the Pokémon before its item changed is not written over it.
    let before = store.pokemon(other).await.unwrap().unwrap();
    let progress = Progress {
        species: before.species,
        level: before.level + 1,
        exp: before.exp + 100,
        friendship: before.friendship,
        moves: before.moves.clone(),
        held_item: None,
    };
    let mut stale = before.clone();
    stale.held_item = None;
    assert!(!store.save_progress(&stale, &progress).await.unwrap());
    assert!(store.save_progress(&before, &progress).await.unwrap());
    assert_eq!(store.pokemon(other).await.unwrap().unwrap().held_item, None);
    store.hold_item(other, 1, "Leftovers", 100).await.unwrap();

    // An offered Pokémon's item is part of the deal: it can't be given or taken.
    store.trade_open(7, 1, 2, 1_000).await.unwrap();
    let add = TradeChange::Add {
        pokemon: vec![other, onix],
        coins: 0,
    };
    store.trade_change(1, &add, 1_000).await.unwrap();
    assert!(matches!(
        store.take_held_item(other, 1).await,
        Err(PokemonError::Offered { .. })
    ));
    assert!(matches!(
        store.hold_item(onix, 1, "Everstone", 50).await,
        Err(PokemonError::Offered { .. })
    ));
    assert_eq!(store.balance(1).await.unwrap(), 100);
    store.trade_cancel(1, 1_000).await.unwrap();

    // Released with its item: the item goes back to the bag.
    let released = store.release_pokemon(other, 1).await.unwrap();
    assert_eq!(released.held_item.as_deref(), Some("Leftovers"));
    assert_eq!(store.item_count(1, "Leftovers").await.unwrap(), 1);
}

/// Trading an Onix that holds a Metal Coat evolves it into Steelix and uses the coat up, a
/// Kadabra evolves keeping its item, and anything else keeps its item with its new owner: all
/// in the swap's own transaction.
async fn a_trade_evolution_uses_the_held_item_in_the_swap(store: Store, _: &TestDb) {
    use lounge_pokemon::data::TimeOfDay;
    use lounge_store::trade_evolution;
    use lounge_store::{Confirmation, TradeChange};
    let onix = give_pokemon(&store, 1, species_num("Onix")).await;
    let kadabra = give_pokemon(&store, 1, species_num("Kadabra")).await;
    let eevee = give_pokemon(&store, 2, species_num("Eevee")).await;
    store.adjust_currency(1, 900).await.unwrap();
    store.adjust_currency(2, 300).await.unwrap();
    store.hold_item(onix, 1, "Metal Coat", 300).await.unwrap();
    store.hold_item(kadabra, 1, "Leftovers", 300).await.unwrap();
    store.hold_item(eevee, 2, "Everstone", 300).await.unwrap();

    let now = 1_000_000;
    store.trade_open(7, 1, 2, now).await.unwrap();
    let add = |pokemon| TradeChange::Add { pokemon, coins: 0 };
    store
        .trade_change(1, &add(vec![onix, kadabra]), now)
        .await
        .unwrap();
    store.trade_change(2, &add(vec![eevee]), now).await.unwrap();
    let evolve = |p: &lounge_store::Pokemon| trade_evolution(p, TimeOfDay::Day);
    store.trade_confirm(2, now, &evolve).await.unwrap();
    let Confirmation::Done { evolved, .. } = store.trade_confirm(1, now, &evolve).await.unwrap()
    else {
        panic!("two confirmations did not swap");
    };
    let got: Vec<(i64, u16, Option<&str>)> = evolved
        .iter()
        .map(|e| (e.before.id, e.into, e.used_item.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (onix, species_num("Steelix"), Some("Metal Coat")),
            (kadabra, species_num("Alakazam"), None),
        ]
    );
    let steelix = store.pokemon(onix).await.unwrap().unwrap();
    assert_eq!((steelix.owner, steelix.held_item), (2, None));
    let alakazam = store.pokemon(kadabra).await.unwrap().unwrap();
    assert_eq!(alakazam.held_item.as_deref(), Some("Leftovers"));
    let eevee = store.pokemon(eevee).await.unwrap().unwrap();
    assert_eq!(
        (eevee.owner, eevee.species, eevee.held_item.as_deref()),
        (1, species_num("Eevee"), Some("Everstone"))
    );
    let dex = store.dex(2).await.unwrap();
    assert!(dex.contains(&species_num("Steelix")) && dex.contains(&species_num("Alakazam")));
    assert_eq!(store.item_count(2, "Metal Coat").await.unwrap(), 0);
}

#[derive(Debug)]
enum ItemOp {
    Hold(i64, u64, &'static str),
    Take(i64, u64),
    Release(i64, u64),
    Trade(TradeSide, TradeSide),
}

/// 500 gives (bought or from the bag), takes, releases and trades over the same Pokémon, in
/// ten waves of 50 at once: afterwards every item is either in a bag or held by a Pokémon that
/// still exists, the count is the starting bags plus what was bought, and each member paid
/// exactly for the items bought for them. Each step acts for the Pokémon's owner as read when
/// its wave starts (so most steps get through, and some reads are stale by the time they run).
async fn concurrent_holds_takes_releases_and_trades_conserve_items_and_coins(
    store: Store,
    _: &TestDb,
) {
    use lounge_store::HeldFrom;
    const USERS: u64 = 5;
    const PRICE: i64 = 100;
    const ITEMS: [&str; 3] = ["Metal Coat", "Leftovers", "Everstone"];
    let mut ids = Vec::new();
    for user in 1..=USERS {
        store.adjust_currency(user, 5_000).await.unwrap();
        store.buy_item(user, "Leftovers", 2, 0).await.unwrap();
        for i in 0..6 {
            ids.push(give_pokemon(&store, user, 1 + i).await);
        }
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(8);
    // (kind, Pokémon, the other Pokémon of a trade, item)
    let plan: Vec<(u32, i64, i64, &str)> = (0..500)
        .map(|_| {
            (
                rng.random_range(0..100),
                ids[rng.random_range(0..ids.len())],
                ids[rng.random_range(0..ids.len())],
                ITEMS[rng.random_range(0..ITEMS.len())],
            )
        })
        .collect();
    let store = Arc::new(store);
    let mut bought = vec![0i64; USERS as usize + 1];
    let (mut holds, mut takes, mut releases, mut trades, mut refused) = (0, 0, 0, 0, 0);
    for wave in plan.chunks(50) {
        let tasks: Vec<_> = wave
            .iter()
            .copied()
            .map(|(kind, id, theirs, item)| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    let owner = |id| {
                        let store = Arc::clone(&store);
                        async move { store.pokemon(id).await.unwrap().map_or(1, |p| p.owner) }
                    };
                    let user = owner(id).await;
                    // Releases are rare, so most Pokémon stay around for the other steps.
                    let op = match kind {
                        0 => ItemOp::Release(id, user),
                        1..=40 => ItemOp::Hold(id, user, item),
                        41..=75 => ItemOp::Take(id, user),
                        _ => {
                            let other = owner(theirs).await;
                            let (other, theirs) = if other == user {
                                (1 + user % USERS, vec![])
                            } else {
                                (other, vec![theirs])
                            };
                            let side = |user, pokemon| TradeSide {
                                user,
                                pokemon,
                                coins: 0,
                            };
                            ItemOp::Trade(side(user, vec![id]), side(other, theirs))
                        }
                    };
                    let result = match &op {
                        ItemOp::Hold(id, user, item) => {
                            store.hold_item(*id, *user, item, PRICE).await.map(Some)
                        }
                        ItemOp::Take(id, user) => {
                            store.take_held_item(*id, *user).await.map(|_| None)
                        }
                        ItemOp::Release(id, user) => {
                            store.release_pokemon(*id, *user).await.map(|_| None)
                        }
                        ItemOp::Trade(a, b) => {
                            store.trade(a, b, &no_trade_evolution).await.map(|_| None)
                        }
                    };
                    (op, result)
                })
            })
            .collect();
        for task in tasks {
            let (op, result) = task.await.unwrap();
            match (&op, result) {
                (ItemOp::Hold(_, user, _), Ok(Some(from))) => {
                    holds += 1;
                    if matches!(from, HeldFrom::Bought { .. }) {
                        bought[*user as usize] += 1;
                    }
                }
                (ItemOp::Hold(..), Ok(None)) => {
                    unreachable!("a give says where the item came from")
                }
                (ItemOp::Take(..), Ok(_)) => takes += 1,
                (ItemOp::Release(..), Ok(_)) => releases += 1,
                (ItemOp::Trade(..), Ok(_)) => trades += 1,
                (
                    _,
                    Err(
                        PokemonError::NotOwned { .. }
                        | PokemonError::AlreadyHolding { .. }
                        | PokemonError::NotHolding { .. }
                        | PokemonError::Invalid(_),
                    ),
                ) => refused += 1,
                (_, Err(e)) => panic!("{op:?} failed: {e:?}"),
            }
        }
    }
    assert!(
        holds > 50 && takes > 30 && releases > 0 && trades > 5 && refused > 20,
        "every outcome: {holds} holds, {takes} takes, {releases} releases, {trades} trades, {refused} refused"
    );
    let mut items = 0i64;
    for user in 1..=USERS {
        assert_eq!(
            store.balance(user).await.unwrap(),
            5_000 - PRICE * bought[user as usize],
            "user {user} paid for exactly what was bought"
        );
        for item in ITEMS {
            items += store.item_count(user, item).await.unwrap();
        }
        items += store
            .owned_pokemon(user)
            .await
            .unwrap()
            .iter()
            .filter(|p| p.held_item.is_some())
            .count() as i64;
    }
    let everywhere: i64 =
        sqlx::query_scalar("SELECT COUNT(*) FROM pokemon WHERE held_item IS NOT NULL")
            .fetch_one(store.pool())
            .await
            .unwrap();
    let held_by_members: i64 = {
        let mut n = 0;
        for user in 1..=USERS {
            n += store
                .owned_pokemon(user)
                .await
                .unwrap()
                .iter()
                .filter(|p| p.held_item.is_some())
                .count() as i64;
        }
        n
    };
    assert_eq!(
        everywhere, held_by_members,
        "no item on a Pokémon nobody has"
    );
    let start = 2 * USERS as i64;
    assert_eq!(
        items,
        start + bought.iter().sum::<i64>(),
        "items in bags and held = the starting bags + what was bought"
    );
}

/// Experience the battle tests add: a plain gain, no level or species change.
fn plus_exp(p: &lounge_store::Pokemon, exp: u32) -> lounge_store::Progress {
    lounge_store::Progress {
        species: p.species,
        level: p.level,
        exp: p.exp + exp,
        friendship: p.friendship,
        moves: p.moves.clone(),
        held_item: p.held_item.clone(),
    }
}

/// Battles won while the winners' Pokémon are traded and released: every stored battle paid
/// its coins and its experience exactly once, to Pokémon the winner owned at that moment, and
/// the records count exactly the battles stored.
async fn concurrent_battle_payouts_pay_exactly_what_was_recorded(store: Store, _: &TestDb) {
    use lounge_store::{BattleRecord, Payout};
    const USERS: u64 = 4;
    const COINS: i64 = 15;
    const EXP: u32 = 7;
    let mut ids = Vec::new();
    for user in 1..=USERS {
        for i in 0..4 {
            ids.push(give_pokemon(&store, user, 1 + i).await);
        }
    }
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(11);
    let plan: Vec<(u32, u64, i64, u64)> = (0..400)
        .map(|_| {
            (
                rng.random_range(0..100),
                rng.random_range(1..=USERS),
                ids[rng.random_range(0..ids.len())],
                rng.random_range(1..=USERS),
            )
        })
        .collect();
    let store = Arc::new(store);
    let mut won = [0i64; USERS as usize + 1];
    let mut gained: std::collections::HashMap<i64, u32> = std::collections::HashMap::new();
    let (mut battles, mut moved, mut released) = (0, 0, 0);
    for wave in plan.chunks(40) {
        let tasks: Vec<_> = wave
            .iter()
            .copied()
            .map(|(kind, user, id, other)| {
                let store = Arc::clone(&store);
                tokio::spawn(async move {
                    match kind {
                        0..=64 => {
                            // The team as the battle started; some of it may change hands
                            // before the result is stored.
                            let team: Vec<i64> = store
                                .owned_pokemon(user)
                                .await
                                .unwrap()
                                .iter()
                                .map(|p| p.id)
                                .collect();
                            let record = BattleRecord {
                                guild: 1,
                                challenger: user,
                                opponent: None,
                                winner: None,
                                outcome: "win",
                                turns: 3,
                                npc: Some("wild Pidgey".into()),
                            };
                            let payout = Payout {
                                coins: COINS,
                                winner: Some((user, team)),
                            };
                            let done = store
                                .finish_battle(&record, &payout, |p| Some(plus_exp(p, EXP)))
                                .await
                                .unwrap();
                            (
                                0,
                                user,
                                done.grown.iter().map(|(p, _)| (p.id, p.owner)).collect(),
                            )
                        }
                        65..=94 => {
                            let owner = store.pokemon(id).await.unwrap().map_or(other, |p| p.owner);
                            let to = if owner == other {
                                1 + other % USERS
                            } else {
                                other
                            };
                            let side = |user, pokemon| TradeSide {
                                user,
                                pokemon,
                                coins: 0,
                            };
                            let ok = store
                                .trade(
                                    &side(owner, vec![id]),
                                    &side(to, vec![]),
                                    &no_trade_evolution,
                                )
                                .await
                                .is_ok();
                            (1, u64::from(ok), Vec::new())
                        }
                        _ => {
                            let owner = store.pokemon(id).await.unwrap().map_or(other, |p| p.owner);
                            let ok = store.release_pokemon(id, owner).await.is_ok();
                            (2, u64::from(ok), Vec::new())
                        }
                    }
                })
            })
            .collect();
        for task in tasks {
            match task.await.unwrap() {
                (0, user, grown) => {
                    battles += 1;
                    won[user as usize] += 1;
                    for (id, owner) in grown {
                        assert_eq!(owner, user, "#{id} gained experience for someone else");
                        *gained.entry(id).or_default() += EXP;
                    }
                }
                (1, ok, _) => moved += ok,
                (_, ok, _) => released += ok,
            }
        }
    }
    assert!(
        battles > 200 && moved > 50 && released > 5,
        "{battles} {moved} {released}"
    );
    for user in 1..=USERS {
        assert_eq!(
            store.balance(user).await.unwrap(),
            COINS * won[user as usize]
        );
        assert_eq!(
            store.battle_record(user).await.unwrap(),
            (won[user as usize], 0)
        );
        for p in store.owned_pokemon(user).await.unwrap() {
            let expected = 125 + gained.get(&p.id).copied().unwrap_or(0);
            assert_eq!(p.exp, expected, "#{} has {} exp", p.id, p.exp);
        }
    }
    assert!(!gained.is_empty());
}

/// A payout that can't be made (the balance would overflow) leaves no battle, no record and no
/// experience behind: the result and its reward are one transaction.
async fn a_battle_payout_that_cannot_be_paid_stores_nothing(store: Store, _: &TestDb) {
    use lounge_store::{BattleRecord, Payout};
    let id = give_pokemon(&store, 7, 25).await;
    store.adjust_currency(7, i64::MAX - 5).await.unwrap();
    let record = BattleRecord {
        guild: 1,
        challenger: 7,
        opponent: None,
        winner: None,
        outcome: "win",
        turns: 1,
        npc: None,
    };
    let payout = Payout {
        coins: 10,
        winner: Some((7, vec![id])),
    };
    let refused = store
        .finish_battle(&record, &payout, |p| Some(plus_exp(p, 50)))
        .await
        .unwrap_err();
    assert!(matches!(refused, PokemonError::Invalid(_)), "{refused:?}");
    assert_eq!(store.battle_record(7).await.unwrap(), (0, 0));
    assert_eq!(store.pokemon(id).await.unwrap().unwrap().exp, 125);
    assert_eq!(store.balance(7).await.unwrap(), i64::MAX - 5);

    let payout = Payout {
        coins: 5,
        winner: Some((7, vec![id])),
    };
    let paid = store
        .finish_battle(&record, &payout, |p| Some(plus_exp(p, 50)))
        .await
        .unwrap();
    assert_eq!(paid.balance, Some(i64::MAX));
    assert_eq!(paid.grown.len(), 1);
    assert_eq!(store.battle_record(7).await.unwrap(), (1, 0));
    assert_eq!(store.pokemon(id).await.unwrap().unwrap().exp, 175);
}

const HOUR: i64 = 3_600_000;
const DAILY: ClaimRules = ClaimRules {
    kind: "daily",
    period_ms: 24 * HOUR,
    streak_window_ms: 48 * HOUR,
};
const T0: i64 = 1_800_000_000_000;

fn by_streak(streak: i64) -> i64 {
    100 + 10 * (streak - 1)
}

async fn claims_open_once_a_period_and_keep_their_streak(store: Store, _: &TestDb) {
    let first = store.claim_reward(1, DAILY, T0, by_streak).await.unwrap();
    assert_eq!((first.amount, first.streak, first.balance), (100, 1, 100));
    let early = store
        .claim_reward(1, DAILY, T0 + 23 * HOUR, by_streak)
        .await
        .unwrap_err();
    assert!(
        matches!(early, ClaimError::TooSoon { ready_at_ms } if ready_at_ms == T0 + 24 * HOUR),
        "{early:?}"
    );
    // Another kind and another user have their own clocks.
    let work = ClaimRules {
        kind: "work",
        period_ms: HOUR,
        streak_window_ms: HOUR,
    };
    store.claim_reward(1, work, T0 + HOUR, |_| 5).await.unwrap();
    store
        .claim_reward(2, DAILY, T0 + HOUR, by_streak)
        .await
        .unwrap();
    // Late by most of a day: still a streak.
    let second = store
        .claim_reward(1, DAILY, T0 + 47 * HOUR, by_streak)
        .await
        .unwrap();
    assert_eq!((second.amount, second.streak), (110, 2));
    // More than a day's grace missed: back to day one.
    let again = store
        .claim_reward(1, DAILY, T0 + 47 * HOUR + 49 * HOUR, by_streak)
        .await
        .unwrap();
    assert_eq!((again.amount, again.streak), (100, 1));
    assert_eq!(store.balance(1).await.unwrap(), 100 + 5 + 110 + 100);
}

async fn concurrent_claims_pay_exactly_once(store: Store, _: &TestDb) {
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..64)
        .map(|_| {
            let store = store.clone();
            tokio::spawn(async move { store.claim_reward(7, DAILY, T0, by_streak).await })
        })
        .collect();
    let mut paid = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(c) => {
                paid += 1;
                assert_eq!(c.balance, 100);
            }
            Err(ClaimError::TooSoon { .. }) => {}
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(paid, 1);
    assert_eq!(store.balance(7).await.unwrap(), 100);
}

async fn a_claim_the_balance_cannot_hold_is_not_used_up(store: Store, _: &TestDb) {
    store.adjust_currency(9, i64::MAX - 50).await.unwrap();
    let full = store.claim_reward(9, DAILY, T0, |_| 100).await.unwrap_err();
    assert!(matches!(full, ClaimError::Overflow), "{full:?}");
    assert_eq!(store.balance(9).await.unwrap(), i64::MAX - 50);
    // The refused claim left the day open.
    let small = store.claim_reward(9, DAILY, T0, |_| 50).await.unwrap();
    assert_eq!((small.balance, small.streak), (i64::MAX, 1));
}

async fn concurrent_cases_get_distinct_numbers_never_reused(store: Store, _: &TestDb) {
    let store = Arc::new(store);
    let tasks: Vec<_> = (0..40u64)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move {
                store
                    .record_case(&lounge_store::NewCase {
                        guild: 1 + i % 2,
                        kind: "warn",
                        target: 100 + i,
                        moderator: 5,
                        reason: Some("test"),
                        duration_ms: None,
                    })
                    .await
                    .unwrap()
                    .number
            })
        })
        .collect();
    let mut numbers = std::collections::BTreeSet::new();
    for (i, task) in tasks.into_iter().enumerate() {
        assert!(numbers.insert((1 + i as u64 % 2, task.await.unwrap())));
    }
    let expected: std::collections::BTreeSet<_> = (1..=2u64)
        .flat_map(|g| (1..=20).map(move |n| (g, n)))
        .collect();
    assert_eq!(numbers, expected, "each guild counts 1..=20 on its own");
    assert!(store.delete_case(1, 20).await.unwrap());
    let next = store
        .record_case(&lounge_store::NewCase {
            guild: 1,
            kind: "note",
            target: 7,
            moderator: 5,
            reason: None,
            duration_ms: None,
        })
        .await
        .unwrap();
    assert_eq!((next.number, next.reason), (21, None));
    // Two moderators taking back one warning: one succeeds.
    let (a, b) = tokio::join!(store.revoke_warning(1, 3, 8), store.revoke_warning(1, 3, 9));
    assert_eq!(u8::from(a.is_ok()) + u8::from(b.is_ok()), 1, "{a:?} {b:?}");
}

async fn reputation_is_given_once_a_day_even_when_raced(store: Store, _: &TestDb) {
    use lounge_store::{REP_PERIOD_MS, RepError};
    assert!(matches!(
        store.give_reputation(1, 1, T0).await,
        Err(RepError::SelfRep)
    ));
    let store = Arc::new(store);
    // One giver, many receivers at once: one point in all.
    let tasks: Vec<_> = (0..32u64)
        .map(|i| {
            let store = store.clone();
            tokio::spawn(async move { store.give_reputation(1, 100 + i, T0).await })
        })
        .collect();
    let mut given = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(points) => {
                given += 1;
                assert_eq!(points, 1);
            }
            Err(RepError::TooSoon { ready_at_ms }) => assert_eq!(ready_at_ms, T0 + REP_PERIOD_MS),
            Err(e) => panic!("{e:?}"),
        }
    }
    assert_eq!(given, 1);
    let mut total = 0;
    for i in 0..32u64 {
        total += store.reputation(100 + i).await.unwrap();
    }
    assert_eq!(total, 1);
    // Many givers for one receiver: every point counts.
    let tasks: Vec<_> = (2..=21u64)
        .map(|giver| {
            let store = store.clone();
            tokio::spawn(async move { store.give_reputation(giver, 500, T0).await.unwrap() })
        })
        .collect();
    for task in tasks {
        task.await.unwrap();
    }
    assert_eq!(store.reputation(500).await.unwrap(), 20);
    // A day later the first giver may give again.
    store
        .give_reputation(1, 500, T0 + REP_PERIOD_MS)
        .await
        .unwrap();
    assert_eq!(store.reputation(500).await.unwrap(), 21);
}

async fn an_owed_modlog_post_is_taken_by_one_process_after_its_lease(store: Store, _: &TestDb) {
    use lounge_store::{LOG_LEASE_MS, NewCase, now_ms};
    let case = |guild| NewCase {
        guild,
        kind: "warn",
        target: 2,
        moderator: 3,
        reason: Some("r"),
        duration_ms: None,
    };
    // No modlog: nothing owed.
    store.record_case(&case(1)).await.unwrap();
    assert_eq!(store.mod_log_owed_by(1, 1).await.unwrap(), None);
    store.set_modlog(1, Some(77)).await.unwrap();
    let number = store.record_case(&case(1)).await.unwrap().number;
    assert_eq!(store.mod_log_owed_by(1, number).await.unwrap(), Some(77));
    // The recording process holds the lease: nobody else posts it yet.
    let now = now_ms();
    assert!(store.mod_owed_logs(now, 10).await.unwrap().is_empty());
    let later = now + LOG_LEASE_MS + 1;
    assert_eq!(
        store.mod_owed_logs(later, 10).await.unwrap(),
        vec![(1, number)]
    );
    let (a, b) = tokio::join!(
        store.mod_take_log(1, number, later),
        store.mod_take_log(1, number, later)
    );
    let taken: Vec<_> = [a.unwrap(), b.unwrap()].into_iter().flatten().collect();
    assert_eq!(taken.len(), 1, "one process takes the post");
    assert_eq!((taken[0].channel, taken[0].case.number), (77, number));
    store.mod_mark_logged(1, number, later).await.unwrap();
    let much_later = later + 10 * LOG_LEASE_MS;
    assert!(
        store
            .mod_owed_logs(much_later, 10)
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(store.mod_log_owed_by(1, number).await.unwrap(), None);
}

async fn leaderboards_rank_by_score_then_id(store: Store, _: &TestDb) {
    use lounge_store::Ranking;
    for (user, coins) in [(5, 300), (3, 100), (9, 300), (4, 0)] {
        store.adjust_currency(user, coins).await.unwrap();
    }
    assert_eq!(
        store.leaderboard(Ranking::Coins, 10).await.unwrap(),
        vec![(5, 300), (9, 300), (3, 100)]
    );
    assert_eq!(store.leaderboard(Ranking::Coins, 2).await.unwrap().len(), 2);
    assert_eq!(store.rank(Ranking::Coins, 9).await.unwrap(), Some((2, 300)));
    assert_eq!(store.rank(Ranking::Coins, 3).await.unwrap(), Some((3, 100)));
    assert_eq!(store.rank(Ranking::Coins, 4).await.unwrap(), None);
    assert_eq!(store.rank(Ranking::Coins, 77).await.unwrap(), None);
    store.give_reputation(1, 9, T0).await.unwrap();
    store.give_reputation(2, 9, T0).await.unwrap();
    store.give_reputation(3, 5, T0).await.unwrap();
    assert_eq!(
        store.leaderboard(Ranking::Reputation, 10).await.unwrap(),
        vec![(9, 2), (5, 1)]
    );
    assert_eq!(
        store.rank(Ranking::Reputation, 5).await.unwrap(),
        Some((2, 1))
    );
}
