//! `/osrs bank`, `/osrs equip`, `/osrs unequip` and `/osrs gear`: what a character owns and
//! wears.

use std::fmt::Write as _;

use lounge_osrs::data;
use poise::serenity_prelude as serenity;

use crate::{ensure_free, messages, own_character, rules, someones_character};
use lounge_kit::user_error;
use lounge_kit::{Context, Error, bail_user, ui};
use lounge_store::OsrsStoreError;

#[derive(Clone, Copy, Debug, poise::ChoiceParameter)]
pub enum BankSort {
    #[name = "value"]
    Value,
    #[name = "quantity"]
    Quantity,
    #[name = "name"]
    Name,
}

const BANK_PAGE: usize = 20;

/// Show your bank with its value, sorted and filtered as you like
#[poise::command(slash_command, prefix_command)]
pub async fn bank(
    ctx: Context<'_>,
    #[description = "Sort by value (default), quantity or name"] sort: Option<BankSort>,
    #[description = "Only items whose name contains this"]
    #[rest]
    search: Option<String>,
) -> Result<(), Error> {
    let ch = own_character(ctx).await?;
    let data = data();
    let bank = ctx.data().store.osrs_bank(ch.user_id).await?;
    if bank.is_empty() {
        bail_user!("{}", messages::EMPTY_BANK);
    }
    let search = search.map(|s| s.trim().to_lowercase());
    let mut rows: Vec<(String, u64, u64)> = bank
        .iter()
        .filter_map(|(id, qty)| {
            let item = data.item(id)?;
            Some((item.name.clone(), qty, item.price.saturating_mul(qty)))
        })
        .filter(|(name, ..)| {
            search
                .as_deref()
                .is_none_or(|s| name.to_lowercase().contains(s))
        })
        .collect();
    if rows.is_empty() {
        bail_user!("{}", messages::NOTHING_MATCHES);
    }
    match sort.unwrap_or(BankSort::Value) {
        BankSort::Value => rows.sort_by(|a, b| b.2.cmp(&a.2).then_with(|| a.0.cmp(&b.0))),
        BankSort::Quantity => rows.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0))),
        BankSort::Name => rows.sort_by(|a, b| a.0.cmp(&b.0)),
    }
    let total: u64 = rows.iter().map(|r| r.2).fold(0, u64::saturating_add);
    let pages = rows
        .chunks(BANK_PAGE)
        .map(|chunk| {
            let lines: Vec<String> = chunk
                .iter()
                .map(|(name, qty, value)| {
                    format!(
                        "{} × **{name}** — {} gp",
                        messages::number(*qty),
                        messages::number(*value)
                    )
                })
                .collect();
            serenity::CreateEmbed::new()
                .title(format!("{}'s bank", ch.name))
                .description(lines.join("\n"))
                .footer(serenity::CreateEmbedFooter::new(format!(
                    "{} items · worth {} gp",
                    rows.len(),
                    messages::number(total)
                )))
        })
        .collect();
    ui::paginate(ctx, pages).await
}

/// Wear an item from your bank
#[poise::command(slash_command, prefix_command)]
pub async fn equip(
    ctx: Context<'_>,
    #[description = "The item to wear"]
    #[autocomplete = "autocomplete_wearable"]
    #[rest]
    item: String,
) -> Result<(), Error> {
    let ch = own_character(ctx).await?;
    ensure_free(ctx, &ch, messages::busy).await?;
    let data = data();
    let found = data
        .item_by_name(&item)
        .map_err(|e| user_error(messages::engine_error(&e)))?;
    let Some(equip) = &found.equip else {
        bail_user!("{} can't be worn.", found.name);
    };
    let store = &ctx.data().store;
    let missing: Vec<String> = equip
        .req
        .iter()
        .filter(|(skill, level)| ch.skills.level(*skill) < *level)
        .map(|(skill, level)| format!("{} {level}", rules::title(skill.name())))
        .collect();
    if !missing.is_empty() {
        bail_user!("You need {} to wear {}.", missing.join(", "), found.name);
    }
    let (slot, clears) = rules::slot_key(equip.slot);
    let mut also: Vec<&str> = clears.to_vec();
    // A shield can't go beside a two-handed weapon.
    if slot == "shield" {
        let worn = store.osrs_equipment(ch.user_id).await?;
        let two_handed = worn.iter().any(|(s, id)| {
            s == "weapon"
                && data
                    .item(*id)
                    .and_then(|i| i.equip.as_ref())
                    .is_some_and(|e| e.slot == lounge_osrs::Slot::TwoHanded)
        });
        if two_handed {
            also.push("weapon");
        }
    }
    let removed = match store.osrs_equip(ch.user_id, found.id, slot, &also).await {
        Ok(removed) => removed,
        Err(OsrsStoreError::MissingItem { .. }) => {
            bail_user!("{}", messages::not_in_bank(&found.name))
        }
        Err(e) => return Err(e.into()),
    };
    let mut reply = format!("You put on your {}.", found.name);
    if !removed.is_empty() {
        let names: Vec<&str> = removed
            .iter()
            .filter_map(|id| data.item(*id).map(|i| i.name.as_str()))
            .collect();
        let _ = write!(reply, " Back to the bank: {}.", names.join(", "));
    }
    lounge_kit::say(ctx, reply).await?;
    Ok(())
}

