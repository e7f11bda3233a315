//! Leaderboards across the bot: coins and reputation, highest first, ties by user id so every
//! page and every rank agree.

use sqlx::Row;

use super::{Store, StoreError, db_id};

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Ranking {
    Coins,
    Reputation,
}

impl Store {
    /// The top `limit` users on `board` with their scores (users at 0 are left out).
    pub async fn leaderboard(
        &self,
        board: Ranking,
        limit: i64,
    ) -> Result<Vec<(u64, i64)>, StoreError> {
        let query = match board {
            Ranking::Coins => {
                "SELECT id, currency FROM users WHERE currency > 0 \
                 ORDER BY currency DESC, id ASC LIMIT $1"
            }
            Ranking::Reputation => {
                "SELECT user_id, points FROM reputation WHERE points > 0 \
                 ORDER BY points DESC, user_id ASC LIMIT $1"
            }
        };
        let rows = sqlx::query(query)
            .bind(limit)
            .fetch_all(self.pool())
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get::<i64, _>(0)? as u64, r.try_get(1)?)))
            .collect()
    }

    /// `user`'s place on `board` (1 is first) and score; `None` while their score is 0.
    pub async fn rank(&self, board: Ranking, user: u64) -> Result<Option<(i64, i64)>, StoreError> {
        let score = match board {
            Ranking::Coins => self.balance(user).await?,
            Ranking::Reputation => self.reputation(user).await?,
        };
        if score <= 0 {
            return Ok(None);
        }
        let query = match board {
            Ranking::Coins => {
                "SELECT COUNT(*) FROM users WHERE currency > $1 OR (currency = $1 AND id < $2)"
            }
            Ranking::Reputation => {
                "SELECT COUNT(*) FROM reputation \
                 WHERE points > $1 OR (points = $1 AND user_id < $2)"
            }
        };
        let ahead: i64 = sqlx::query(query)
            .bind(score)
            .bind(db_id(user))
            .fetch_one(self.pool())
            .await?
            .try_get(0)?;
        Ok(Some((ahead + 1, score)))
    }
}
