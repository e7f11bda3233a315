//! Gateway v10 over a plain websocket: HELLO, IDENTIFY → READY + `GUILD_CREATE`, heartbeats,
//! RESUME with replay, invalid sessions, and the close codes Discord uses. A connection that
//! identifies with the streamer's user token becomes a user session (v9, see [`super::user`]).

use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Instant;

use futures::{SinkExt, StreamExt};
use serde_json::{Value, json};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;

use super::{ConnCmd, Session, SessionKind, Shared, fixtures, user};

pub(super) async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    while let Ok((stream, _)) = listener.accept().await {
        tokio::spawn(connection(stream, shared.clone()));
    }
}

pub(super) fn op(op: u8, d: &Value) -> Message {
    Message::Text(json!({"op": op, "d": d}).to_string())
}

#[allow(
    clippy::result_large_err,
    reason = "the handshake callback's type is tungstenite's"
)]
async fn connection(stream: TcpStream, shared: Arc<Shared>) {
    let mut query = String::new();
    let callback = |req: &tokio_tungstenite::tungstenite::handshake::server::Request, resp| {
        req.uri().query().unwrap_or_default().clone_into(&mut query);
        Ok(resp)
    };
    let Ok(ws) = tokio_tungstenite::accept_hdr_async(stream, callback).await else {
        return;
    };
    let version = query
        .split('&')
        .find_map(|p| p.strip_prefix("v="))
        .and_then(|v| v.parse::<u8>().ok());
    let mut conn = Conn {
        kind: None,
        authenticated: false,
        version,
        query: query.clone(),
        sends: VecDeque::new(),
    };
    let (mut sink, mut source) = ws.split();
    let (tx, mut rx) = mpsc::unbounded_channel::<ConnCmd>();
    if sink
        .send(op(
            10,
            &json!({"heartbeat_interval": shared.heartbeat_interval_ms}),
        ))
        .await
        .is_err()
    {
        return;
    }
    loop {
        tokio::select! {
            incoming = source.next() => {
                let text = match incoming {
                    Some(Ok(Message::Text(text))) => text,
                    Some(Ok(Message::Binary(_))) => {
                        shared.violation("bot sent a binary gateway frame; we asked for JSON".into());
                        continue;
                    }
                    Some(Ok(Message::Close(_)) | Err(_)) | None => break,
                    Some(Ok(_)) => continue,
                };
                let replies = handle(&shared, &mut conn, &text, &tx);
                for reply in replies {
                    match reply {
                        Reply::Send(m) => if sink.send(m).await.is_err() { return },
                        Reply::Close(code, reason) => {
                            let frame = CloseFrame { code: CloseCode::from(code), reason: reason.into() };
                            let _ = sink.send(Message::Close(Some(frame))).await;
                            return;
                        }
                    }
                }
            }
            cmd = rx.recv() => match cmd {
                Some(ConnCmd::Send(text)) => if sink.send(Message::Text(text)).await.is_err() { break },
                Some(ConnCmd::Close(code, reason)) => {
                    let frame = CloseFrame { code: CloseCode::from(code), reason: reason.into() };
                    let _ = sink.send(Message::Close(Some(frame))).await;
                    break;
                }
                Some(ConnCmd::Drop) | None => return,
            }
        }
    }
    detach(&shared, &tx);
}

/// The connection is gone: the session (if this was its connection) waits for a RESUME.
fn detach(shared: &Shared, tx: &mpsc::UnboundedSender<ConnCmd>) {
    let mut state = shared.lock();
    for kind in [SessionKind::Bot, SessionKind::User] {
        if let Some(session) = state.session_mut(kind).as_mut()
            && session.conn.as_ref().is_some_and(|c| c.same_channel(tx))
        {
            session.conn = None;
        }
    }
}

/// One websocket's own state.
pub(super) struct Conn {
    /// Whose token the connection presented.
    pub kind: Option<SessionKind>,
    /// Set by a successful IDENTIFY or RESUME.
    pub authenticated: bool,
    /// `v` from the query string.
    pub version: Option<u8>,
    pub query: String,
    /// When each recent payload arrived, for the send limit.
    pub sends: VecDeque<Instant>,
}

