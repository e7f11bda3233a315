//! Music: each guild's queue, what plays now with its last saved position, the tracks played
//! before it, and the guild's player settings (volume, loop, DJ role, 24/7).
//!
//! Every change to a guild's queue is one transaction that first takes the guild's settings
//! row, so two members adding, moving or skipping at once never see the same positions, and
//! advancing to the next track (the old one into the history, or back into the queue when the
//! queue loops; the next one out of the queue and recorded as playing) is one transaction: a
//! track is never lost between the queue and the player, and never played twice.

use sqlx::Row;

use super::{Store, StoreError, db_id, now_ms};

/// The most tracks one guild's queue holds.
pub const MUSIC_MAX_QUEUE: i64 = 500;
/// How many played tracks a guild's history keeps.
pub const MUSIC_HISTORY: i64 = 50;

/// Where a track comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TrackSource {
    /// A page (or search result) yt-dlp resolves when it plays.
    YtDlp,
    /// A file under `music.roots`.
    File,
    /// A Spotify track (`url` is its link with `#isrc=…`; `title` is "Artist - Title"):
    /// matched to something yt-dlp plays when it plays.
    Spotify,
}

impl TrackSource {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::YtDlp => "ytdlp",
            Self::File => "file",
            Self::Spotify => "spotify",
        }
    }

    fn parse(s: &str) -> Result<Self, sqlx::Error> {
        match s {
            "ytdlp" => Ok(Self::YtDlp),
            "file" => Ok(Self::File),
            "spotify" => Ok(Self::Spotify),
            other => Err(sqlx::Error::Decode(
                format!("unknown music source {other:?}").into(),
            )),
        }
    }
}

/// A track to add.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewTrack {
    pub title: String,
    pub url: String,
    pub source: TrackSource,
    pub duration_ms: Option<i64>,
}

/// A track in a queue, the player or the history.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Track {
    /// The queue entry's id (the history's, in the history; 0 for what plays now).
    pub id: i64,
    /// 1-based, dense (0 outside the queue).
    pub position: i64,
    pub title: String,
    pub url: String,
    pub source: TrackSource,
    pub duration_ms: Option<i64>,
    pub requested_by: u64,
}

/// What plays in a guild, and where.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MusicNow {
    pub guild_id: u64,
    pub channel_id: u64,
    /// Where the player posts what it starts.
    pub text_channel_id: u64,
    pub track: Track,
    pub position_ms: i64,
    pub paused: bool,
    /// Unix milliseconds: when this track started (a changed value means another play).
    pub started_at: i64,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LoopMode {
    Off,
    Track,
    Queue,
}

