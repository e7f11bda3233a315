//! Pays trips when they end and posts the results where they started.
//!
//! One task per bot process, started once the bot is connected. It catches up on every trip
//! that ended while no bot was running, then sleeps until the next trip ends (at most
//! [`POLL`], since other processes start trips too). Paying is the store's conditional claim,
//! so any number of processes can run this loop over one database and each trip is paid by
//! exactly one of them.
//!
//! The result is posted after the payout commits, so it can be lost to a crash in between
//! unless it is remembered: the claim also takes a lease on the announcement, the post is
//! recorded once it succeeds, and a result still owed when the lease runs out is posted by
//! whichever process looks next. A process that dies after posting but before recording it
//! would post twice, so every post carries the trip's nonce with `enforce_nonce`, which makes
//! Discord return the earlier message instead of creating a second one.

use lounge_kit::Text as _;
use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude as serenity;
use tokio::sync::{Notify, watch};

use super::{messages, rules};
use lounge_store::{Store, Trip, now_ms};

/// How a post went, for what to record.
enum Posted {
    Yes,
    /// Discord refused it for good (channel deleted, access lost): recorded, not retried.
    Never,
    /// A transient failure: left owed for the next process whose lease comes up.
    Later,
}

/// Longest sleep between looks for due trips: bounds how late a trip started by another
/// process is paid.
const POLL: Duration = Duration::from_secs(1);
/// Trips claimed per query; a long backlog after downtime is worked through in batches.
const BATCH: i64 = 50;

/// Runs until `stop` turns true; a payout in progress is finished first.
pub fn spawn(
    http: Arc<serenity::Http>,
    store: Store,
    wake: Arc<Notify>,
    mut stop: watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut caught_up = false;
        loop {
            if *stop.borrow() {
                break;
            }
            let paid = pay_due(&http, &store).await;
            record_backlog(&store).await;
            if let Err(e) = announce_owed(&http, &store).await {
                tracing::error!(error = %e, "posting owed trip results failed; retrying shortly");
            }
            let wait = match paid {
                Ok(paid) => {
                    if !caught_up {
                        caught_up = true;
                        tracing::info!(
                            paid,
                            "trip payouts running; caught up on trips that ended while offline"
                        );
                    }
                    until_next_end(&store).await
                }
                Err(e) => {
                    tracing::error!(error = %e, "paying finished trips failed; retrying shortly");
                    POLL
                }
            };
            tokio::select! {
                () = tokio::time::sleep(wait) => {}
                () = wake.notified() => {}
                _ = stop.changed() => {}
            }
        }
        tracing::info!("trip payouts stopped");
    })
}

/// `lounge_osrs_trips_due`: trips that ended but were still unpaid after this round (0 while
/// payouts keep up; more means failing payouts or a stalled process). One indexed count per
/// round, through the metrics facade (the app exports it).
async fn record_backlog(store: &Store) {
    match store.osrs_due_trip_count(now_ms()).await {
        Ok(due) => metrics::gauge!("lounge_osrs_trips_due").set(due as f64),
        Err(e) => tracing::debug!(error = %e, "could not count due trips for the metrics"),
    }
}

async fn until_next_end(store: &Store) -> Duration {
    // Trips already due but unpaid (one that failed, or one another process is paying) are
    // looked at again after POLL, not in a tight loop.
    match store.osrs_next_trip_end(now_ms()).await {
        Ok(Some(end)) => {
            let ms = u64::try_from(end - now_ms()).unwrap_or(0);
            // A little slack so the trip is due when we look, without spinning.
            Duration::from_millis(ms + 5).min(POLL)
        }
        Ok(None) => POLL,
        Err(e) => {
            tracing::warn!(error = %e, "could not read when the next trip ends");
            POLL
        }
    }
}