pub(super) enum Reply {
    Send(Message),
    Close(u16, &'static str),
}

fn handle(
    shared: &Shared,
    conn: &mut Conn,
    text: &str,
    tx: &mpsc::UnboundedSender<ConnCmd>,
) -> Vec<Reply> {
    // Discord counts every payload, heartbeats included, against 120 per 60 s.
    let now = Instant::now();
    conn.sends.push_back(now);
    while conn
        .sends
        .front()
        .is_some_and(|t| now.duration_since(*t) > shared.send_window)
    {
        conn.sends.pop_front();
    }
    let over_limit = conn.sends.len() > shared.send_limit as usize;
    let Ok(payload) = serde_json::from_str::<Value>(text) else {
        shared.violation(format!("gateway payload is not JSON: {text}"));
        return vec![Reply::Close(4002, "Error while decoding payload.")];
    };
    let d = payload.get("d").cloned().unwrap_or(Value::Null);
    let opcode = payload.get("op").and_then(Value::as_u64);
    if conn.kind == Some(SessionKind::User) {
        shared
            .lock()
            .user
            .ops
            .push((opcode.unwrap_or(u64::MAX), d.clone()));
        if over_limit {
            return vec![Reply::Close(4008, "Rate limited.")];
        }
    }
    match opcode {
        Some(1) => {
            let mut state = shared.lock();
            if conn.kind == Some(SessionKind::User) {
                if !state.user.ack_heartbeats {
                    return vec![];
                }
            } else {
                state.heartbeats += 1;
            }
            vec![Reply::Send(op(11, &Value::Null))]
        }
        Some(2 | 6) if conn.authenticated => {
            shared.violation(format!("identified twice on one connection: {text}"));
            vec![Reply::Close(4005, "Already authenticated.")]
        }
        Some(2) if is_user_token(&d) => {
            let replies = user::identify(shared, conn, &d, tx);
            record_login(shared, conn, 2, &d);
            replies
        }
        Some(6) if is_user_token(&d) => {
            let replies = user::resume(shared, conn, &d, tx);
            record_login(shared, conn, 6, &d);
            replies
        }
        Some(2) => identify(shared, conn, &d, tx),
        Some(6) => resume(shared, conn, &d, tx),
        Some(other) if !conn.authenticated => {
            shared.violation(format!("gateway op {other} before IDENTIFY: {text}"));
            vec![Reply::Close(4003, "Not authenticated.")]
        }
        Some(other) if conn.kind == Some(SessionKind::User) => user::op(shared, other, &d),
        Some(4) => {
            bot_voice_state(shared, &d);
            vec![]
        }
        // Presence update, request guild members: accepted, nothing to say.
        Some(3 | 8 | 31) => vec![],
        other => {
            shared.violation(format!("unknown gateway opcode {other:?}: {text}"));
            vec![Reply::Close(4001, "Unknown opcode.")]
        }
    }
}

/// A user login is recorded once the connection is known to be the user's.
fn record_login(shared: &Shared, conn: &Conn, opcode: u64, d: &Value) {
    if conn.kind == Some(SessionKind::User) {
        shared.lock().user.ops.push((opcode, d.clone()));
    }
}

/// The streamer's token exactly as a user client sends it (a `Bot ` prefix makes it a bot
/// login, which the bot path refuses).
fn is_user_token(d: &Value) -> bool {
    d.get("token").and_then(Value::as_str) == Some(fixtures::STREAMER_USER_TOKEN)
}

fn check_token(d: &Value) -> bool {
    let token = d.get("token").and_then(Value::as_str).unwrap_or_default();
    token.trim_start_matches("Bot ") == fixtures::TOKEN
}

fn identify(
    shared: &Shared,
    conn: &mut Conn,
    d: &Value,
    tx: &mpsc::UnboundedSender<ConnCmd>,
) -> Vec<Reply> {
    check_version(shared, conn, 10);
    let mut checker = super::schema::Checker::default();
    checker.identify(d);
    for e in checker.errors {
        shared.violation(e);
    }
    if !check_token(d) {
        return vec![Reply::Close(4004, "Authentication failed.")];
    }
    // The bot's token in a user-style identify (no intents): Discord refuses bots without
    // intents, and a user client must not be handed the bot's token.
    if d.get("intents").is_none() {
        return vec![Reply::Close(4004, "Authentication failed.")];
    }
    conn.kind = Some(SessionKind::Bot);
    conn.authenticated = true;
    let session_id = format!("session-{}", shared.snowflake());
    let shard_pair = d.get("shard").cloned().unwrap_or(json!([0, 1]));
    let guilds: Vec<Value> = shared
        .guilds
        .iter()
        .map(|g| json!({"id": g.to_string(), "unavailable": true}))
        .collect();
    let ready = json!({
        "v": 10,
        "user": fixtures::bot_user(),
        "guilds": guilds,
        "session_id": session_id,
        "resume_gateway_url": shared.gateway_url,
        "shard": shard_pair,
        "application": {"id": fixtures::APPLICATION_ID.to_string(), "flags": 0},
    });
    {
        let mut state = shared.lock();
        state.identifies += 1;
        // A new identify replaces any old session, as on Discord.
        state.session = Some(Session {
            id: session_id,
            seq: 0,
            events: Vec::new(),
            conn: Some(tx.clone()),
            valid: true,
        });
    }
    shared.dispatch("READY", ready);
    for guild in &shared.guilds {
        let mut g = fixtures::guild_create(*guild);
        if shared.large_guilds {
            g["large"] = serde_json::json!(true);
            g["members"] = serde_json::json!([]);
        }
        shared.dispatch("GUILD_CREATE", g);
    }
    vec![]
}

/// The bot speaks v10, the user client v9 (like Discord's own clients).
pub(super) fn check_version(shared: &Shared, conn: &Conn, want: u8) {
    if conn.version != Some(want) {
        shared.violation(format!(
            "gateway connected without ?v={want} (query: {:?})",
            conn.query
        ));
    }
}

fn resume(
    shared: &Shared,
    conn: &mut Conn,
    d: &Value,
    tx: &mpsc::UnboundedSender<ConnCmd>,
) -> Vec<Reply> {
    check_version(shared, conn, 10);
    let mut checker = super::schema::Checker::default();
    checker.resume(d);
    for e in checker.errors {
        shared.violation(e);
    }
    if !check_token(d) {
        return vec![Reply::Close(4004, "Authentication failed.")];
    }
    let wanted = d
        .get("session_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let from_seq = d.get("seq").and_then(Value::as_u64).unwrap_or(0);
    let mut state = shared.lock();
    state.resumes += 1;
    let Some(session) = state.session.as_mut().filter(|s| s.valid && s.id == wanted) else {
        return vec![Reply::Send(op(9, &Value::Bool(false)))];
    };
    conn.kind = Some(SessionKind::Bot);
    conn.authenticated = true;
    reattach(session, from_seq, tx)
}

/// Moves a session onto a new connection: replays what it missed, then RESUMED.
pub(super) fn reattach(
    session: &mut Session,
    from_seq: u64,
    tx: &mpsc::UnboundedSender<ConnCmd>,
) -> Vec<Reply> {
    session.conn = Some(tx.clone());
    let mut replies: Vec<Reply> = session
        .events
        .iter()
        .filter(|(seq, _)| *seq > from_seq)
        .map(|(_, text)| Reply::Send(Message::Text(text.clone())))
        .collect();
    session.seq += 1;
    let resumed = json!({"op": 0, "t": "RESUMED", "s": session.seq, "d": {}}).to_string();
    session.events.push((session.seq, resumed.clone()));
    replies.push(Reply::Send(Message::Text(resumed)));
    replies
}

/// The bot joins, moves or leaves voice (op 4): Discord answers with the bot's
/// `VOICE_STATE_UPDATE` and, for a join, a `VOICE_SERVER_UPDATE` naming the voice server; a
/// join the bot may not make (no View Channel/Connect, not a voice channel of the guild) gets
/// no answer at all, as Discord gives none.
fn bot_voice_state(shared: &Shared, d: &Value) {
    // Discord reads a snowflake as a string or a number (songbird sends numbers).
    let snowflake = |k: &str| match d.get(k) {
        Some(Value::String(s)) => s.parse::<u64>().ok(),
        Some(Value::Number(n)) => n.as_u64(),
        _ => None,
    };
    let Some(guild) = snowflake("guild_id").filter(|g| shared.guilds.contains(g)) else {
        shared.violation(format!(
            "bot voice state update without a guild of the bot's: {d}"
        ));
        return;
    };
    let channel = snowflake("channel_id");
    if let Some(channel) = channel {
        let is_voice = fixtures::guild_of_channel(&[guild], channel) == Some(guild)
            && fixtures::channel(channel, guild)["type"] == 2;
        let perms = fixtures::channel_permissions(guild, channel, fixtures::BOT_ID);
        let needed = fixtures::VIEW_CHANNEL | fixtures::CONNECT;
        if !is_voice || perms & needed != needed {
            tracing::info!(
                guild,
                channel,
                "fake discord: ignoring a voice join the bot may not make"
            );
            return;
        }
    }
    let session_id = format!("bot-voice-session-{}", shared.snowflake());
    let token = format!("bot-voice-token-{}", shared.snowflake());
    let mut state = shared.lock();
    let endpoint = state.user.voice_endpoint.clone();
    match channel {
        Some(channel) => {
            state.bot_voice.insert(guild, channel);
            if let Some(calls) = &state.user.voice_calls {
                calls.lock().unwrap().insert(token.clone(), channel);
            }
        }
        None => {
            state.bot_voice.remove(&guild);
        }
    }
    state.bot_voice_ops.push(d.clone());
    let vsu = json!({
        "guild_id": guild.to_string(),
        "channel_id": channel.map(|c| c.to_string()),
        "user_id": fixtures::BOT_ID.to_string(),
        "member": fixtures::member(guild, fixtures::BOT_ID),
        "session_id": session_id,
        "deaf": false,
        "mute": false,
        "self_deaf": d.get("self_deaf").cloned().unwrap_or(json!(false)),
        "self_mute": d.get("self_mute").cloned().unwrap_or(json!(false)),
        "self_video": false,
        "suppress": false,
        "request_to_speak_timestamp": null,
    });
    let Some(bot) = state.session.as_mut().filter(|s| s.valid) else {
        return;
    };
    bot.push("VOICE_STATE_UPDATE", &vsu);
    if channel.is_some() {
        bot.push(
            "VOICE_SERVER_UPDATE",
            &json!({"token": token, "guild_id": guild.to_string(), "endpoint": endpoint}),
        );
    }
}
