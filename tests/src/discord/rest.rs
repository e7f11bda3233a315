//! REST API v10. One fallback handler routes by method and path so that every request,
//! known or not, is recorded, and unknown routes are violations rather than silent 404s.

use std::sync::Arc;

use axum::body::Bytes;
use axum::http::{HeaderMap, Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};
use tokio::net::TcpListener;

use super::schema::Checker;
use super::{Recorded, Shared, fixtures};

pub(super) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let app = axum::Router::new()
        .fallback(
            move |method: Method, uri: Uri, headers: HeaderMap, body: Bytes| {
                let shared = shared.clone();
                async move { handle(&shared, &method, &uri, &headers, &body) }
            },
        )
        // axum's own 2 MB cap would refuse uploads Discord takes; the fake checks Discord's.
        .layer(axum::extract::DefaultBodyLimit::max(4 * MAX_UPLOAD));
    let _ = axum::serve(listener, app).await;
}

fn json_response(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [("content-type", "application/json")],
        body.to_string(),
    )
        .into_response()
}

fn discord_error(status: StatusCode, code: u32, message: &str) -> Response {
    json_response(status, &json!({"code": code, "message": message}))
}

fn handle(
    shared: &Shared,
    method: &Method,
    uri: &Uri,
    headers: &HeaderMap,
    body: &Bytes,
) -> Response {
    let Some(path) = uri.path().strip_prefix("/api/v10") else {
        shared.violation(format!("{method} {uri}: not under /api/v10"));
        return discord_error(StatusCode::NOT_FOUND, 0, "404: Not Found");
    };
    let path = path.to_owned();
    let content_type = headers
        .get("content-type")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let (json_bytes, files) = if content_type.starts_with("multipart/form-data") {
        match multipart(content_type, body) {
            Ok(parts) => parts,
            Err(why) => {
                shared.violation(format!("{method} {path}: bad multipart body: {why}"));
                return discord_error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body");
            }
        }
    } else {
        (body.to_vec(), Vec::new())
    };
    let body = &Bytes::from(json_bytes);
    let body: Value = if body.is_empty() {
        Value::Null
    } else {
        match serde_json::from_slice(body) {
            Ok(v) => v,
            Err(e) => {
                shared.violation(format!("{method} {path}: body is not JSON: {e}"));
                return discord_error(
                    StatusCode::BAD_REQUEST,
                    50109,
                    "The request body contains invalid JSON.",
                );
            }
        }
    };
    if let Err((status, code, why)) = check_files(&body, &files) {
        shared.violation(format!("{method} {path}: {why}"));
        return discord_error(status, code, &why);
    }
    let mut recorded = Recorded {
        method: method.to_string(),
        path: path.clone(),
        body: body.clone(),
        files: files.clone(),
        status: 200,
        audit_log_reason: headers
            .get("x-audit-log-reason")
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned),
    };
    let auth = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let response = if let Some(status) = scripted_fault(shared, method, &path) {
        (
            status,
            "upstream connect error or disconnect/reset before headers",
        )
            .into_response()
    } else if auth == format!("Bot {}", fixtures::TOKEN) {
        route(shared, method, &path, &body)
    } else {
        discord_error(StatusCode::UNAUTHORIZED, 0, "401: Unauthorized")
    };
    recorded.status = response.status().as_u16();
    shared.lock().requests.push(recorded);
    response
}

/// Discord's upload limit for a bot without boosts: 10 MiB for all files of a message.
const MAX_UPLOAD: usize = 10 * 1024 * 1024;