/// Pays and announces every due trip; returns how many this process paid. A trip that fails
/// to pay is logged and left for the next round, so it cannot hold up the others.
async fn pay_due(http: &serenity::Http, store: &Store) -> Result<u64, lounge_kit::Error> {
    let mut paid = 0;
    loop {
        let due = store.osrs_due_trips(now_ms(), BATCH).await?;
        let mut settled = 0;
        for &id in &due {
            match store.osrs_claim_trip(id).await {
                Ok(Some(trip)) => {
                    if let Some(failure) = &trip.failure {
                        // Logged once: the claim ended the trip, so it is not due again.
                        tracing::error!(
                            trip = id,
                            user = trip.user_id,
                            error = %failure.error,
                            refunded = failure.refunded.is_some(),
                            "a finished trip's stored outcome can't be read; it was ended \
                             unpaid and its supplies returned"
                        );
                    } else {
                        tracing::debug!(trip = id, user = trip.user_id, "trip paid");
                    }
                    paid += 1;
                    settled += 1;
                    announce(http, store, &trip).await;
                }
                // Another process paid it first.
                Ok(None) => settled += 1,
                Err(e) => tracing::error!(error = %e, trip = id, "could not pay a finished trip"),
            }
        }
        if (due.len() as i64) < BATCH || settled == 0 {
            return Ok(paid);
        }
    }
}

/// Posts the results still owed whose lease has run out: left by a process that died
/// between paying and posting, or by a transient Discord failure.
async fn announce_owed(http: &serenity::Http, store: &Store) -> Result<(), lounge_kit::Error> {
    for id in store.osrs_owed_announcements(now_ms(), BATCH).await? {
        if let Some(trip) = store.osrs_take_announcement(id, now_ms()).await? {
            tracing::info!(trip = id, "posting a trip result that was still owed");
            announce(http, store, &trip).await;
        }
    }
    Ok(())
}

/// Posts the result of a paid trip whose announcement lease this process holds, and records
/// it unless the failure was transient.
async fn announce(http: &serenity::Http, store: &Store, trip: &Trip) {
    let outcome = post(http, store, trip).await;
    if matches!(outcome, Posted::Yes | Posted::Never)
        && let Err(e) = store.osrs_mark_announced(trip.id, now_ms()).await
    {
        // Owed again once the lease runs out; the nonce keeps the re-post from doubling.
        tracing::warn!(error = %e, trip = trip.id, "could not record a posted trip result");
    }
}

async fn post(http: &serenity::Http, store: &Store, trip: &Trip) -> Posted {
    let data = lounge_osrs::data();
    let (name, new) = match achievements(store, trip).await {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(error = %e, trip = trip.id, "could not work out achievements");
            (String::from("Your character"), Vec::new())
        }
    };
    let embed = messages::trip_result(data, trip, &name, &new);
    let message = serenity::CreateMessage::new()
        .text(format!("<@{}>", trip.user_id))
        .embed(embed)
        .allowed_mentions(serenity::CreateAllowedMentions::new())
        .nonce(serenity::Nonce::String(nonce(trip.id)))
        .enforce_nonce(true);
    match serenity::ChannelId::new(trip.channel_id)
        .send_message(http, message)
        .await
    {
        Ok(_) => Posted::Yes,
        Err(e) => {
            let permanent = lounge_kit::error::refused_for_good(&e);
            tracing::warn!(
                error = %e,
                trip = trip.id,
                channel = trip.channel_id,
                retried = !permanent,
                "could not post a trip result"
            );
            if permanent {
                Posted::Never
            } else {
                Posted::Later
            }
        }
    }
}

/// Discord keeps nonces for a few minutes per author; the trip id makes it unique to this
/// result (at most 25 characters).
fn nonce(trip: i64) -> String {
    format!("osrs-trip-{trip}")
}

/// The character's name and the achievements this trip earned (by name). Granting returns an
/// achievement to one caller only, so the names are fixed on the trip before the first post
/// and a re-post shows the same ones.
async fn achievements(
    store: &Store,
    trip: &Trip,
) -> Result<(String, Vec<String>), lounge_kit::Error> {
    let Some(ch) = store.osrs_character(trip.user_id).await? else {
        return Ok((String::from("Your character"), Vec::new()));
    };
    if trip.failure.is_some() {
        return Ok((ch.name, Vec::new()));
    }
    if let Some(earned) = &trip.earned {
        return Ok((ch.name, earned.clone()));
    }
    let kills = store.osrs_kills(trip.user_id).await?;
    let reached = rules::achievements(&ch.skills, &kills);
    let keys: Vec<&str> = reached.iter().map(|a| a.key.as_str()).collect();
    let new = store.osrs_grant_achievements(trip.user_id, &keys).await?;
    let names: Vec<String> = reached
        .into_iter()
        .filter(|a| new.contains(&a.key))
        .map(|a| a.name)
        .collect();
    Ok((ch.name, store.osrs_fix_earned(trip.id, &names).await?))
}
