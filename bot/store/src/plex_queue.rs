//! The watch party's queue: what each guild's Plex queue holds, who voted for what plays next,
//! and what plays now with its last known position.
//!
//! Every change to a guild's queue is one transaction that first takes the guild's settings
//! row (both backends hold it until commit), so two members adding, moving or taking the next
//! entry at once never see the same positions. Taking the next entry and recording it as
//! playing is one transaction too: an entry is never lost between the queue and the player,
//! and never taken twice.

use sqlx::Row;

use super::{Store, StoreError, db_id, now_ms};

/// The most entries one guild's queue holds.
pub const MAX_QUEUE: i64 = 100;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueueEntry {
    pub id: i64,
    /// 1-based, dense.
    pub position: i64,
    pub rating_key: String,
    pub title: String,
    pub requested_by: u64,
    pub votes: i64,
}

/// What plays now in a guild.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NowPlaying {
    pub guild_id: u64,
    pub channel_id: u64,
    pub rating_key: String,
    pub title: String,
    pub requested_by: u64,
    pub position_ms: i64,
}

#[derive(Debug, thiserror::Error)]
pub enum QueueError {
    #[error("The queue is full ({MAX_QUEUE} entries): remove some first.")]
    Full,
    #[error("The queue has no entry #{0}: `/plex queue list` shows it.")]
    NoSuchEntry(i64),
    #[error("You already voted for #{0}.")]
    AlreadyVoted(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

macro_rules! entries_of_guild {
    () => {
        "SELECT q.id, q.position, q.rating_key, q.title, q.requested_by, \
         (SELECT COUNT(*) FROM plex_votes v WHERE v.entry_id = q.id) AS votes \
         FROM plex_queue q WHERE q.guild_id = $1 ORDER BY q.position, q.id"
    };
}

fn entry(row: &sqlx::any::AnyRow) -> Result<QueueEntry, sqlx::Error> {
    Ok(QueueEntry {
        id: row.try_get("id")?,
        position: row.try_get("position")?,
        rating_key: row.try_get("rating_key")?,
        title: row.try_get("title")?,
        requested_by: row.try_get::<i64, _>("requested_by")?.cast_unsigned(),
        votes: row.try_get("votes")?,
    })
}

fn now_row(row: &sqlx::any::AnyRow) -> Result<NowPlaying, sqlx::Error> {
    Ok(NowPlaying {
        guild_id: row.try_get::<i64, _>("guild_id")?.cast_unsigned(),
        channel_id: row.try_get::<i64, _>("channel_id")?.cast_unsigned(),
        rating_key: row.try_get("rating_key")?,
        title: row.try_get("title")?,
        requested_by: row.try_get::<i64, _>("requested_by")?.cast_unsigned(),
        position_ms: row.try_get("position_ms")?,
    })
}

type Tx = sqlx::Transaction<'static, sqlx::Any>;

impl Store {
    /// A write transaction holding `guild`'s settings row: one queue change at a time.
    async fn lock_queue(&self, guild: u64) -> Result<Tx, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        super::guilds::lock_guild_row(&mut tx, guild).await?;
        Ok(tx)
    }

    async fn entries_in(tx: &mut Tx, guild: u64) -> Result<Vec<QueueEntry>, sqlx::Error> {
        sqlx::query(entries_of_guild!())
            .bind(db_id(guild))
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(entry)
            .collect()
    }

    /// Renumbers `order` (entry ids) 1..n.
    async fn renumber(tx: &mut Tx, order: &[i64]) -> Result<(), sqlx::Error> {
        for (i, id) in order.iter().enumerate() {
            sqlx::query("UPDATE plex_queue SET position = $1 WHERE id = $2")
                .bind(i64::try_from(i).unwrap_or(i64::MAX).saturating_add(1))
                .bind(*id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    /// Adds an item at the end of `guild`'s queue; returns its position.
    pub async fn queue_add(
        &self,
        guild: u64,
        rating_key: &str,
        title: &str,
        requested_by: u64,
    ) -> Result<i64, QueueError> {
        self.retry_lock_races(|| async {
            let mut tx = self.lock_queue(guild).await?;
            let count: i64 = sqlx::query("SELECT COUNT(*) FROM plex_queue WHERE guild_id = $1")
                .bind(db_id(guild))
                .fetch_one(&mut *tx)
                .await?
                .try_get(0)?;
            if count >= MAX_QUEUE {
                return Err(QueueError::Full);
            }
            let position = count + 1;
            sqlx::query(
                "INSERT INTO plex_queue (guild_id, position, rating_key, title, requested_by, \
                 added_at) VALUES ($1, $2, $3, $4, $5, $6)",
            )
            .bind(db_id(guild))
            .bind(position)
            .bind(rating_key)
            .bind(title)
            .bind(db_id(requested_by))
            .bind(now_ms())
            .execute(&mut *tx)
            .await?;
            tx.commit().await?;
            Ok(position)
        })
        .await
    }

    /// `guild`'s queue in order, with each entry's votes.
    pub async fn queue(&self, guild: u64) -> Result<Vec<QueueEntry>, StoreError> {
        Ok(sqlx::query(entries_of_guild!())
            .bind(db_id(guild))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(entry)
            .collect::<Result<_, _>>()?)
    }

    /// Takes entry `position` out; the ones after it move up.
    pub async fn queue_remove(&self, guild: u64, position: i64) -> Result<QueueEntry, QueueError> {
        self.retry_lock_races(|| async {
            let mut tx = self.lock_queue(guild).await?;
            let mut entries = Self::entries_in(&mut tx, guild).await?;
            let index = index_of(&entries, position)?;
            let removed = entries.remove(index);
            sqlx::query("DELETE FROM plex_queue WHERE id = $1")
                .bind(removed.id)
                .execute(&mut *tx)
                .await?;
            let order: Vec<i64> = entries.iter().map(|e| e.id).collect();
            Self::renumber(&mut tx, &order).await?;
            tx.commit().await?;
            Ok(removed)
        })
        .await
    }

    /// Moves entry `from` to position `to` (clamped to the queue's end).
    pub async fn queue_move(
        &self,
        guild: u64,
        from: i64,
        to: i64,
    ) -> Result<QueueEntry, QueueError> {
        self.retry_lock_races(|| async {
            let mut tx = self.lock_queue(guild).await?;
            let mut entries = Self::entries_in(&mut tx, guild).await?;
            let index = index_of(&entries, from)?;
            let mut moved = entries.remove(index);
            let at = usize::try_from(to.max(1) - 1)
                .unwrap_or(0)
                .min(entries.len());
            moved.position = i64::try_from(at).unwrap_or(0) + 1;
            entries.insert(at, moved.clone());
            let order: Vec<i64> = entries.iter().map(|e| e.id).collect();
            Self::renumber(&mut tx, &order).await?;
            tx.commit().await?;
            Ok(moved)
        })
        .await
    }

    /// Empties `guild`'s queue; returns how many entries went.
    pub async fn queue_clear(&self, guild: u64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM plex_queue WHERE guild_id = $1")
            .bind(db_id(guild))
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }

    /// Puts the queue in the order `shuffle` leaves the entry ids in (it must keep the same
    /// ids: anything else is refused as an internal error).
    pub async fn queue_reorder(
        &self,
        guild: u64,
        shuffle: impl Fn(&mut Vec<i64>) + Send + Sync,
    ) -> Result<usize, QueueError> {
        self.retry_lock_races(|| async {
            let mut tx = self.lock_queue(guild).await?;
            let entries = Self::entries_in(&mut tx, guild).await?;
            let mut order: Vec<i64> = entries.iter().map(|e| e.id).collect();
            let mut before = order.clone();
            shuffle(&mut order);
            let mut after = order.clone();
            before.sort_unstable();
            after.sort_unstable();
            if before != after {
                // A caller's bug, not the member's: internal.
                return Err(QueueError::Store(StoreError::Query(sqlx::Error::Protocol(
                    "a queue reorder must keep the queue's entries".to_owned(),
                ))));
            }
            Self::renumber(&mut tx, &order).await?;
            tx.commit().await?;
            Ok(order.len())
        })
        .await
    }

    /// `user` votes for entry `position` to play next; returns its votes.
    pub async fn queue_vote(
        &self,
        guild: u64,
        position: i64,
        user: u64,
    ) -> Result<i64, QueueError> {
        self.retry_lock_races(|| async {
            let mut tx = self.lock_queue(guild).await?;
            let entries = Self::entries_in(&mut tx, guild).await?;
            let target = &entries[index_of(&entries, position)?];
            let added = sqlx::query(
                "INSERT INTO plex_votes (entry_id, user_id) VALUES ($1, $2) \
                 ON CONFLICT (entry_id, user_id) DO NOTHING",
            )
            .bind(target.id)
            .bind(db_id(user))
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if added == 0 {
                return Err(QueueError::AlreadyVoted(position));
            }
            tx.commit().await?;
            Ok(target.votes + 1)
        })
        .await
    }

    /// Takes the entry that plays next (most votes, then first in line) out of `guild`'s queue
    /// and records it as playing in `channel`, in one transaction; `None` when the queue is
    /// empty. Any other guild's "now playing" ends: the streamer plays in one place.
    pub async fn queue_take_next(
        &self,
        guild: u64,
        channel: u64,
    ) -> Result<Option<NowPlaying>, QueueError> {
        self.retry_lock_races(|| async {
            let mut tx = self.lock_queue(guild).await?;
            let mut entries = Self::entries_in(&mut tx, guild).await?;
            let Some(index) = next_index(&entries) else {
                return Ok(None);
            };
            let next = entries.remove(index);
            sqlx::query("DELETE FROM plex_queue WHERE id = $1")
                .bind(next.id)
                .execute(&mut *tx)
                .await?;
            let order: Vec<i64> = entries.iter().map(|e| e.id).collect();
            Self::renumber(&mut tx, &order).await?;
            let now = NowPlaying {
                guild_id: guild,
                channel_id: channel,
                rating_key: next.rating_key,
                title: next.title,
                requested_by: next.requested_by,
                position_ms: 0,
            };
            Self::put_now(&mut tx, &now).await?;
            tx.commit().await?;
            Ok(Some(now))
        })
        .await
    }

    /// Puts an entry that could not play back at the head of the queue and forgets it as
    /// playing, in one transaction.
    pub async fn queue_put_back(&self, now: &NowPlaying) -> Result<(), QueueError> {
        self.retry_lock_races(|| async {
            let mut tx = self.lock_queue(now.guild_id).await?;
            let entries = Self::entries_in(&mut tx, now.guild_id).await?;
            let id: i64 = sqlx::query(
                "INSERT INTO plex_queue (guild_id, position, rating_key, title, requested_by, \
                 added_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
            )
            .bind(db_id(now.guild_id))
            .bind(
                i64::try_from(entries.len())
                    .unwrap_or(i64::MAX)
                    .saturating_add(1),
            )
            .bind(&now.rating_key)
            .bind(&now.title)
            .bind(db_id(now.requested_by))
            .bind(now_ms())
            .fetch_one(&mut *tx)
            .await?
            .try_get(0)?;
            let order: Vec<i64> = std::iter::once(id)
                .chain(entries.iter().map(|e| e.id))
                .collect();
            Self::renumber(&mut tx, &order).await?;
            sqlx::query("DELETE FROM plex_now WHERE guild_id = $1 AND rating_key = $2")
                .bind(db_id(now.guild_id))
                .bind(&now.rating_key)
                .execute(&mut *tx)
                .await?;
            tx.commit().await?;
            Ok(())
        })
        .await
    }

    async fn put_now(tx: &mut Tx, now: &NowPlaying) -> Result<(), sqlx::Error> {
        sqlx::query("DELETE FROM plex_now WHERE guild_id <> $1")
            .bind(db_id(now.guild_id))
            .execute(&mut **tx)
            .await?;
        sqlx::query(
            "INSERT INTO plex_now (guild_id, channel_id, rating_key, title, requested_by, \
             position_ms, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) \
             ON CONFLICT (guild_id) DO UPDATE SET channel_id = $2, rating_key = $3, title = $4, \
             requested_by = $5, position_ms = $6, updated_at = $7",
        )
        .bind(db_id(now.guild_id))
        .bind(db_id(now.channel_id))
        .bind(&now.rating_key)
        .bind(&now.title)
        .bind(db_id(now.requested_by))
        .bind(now.position_ms.max(0))
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// Records what now plays (a `/plex play`), ending any other guild's.
    pub async fn set_now_playing(&self, now: &NowPlaying) -> Result<(), StoreError> {
        let mut tx = self.begin_write().await?;
        Self::put_now(&mut tx, now).await?;
        tx.commit().await?;
        Ok(())
    }

    /// What plays now, anywhere (the bot keeps at most one).
    pub async fn now_playing(&self) -> Result<Option<NowPlaying>, StoreError> {
        let row = sqlx::query(
            "SELECT guild_id, channel_id, rating_key, title, requested_by, position_ms \
             FROM plex_now ORDER BY updated_at DESC LIMIT 1",
        )
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(now_row).transpose()?)
    }

    /// The last position the streamer reported for what plays in `guild`, if it still is
    /// `rating_key`.
    pub async fn set_now_position(
        &self,
        guild: u64,
        rating_key: &str,
        position_ms: i64,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE plex_now SET position_ms = $1, updated_at = $2 \
             WHERE guild_id = $3 AND rating_key = $4",
        )
        .bind(position_ms.max(0))
        .bind(now_ms())
        .bind(db_id(guild))
        .bind(rating_key)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Nothing plays in `guild` any more.
    pub async fn clear_now_playing(&self, guild: u64) -> Result<(), StoreError> {
        sqlx::query("DELETE FROM plex_now WHERE guild_id = $1")
            .bind(db_id(guild))
            .execute(self.pool())
            .await?;
        Ok(())
    }
}

fn index_of(entries: &[QueueEntry], position: i64) -> Result<usize, QueueError> {
    entries
        .iter()
        .position(|e| e.position == position)
        .ok_or(QueueError::NoSuchEntry(position))
}

/// Most votes first; among equals, the one first in line.
fn next_index(entries: &[QueueEntry]) -> Option<usize> {
    let best = entries.iter().map(|e| e.votes).max()?;
    entries.iter().position(|e| e.votes == best)
}