/// Splits a `multipart/form-data` body into its `payload_json` and its `files[n]` parts.
fn multipart(
    content_type: &str,
    body: &[u8],
) -> Result<(Vec<u8>, Vec<super::UploadedFile>), String> {
    let boundary = content_type
        .split(';')
        .find_map(|p| p.trim().strip_prefix("boundary="))
        .map(|b| b.trim_matches('"'))
        .ok_or("no boundary")?;
    let delimiter = format!("--{boundary}");
    let mut payload = None;
    let mut files = Vec::new();
    let mut rest = body;
    let find = |hay: &[u8], needle: &[u8]| hay.windows(needle.len()).position(|w| w == needle);
    let start = find(rest, delimiter.as_bytes()).ok_or("no first boundary")?;
    rest = &rest[start + delimiter.len()..];
    while !rest.starts_with(b"--") {
        rest = rest
            .strip_prefix(b"\r\n")
            .ok_or("a boundary without CRLF")?;
        let head_end = find(rest, b"\r\n\r\n").ok_or("a part without headers")?;
        let head = String::from_utf8_lossy(&rest[..head_end]).to_string();
        rest = &rest[head_end + 4..];
        let end =
            find(rest, format!("\r\n{delimiter}").as_bytes()).ok_or("an unterminated part")?;
        let data = &rest[..end];
        rest = &rest[end + 2 + delimiter.len()..];
        let disposition = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("content-disposition:"))
            .unwrap_or_default();
        let field = |name: &str| {
            disposition.split(';').find_map(|p| {
                p.trim()
                    .strip_prefix(&format!("{name}="))
                    .map(|v| v.trim_matches('"').to_owned())
            })
        };
        let part_type = head.lines().find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-type:")
                .map(|v| v.trim().to_owned())
        });
        match field("name").as_deref() {
            Some("payload_json") => payload = Some(data.to_vec()),
            Some(name) if name.starts_with("files[") => files.push(super::UploadedFile {
                field: name.to_owned(),
                filename: field("filename").ok_or("a file without a filename")?,
                content_type: part_type,
                data: data.to_vec(),
            }),
            other => return Err(format!("an unknown form field {other:?}")),
        }
    }
    Ok((payload.unwrap_or_default(), files))
}

/// What Discord checks of uploads: the size limit, every file named in `attachments` by its
/// index, and every `attachment://` URL in an embed naming an uploaded file.
fn check_files(
    body: &Value,
    files: &[super::UploadedFile],
) -> Result<(), (StatusCode, u32, String)> {
    let total: usize = files.iter().map(|f| f.data.len()).sum();
    if total > MAX_UPLOAD {
        return Err((
            StatusCode::PAYLOAD_TOO_LARGE,
            40005,
            format!("Request entity too large ({total} bytes)"),
        ));
    }
    // The message body may sit under `data` (interaction callbacks).
    let message = body.get("data").filter(|d| d.is_object()).unwrap_or(body);
    let listed: Vec<(String, String)> = message["attachments"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|a| {
            (
                a["id"].to_string().trim_matches('"').to_owned(),
                a["filename"].as_str().unwrap_or_default().to_owned(),
            )
        })
        .collect();
    for file in files {
        let index = file
            .field
            .trim_start_matches("files[")
            .trim_end_matches(']');
        if !listed.iter().any(|(id, _)| id == index) {
            return Err((
                StatusCode::BAD_REQUEST,
                50035,
                format!("{} is not listed in attachments", file.field),
            ));
        }
    }
    let names: Vec<&str> = files.iter().map(|f| f.filename.as_str()).collect();
    for embed in message["embeds"].as_array().into_iter().flatten() {
        for key in ["image", "thumbnail"] {
            if let Some(name) = embed[key]["url"]
                .as_str()
                .and_then(|u| u.strip_prefix("attachment://"))
                && !names.contains(&name)
            {
                return Err((
                    StatusCode::BAD_REQUEST,
                    50035,
                    format!("embed {key} attachment://{name} names no uploaded file"),
                ));
            }
        }
    }
    Ok(())
}

/// The status of a scripted outage this request falls into, using one of its count up.
fn scripted_fault(shared: &Shared, method: &Method, path: &str) -> Option<StatusCode> {
    let mut state = shared.lock();
    let fault = state.faults.iter_mut().find(|f| {
        f.remaining > 0 && f.method == method.as_str() && path.starts_with(&f.path_prefix)
    })?;
    fault.remaining -= 1;
    StatusCode::from_u16(fault.status).ok()
}

