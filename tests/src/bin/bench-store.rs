//! Storage throughput: concurrent `transfer_currency` calls on SQLite and PostgreSQL.
//!
//! `cargo run --release -p lounge-tests --bin bench-store -- [transfers] [concurrency]`
//! prints one line per backend. Numbers go in docs/PERFORMANCE.md.

use std::sync::Arc;
use std::time::Instant;

use lounge_store::{Backend, TransferError};
use lounge_tests::db::TestDb;
use rand::{Rng, SeedableRng};

const USERS: u64 = 1_000;

#[tokio::main]
async fn main() {
    let mut args = std::env::args().skip(1);
    let transfers: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(20_000);
    let concurrency: usize = args.next().and_then(|a| a.parse().ok()).unwrap_or(16);
    for backend in [Backend::Sqlite, Backend::Postgres] {
        let db = TestDb::new(backend).await;
        let store = Arc::new(db.store().await);
        for user in 1..=USERS {
            store
                .adjust_currency(user, 1_000_000)
                .await
                .expect("seed balance");
        }
        let started = Instant::now();
        let per_task = transfers / concurrency;
        let tasks: Vec<_> = (0..concurrency)
            .map(|t| {
                let store = store.clone();
                tokio::spawn(async move {
                    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(t as u64);
                    for _ in 0..per_task {
                        let from = rng.random_range(1..=USERS);
                        let to = from % USERS + 1;
                        match store
                            .transfer_currency(from, to, rng.random_range(1..=100))
                            .await
                        {
                            Ok(_) | Err(TransferError::InsufficientFunds { .. }) => {}
                            Err(e) => panic!("transfer failed: {e}"),
                        }
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.expect("task");
        }
        let elapsed = started.elapsed();
        let done = per_task * concurrency;
        println!(
            "{:<10} {done} transfers, {concurrency} concurrent: {:.2} s, {:.0} transfers/s",
            backend.name(),
            elapsed.as_secs_f64(),
            done as f64 / elapsed.as_secs_f64()
        );
        store.close().await;
        db.cleanup().await;
    }
}
