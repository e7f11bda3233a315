//! The world the fake Discord serves: one bot application, one guild with a few members,
//! roles and channels. Shapes follow Discord's API reference (v10).

use serde_json::{Value, json};

/// The bot user's id; the token's first part is its base64.
pub const BOT_ID: u64 = 1_000_000_000_000_000_001;
pub const APPLICATION_ID: u64 = BOT_ID;
/// A well-formed token the fake accepts: base64("1000000000000000001").timestamp.hmac.
pub const TOKEN: &str =
    "MTAwMDAwMDAwMDAwMDAwMDAwMQ.GfAkEx.fake-hmac-part-used-only-by-lounge-tests";
/// Well-formed but not one the fake knows: the "wrong token" case.
pub const WRONG_TOKEN: &str = "MTAwMDAwMDAwMDAwMDAwMDAwMQ.GfAkEx.this-token-was-reset-long-ago";

pub const GUILD_ID: u64 = 2_000_000_000_000_000_001;
pub const OTHER_GUILD_ID: u64 = 2_000_000_000_000_000_002;
pub const OWNER_ID: u64 = 3_000_000_000_000_000_001;
pub const MEMBER_ID: u64 = 3_000_000_000_000_000_002;
/// The developer team an application can belong to (see [`application`]).
pub const TEAM_ID: u64 = 9_000_000_000_000_000_001;
pub const MOD_ID: u64 = 3_000_000_000_000_000_003;
/// Holds the top role, above the bot's: neither the moderator nor the bot can act on them.
pub const ADMIN_ID: u64 = 3_000_000_000_000_000_004;
/// The server owner's second account, which the streamer logs in as for Go Live: a user, not
/// a bot, and a member of [`GUILD_ID`].
pub const STREAMER_USER_ID: u64 = 3_000_000_000_000_000_005;
/// The streamer account's user token: base64("3000000000000000005").timestamp.hmac, sent
/// without a `Bot ` prefix.
pub const STREAMER_USER_TOKEN: &str =
    "MzAwMDAwMDAwMDAwMDAwMDAwNQ.GfAkEz.fake-user-hmac-used-only-by-lounge-tests";
/// A second plain member (Member role only), for votes that need more than one of them.
pub const LISTENER_ID: u64 = 3_000_000_000_000_000_006;
pub const GENERAL_CHANNEL_ID: u64 = 4_000_000_000_000_000_001;
pub const OTHER_CHANNEL_ID: u64 = 4_000_000_000_000_000_002;
pub const VOICE_CHANNEL_ID: u64 = 4_000_000_000_000_000_003;
/// A voice channel whose permission overwrite denies the streamer account CONNECT.
pub const DENIED_VOICE_CHANNEL_ID: u64 = 4_000_000_000_000_000_004;
/// The only text channel of the other guild.
pub const OTHER_GUILD_CHANNEL_ID: u64 = 4_000_000_000_000_000_102;
/// A group DM the streamer's account is in, where it can join the call and go live.
pub const GROUP_DM_CHANNEL_ID: u64 = 4_000_000_000_000_000_201;
/// A DM between two other people: the streamer's account can't join its call.
pub const STRANGERS_DM_CHANNEL_ID: u64 = 4_000_000_000_000_000_202;
pub const MOD_ROLE_ID: u64 = 5_000_000_000_000_000_001;
pub const MEMBER_ROLE_ID: u64 = 5_000_000_000_000_000_002;
/// The bot's own (integration) role, above Moderator and below Admin.
pub const BOT_ROLE_ID: u64 = 5_000_000_000_000_000_003;
pub const ADMIN_ROLE_ID: u64 = 5_000_000_000_000_000_004;

/// Permission bits the voice fakes check.
pub const VIEW_CHANNEL: u64 = 1 << 10;
pub const CONNECT: u64 = 1 << 20;
/// "Video": starting a Go Live stream.
pub const STREAM: u64 = 1 << 9;

/// Application flags: the Message Content intent, approved (verified bots) or switched on
/// below 100 servers.
pub const GATEWAY_MESSAGE_CONTENT: u64 = 1 << 18;
pub const GATEWAY_MESSAGE_CONTENT_LIMITED: u64 = 1 << 19;
pub const TIMESTAMP: &str = "2026-11-24T10:00:00.000000+00:00";