fn route(shared: &Shared, method: &Method, path: &str, body: &Value) -> Response {
    let segments: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    let ok = |v: Value| json_response(StatusCode::OK, &v);
    let no_content = || StatusCode::NO_CONTENT.into_response();
    match (method.as_str(), segments.as_slice()) {
        ("GET", ["gateway"]) => ok(json!({"url": shared.gateway_url})),
        ("GET", ["gateway", "bot"]) => ok(json!({
            "url": shared.gateway_url,
            "shards": 1,
            "session_start_limit": {"total": 1000, "remaining": 999, "reset_after": 14_400_000, "max_concurrency": 1},
        })),
        ("GET", ["users", "@me"]) => ok(fixtures::bot_user()),
        ("GET", ["users", user]) => match fixtures::known_user(user.parse().unwrap_or(0)) {
            Some(u) => ok(u),
            None => discord_error(StatusCode::NOT_FOUND, 10013, "Unknown User"),
        },
        ("GET", ["oauth2" | "applications", "@me"] | ["oauth2", "applications", "@me"]) => {
            ok(shared.application.clone())
        }
        ("PUT", ["applications", app, "commands"]) => overwrite_commands(shared, app, None, body),
        ("PUT", ["applications", app, "guilds", guild, "commands"]) => {
            overwrite_commands(shared, app, guild.parse().ok(), body)
        }
        ("GET", ["applications", _, "commands"]) => ok(json!(
            shared
                .lock()
                .commands
                .get(&None)
                .cloned()
                .unwrap_or_default()
        )),
        ("GET", ["applications", _, "guilds", guild, "commands"]) => {
            let guild = guild.parse().ok();
            ok(json!(
                shared
                    .lock()
                    .commands
                    .get(&guild)
                    .cloned()
                    .unwrap_or_default()
            ))
        }
        ("POST", ["channels", channel, "messages"]) => {
            let mut c = Checker::default();
            c.message_create(body);
            match check(shared, "POST message", c) {
                Some(err) => err,
                None => ok(store_message(
                    shared,
                    channel.parse().unwrap_or(0),
                    None,
                    body,
                )),
            }
        }
        ("PATCH", ["channels", _, "messages", id]) => {
            let mut c = Checker::default();
            c.message_edit(body);
            match check(shared, "PATCH message", c) {
                Some(err) => err,
                None => edit_message(shared, id.parse().unwrap_or(0), body),
            }
        }
        ("DELETE", ["channels", _, "messages", id]) => {
            shared.lock().messages.remove(&id.parse().unwrap_or(0));
            no_content()
        }
        ("POST", ["channels", _, "typing"]) => no_content(),
        (
            "PUT",
            [
                "channels",
                channel,
                "messages",
                id,
                "reactions",
                emoji,
                "@me",
            ],
        ) => add_reaction(shared, channel, id, emoji, body),
        ("PATCH", ["channels", channel]) => edit_channel(shared, channel, body),
        ("GET", ["channels", channel]) => {
            let id: u64 = channel.parse().unwrap_or(0);
            let guild = fixtures::guild_of_channel(&shared.guilds, id);
            match guild {
                Some(g) => ok(fixtures::channel(id, g)),
                None => discord_error(StatusCode::NOT_FOUND, 10003, "Unknown Channel"),
            }
        }
        ("GET", ["guilds", guild]) => match guild.parse::<u64>() {
            Ok(g) if shared.guilds.contains(&g) => ok(fixtures::guild(g)),
            _ => discord_error(StatusCode::NOT_FOUND, 10004, "Unknown Guild"),
        },
        ("GET", ["soundboard-default-sounds"]) => ok(fixtures::default_sounds()),
        ("GET", ["guilds", guild, "soundboard-sounds"]) => {
            ok(json!({"items": fixtures::guild_sounds(guild.parse().unwrap_or(0))}))
        }
        ("POST", ["channels", channel, "send-soundboard-sound"]) => {
            send_soundboard(shared, channel.parse().unwrap_or(0), body)
        }
        ("GET", ["guilds", guild, "roles"]) => ok(fixtures::roles(guild.parse().unwrap_or(0))),
        ("GET", ["guilds", guild, "channels"]) => {
            ok(json!(fixtures::channels(guild.parse().unwrap_or(0))))
        }
        ("GET", ["guilds", guild, "members", user]) => {
            match fixtures::member(guild.parse().unwrap_or(0), user.parse().unwrap_or(0)) {
                Some(m) => ok(m),
                None => discord_error(StatusCode::NOT_FOUND, 10007, "Unknown Member"),
            }
        }
        ("PATCH", ["guilds", guild, "members", user]) => {
            let mut c = Checker::default();
            c.member_edit(body);
            if let Some(err) = check(shared, "member edit", c) {
                return err;
            }
            match fixtures::member(guild.parse().unwrap_or(0), user.parse().unwrap_or(0)) {
                Some(mut m) => {
                    m["communication_disabled_until"] = body
                        .get("communication_disabled_until")
                        .cloned()
                        .unwrap_or(Value::Null);
                    ok(m)
                }
                None => discord_error(StatusCode::NOT_FOUND, 10007, "Unknown Member"),
            }
        }
        ("DELETE", ["guilds", guild, "members", user]) => {
            match fixtures::member(guild.parse().unwrap_or(0), user.parse().unwrap_or(0)) {
                Some(_) if body.is_null() => no_content(),
                Some(_) => {
                    shared.violation(format!("{method} {path}: kick takes no body"));
                    discord_error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body")
                }
                None => discord_error(StatusCode::NOT_FOUND, 10007, "Unknown Member"),
            }
        }
        ("PUT", ["guilds", _, "bans", user]) => {
            if user.parse::<u64>().is_err() || !body.is_null() {
                shared.violation(format!("{method} {path}: bad ban request {body}"));
                return discord_error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body");
            }
            no_content()
        }
        ("POST", ["interactions", id, token, "callback"]) => {
            interaction_callback(shared, id.parse().ok(), token, body)
        }
        ("GET" | "PATCH" | "DELETE", ["webhooks", _, token, "messages", which]) => {
            webhook_message(shared, method, token, which, body)
        }
        ("POST", ["webhooks", _, token]) => {
            let mut c = Checker::default();
            c.message_create(body);
            if let Some(err) = check(shared, "follow-up", c) {
                return err;
            }
            let state = shared.lock();
            let Some(channel) = state.interactions.get(*token).map(|i| i.channel_id) else {
                return discord_error(StatusCode::NOT_FOUND, 10015, "Unknown Webhook");
            };
            drop(state);
            ok(store_message(shared, channel, None, body))
        }
        _ => {
            shared.violation(format!(
                "{method} {path}: no such route in the fake (is it a real Discord route?)"
            ));
            discord_error(StatusCode::NOT_FOUND, 0, "404: Not Found")
        }
    }
}

