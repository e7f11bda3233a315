//! Characters: creating one with its starting skills, bank and gear, and reading it back.

use lounge_osrs::{Bank, MAX_XP, Skill, Skills, level_for_xp};
use sqlx::Row;

use super::OsrsStoreError;
use super::bank::credit_item;
use crate::{Store, StoreError, db_id, now_ms};

/// Members can use every world and all content; free-to-play characters only F2P worlds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AccountMode {
    Members,
    Free,
}

impl AccountMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Members => "members",
            Self::Free => "free",
        }
    }

    fn parse(s: &str) -> Self {
        if s == "free" {
            Self::Free
        } else {
            Self::Members
        }
    }
}

#[derive(Clone, Debug)]
pub struct OsrsCharacter {
    pub user_id: u64,
    pub name: String,
    pub mode: AccountMode,
    pub world: u32,
    pub location: String,
    pub skills: Skills,
    pub created_at: i64,
}

/// What a new character starts with.
pub struct NewCharacter<'a> {
    pub user: u64,
    pub name: &'a str,
    pub mode: AccountMode,
    pub world: u32,
    pub location: &'a str,
    pub bank: &'a Bank,
    /// (slot, item id) pairs.
    pub equipment: &'a [(&'a str, u32)],
}

impl Store {
    pub async fn osrs_create_character(
        &self,
        new: &NewCharacter<'_>,
    ) -> Result<(), OsrsStoreError> {
        if self.osrs_character(new.user).await?.is_some() {
            return Err(OsrsStoreError::AlreadyHasCharacter);
        }
        let mut tx = self.begin_write().await?;
        let inserted = sqlx::query(
            "INSERT INTO osrs_characters (user_id, name, name_key, mode, world, location, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT DO NOTHING RETURNING user_id",
        )
        .bind(db_id(new.user))
        .bind(new.name)
        .bind(new.name.to_lowercase())
        .bind(new.mode.as_str())
        .bind(i64::from(new.world))
        .bind(new.location)
        .bind(now_ms())
        .fetch_optional(&mut *tx)
        .await?;
        if inserted.is_none() {
            tx.rollback().await?;
            // Either constraint may have stopped it; the user one was checked just above, but
            // another process can have created the character in between.
            return Err(if self.osrs_character(new.user).await?.is_some() {
                OsrsStoreError::AlreadyHasCharacter
            } else {
                OsrsStoreError::NameTaken
            });
        }
        let skills = Skills::default();
        for skill in Skill::ALL {
            let xp = skills.xp(skill);
            sqlx::query(
                "INSERT INTO osrs_skills (user_id, skill, xp, level) VALUES ($1, $2, $3, $4)",
            )
            .bind(db_id(new.user))
            .bind(skill.name())
            .bind(i64::from(xp))
            .bind(i64::from(level_for_xp(xp)))
            .execute(&mut *tx)
            .await?;
        }
        for (item, qty) in new.bank.iter() {
            credit_item(&mut tx, new.user, item, qty).await?;
        }
        for &(slot, item) in new.equipment {
            sqlx::query("INSERT INTO osrs_equipment (user_id, slot, item_id) VALUES ($1, $2, $3)")
                .bind(db_id(new.user))
                .bind(slot)
                .bind(i64::from(item))
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }

    pub async fn osrs_character(&self, user: u64) -> Result<Option<OsrsCharacter>, StoreError> {
        let Some(row) = sqlx::query(
            "SELECT name, mode, world, location, created_at FROM osrs_characters WHERE user_id = $1",
        )
        .bind(db_id(user))
        .fetch_optional(self.pool())
        .await?
        else {
            return Ok(None);
        };
        let rows = sqlx::query("SELECT skill, xp FROM osrs_skills WHERE user_id = $1")
            .bind(db_id(user))
            .fetch_all(self.pool())
            .await?;
        // Level 1 everywhere is 0 experience, so adding each stored total reproduces it.
        let mut skills = Skills::all_at(1);
        for r in rows {
            let name: String = r.try_get(0)?;
            let xp: i64 = r.try_get(1)?;
            if let Some(skill) = Skill::from_name(&name) {
                skills.add_xp(skill, u32::try_from(xp).unwrap_or(MAX_XP));
            }
        }
        let mode: String = row.try_get(1)?;
        let world: i64 = row.try_get(2)?;
        Ok(Some(OsrsCharacter {
            user_id: user,
            name: row.try_get(0)?,
            mode: AccountMode::parse(&mode),
            world: world as u32,
            location: row.try_get(3)?,
            skills,
            created_at: row.try_get(4)?,
        }))
    }

    pub async fn osrs_set_world(&self, user: u64, world: u32) -> Result<(), StoreError> {
        sqlx::query("UPDATE osrs_characters SET world = $1 WHERE user_id = $2")
            .bind(i64::from(world))
            .bind(db_id(user))
            .execute(self.pool())
            .await?;
        Ok(())
    }
}