pub fn user(id: u64, name: &str, bot: bool) -> Value {
    json!({
        "id": id.to_string(),
        "username": name,
        "discriminator": "0",
        "global_name": name,
        "avatar": null,
        "bot": bot,
        "public_flags": 0,
    })
}

pub fn bot_user() -> Value {
    let mut u = user(BOT_ID, "Lounge", true);
    u["verified"] = json!(true);
    u["mfa_enabled"] = json!(false);
    u["flags"] = json!(0);
    u
}

/// The streamer account as its own READY describes it.
pub fn streamer_user() -> Value {
    let mut u = user(STREAMER_USER_ID, "streamer", false);
    u["verified"] = json!(true);
    u["mfa_enabled"] = json!(false);
    u["flags"] = json!(0);
    u["email"] = json!(null);
    u["premium_type"] = json!(0);
    u
}

/// Any user the fixture knows, as `GET /users/{id}` returns it.
pub fn known_user(id: u64) -> Option<Value> {
    if id == BOT_ID {
        return Some(bot_user());
    }
    let (id, name, _) = members_of(GUILD_ID)
        .into_iter()
        .find(|(m, _, _)| *m == id)?;
    Some(user(id, name, false))
}

/// Name and role ids of the fixture's guild members.
pub fn members_of(guild: u64) -> Vec<(u64, &'static str, Vec<u64>)> {
    if guild == GUILD_ID {
        vec![
            (OWNER_ID, "owner", vec![]),
            (MEMBER_ID, "member", vec![MEMBER_ROLE_ID]),
            (MOD_ID, "moderator", vec![MOD_ROLE_ID, MEMBER_ROLE_ID]),
            (ADMIN_ID, "admin", vec![ADMIN_ROLE_ID, MEMBER_ROLE_ID]),
            (BOT_ID, "Lounge", vec![BOT_ROLE_ID]),
            (STREAMER_USER_ID, "streamer", vec![MEMBER_ROLE_ID]),
            (LISTENER_ID, "listener", vec![MEMBER_ROLE_ID]),
        ]
    } else {
        vec![
            (OWNER_ID, "owner", vec![]),
            (MEMBER_ID, "member", vec![]),
            (BOT_ID, "Lounge", vec![]),
        ]
    }
}

pub fn member(guild: u64, id: u64) -> Option<Value> {
    let (id, name, roles) = members_of(guild).into_iter().find(|(m, _, _)| *m == id)?;
    Some(json!({
        "user": user(id, name, id == BOT_ID),
        "nick": null,
        "avatar": null,
        "roles": roles.iter().map(ToString::to_string).collect::<Vec<_>>(),
        "joined_at": TIMESTAMP,
        "premium_since": null,
        "deaf": false,
        "mute": false,
        "flags": 0,
        "pending": false,
    }))
}

pub fn roles(guild: u64) -> Value {
    let everyone = role(guild, "@everyone", 0, "1071698660929");
    if guild == GUILD_ID {
        json!([
            everyone,
            role(ADMIN_ROLE_ID, "Admin", 4, "8"),
            // Member permissions plus kick, ban, manage channels, manage messages and moderate members.
            role(BOT_ROLE_ID, "Lounge", 3, "2171210296919"),
            role(MOD_ROLE_ID, "Moderator", 2, "1099511627775"),
            role(MEMBER_ROLE_ID, "Member", 1, "1071698660929")
        ])
    } else {
        json!([everyone])
    }
}

/// A member's guild-wide permissions as Discord computes them for interactions: the owner and
/// administrators have all; everyone else the union of @everyone's and their roles'.
pub fn member_permissions(guild: u64, user: u64) -> u64 {
    const ALL: u64 = 2_251_799_813_685_247;
    const ADMINISTRATOR: u64 = 8;
    let Some((_, _, member_roles)) = members_of(guild).into_iter().find(|(m, _, _)| *m == user)
    else {
        return 0;
    };
    if user == OWNER_ID {
        return ALL;
    }
    let granted = roles(guild)
        .as_array()
        .into_iter()
        .flatten()
        .filter(|r| {
            let id = r["id"].as_str().and_then(|i| i.parse::<u64>().ok());
            id == Some(guild) || id.is_some_and(|id| member_roles.contains(&id))
        })
        .filter_map(|r| r["permissions"].as_str()?.parse::<u64>().ok())
        .fold(0, |acc, p| acc | p);
    if granted & ADMINISTRATOR == 0 {
        granted
    } else {
        ALL
    }
}

