//! One process per bot: the instance lock taken at start-up, kept while serving, released on
//! shutdown (the store's `instance.rs` has the lock itself).
//!
//! Two processes with the same token would both get every gateway event and both answer every
//! command, so a second one waits, saying why, before it connects. The lock covers the whole
//! application, all shards, because lounge always runs every shard in one process.

use std::time::Duration;

use tokio::sync::watch;

use lounge_store::{InstanceLock, LockAttempt, Store};

use crate::runtime::{RunError, StepError, with_retries};

/// Waits until this process holds the instance lock of `application`, retrying with the other
/// start-up steps' back-off while another process holds it. `Ok(None)`: SIGINT or SIGTERM came
/// while waiting.
pub async fn wait_for_lock(
    store: &Store,
    application: u64,
    lease: Duration,
) -> Result<Option<InstanceLock>, RunError> {
    let key = lounge_store::bot_instance_key(application);
    let holder = holder();
    let take = || async {
        match store.acquire_instance_lock(&key, &holder, lease).await {
            Ok(LockAttempt::Taken(lock)) => Ok(lock),
            Ok(LockAttempt::Busy { holder }) => Err(StepError::Transient(RunError::InstanceBusy {
                application,
                holder: holder.unwrap_or_else(|| "a process the database does not name".to_owned()),
            })),
            Err(e) if e.is_transient() => Err(StepError::Transient(e.into())),
            Err(e) => Err(StepError::Fatal(e.into())),
        }
    };
    let lock = with_retries("instance lock", None, take).await?;
    if let Some(lock) = &lock {
        tracing::info!(
            application,
            holder = lock.holder(),
            lease_s = lease.as_secs(),
            "instance lock taken: this process serves the bot"
        );
    }
    Ok(lock)
}

/// Who we are, for the process that waits: enough to find us (host and pid) and to tell us
/// from an earlier process that had the same pid (the start time).
fn holder() -> String {
    let host = whoami::hostname().unwrap_or_else(|_| "an unnamed host".to_owned());
    let since = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
    format!("pid {} on {host} since {since}", std::process::id())
}

/// The task that renews the lock while the bot serves.
pub struct Keeper {
    stop: watch::Sender<bool>,
    lost: watch::Receiver<Option<String>>,
    task: tokio::task::JoinHandle<()>,
}

impl Keeper {
    pub fn start(lock: InstanceLock) -> Self {
        let (stop, stopped) = watch::channel(false);
        let (lost_tx, lost) = watch::channel(None);
        let task = tokio::spawn(keep(lock, stopped, lost_tx));
        Self { stop, lost, task }
    }

    /// Becomes `Some(why)` when the lock is lost; the bot must then stop serving.
    pub fn lost(&self) -> watch::Receiver<Option<String>> {
        self.lost.clone()
    }

    /// Stops renewing and releases the lock, unless it was lost; returns why it was lost.
    /// Called once nothing serves any more (gateway closed, module tasks stopped), so the
    /// next process cannot overlap with this one's last work.
    pub async fn stop(self) -> Option<String> {
        let _ = self.stop.send(true);
        if let Err(e) = self.task.await {
            tracing::warn!("the instance lock's task failed: {e}");
        }
        self.lost.borrow().clone()
    }
}

async fn keep(
    mut lock: InstanceLock,
    mut stop: watch::Receiver<bool>,
    lost: watch::Sender<Option<String>>,
) {
    // Three tries per lease: one failed renewal (a busy SQLite writer, a database restart)
    // still leaves two before the lease runs out.
    let every = lock.lease() / 3;
    loop {
        tokio::select! {
            _ = stop.wait_for(|stop| *stop) => break,
            () = tokio::time::sleep(every) => {}
        }
        match lock.renew().await {
            Ok(()) => tracing::trace!("instance lock renewed"),
            Err(e) if !e.is_lost() => tracing::warn!(
                "could not renew the instance lock; it stays ours for the rest of its lease, retrying: {e}"
            ),
            Err(e) => {
                tracing::error!("lost the instance lock: {e}");
                let _ = lost.send(Some(e.to_string()));
                // Not ours to release any more; wait for the bot to wind down.
                let _ = stop.wait_for(|stop| *stop).await;
                return;
            }
        }
    }
    match lock.release().await {
        Ok(()) => tracing::info!("instance lock released"),
        Err(e) => tracing::warn!(
            "releasing the instance lock failed ({e}); another process can take it once this \
             process's database session ends (PostgreSQL) or its lease runs out (SQLite)"
        ),
    }
}
