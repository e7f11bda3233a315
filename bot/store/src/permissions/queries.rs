//! Permission rules per guild.

use sqlx::Row;

use super::{Rule, Subject, TargetKind};
use crate::{Store, StoreError, db_id, now_ms};

impl Store {
    /// All of a guild's rules (a guild has few; the resolver filters).
    pub async fn permission_rules(&self, guild: u64) -> Result<Vec<Rule>, StoreError> {
        let rows = sqlx::query(
            "SELECT target_kind, target, subject_kind, subject_id, allow FROM permission_rules \
             WHERE guild_id = $1 ORDER BY target_kind, target, subject_kind, subject_id",
        )
        .bind(db_id(guild))
        .fetch_all(self.pool())
        .await?;
        let mut rules = Vec::with_capacity(rows.len());
        for row in rows {
            let kind: String = row.try_get(0)?;
            let subject_kind: String = row.try_get(2)?;
            let subject_id: i64 = row.try_get(3)?;
            let (Some(target_kind), Some(subject)) = (
                TargetKind::parse(&kind),
                Subject::from_parts(&subject_kind, subject_id as u64),
            ) else {
                continue; // the CHECK constraints make this unreachable
            };
            rules.push(Rule {
                target_kind,
                target: row.try_get(1)?,
                subject,
                allow: row.try_get::<i64, _>(4)? != 0,
            });
        }
        Ok(rules)
    }

    /// Adds or replaces the rule for this target and subject.
    pub async fn set_permission_rule(
        &self,
        guild: u64,
        rule: &Rule,
        by: u64,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO permission_rules \
             (guild_id, target_kind, target, subject_kind, subject_id, allow, created_by, created_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) \
             ON CONFLICT (guild_id, target_kind, target, subject_kind, subject_id) \
             DO UPDATE SET allow = excluded.allow, created_by = excluded.created_by, created_at = excluded.created_at",
        )
        .bind(db_id(guild))
        .bind(rule.target_kind.as_str())
        .bind(&rule.target)
        .bind(rule.subject.kind())
        .bind(db_id(rule.subject.id()))
        .bind(i64::from(rule.allow))
        .bind(db_id(by))
        .bind(now_ms())
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Removes the rules for a target: one subject's, or all of them. Returns how many went.
    pub async fn reset_permission_rules(
        &self,
        guild: u64,
        kind: TargetKind,
        target: &str,
        subject: Option<Subject>,
    ) -> Result<u64, StoreError> {
        let result = match subject {
            Some(s) => {
                sqlx::query(
                    "DELETE FROM permission_rules WHERE guild_id = $1 AND target_kind = $2 AND target = $3 \
                     AND subject_kind = $4 AND subject_id = $5",
                )
                .bind(db_id(guild))
                .bind(kind.as_str())
                .bind(target)
                .bind(s.kind())
                .bind(db_id(s.id()))
                .execute(self.pool())
                .await?
            }
            None => {
                sqlx::query("DELETE FROM permission_rules WHERE guild_id = $1 AND target_kind = $2 AND target = $3")
                    .bind(db_id(guild))
                    .bind(kind.as_str())
                    .bind(target)
                    .execute(self.pool())
                    .await?
            }
        };
        Ok(result.rows_affected())
    }
}