fn role(id: u64, name: &str, position: u32, permissions: &str) -> Value {
    json!({
        "id": id.to_string(),
        "name": name,
        "color": 0,
        "colors": {"primary_color": 0, "secondary_color": null, "tertiary_color": null},
        "hoist": false,
        "icon": null,
        "unicode_emoji": null,
        "position": position,
        "permissions": permissions,
        "managed": false,
        "mentionable": true,
        "flags": 0,
    })
}

pub fn channel(id: u64, guild: u64) -> Value {
    let (name, kind) = match id {
        GENERAL_CHANNEL_ID => ("general", 0),
        OTHER_CHANNEL_ID => ("games", 0),
        VOICE_CHANNEL_ID => ("Lounge Voice", 2),
        DENIED_VOICE_CHANNEL_ID => ("Staff Voice", 2),
        _ => ("channel", 0),
    };
    let mut c = json!({
        "id": id.to_string(),
        "type": kind,
        "guild_id": guild.to_string(),
        "position": 0,
        "permission_overwrites": permission_overwrites(id),
        "name": name,
        "nsfw": false,
        "parent_id": null,
        "rate_limit_per_user": 0,
    });
    if kind == 0 {
        c["topic"] = json!(null);
        c["last_message_id"] = json!(null);
    } else {
        c["bitrate"] = json!(64000);
        c["user_limit"] = json!(0);
        c["rtc_region"] = json!(null);
    }
    c
}

pub fn channels(guild: u64) -> Vec<Value> {
    if guild == GUILD_ID {
        vec![
            channel(GENERAL_CHANNEL_ID, guild),
            channel(OTHER_CHANNEL_ID, guild),
            channel(VOICE_CHANNEL_ID, guild),
            channel(DENIED_VOICE_CHANNEL_ID, guild),
        ]
    } else {
        vec![channel(OTHER_GUILD_CHANNEL_ID, guild)]
    }
}

/// A channel's overwrites: the staff voice channel keeps the streamer account and the plain
/// member out (the owner, with every permission, may still connect).
fn permission_overwrites(channel: u64) -> Value {
    if channel == DENIED_VOICE_CHANNEL_ID {
        json!([{
            "id": STREAMER_USER_ID.to_string(),
            "type": 1,
            "allow": "0",
            "deny": CONNECT.to_string(),
        }, {
            "id": MEMBER_ID.to_string(),
            "type": 1,
            "allow": "0",
            "deny": CONNECT.to_string(),
        }])
    } else {
        json!([])
    }
}

/// A member's permissions in a channel: guild permissions, then the channel's overwrites for
/// @everyone, the member's roles and the member, in Discord's order.
pub fn channel_permissions(guild: u64, channel: u64, user: u64) -> u64 {
    const ADMINISTRATOR: u64 = 8;
    if guild_of_channel(&[guild], channel) != Some(guild) {
        return 0;
    }
    let mut perms = member_permissions(guild, user);
    if perms & ADMINISTRATOR != 0 {
        return perms;
    }
    let roles: Vec<u64> = members_of(guild)
        .into_iter()
        .find(|(m, _, _)| *m == user)
        .map(|(_, _, r)| r)
        .unwrap_or_default();
    let overwrites = permission_overwrites(channel);
    let bits =
        |o: &Value, key: &str| -> u64 { o[key].as_str().and_then(|s| s.parse().ok()).unwrap_or(0) };
    let id_of = |o: &Value| o["id"].as_str().and_then(|s| s.parse::<u64>().ok());
    let list = overwrites.as_array().cloned().unwrap_or_default();
    for o in list.iter().filter(|o| id_of(o) == Some(guild)) {
        perms = (perms & !bits(o, "deny")) | bits(o, "allow");
    }
    let (mut allow, mut deny) = (0, 0);
    for o in list
        .iter()
        .filter(|o| o["type"] == 0 && id_of(o).is_some_and(|id| roles.contains(&id)))
    {
        allow |= bits(o, "allow");
        deny |= bits(o, "deny");
    }
    perms = (perms & !deny) | allow;
    for o in list
        .iter()
        .filter(|o| o["type"] == 1 && id_of(o) == Some(user))
    {
        perms = (perms & !bits(o, "deny")) | bits(o, "allow");
    }
    perms
}