/// `POST /channels/{id}/send-soundboard-sound`: Discord plays it only for a sender connected
/// to that voice channel (50013 otherwise), and only a sound that exists: a default one, or
/// one of `source_guild_id`'s (the channel's guild when absent).
fn send_soundboard(shared: &Shared, channel: u64, body: &Value) -> Response {
    let Some(guild) = fixtures::guild_of_channel(&shared.guilds, channel) else {
        return discord_error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
    };
    if shared.lock().bot_voice.get(&guild) != Some(&channel) {
        return discord_error(StatusCode::FORBIDDEN, 50013, "Missing Permissions");
    }
    let id = body["sound_id"]
        .as_str()
        .map(str::to_owned)
        .or_else(|| body["sound_id"].as_u64().map(|n| n.to_string()));
    let source: u64 = body["source_guild_id"]
        .as_str()
        .and_then(|s| s.parse().ok())
        .unwrap_or(guild);
    let known = id.as_deref().is_some_and(|id| {
        fixtures::default_sounds()
            .as_array()
            .is_some_and(|d| d.iter().any(|s| s["sound_id"] == id))
            || fixtures::guild_sounds(source)
                .iter()
                .any(|s| s["sound_id"] == id)
    });
    if !known {
        shared.violation(format!(
            "send-soundboard-sound with an unknown sound: {body}"
        ));
        return discord_error(StatusCode::NOT_FOUND, 10097, "Unknown Soundboard Sound");
    }
    shared.lock().soundboard_sent.push((channel, body.clone()));
    StatusCode::NO_CONTENT.into_response()
}

/// Records violations; answers 400 the way Discord does when there are any.
fn check(shared: &Shared, what: &str, checker: Checker) -> Option<Response> {
    if checker.errors.is_empty() {
        return None;
    }
    let detail = checker.errors.join("; ");
    shared.violation(format!("{what}: {detail}"));
    Some(discord_error(
        StatusCode::BAD_REQUEST,
        50035,
        &format!("Invalid Form Body: {detail}"),
    ))
}

fn overwrite_commands(shared: &Shared, app: &str, guild: Option<u64>, body: &Value) -> Response {
    if app != fixtures::APPLICATION_ID.to_string() {
        shared.violation(format!(
            "commands registered for application {app}, not ours"
        ));
    }
    let Some(list) = body.as_array() else {
        shared.violation("command overwrite body is not an array".into());
        return discord_error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body");
    };
    let mut checker = Checker::default();
    let mut names = std::collections::HashSet::new();
    for (i, c) in list.iter().enumerate() {
        checker.application_command(c, &format!("commands[{i}]"));
        let key = (
            c["name"].as_str().unwrap_or_default().to_owned(),
            c["type"].as_u64().unwrap_or(1),
        );
        if !names.insert(key.clone()) {
            checker
                .errors
                .push(format!("commands[{i}]: duplicate name {}", key.0));
        }
    }
    if let Some(err) = check(shared, "command overwrite", checker) {
        return err;
    }
    let stored: Vec<Value> = list
        .iter()
        .map(|c| {
            let mut c = c.clone();
            c["id"] = json!(shared.snowflake().to_string());
            c["application_id"] = json!(fixtures::APPLICATION_ID.to_string());
            c["version"] = json!(shared.snowflake().to_string());
            if c.get("type").is_none() {
                c["type"] = json!(1);
            }
            if let Some(g) = guild {
                c["guild_id"] = json!(g.to_string());
            }
            c["default_member_permissions"] = c
                .get("default_member_permissions")
                .cloned()
                .unwrap_or(Value::Null);
            c
        })
        .collect();
    shared.lock().commands.insert(guild, stored.clone());
    json_response(StatusCode::OK, &json!(stored))
}

