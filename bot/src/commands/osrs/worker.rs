//! Pays trips when they end and posts the results where they started.
//!
//! One task per bot process, started once the bot is connected. It catches up on every trip
//! that ended while no bot was running, then sleeps until the next trip ends (at most
//! [`POLL`], since other processes start trips too). Paying is the store's conditional claim,
//! so any number of processes can run this loop over one database and each trip is paid,
//! and announced, by exactly one of them.

use std::sync::Arc;
use std::time::Duration;

use poise::serenity_prelude as serenity;
use tokio::sync::{Notify, watch};

use super::{messages, rules};
use crate::store::{Store, Trip, now_ms};

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
            let wait = match pay_due(&http, &store).await {
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
async fn pay_due(http: &serenity::Http, store: &Store) -> Result<u64, crate::Error> {
    let mut paid = 0;
    loop {
        let due = store.osrs_due_trips(now_ms(), BATCH).await?;
        let mut settled = 0;
        for &id in &due {
            match store.osrs_claim_trip(id).await {
                Ok(Some(trip)) => {
                    tracing::debug!(trip = id, user = trip.user_id, "trip paid");
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

/// Grants the achievements the trip earned and posts the result. The trip is already paid,
/// so a failure here is logged, never retried (that could post twice).
async fn announce(http: &serenity::Http, store: &Store, trip: &Trip) {
    let data = lounge_osrs::data();
    let (name, new) = match achievements(store, trip.user_id).await {
        Ok(found) => found,
        Err(e) => {
            tracing::warn!(error = %e, trip = trip.id, "could not work out achievements");
            (String::from("Your character"), Vec::new())
        }
    };
    let embed = messages::trip_result(data, trip, &name, &new);
    let message = serenity::CreateMessage::new()
        .content(format!("<@{}>", trip.user_id))
        .embed(embed)
        .allowed_mentions(serenity::CreateAllowedMentions::new());
    if let Err(e) = serenity::ChannelId::new(trip.channel_id)
        .send_message(http, message)
        .await
    {
        tracing::warn!(error = %e, trip = trip.id, channel = trip.channel_id, "could not post a trip result");
    }
}

/// The character's name and the achievements it has just earned (by name).
async fn achievements(store: &Store, user: u64) -> Result<(String, Vec<String>), crate::Error> {
    let Some(ch) = store.osrs_character(user).await? else {
        return Ok((String::from("Your character"), Vec::new()));
    };
    let kills = store.osrs_kills(user).await?;
    let reached = rules::achievements(&ch.skills, &kills);
    let keys: Vec<&str> = reached.iter().map(|a| a.key.as_str()).collect();
    let new = store.osrs_grant_achievements(user, &keys).await?;
    let names = reached
        .into_iter()
        .filter(|a| new.contains(&a.key))
        .map(|a| a.name)
        .collect();
    Ok((ch.name, names))
}