/// The guild object as REST returns it (no members/channels).
pub fn guild(id: u64) -> Value {
    json!({
        "id": id.to_string(),
        "name": if id == GUILD_ID { "Lounge Test" } else { "Other Test" },
        "icon": null,
        "splash": null,
        "discovery_splash": null,
        "owner_id": OWNER_ID.to_string(),
        "afk_channel_id": null,
        "afk_timeout": 300,
        "verification_level": 0,
        "default_message_notifications": 0,
        "explicit_content_filter": 0,
        "roles": roles(id),
        "emojis": [],
        "features": [],
        "mfa_level": 0,
        "application_id": null,
        "system_channel_id": null,
        "system_channel_flags": 0,
        "rules_channel_id": null,
        "vanity_url_code": null,
        "description": null,
        "banner": null,
        "premium_tier": 0,
        "premium_subscription_count": 0,
        "preferred_locale": "en-US",
        "public_updates_channel_id": null,
        "nsfw_level": 0,
        "stickers": [],
        "premium_progress_bar_enabled": false,
        "safety_alerts_channel_id": null,
    })
}

/// `GUILD_CREATE`'s payload: the guild plus the gateway-only fields.
pub fn guild_create(id: u64) -> Value {
    let mut g = guild(id);
    let members: Vec<Value> = members_of(id)
        .iter()
        .filter_map(|(m, _, _)| member(id, *m))
        .collect();
    g["joined_at"] = json!(TIMESTAMP);
    g["large"] = json!(false);
    g["unavailable"] = json!(false);
    g["member_count"] = json!(members.len());
    g["voice_states"] = json!([]);
    g["members"] = json!(members);
    g["channels"] = json!(channels(id));
    g["threads"] = json!([]);
    g["presences"] = json!([]);
    g["stage_instances"] = json!([]);
    g["guild_scheduled_events"] = json!([]);
    g["soundboard_sounds"] = json!([]);
    g
}

/// The bot's application, owned by [`OWNER_ID`]; with `team_developer`, the application
/// belongs to a team that [`OWNER_ID`] owns and where that user is a developer (poise's
/// default would make every such developer a bot owner).
pub fn application(team_developer: Option<u64>) -> Value {
    let team = team_developer.map(|developer| {
        let member = |id: u64, name: &str, role: &str| {
            json!({
                "membership_state": 2,
                // Gone from Discord's docs but still required by serenity's model.
                "permissions": ["*"],
                "team_id": TEAM_ID.to_string(),
                "user": user(id, name, false),
                "role": role,
            })
        };
        json!({
            "icon": null,
            "id": TEAM_ID.to_string(),
            "name": "Lounge team",
            "owner_user_id": OWNER_ID.to_string(),
            "members": [member(OWNER_ID, "owner", "admin"), member(developer, "developer", "developer")],
        })
    });
    // A team application's `owner` is the team's pseudo-user, not a person.
    let owner = match &team {
        Some(_) => {
            json!({"id": TEAM_ID.to_string(), "username": format!("team{TEAM_ID}"), "discriminator": "0000", "avatar": null, "public_flags": 1024, "flags": 1024, "global_name": null})
        }
        None => user(OWNER_ID, "owner", false),
    };
    json!({
        "id": APPLICATION_ID.to_string(),
        "name": "Lounge",
        "icon": null,
        "description": "Lounge test application",
        "bot_public": true,
        "bot_require_code_grant": false,
        "owner": owner,
        "verify_key": "0000000000000000000000000000000000000000000000000000000000000000",
        "team": team,
        // The Message Content intent switched on, as a bot below 100 servers has it
        // (GATEWAY_MESSAGE_CONTENT_LIMITED); see [`crate::discord::Options::message_content`].
        "flags": GATEWAY_MESSAGE_CONTENT_LIMITED,
        "bot": bot_user(),
    })
}

