//! Custom commands ("tags") and prefix-command aliases. Both live in one per-guild namespace
//! (`<prefix>name`), so creation checks the other table in the same transaction.

use sqlx::Row;

use super::{Store, StoreError, db_id, now_ms};

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Tag {
    pub name: String,
    pub content: String,
    pub creator_id: u64,
    pub created_at: i64,
    pub updated_at: i64,
    pub uses: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Alias {
    pub name: String,
    pub expansion: String,
    pub creator_id: u64,
    pub created_at: i64,
}

/// Why a tag or alias could not be created; each is the user's to fix.
#[derive(Debug, thiserror::Error)]
pub enum NameError {
    #[error("`{0}` already exists here.")]
    Taken(String),
    #[error("`{0}` is already an alias here; names of tags and aliases must differ.")]
    TakenByAlias(String),
    #[error("`{0}` is already a tag here; names of tags and aliases must differ.")]
    TakenByTag(String),
    #[error("This server already has {0}, the most it can have. Delete one first.")]
    Full(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<sqlx::Error> for NameError {
    fn from(e: sqlx::Error) -> Self {
        Self::Store(StoreError::Query(e))
    }
}

#[derive(Clone, Copy)]
enum Owner {
    Tag,
    Alias,
}

fn tag_from_row(row: &sqlx::any::AnyRow) -> Result<Tag, sqlx::Error> {
    Ok(Tag {
        name: row.try_get("name")?,
        content: row.try_get("content")?,
        creator_id: row.try_get::<i64, _>("creator_id")?.cast_unsigned(),
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        uses: row.try_get("uses")?,
    })
}

fn alias_from_row(row: &sqlx::any::AnyRow) -> Result<Alias, sqlx::Error> {
    Ok(Alias {
        name: row.try_get("name")?,
        expansion: row.try_get("expansion")?,
        creator_id: row.try_get::<i64, _>("creator_id")?.cast_unsigned(),
        created_at: row.try_get("created_at")?,
    })
}

impl Store {
    /// Opens the write transaction of a creation of `kind` named `name` and checks the name is
    /// free in the guild's one namespace and the guild has fewer than `limit` of that kind.
    /// The guild's settings row is taken as a lock first (both backends hold it until commit),
    /// so concurrent creations cannot both pass the checks.
    async fn reserve_name(
        &self,
        guild: u64,
        name: &str,
        kind: Owner,
        limit: i64,
    ) -> Result<sqlx::Transaction<'static, sqlx::Any>, NameError> {
        let mut tx = self.begin_write().await?;
        super::guilds::lock_guild_row(&mut tx, guild).await?;
        let row = sqlx::query(
            "SELECT (SELECT COUNT(*) FROM tags WHERE guild_id = $1 AND name = $2), \
                    (SELECT COUNT(*) FROM aliases WHERE guild_id = $1 AND name = $2), \
                    (SELECT COUNT(*) FROM tags WHERE guild_id = $1), \
                    (SELECT COUNT(*) FROM aliases WHERE guild_id = $1)",
        )
        .bind(db_id(guild))
        .bind(name)
        .fetch_one(&mut *tx)
        .await?;
        let [tag, alias, tags, aliases]: [i64; 4] = [
            row.try_get(0)?,
            row.try_get(1)?,
            row.try_get(2)?,
            row.try_get(3)?,
        ];
        let name = name.to_owned();
        match (kind, tag > 0, alias > 0) {
            (Owner::Tag, true, _) | (Owner::Alias, _, true) => Err(NameError::Taken(name)),
            (Owner::Tag, _, true) => Err(NameError::TakenByAlias(name)),
            (Owner::Alias, true, _) => Err(NameError::TakenByTag(name)),
            (Owner::Tag, ..) if tags >= limit => Err(NameError::Full(format!("{limit} tags"))),
            (Owner::Alias, ..) if aliases >= limit => {
                Err(NameError::Full(format!("{limit} aliases")))
            }
            _ => Ok(tx),
        }
    }

    /// Creates a tag unless the name is used by a tag or alias or the guild has `limit` tags.
    pub async fn create_tag(
        &self,
        guild: u64,
        name: &str,
        content: &str,
        creator: u64,
        limit: i64,
    ) -> Result<(), NameError> {
        let mut tx = self.reserve_name(guild, name, Owner::Tag, limit).await?;
        let now = now_ms();
        sqlx::query(
            "INSERT INTO tags (guild_id, name, content, creator_id, created_at, updated_at, uses) \
             VALUES ($1, $2, $3, $4, $5, $5, 0)",
        )
        .bind(db_id(guild))
        .bind(name)
        .bind(content)
        .bind(db_id(creator))
        .bind(now)
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn tag(&self, guild: u64, name: &str) -> Result<Option<Tag>, StoreError> {
        let row = sqlx::query(
            "SELECT name, content, creator_id, created_at, updated_at, uses FROM tags \
             WHERE guild_id = $1 AND name = $2",
        )
        .bind(db_id(guild))
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(tag_from_row).transpose()?)
    }

    /// Replaces a tag's content; false if there is no such tag.
    pub async fn edit_tag(
        &self,
        guild: u64,
        name: &str,
        content: &str,
    ) -> Result<bool, StoreError> {
        let done = sqlx::query(
            "UPDATE tags SET content = $3, updated_at = $4 WHERE guild_id = $1 AND name = $2",
        )
        .bind(db_id(guild))
        .bind(name)
        .bind(content)
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(done.rows_affected() == 1)
    }

    pub async fn delete_tag(&self, guild: u64, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM tags WHERE guild_id = $1 AND name = $2")
            .bind(db_id(guild))
            .bind(name)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// All tags of a guild by name.
    pub async fn tags(&self, guild: u64) -> Result<Vec<Tag>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, content, creator_id, created_at, updated_at, uses FROM tags \
             WHERE guild_id = $1 ORDER BY name",
        )
        .bind(db_id(guild))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(tag_from_row).collect::<Result<_, _>>()?)
    }

    /// Counts one use of a tag. An increment in SQL, so concurrent uses are never lost.
    pub async fn count_tag_use(&self, guild: u64, name: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE tags SET uses = uses + 1 WHERE guild_id = $1 AND name = $2")
            .bind(db_id(guild))
            .bind(name)
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Creates an alias unless the name is used by a tag or alias or the guild has `limit`.
    pub async fn create_alias(
        &self,
        guild: u64,
        name: &str,
        expansion: &str,
        creator: u64,
        limit: i64,
    ) -> Result<(), NameError> {
        let mut tx = self.reserve_name(guild, name, Owner::Alias, limit).await?;
        sqlx::query(
            "INSERT INTO aliases (guild_id, name, expansion, creator_id, created_at) \
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(db_id(guild))
        .bind(name)
        .bind(expansion)
        .bind(db_id(creator))
        .bind(now_ms())
        .execute(&mut *tx)
        .await?;
        tx.commit().await?;
        Ok(())
    }

    pub async fn alias(&self, guild: u64, name: &str) -> Result<Option<Alias>, StoreError> {
        let row = sqlx::query(
            "SELECT name, expansion, creator_id, created_at FROM aliases \
             WHERE guild_id = $1 AND name = $2",
        )
        .bind(db_id(guild))
        .bind(name)
        .fetch_optional(self.pool())
        .await?;
        Ok(row.as_ref().map(alias_from_row).transpose()?)
    }

    pub async fn delete_alias(&self, guild: u64, name: &str) -> Result<bool, StoreError> {
        let done = sqlx::query("DELETE FROM aliases WHERE guild_id = $1 AND name = $2")
            .bind(db_id(guild))
            .bind(name)
            .execute(self.pool())
            .await?;
        Ok(done.rows_affected() == 1)
    }

    /// All aliases of a guild by name (a guild has at most a hundred, so resolving a chain
    /// loads them once).
    pub async fn aliases(&self, guild: u64) -> Result<Vec<Alias>, StoreError> {
        let rows = sqlx::query(
            "SELECT name, expansion, creator_id, created_at FROM aliases \
             WHERE guild_id = $1 ORDER BY name",
        )
        .bind(db_id(guild))
        .fetch_all(self.pool())
        .await?;
        Ok(rows.iter().map(alias_from_row).collect::<Result<_, _>>()?)
    }
}
