//! The bank and worn gear. Items move between them only by conditional updates, so an item is
//! never in both places or in neither.

use lounge_osrs::Bank;
use sqlx::Row;

use super::{OsrsStoreError, Tx};
use crate::{Store, StoreError, db_id};

impl Store {
    pub async fn osrs_bank(&self, user: u64) -> Result<Bank, StoreError> {
        let rows = sqlx::query("SELECT item_id, qty FROM osrs_bank WHERE user_id = $1 AND qty > 0")
            .bind(db_id(user))
            .fetch_all(self.pool())
            .await?;
        let mut bank = Bank::new();
        for r in rows {
            let (item, qty): (i64, i64) = (r.try_get(0)?, r.try_get(1)?);
            bank.add(item as u32, qty as u64);
        }
        Ok(bank)
    }

    /// Worn items as (slot, item id), by slot name.
    pub async fn osrs_equipment(&self, user: u64) -> Result<Vec<(String, u32)>, StoreError> {
        let rows = sqlx::query(
            "SELECT slot, item_id FROM osrs_equipment WHERE user_id = $1 ORDER BY slot",
        )
        .bind(db_id(user))
        .fetch_all(self.pool())
        .await?;
        rows.iter()
            .map(|r| Ok((r.try_get(0)?, r.try_get::<i64, _>(1)? as u32)))
            .collect()
    }

    /// Moves one `item` from the bank into `slot`, first returning whatever is worn in `slot`
    /// and in each of `also_clear` to the bank. Returns the items taken off.
    pub async fn osrs_equip(
        &self,
        user: u64,
        item: u32,
        slot: &str,
        also_clear: &[&str],
    ) -> Result<Vec<u32>, OsrsStoreError> {
        let mut tx = self.begin_write().await?;
        debit_item(&mut tx, user, item, 1).await?;
        let mut removed = Vec::new();
        for clear in std::iter::once(slot).chain(also_clear.iter().copied()) {
            if let Some(old) = take_off(&mut tx, user, clear).await? {
                removed.push(old);
            }
        }
        sqlx::query("INSERT INTO osrs_equipment (user_id, slot, item_id) VALUES ($1, $2, $3)")
            .bind(db_id(user))
            .bind(slot)
            .bind(i64::from(item))
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(removed)
    }

    /// Returns the item worn in `slot` to the bank.
    pub async fn osrs_unequip(&self, user: u64, slot: &str) -> Result<Option<u32>, OsrsStoreError> {
        let mut tx = self.begin_write().await?;
        let removed = take_off(&mut tx, user, slot).await?;
        tx.commit().await?;
        Ok(removed)
    }
}

pub(super) async fn credit_item(
    tx: &mut Tx,
    user: u64,
    item: u32,
    qty: u64,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO osrs_bank (user_id, item_id, qty) VALUES ($1, $2, $3) \
         ON CONFLICT (user_id, item_id) DO UPDATE SET qty = osrs_bank.qty + excluded.qty",
    )
    .bind(db_id(user))
    .bind(i64::from(item))
    .bind(qty as i64)
    .execute(&mut **tx)
    .await?;
    Ok(())
}

/// Takes `qty` of `item` only if the bank holds that many.
pub(super) async fn debit_item(
    tx: &mut Tx,
    user: u64,
    item: u32,
    qty: u64,
) -> Result<(), OsrsStoreError> {
    let row = sqlx::query(
        "UPDATE osrs_bank SET qty = qty - $1 WHERE user_id = $2 AND item_id = $3 AND qty >= $1 \
         RETURNING qty",
    )
    .bind(qty as i64)
    .bind(db_id(user))
    .bind(i64::from(item))
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else {
        let have = sqlx::query("SELECT qty FROM osrs_bank WHERE user_id = $1 AND item_id = $2")
            .bind(db_id(user))
            .bind(i64::from(item))
            .fetch_optional(&mut **tx)
            .await?
            .map(|r| r.try_get::<i64, _>(0))
            .transpose()?
            .unwrap_or(0);
        return Err(OsrsStoreError::MissingItem {
            item,
            needed: qty,
            have: have as u64,
        });
    };
    // An emptied slot leaves the bank, so listings never show "0 ×".
    if row.try_get::<i64, _>(0)? == 0 {
        sqlx::query("DELETE FROM osrs_bank WHERE user_id = $1 AND item_id = $2 AND qty = 0")
            .bind(db_id(user))
            .bind(i64::from(item))
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

async fn take_off(tx: &mut Tx, user: u64, slot: &str) -> Result<Option<u32>, sqlx::Error> {
    let row = sqlx::query(
        "DELETE FROM osrs_equipment WHERE user_id = $1 AND slot = $2 RETURNING item_id",
    )
    .bind(db_id(user))
    .bind(slot)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = row else { return Ok(None) };
    let item = row.try_get::<i64, _>(0)? as u32;
    credit_item(tx, user, item, 1).await?;
    Ok(Some(item))
}