/// An `INTERACTION_CREATE` payload: `kind` 2 is a slash command, 3 a component press.
pub fn interaction(
    id: u64,
    token: &str,
    guild: u64,
    channel: u64,
    user: u64,
    kind: u8,
    data: Value,
) -> Value {
    let mut member =
        member(guild, user).unwrap_or_else(|| panic!("user {user} not in guild {guild}"));
    member["permissions"] = json!(member_permissions(guild, user).to_string());
    json!({
        "id": id.to_string(),
        "application_id": APPLICATION_ID.to_string(),
        "type": kind,
        "data": data,
        "guild_id": guild.to_string(),
        "guild": {"id": guild.to_string(), "locale": "en-US", "features": []},
        "channel_id": channel.to_string(),
        "channel": self::channel(channel, guild),
        "member": member,
        "token": token,
        "version": 1,
        "app_permissions": "2251799813685247",
        "locale": "en-US",
        "guild_locale": "en-US",
        "entitlements": [],
        "authorizing_integration_owners": {"0": guild.to_string()},
        "context": 0,
        "attachment_size_limit": 10_485_760,
    })
}

/// The guild a fixture channel belongs to, among `guilds`.
pub fn guild_of_channel(guilds: &[u64], channel: u64) -> Option<u64> {
    let id = channel.to_string();
    guilds.iter().copied().find(|g| {
        channels(*g)
            .iter()
            .any(|c| c["id"].as_str() == Some(id.as_str()))
    })
}

/// A message object as Discord sends it. `body` supplies what the sender chose (content,
/// embeds, components, flags); `kind` is 0 for a plain message, 20 for an interaction reply.
pub fn message(
    id: u64,
    channel: u64,
    guild: Option<u64>,
    author: Value,
    body: &Value,
    kind: u8,
) -> Value {
    let mut msg = json!({
        "id": id.to_string(),
        "channel_id": channel.to_string(),
        "author": author,
        "content": body.get("content").cloned().unwrap_or(json!("")),
        "timestamp": TIMESTAMP,
        "edited_timestamp": null,
        "tts": false,
        "mention_everyone": false,
        "mentions": [],
        "mention_roles": [],
        "attachments": body.get("attachments").cloned().unwrap_or(json!([])),
        "embeds": body.get("embeds").cloned().unwrap_or(json!([])),
        "components": body.get("components").cloned().unwrap_or(json!([])),
        "pinned": false,
        "type": kind,
        "flags": body.get("flags").cloned().unwrap_or(json!(0)),
    });
    if let Some(g) = guild {
        msg["guild_id"] = json!(g.to_string());
    }
    if let Some(nonce) = body.get("nonce") {
        msg["nonce"] = nonce.clone();
    }
    msg
}

/// A guild soundboard sound's id in the fixture (`GUILD_ID`'s "lounge-bell").
pub const GUILD_SOUND_ID: u64 = 6_000_000_000_000_000_001;

/// Discord's default soundboard sounds (two of them), as `GET /soundboard-default-sounds`.
pub fn default_sounds() -> Value {
    json!([
        {"sound_id": "1", "name": "quack", "volume": 1.0, "emoji_id": null, "emoji_name": "🦆", "available": true},
        {"sound_id": "2", "name": "airhorn", "volume": 1.0, "emoji_id": null, "emoji_name": "📯", "available": true},
    ])
}

/// A guild's own soundboard sounds.
pub fn guild_sounds(guild: u64) -> Vec<Value> {
    if guild != GUILD_ID {
        return Vec::new();
    }
    vec![json!({
        "sound_id": GUILD_SOUND_ID.to_string(), "name": "lounge-bell", "volume": 0.8,
        "emoji_id": null, "emoji_name": "🔔", "guild_id": guild.to_string(), "available": true,
        "user": user(OWNER_ID, "owner", false),
    })]
}