impl LoopMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Off => "off",
            Self::Track => "track",
            Self::Queue => "queue",
        }
    }

    fn parse(s: &str) -> Self {
        match s {
            "track" => Self::Track,
            "queue" => Self::Queue,
            _ => Self::Off,
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MusicSettings {
    /// Percent, 0–200.
    pub volume: i64,
    pub loop_mode: LoopMode,
    pub dj_role: Option<u64>,
    /// Stay in voice when alone or idle.
    pub always_on: bool,
}

impl Default for MusicSettings {
    fn default() -> Self {
        Self {
            volume: 100,
            loop_mode: LoopMode::Off,
            dj_role: None,
            always_on: false,
        }
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MusicQueueError {
    #[error("The queue is full ({MUSIC_MAX_QUEUE} tracks): remove some first.")]
    Full,
    #[error(
        "That would put more than {0} of your tracks in the queue, the most one member may have: let some play first, or add fewer."
    )]
    UserLimit(i64),
    #[error("The queue has no track #{0}: `/queue show` lists it.")]
    NoSuchEntry(i64),
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// How a track ended, for [`Store::music_advance`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ended {
    /// It played to its end: the loop mode decides what comes next.
    Finished,
    /// Skipped or failed: it goes to the history and the next track plays, whatever the loop.
    Skipped,
}

macro_rules! queue_of_guild {
    () => {
        "SELECT id, position, title, url, source, duration_ms, requested_by \
         FROM music_queue WHERE guild_id = $1 ORDER BY position, id"
    };
}

macro_rules! now_columns {
    () => {
        "guild_id, channel_id, text_channel_id, title, url, source, duration_ms, requested_by, \
         position_ms, paused, started_at"
    };
}

fn track(row: &sqlx::any::AnyRow) -> Result<Track, sqlx::Error> {
    Ok(Track {
        id: row.try_get("id")?,
        position: row.try_get("position")?,
        title: row.try_get("title")?,
        url: row.try_get("url")?,
        source: TrackSource::parse(&row.try_get::<String, _>("source")?)?,
        duration_ms: row.try_get("duration_ms")?,
        requested_by: row.try_get::<i64, _>("requested_by")?.cast_unsigned(),
    })
}

fn now_row(row: &sqlx::any::AnyRow) -> Result<MusicNow, sqlx::Error> {
    Ok(MusicNow {
        guild_id: row.try_get::<i64, _>("guild_id")?.cast_unsigned(),
        channel_id: row.try_get::<i64, _>("channel_id")?.cast_unsigned(),
        text_channel_id: row.try_get::<i64, _>("text_channel_id")?.cast_unsigned(),
        track: Track {
            id: 0,
            position: 0,
            title: row.try_get("title")?,
            url: row.try_get("url")?,
            source: TrackSource::parse(&row.try_get::<String, _>("source")?)?,
            duration_ms: row.try_get("duration_ms")?,
            requested_by: row.try_get::<i64, _>("requested_by")?.cast_unsigned(),
        },
        position_ms: row.try_get("position_ms")?,
        paused: row.try_get::<i64, _>("paused")? != 0,
        started_at: row.try_get("started_at")?,
    })
}

type Tx = sqlx::Transaction<'static, sqlx::Any>;

impl Store {
    async fn lock_music(&self, guild: u64) -> Result<Tx, sqlx::Error> {
        let mut tx = self.begin_write().await?;
        super::guilds::lock_guild_row(&mut tx, guild).await?;
        Ok(tx)
    }

    async fn music_entries_in(tx: &mut Tx, guild: u64) -> Result<Vec<Track>, sqlx::Error> {
        sqlx::query(queue_of_guild!())
            .bind(db_id(guild))
            .fetch_all(&mut **tx)
            .await?
            .iter()
            .map(track)
            .collect()
    }

    async fn music_renumber(tx: &mut Tx, order: &[i64]) -> Result<(), sqlx::Error> {
        for (i, id) in order.iter().enumerate() {
            sqlx::query("UPDATE music_queue SET position = $1 WHERE id = $2")
                .bind(i64::try_from(i).unwrap_or(i64::MAX).saturating_add(1))
                .bind(*id)
                .execute(&mut **tx)
                .await?;
        }
        Ok(())
    }

    async fn music_insert(
        tx: &mut Tx,
        guild: u64,
        position: i64,
        track: &NewTrack,
        requested_by: u64,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query(
            "INSERT INTO music_queue (guild_id, position, title, url, source, duration_ms, \
             requested_by, added_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
        )
        .bind(db_id(guild))
        .bind(position)
        .bind(&track.title)
        .bind(&track.url)
        .bind(track.source.as_str())
        .bind(track.duration_ms)
        .bind(db_id(requested_by))
        .bind(now_ms())
        .fetch_one(&mut **tx)
        .await?
        .try_get(0)
    }

    /// Adds `tracks` at the end of `guild`'s queue, or right after what plays (`next`);
    /// returns the first one's position. `per_user` caps how many tracks one member may have
    /// queued at once: all are added or none.
    pub async fn music_add(
        &self,
        guild: u64,
        tracks: &[NewTrack],
        requested_by: u64,
        next: bool,
        per_user: Option<i64>,
    ) -> Result<i64, MusicQueueError> {
        let adding = i64::try_from(tracks.len()).unwrap_or(i64::MAX);
        self.retry_lock_races(|| async {
            let mut tx = self.lock_music(guild).await?;
            let entries = Self::music_entries_in(&mut tx, guild).await?;
            let count = i64::try_from(entries.len()).unwrap_or(i64::MAX);
            if count.saturating_add(adding) > MUSIC_MAX_QUEUE {
                return Err(MusicQueueError::Full);
            }
            if let Some(limit) = per_user {
                let mine = entries
                    .iter()
                    .filter(|t| t.requested_by == requested_by)
                    .count();
                let mine = i64::try_from(mine).unwrap_or(i64::MAX);
                if mine.saturating_add(adding) > limit {
                    return Err(MusicQueueError::UserLimit(limit));
                }
            }
            let mut ids = Vec::with_capacity(tracks.len());
            for (i, t) in tracks.iter().enumerate() {
                let position = count
                    .saturating_add(i64::try_from(i).unwrap_or(0))
                    .saturating_add(1);
                ids.push(Self::music_insert(&mut tx, guild, position, t, requested_by).await?);
            }
            let first = if next {
                let order: Vec<i64> = ids
                    .iter()
                    .copied()
                    .chain(entries.iter().map(|e| e.id))
                    .collect();
                Self::music_renumber(&mut tx, &order).await?;
                1
            } else {
                count + 1
            };
            tx.commit().await?;
            Ok(first)
        })
        .await
    }

    /// `guild`'s queue in order.
    pub async fn music_queue(&self, guild: u64) -> Result<Vec<Track>, StoreError> {
        Ok(sqlx::query(queue_of_guild!())
            .bind(db_id(guild))
            .fetch_all(self.pool())
            .await?
            .iter()
            .map(track)
            .collect::<Result<_, _>>()?)
    }

    /// Takes track `position` out; the ones after it move up.
    pub async fn music_remove(&self, guild: u64, position: i64) -> Result<Track, MusicQueueError> {
        self.retry_lock_races(|| async {
            let mut tx = self.lock_music(guild).await?;
            let mut entries = Self::music_entries_in(&mut tx, guild).await?;
            let index = music_index(&entries, position)?;
            let removed = entries.remove(index);
            sqlx::query("DELETE FROM music_queue WHERE id = $1")
                .bind(removed.id)
                .execute(&mut *tx)
                .await?;
            let order: Vec<i64> = entries.iter().map(|e| e.id).collect();
            Self::music_renumber(&mut tx, &order).await?;
            tx.commit().await?;
            Ok(removed)
        })
        .await
    }

    /// Moves track `from` to position `to` (clamped to the queue's end).
    pub async fn music_move(
        &self,
        guild: u64,
        from: i64,
        to: i64,
    ) -> Result<Track, MusicQueueError> {
        self.retry_lock_races(|| async {
            let mut tx = self.lock_music(guild).await?;
            let mut entries = Self::music_entries_in(&mut tx, guild).await?;
            let index = music_index(&entries, from)?;
            let mut moved = entries.remove(index);
            let at = usize::try_from(to.max(1) - 1)
                .unwrap_or(0)
                .min(entries.len());
            moved.position = i64::try_from(at).unwrap_or(0) + 1;
            entries.insert(at, moved.clone());
            let order: Vec<i64> = entries.iter().map(|e| e.id).collect();
            Self::music_renumber(&mut tx, &order).await?;
            tx.commit().await?;
            Ok(moved)
        })
        .await
    }

    /// Empties `guild`'s queue; returns how many tracks went.
    pub async fn music_clear(&self, guild: u64) -> Result<u64, StoreError> {
        let done = sqlx::query("DELETE FROM music_queue WHERE guild_id = $1")
            .bind(db_id(guild))
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected())
    }

    /// Puts the queue in the order `shuffle` leaves the entry ids in (the same ids, or an
    /// internal error).
    pub async fn music_reorder(
        &self,
        guild: u64,
        shuffle: impl Fn(&mut Vec<i64>) + Send + Sync,
    ) -> Result<usize, MusicQueueError> {
        self.retry_lock_races(|| async {
            let mut tx = self.lock_music(guild).await?;
            let entries = Self::music_entries_in(&mut tx, guild).await?;
            let mut order: Vec<i64> = entries.iter().map(|e| e.id).collect();
            let mut before = order.clone();
            shuffle(&mut order);
            let mut after = order.clone();
            before.sort_unstable();
            after.sort_unstable();
            if before != after {
                return Err(MusicQueueError::Store(StoreError::Query(
                    sqlx::Error::Protocol(
                        "a queue reorder must keep the queue's tracks".to_owned(),
                    ),
                )));
            }
            Self::music_renumber(&mut tx, &order).await?;
            tx.commit().await?;
            Ok(order.len())
        })
        .await
    }

    /// Ends what plays in `guild` (if it is still the play that started at `started_at`, or
    /// whatever plays when `None`) and starts the next track in `channel`, in one transaction:
    /// the ended track goes to the history (and, when the queue loops and it finished, back to
    /// the queue's end; when the track loops and it finished, it simply plays again). Returns
    /// what plays now, `None` when the queue ran out (then nothing plays).
    pub async fn music_advance(
        &self,
        guild: u64,
        channel: u64,
        text_channel: u64,
        ended: Ended,
        started_at: Option<i64>,
    ) -> Result<Option<MusicNow>, MusicQueueError> {
        self.retry_lock_races(|| async {
            let mut tx = self.lock_music(guild).await?;
            let current = Self::music_now_in(&mut tx, guild).await?;
            if let (Some(expected), Some(now)) = (started_at, current.as_ref())
                && now.started_at != expected
            {
                // Someone else already moved on (a skip raced the track's end).
                return Ok(Some(now.clone()));
            }
            let loop_mode = Self::music_settings_in(&mut tx, guild).await?.loop_mode;
            let mut entries = Self::music_entries_in(&mut tx, guild).await?;
            if let Some(now) = &current {
                sqlx::query(
                    "INSERT INTO music_history (guild_id, title, url, source, duration_ms, \
                     requested_by, played_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
                )
                .bind(db_id(guild))
                .bind(&now.track.title)
                .bind(&now.track.url)
                .bind(now.track.source.as_str())
                .bind(now.track.duration_ms)
                .bind(db_id(now.track.requested_by))
                .bind(now_ms())
                .execute(&mut *tx)
                .await?;
                sqlx::query(
                    "DELETE FROM music_history WHERE guild_id = $1 AND id NOT IN \
                     (SELECT id FROM music_history WHERE guild_id = $1 ORDER BY id DESC LIMIT $2)",
                )
                .bind(db_id(guild))
                .bind(MUSIC_HISTORY)
                .execute(&mut *tx)
                .await?;
                if ended == Ended::Finished {
                    match loop_mode {
                        LoopMode::Track => {
                            let again = MusicNow {
                                channel_id: channel,
                                text_channel_id: text_channel,
                                position_ms: 0,
                                paused: false,
                                started_at: fresh_start(now.started_at),
                                ..now.clone()
                            };
                            Self::put_music_now(&mut tx, &again).await?;
                            tx.commit().await?;
                            return Ok(Some(again));
                        }
                        LoopMode::Queue => {
                            let back = NewTrack {
                                title: now.track.title.clone(),
                                url: now.track.url.clone(),
                                source: now.track.source,
                                duration_ms: now.track.duration_ms,
                            };
                            let position = i64::try_from(entries.len()).unwrap_or(i64::MAX) + 1;
                            let id = Self::music_insert(
                                &mut tx,
                                guild,
                                position,
                                &back,
                                now.track.requested_by,
                            )
                            .await?;
                            entries.push(Track {
                                id,
                                position,
                                requested_by: now.track.requested_by,
                                ..now.track.clone()
                            });
                        }
                        LoopMode::Off => {}
                    }
                }
            }
            if entries.is_empty() {
                sqlx::query("DELETE FROM music_now WHERE guild_id = $1")
                    .bind(db_id(guild))
                    .execute(&mut *tx)
                    .await?;
                tx.commit().await?;
                return Ok(None);
            }
            let next = entries.remove(0);
            sqlx::query("DELETE FROM music_queue WHERE id = $1")
                .bind(next.id)
                .execute(&mut *tx)
                .await?;
            let order: Vec<i64> = entries.iter().map(|e| e.id).collect();
            Self::music_renumber(&mut tx, &order).await?;
            let now = MusicNow {
                guild_id: guild,
                channel_id: channel,
                text_channel_id: text_channel,
                track: Track {
                    id: 0,
                    position: 0,
                    ..next
                },
                position_ms: 0,
                paused: false,
                started_at: fresh_start(current.as_ref().map_or(0, |c| c.started_at)),
            };
            Self::put_music_now(&mut tx, &now).await?;
            tx.commit().await?;
            Ok(Some(now))
        })
        .await
    }

    async fn music_now_in(tx: &mut Tx, guild: u64) -> Result<Option<MusicNow>, sqlx::Error> {
        sqlx::query(concat!(
            "SELECT ",
            now_columns!(),
            " FROM music_now WHERE guild_id = $1"
        ))
        .bind(db_id(guild))
        .fetch_optional(&mut **tx)
        .await?
        .as_ref()
        .map(now_row)
        .transpose()
    }

    async fn put_music_now(tx: &mut Tx, now: &MusicNow) -> Result<(), sqlx::Error> {
        sqlx::query(concat!(
            "INSERT INTO music_now (",
            now_columns!(),
            ", updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12) \
             ON CONFLICT (guild_id) DO UPDATE SET channel_id = $2, text_channel_id = $3, \
             title = $4, url = $5, source = $6, duration_ms = $7, requested_by = $8, \
             position_ms = $9, paused = $10, started_at = $11, updated_at = $12"
        ))
        .bind(db_id(now.guild_id))
        .bind(db_id(now.channel_id))
        .bind(db_id(now.text_channel_id))
        .bind(&now.track.title)
        .bind(&now.track.url)
        .bind(now.track.source.as_str())
        .bind(now.track.duration_ms)
        .bind(db_id(now.track.requested_by))
        .bind(now.position_ms.max(0))
        .bind(i64::from(now.paused))
        .bind(now.started_at)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
        Ok(())
    }

    /// What plays in `guild`.
    pub async fn music_now(&self, guild: u64) -> Result<Option<MusicNow>, StoreError> {
        let row = sqlx::query(concat!(
            "SELECT ",
            now_columns!(),
            " FROM music_now WHERE guild_id = $1"
        ))
        .bind(db_id(guild))
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(now_row).transpose()?)
    }

    /// Every guild where something plays: what a restarted bot resumes.
    pub async fn music_playing(&self) -> Result<Vec<MusicNow>, StoreError> {
        Ok(sqlx::query(concat!(
            "SELECT ",
            now_columns!(),
            " FROM music_now ORDER BY guild_id"
        ))
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(now_row)
        .collect::<Result<_, _>>()?)
    }

    /// Saves where the play that started at `started_at` is (and whether it is paused);
    /// false when another play has replaced it.
    pub async fn music_save_position(
        &self,
        guild: u64,
        started_at: i64,
        position_ms: i64,
        paused: bool,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE music_now SET position_ms = $1, paused = $2, updated_at = $3 \
             WHERE guild_id = $4 AND started_at = $5",
        )
        .bind(position_ms.max(0))
        .bind(i64::from(paused))
        .bind(now_ms())
        .bind(db_id(guild))
        .bind(started_at)
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    /// Learns a track's length once it plays (yt-dlp may not say before).
    pub async fn music_set_duration(
        &self,
        guild: u64,
        started_at: i64,
        duration_ms: i64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "UPDATE music_now SET duration_ms = $1 WHERE guild_id = $2 AND started_at = $3",
        )
        .bind(duration_ms.max(0))
        .bind(db_id(guild))
        .bind(started_at)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Stops the player in `guild`: what played goes to the history, the queue stays.
    pub async fn music_stop(&self, guild: u64) -> Result<Option<MusicNow>, StoreError> {
        let mut tx = self.begin_write().await?;
        let now = Self::music_now_in(&mut tx, guild).await?;
        sqlx::query("DELETE FROM music_now WHERE guild_id = $1")
            .bind(db_id(guild))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(now)
    }

    /// The last tracks played in `guild`, newest first.
    pub async fn music_history(&self, guild: u64) -> Result<Vec<Track>, StoreError> {
        Ok(sqlx::query(
            "SELECT id, 0 AS position, title, url, source, duration_ms, requested_by \
             FROM music_history WHERE guild_id = $1 ORDER BY id DESC LIMIT $2",
        )
        .bind(db_id(guild))
        .bind(MUSIC_HISTORY)
        .fetch_all(self.pool())
        .await?
        .iter()
        .map(track)
        .collect::<Result<_, _>>()?)
    }

    async fn music_settings_in(tx: &mut Tx, guild: u64) -> Result<MusicSettings, sqlx::Error> {
        let row = sqlx::query(
            "SELECT volume, loop_mode, dj_role, always_on FROM music_settings WHERE guild_id = $1",
        )
        .bind(db_id(guild))
        .fetch_optional(&mut **tx)
        .await?;
        row.as_ref()
            .map_or(Ok(MusicSettings::default()), settings_row)
    }

    /// `guild`'s player settings (defaults when never set).
    pub async fn music_settings(&self, guild: u64) -> Result<MusicSettings, StoreError> {
        let row = sqlx::query(
            "SELECT volume, loop_mode, dj_role, always_on FROM music_settings WHERE guild_id = $1",
        )
        .bind(db_id(guild))
        .fetch_optional(self.pool())
        .await?;
        Ok(row
            .as_ref()
            .map_or(Ok(MusicSettings::default()), settings_row)?)
    }

    /// Stores `guild`'s player settings (volume clamped to 0–200).
    pub async fn set_music_settings(
        &self,
        guild: u64,
        settings: &MusicSettings,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO music_settings (guild_id, volume, loop_mode, dj_role, always_on) \
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (guild_id) DO UPDATE SET volume = $2, \
             loop_mode = $3, dj_role = $4, always_on = $5",
        )
        .bind(db_id(guild))
        .bind(settings.volume.clamp(0, 200))
        .bind(settings.loop_mode.as_str())
        .bind(settings.dj_role.map(db_id))
        .bind(i64::from(settings.always_on))
        .execute(self.pool())
        .await?;
        Ok(())
    }
}

fn settings_row(row: &sqlx::any::AnyRow) -> Result<MusicSettings, sqlx::Error> {
    Ok(MusicSettings {
        volume: row.try_get("volume")?,
        loop_mode: LoopMode::parse(&row.try_get::<String, _>("loop_mode")?),
        dj_role: row
            .try_get::<Option<i64>, _>("dj_role")?
            .map(i64::cast_unsigned),
        always_on: row.try_get::<i64, _>("always_on")? != 0,
    })
}

/// A start stamp that differs from the last one even within a millisecond, so a stale
/// end-of-track event can never advance a play it did not belong to.
fn fresh_start(previous: i64) -> i64 {
    now_ms().max(previous.saturating_add(1))
}

fn music_index(entries: &[Track], position: i64) -> Result<usize, MusicQueueError> {
    entries
        .iter()
        .position(|e| e.position == position)
        .ok_or(MusicQueueError::NoSuchEntry(position))
}