/// Turns a create-message body into the message object Discord would return, and keeps it.
/// With `enforce_nonce`, a nonce this author already used in the channel returns the earlier
/// message instead (Discord does so for a few minutes; the fake for its whole life).
fn store_message(shared: &Shared, channel: u64, interaction: Option<u64>, body: &Value) -> Value {
    if body.get("enforce_nonce") == Some(&json!(true))
        && let Some(nonce) = body.get("nonce").filter(|n| !n.is_null())
    {
        let state = shared.lock();
        let bot = fixtures::bot_user()["id"].clone();
        let earlier = state.messages.values().find(|m| {
            m["channel_id"] == json!(channel.to_string())
                && m["author"]["id"] == bot
                && m.get("nonce") == Some(nonce)
        });
        if let Some(m) = earlier {
            return m.clone();
        }
    }
    let id = shared.snowflake();
    let guild = fixtures::guild_of_channel(&shared.guilds, channel);
    let kind = if interaction.is_some() { 20 } else { 0 };
    let msg = fixtures::message(id, channel, guild, fixtures::bot_user(), body, kind);
    shared.lock().messages.insert(id, msg.clone());
    msg
}

/// `PATCH /channels/{id}` (Modify Channel), for the fields the bot edits: slow mode is
/// `rate_limit_per_user`, 0 to 21600 seconds, on text channels.
fn edit_channel(shared: &Shared, channel: &str, body: &Value) -> Response {
    let id: u64 = channel.parse().unwrap_or(0);
    let Some(guild) = fixtures::guild_of_channel(&shared.guilds, id) else {
        return discord_error(StatusCode::NOT_FOUND, 10003, "Unknown Channel");
    };
    let mut c = fixtures::channel(id, guild);
    let Some(fields) = body.as_object() else {
        shared.violation(format!("channel edit body is not an object: {body}"));
        return discord_error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body");
    };
    for (key, value) in fields {
        match key.as_str() {
            "rate_limit_per_user" => match value.as_u64() {
                Some(secs) if secs <= 21_600 && c["type"] == 0 => c[key.as_str()] = json!(secs),
                _ => {
                    shared.violation(format!("rate_limit_per_user {value} on channel {id}"));
                    return discord_error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body");
                }
            },
            other => {
                shared.violation(format!(
                    "channel edit field {other:?} is not one the bot sends"
                ));
                return discord_error(StatusCode::BAD_REQUEST, 50035, "Invalid Form Body");
            }
        }
    }
    json_response(StatusCode::OK, &c)
}

/// `PUT .../reactions/{emoji}/@me`: the bot reacts to a message in that channel. Discord takes
/// a Unicode emoji percent-encoded in the path and no body.
fn add_reaction(shared: &Shared, channel: &str, id: &str, emoji: &str, body: &Value) -> Response {
    let Some(name) = percent_decode(emoji).filter(|e| !e.is_empty()) else {
        shared.violation(format!(
            "reaction emoji {emoji:?} is not percent-encoded UTF-8"
        ));
        return discord_error(StatusCode::BAD_REQUEST, 10014, "Unknown Emoji");
    };
    if !body.is_null() {
        shared.violation(format!("a reaction takes no body, got {body}"));
    }
    let mut state = shared.lock();
    let msg = state
        .messages
        .get_mut(&id.parse().unwrap_or(0))
        .filter(|m| m["channel_id"] == json!(channel));
    let Some(msg) = msg else {
        return discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message");
    };
    let reactions = msg["reactions"].as_array().cloned().unwrap_or_default();
    if !reactions
        .iter()
        .any(|r| r["emoji"]["name"] == json!(name) && r["me"] == json!(true))
    {
        let mut reactions = reactions;
        reactions.push(json!({"count": 1, "me": true, "emoji": {"id": null, "name": name}}));
        msg["reactions"] = json!(reactions);
    }
    StatusCode::NO_CONTENT.into_response()
}

