//! Finished battles and the win/loss record they add to.

use sqlx::Row;

use super::PokemonError;
use crate::{Store, StoreError, db_id, now_ms};

/// A finished battle.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BattleRecord {
    pub guild: u64,
    pub challenger: u64,
    /// `None` for a wild opponent.
    pub opponent: Option<u64>,
    pub winner: Option<u64>,
    /// `win`, `loss`, `tie`, `forfeit` or `timeout`, from the challenger's side.
    pub outcome: &'static str,
    pub turns: u32,
    /// Whom the computer played ("Hiker Clarence", "wild Pidgey"); `None` between members.
    pub npc: Option<String>,
}

impl Store {
    /// Stores a finished battle and updates both trainers' records.
    pub async fn record_battle(&self, r: &BattleRecord) -> Result<i64, PokemonError> {
        self.retry_lock_races(|| async {
            let mut tx = self.begin_write().await?;
            let row = sqlx::query(
                "INSERT INTO pokemon_battles (guild_id, challenger_id, opponent_id, winner_id, outcome, turns, finished_at, npc) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
            )
            .bind(db_id(r.guild))
            .bind(db_id(r.challenger))
            .bind(r.opponent.map(db_id))
            .bind(r.winner.map(db_id))
            .bind(r.outcome)
            .bind(i64::from(r.turns))
            .bind(now_ms())
            .bind(r.npc.as_deref())
            .fetch_one(&mut *tx)
            .await?;
            let id: i64 = row.try_get(0)?;
            let mut players = vec![r.challenger];
            players.extend(r.opponent);
            players.sort_unstable();
            for p in players {
                let (win, loss) = match r.winner {
                    Some(w) if w == p => (1, 0),
                    _ if r.outcome == "tie" => (0, 0),
                    // Against the wild, the winner column is empty: the outcome says.
                    None if r.opponent.is_none() && r.outcome == "win" => (1, 0),
                    _ => (0, 1),
                };
                sqlx::query(
                    "INSERT INTO pokemon_trainers (user_id, wins, losses) VALUES ($1, $2, $3) \
                     ON CONFLICT (user_id) DO UPDATE SET wins = pokemon_trainers.wins + excluded.wins, \
                     losses = pokemon_trainers.losses + excluded.losses",
                )
                .bind(db_id(p))
                .bind(win)
                .bind(loss)
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(id)
        })
        .await
    }

    /// Battles won and lost.
    pub async fn battle_record(&self, user: u64) -> Result<(i64, i64), StoreError> {
        let row = sqlx::query("SELECT wins, losses FROM pokemon_trainers WHERE user_id = $1")
            .bind(db_id(user))
            .fetch_optional(self.pool())
            .await?;
        Ok(match row {
            Some(r) => (r.try_get(0)?, r.try_get(1)?),
            None => (0, 0),
        })
    }
}
