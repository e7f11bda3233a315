//! Leaderboards, kill counts and achievements.

use lounge_osrs::Skill;
use sqlx::Row;

use crate::{Store, StoreError, db_id, now_ms};

/// A leaderboard to rank by.
#[derive(Clone, Copy, Debug)]
pub enum Board<'a> {
    /// Total level, ties broken by total experience.
    TotalLevel,
    Skill(Skill),
    /// Kill count of one monster (its canonical name).
    Kills(&'a str),
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ranked {
    pub user_id: u64,
    pub name: String,
    pub value: i64,
}

impl Store {
    /// Records that the character plays in `guild`, for that guild's leaderboards.
    pub async fn osrs_note_guild(&self, guild: u64, user: u64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO osrs_guild_players (guild_id, user_id) VALUES ($1, $2) \
             ON CONFLICT (guild_id, user_id) DO NOTHING",
        )
        .bind(db_id(guild))
        .bind(db_id(user))
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records achievements; returns those the character did not have before (each is
    /// returned to exactly one caller, however many race).
    pub async fn osrs_grant_achievements(
        &self,
        user: u64,
        keys: &[&str],
    ) -> Result<Vec<String>, StoreError> {
        let mut new = Vec::new();
        if keys.is_empty() {
            return Ok(new);
        }
        let mut tx = self.begin_write().await?;
        for key in keys {
            let row = sqlx::query(
                "INSERT INTO osrs_achievements (user_id, achievement, earned_at) VALUES ($1, $2, $3) \
                 ON CONFLICT (user_id, achievement) DO NOTHING RETURNING achievement",
            )
            .bind(db_id(user))
            .bind(*key)
            .bind(now_ms())
            .fetch_optional(&mut *tx)
            .await?;
            if let Some(row) = row {
                new.push(row.try_get(0)?);
            }
        }
        tx.commit().await?;
        Ok(new)
    }

    /// Achievements as (key, earned at), oldest first.
    pub async fn osrs_achievements(&self, user: u64) -> Result<Vec<(String, i64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT achievement, earned_at FROM osrs_achievements WHERE user_id = $1 \
             ORDER BY earned_at, achievement",
        )
        .bind(db_id(user))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get(1)?)))
            .collect()
    }

    /// Kill counts as (monster, kills), most killed first.
    pub async fn osrs_kills(&self, user: u64) -> Result<Vec<(String, u64)>, StoreError> {
        let rows = sqlx::query(
            "SELECT monster, kills FROM osrs_kills WHERE user_id = $1 ORDER BY kills DESC, monster",
        )
        .bind(db_id(user))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get::<i64, _>(1)? as u64)))
            .collect()
    }

    /// The top `limit` characters on a board, in `guild` (characters that played there) or
    /// everywhere.
    pub async fn osrs_leaderboard(
        &self,
        board: Board<'_>,
        guild: Option<u64>,
        limit: i64,
    ) -> Result<Vec<Ranked>, StoreError> {
        // The guild filter is $1 when present, so the board's own parameters follow it.
        let (join, first) = match guild {
            Some(_) => (
                "JOIN osrs_guild_players g ON g.user_id = c.user_id AND g.guild_id = $1",
                2,
            ),
            None => ("", 1),
        };
        let (a, b) = (first, first + 1);
        let sql = match board {
            Board::TotalLevel => format!(
                "SELECT c.user_id, c.name, CAST(SUM(s.level) AS BIGINT) AS total, \
                 CAST(SUM(s.xp) AS BIGINT) AS xp FROM osrs_characters c {join} \
                 JOIN osrs_skills s ON s.user_id = c.user_id \
                 GROUP BY c.user_id, c.name ORDER BY total DESC, xp DESC, c.user_id LIMIT ${a}"
            ),
            Board::Skill(_) => format!(
                "SELECT c.user_id, c.name, s.xp FROM osrs_characters c {join} \
                 JOIN osrs_skills s ON s.user_id = c.user_id AND s.skill = ${a} \
                 ORDER BY s.xp DESC, c.user_id LIMIT ${b}"
            ),
            Board::Kills(_) => format!(
                "SELECT c.user_id, c.name, k.kills FROM osrs_characters c {join} \
                 JOIN osrs_kills k ON k.user_id = c.user_id AND k.monster = ${a} \
                 WHERE k.kills > 0 ORDER BY k.kills DESC, c.user_id LIMIT ${b}"
            ),
        };
        // Built only from the fixed fragments above; every value is a bound parameter.
        let mut query = sqlx::query(sqlx::AssertSqlSafe(sql));
        if let Some(guild) = guild {
            query = query.bind(db_id(guild));
        }
        query = match board {
            Board::TotalLevel => query,
            Board::Skill(skill) => query.bind(skill.name()),
            Board::Kills(monster) => query.bind(monster),
        };
        let rows = query.bind(limit).fetch_all(self.pool()).await?;
        rows.iter()
            .map(|r| {
                Ok(Ranked {
                    user_id: r.try_get::<i64, _>(0)? as u64,
                    name: r.try_get(1)?,
                    value: r.try_get(2)?,
                })
            })
            .collect()
    }
}