/// `%E2%8F%B3` to `⏳`; `None` for malformed escapes or bytes that aren't UTF-8.
fn percent_decode(s: &str) -> Option<String> {
    let mut bytes = Vec::with_capacity(s.len());
    let mut rest = s.as_bytes();
    while let Some((&b, tail)) = rest.split_first() {
        if b == b'%' {
            let hex = std::str::from_utf8(tail.get(..2)?).ok()?;
            bytes.push(u8::from_str_radix(hex, 16).ok()?);
            rest = &tail[2..];
        } else {
            bytes.push(b);
            rest = tail;
        }
    }
    String::from_utf8(bytes).ok()
}

fn edit_message(shared: &Shared, id: u64, body: &Value) -> Response {
    let mut state = shared.lock();
    let Some(msg) = state.messages.get_mut(&id) else {
        return discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message");
    };
    for key in ["content", "embeds", "components", "flags"] {
        if let Some(v) = body.get(key) {
            msg[key] = v.clone();
        }
    }
    msg["edited_timestamp"] = json!(fixtures::TIMESTAMP);
    json_response(StatusCode::OK, msg)
}

fn interaction_callback(shared: &Shared, id: Option<u64>, token: &str, body: &Value) -> Response {
    let mut checker = Checker::default();
    checker.interaction_response(body);
    if let Some(err) = check(shared, "interaction callback", checker) {
        return err;
    }
    let (channel, source) = {
        let mut state = shared.lock();
        let Some(i) = state
            .interactions
            .get_mut(token)
            .filter(|i| Some(i.id) == id)
        else {
            drop(state);
            shared.violation(format!("callback for unknown interaction {id:?}/{token}"));
            return discord_error(StatusCode::NOT_FOUND, 10062, "Unknown interaction");
        };
        if let Some(deadline) = shared.interaction_deadline
            && i.created.elapsed() > deadline
        {
            drop(state);
            shared.violation(format!(
                "interaction {id:?} first answered after {deadline:?}: Discord has forgotten it"
            ));
            return discord_error(StatusCode::NOT_FOUND, 10062, "Unknown interaction");
        }
        if i.responded {
            drop(state);
            shared.violation(format!("interaction {id:?} answered twice"));
            return discord_error(
                StatusCode::BAD_REQUEST,
                40060,
                "Interaction has already been acknowledged.",
            );
        }
        i.responded = true;
        (i.channel_id, i.source_message)
    };
    let kind = body["type"].as_u64().unwrap_or(0);
    let data = body.get("data").cloned().unwrap_or(json!({}));
    match kind {
        4 | 5 => {
            let msg = store_message(shared, channel, id, &data);
            let mid = msg["id"].as_str().and_then(|s| s.parse().ok());
            if let Some(i) = shared.lock().interactions.get_mut(token) {
                i.original = mid;
            }
        }
        7 => {
            if let Some(source) = source {
                let _ = edit_message(shared, source, &data);
                if let Some(i) = shared.lock().interactions.get_mut(token) {
                    i.original = Some(source);
                }
            }
        }
        _ => {}
    }
    StatusCode::NO_CONTENT.into_response()
}

fn webhook_message(
    shared: &Shared,
    method: &Method,
    token: &str,
    which: &str,
    body: &Value,
) -> Response {
    let id = {
        let state = shared.lock();
        let Some(i) = state.interactions.get(token) else {
            return discord_error(StatusCode::NOT_FOUND, 10015, "Unknown Webhook");
        };
        if which == "@original" {
            i.original
        } else {
            which.parse().ok()
        }
    };
    let Some(id) = id else {
        return discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message");
    };
    match method.as_str() {
        "PATCH" => {
            let mut c = Checker::default();
            c.message_edit(body);
            match check(shared, "webhook edit", c) {
                Some(err) => err,
                None => edit_message(shared, id, body),
            }
        }
        "DELETE" => {
            shared.lock().messages.remove(&id);
            StatusCode::NO_CONTENT.into_response()
        }
        _ => match shared.lock().messages.get(&id) {
            Some(m) => json_response(StatusCode::OK, m),
            None => discord_error(StatusCode::NOT_FOUND, 10008, "Unknown Message"),
        },
    }
}