/// Take off a worn item and put it in your bank
#[poise::command(slash_command, prefix_command)]
pub async fn unequip(
    ctx: Context<'_>,
    #[description = "The worn item to take off"]
    #[autocomplete = "autocomplete_worn"]
    #[rest]
    item: String,
) -> Result<(), Error> {
    let ch = own_character(ctx).await?;
    ensure_free(ctx, &ch, messages::busy).await?;
    let data = data();
    let store = &ctx.data().store;
    let worn = store.osrs_equipment(ch.user_id).await?;
    let wanted = item.trim();
    let Some((slot, id)) = worn.iter().find(|(slot, id)| {
        slot.eq_ignore_ascii_case(wanted)
            || data
                .item(*id)
                .is_some_and(|i| i.name.eq_ignore_ascii_case(wanted))
    }) else {
        bail_user!("{}", messages::not_worn(wanted));
    };
    store.osrs_unequip(ch.user_id, slot).await?;
    let name = data.item(*id).map_or("item", |i| i.name.as_str());
    lounge_kit::say(ctx, format!("You took off your {name}; it's in your bank.")).await?;
    Ok(())
}

/// Show what a character wears and the bonuses it adds up to
#[poise::command(slash_command, prefix_command)]
pub async fn gear(
    ctx: Context<'_>,
    #[description = "Whose gear (default: yours)"] user: Option<serenity::User>,
) -> Result<(), Error> {
    let ch = someones_character(ctx, user.as_ref()).await?;
    let data = data();
    let worn = ctx.data().store.osrs_equipment(ch.user_id).await?;
    let mut totals = [0i32; 14];
    let mut lines = Vec::new();
    for slot in rules::SLOT_ORDER {
        let item = worn
            .iter()
            .find(|(s, _)| s == slot)
            .and_then(|(_, id)| data.item(*id));
        if let Some(e) = item.and_then(|i| i.equip.as_ref()) {
            for (t, v) in totals.iter_mut().zip(e.stats) {
                *t += v;
            }
        }
        lines.push(format!(
            "{}: {}",
            rules::title(slot),
            item.map_or("—", |i| i.name.as_str())
        ));
    }
    let [
        stab,
        slash,
        crush,
        magic,
        ranged,
        dstab,
        dslash,
        dcrush,
        dmagic,
        dranged,
        str_,
        rstr,
        mdmg,
        prayer,
    ] = totals;
    let embed = serenity::CreateEmbed::new()
        .title(format!("{}'s gear", ch.name))
        .description(lines.join("\n"))
        .field(
            "Attack",
            format!("Stab {stab:+} · Slash {slash:+} · Crush {crush:+}\nMagic {magic:+} · Ranged {ranged:+}"),
            false,
        )
        .field(
            "Defence",
            format!("Stab {dstab:+} · Slash {dslash:+} · Crush {dcrush:+}\nMagic {dmagic:+} · Ranged {dranged:+}"),
            false,
        )
        .field(
            "Other",
            format!("Melee strength {str_:+} · Ranged strength {rstr:+} · Magic damage {mdmg:+}% · Prayer {prayer:+}"),
            false,
        );
    ctx.send(poise::CreateReply::default().embed(embed)).await?;
    Ok(())
}

async fn autocomplete_wearable(
    ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let data = data();
    let bank = ctx
        .data()
        .store
        .osrs_bank(ctx.author().id.get())
        .await
        .unwrap_or_default();
    let names: Vec<&str> = bank
        .iter()
        .filter_map(|(id, _)| data.item(id))
        .filter(|i| i.equip.is_some())
        .map(|i| i.name.as_str())
        .collect();
    ui::autocomplete(names, partial)
}

async fn autocomplete_worn(
    ctx: Context<'_>,
    partial: &str,
) -> serenity::CreateAutocompleteResponse {
    let data = data();
    let worn = ctx
        .data()
        .store
        .osrs_equipment(ctx.author().id.get())
        .await
        .unwrap_or_default();
    let names: Vec<&str> = worn
        .iter()
        .filter_map(|(_, id)| data.item(*id))
        .map(|i| i.name.as_str())
        .collect();
    ui::autocomplete(names, partial)
}
