//! The streamer's user account on the fake gateway: a user IDENTIFY/RESUME (v9), voice state
//! updates that hand out voice servers, and Go Live streams (create, pause, delete), with the
//! permission checks Discord makes. Everything the user's connections send is recorded, and
//! every voice token issued is kept so the fake voice server can check identifies against it.

use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::gateway::{Conn, Reply, check_version, reattach};
use super::schema::Checker;
use super::{
    ConnCmd, FakeDiscord, FakeStream, IssuedVoiceToken, Session, SessionKind, Shared, State,
    fixtures,
};

const REGION: &str = "local";

fn check(shared: &Shared, f: impl FnOnce(&mut Checker)) -> bool {
    let mut checker = Checker::default();
    f(&mut checker);
    let ok = checker.errors.is_empty();
    for e in checker.errors {
        shared.violation(e);
    }
    ok
}

fn snowflake(d: &Value, key: &str) -> Option<u64> {
    d.get(key)?.as_str()?.parse().ok()
}

fn member_of(guild: u64) -> bool {
    fixtures::members_of(guild)
        .iter()
        .any(|(m, _, _)| *m == fixtures::STREAMER_USER_ID)
}

pub(super) fn identify(
    shared: &Shared,
    conn: &mut Conn,
    d: &Value,
    tx: &mpsc::UnboundedSender<ConnCmd>,
) -> Vec<Reply> {
    check_version(shared, conn, 9);
    check(shared, |c| c.user_identify(d));
    conn.kind = Some(SessionKind::User);
    if shared.lock().user.revoked {
        return vec![Reply::Close(4004, "Authentication failed.")];
    }
    conn.authenticated = true;
    let session_id = format!("user-session-{}", shared.snowflake());
    // A user's READY carries its guilds in full; no GUILD_CREATE follows.
    let guilds: Vec<Value> = shared
        .guilds
        .iter()
        .filter(|g| member_of(**g))
        .map(|g| fixtures::guild_create(*g))
        .collect();
    let ready = json!({
        "v": 9,
        "user": fixtures::streamer_user(),
        "session_id": session_id,
        "session_type": "normal",
        "resume_gateway_url": shared.gateway_url,
        "guilds": guilds,
        "private_channels": [],
        "relationships": [],
        "sessions": [],
        "country_code": "US",
    });
    let mut state = shared.lock();
    state.user.identifies += 1;
    // A new session starts outside any voice channel, as on Discord.
    state.user.voice.clear();
    state.user.streams.clear();
    let mut session = Session {
        id: session_id,
        seq: 0,
        events: Vec::new(),
        conn: Some(tx.clone()),
        valid: true,
    };
    session.push("READY", &ready);
    state.user.session = Some(session);
    vec![]
}

pub(super) fn resume(
    shared: &Shared,
    conn: &mut Conn,
    d: &Value,
    tx: &mpsc::UnboundedSender<ConnCmd>,
) -> Vec<Reply> {
    check_version(shared, conn, 9);
    check(shared, |c| c.resume(d));
    conn.kind = Some(SessionKind::User);
    let wanted = d
        .get("session_id")
        .and_then(Value::as_str)
        .unwrap_or_default();
    let from_seq = d.get("seq").and_then(Value::as_u64).unwrap_or(0);
    let mut state = shared.lock();
    if state.user.revoked {
        return vec![Reply::Close(4004, "Authentication failed.")];
    }
    state.user.resumes += 1;
    let Some(session) = state
        .user
        .session
        .as_mut()
        .filter(|s| s.valid && s.id == wanted)
    else {
        return vec![Reply::Send(super::gateway::op(9, &Value::Bool(false)))];
    };
    conn.authenticated = true;
    reattach(session, from_seq, tx)
}

/// An op from an identified user connection (heartbeats, identify and resume are handled by
/// the gateway itself).
pub(super) fn op(shared: &Shared, opcode: u64, d: &Value) -> Vec<Reply> {
    match opcode {
        // Presence update: accepted, nothing to say.
        3 => {}
        4 => voice_state(shared, d),
        18 => stream_create(shared, d),
        19 => stream_delete(shared, d),
        22 => stream_set_paused(shared, d),
        other => {
            shared.violation(format!("unknown gateway opcode {other} from the user: {d}"));
            return vec![Reply::Close(4001, "Unknown opcode.")];
        }
    }
    vec![]
}

/// Pushes a dispatch to the user's session (the caller holds the lock).
fn to_user(state: &mut State, event: &str, d: &Value) {
    if let Some(session) = state.user.session.as_mut().filter(|s| s.valid) {
        session.push(event, d);
    }
}

fn voice_state_payload(
    guild: Option<u64>,
    channel: Option<u64>,
    session_id: &str,
    d: &Value,
) -> Value {
    json!({
        "guild_id": guild.map(|g| g.to_string()),
        "channel_id": channel.map(|c| c.to_string()),
        "user_id": fixtures::STREAMER_USER_ID.to_string(),
        "session_id": session_id,
        "deaf": false,
        "mute": false,
        "self_deaf": d.get("self_deaf").cloned().unwrap_or(json!(false)),
        "self_mute": d.get("self_mute").cloned().unwrap_or(json!(false)),
        "self_video": false,
        "self_stream": false,
        "suppress": false,
        "request_to_speak_timestamp": null,
    })
}

fn voice_state(shared: &Shared, d: &Value) {
    if !check(shared, |c| c.voice_state_update(d)) {
        return;
    }
    // No guild: a DM or group DM call.
    let guild = snowflake(d, "guild_id");
    if let Some(guild) = guild
        && !member_of(guild)
    {
        shared.violation(format!(
            "voice state update for guild {guild}, which the user is not in"
        ));
        return;
    }
    let channel = snowflake(d, "channel_id");
    if let Some(channel) = channel {
        let allowed = match guild {
            Some(guild) => {
                let is_voice = fixtures::guild_of_channel(&[guild], channel) == Some(guild)
                    && fixtures::channel(channel, guild)["type"] == 2;
                let perms =
                    fixtures::channel_permissions(guild, channel, fixtures::STREAMER_USER_ID);
                let needed = fixtures::VIEW_CHANNEL | fixtures::CONNECT;
                is_voice && perms & needed == needed
            }
            // Only a DM or group the account is in has a call it can join.
            None => channel == fixtures::GROUP_DM_CHANNEL_ID,
        };
        // Discord answers nothing at all when the join is not allowed.
        if !allowed {
            tracing::info!(
                ?guild,
                channel,
                "fake discord: ignoring a voice join the user may not make"
            );
            return;
        }
    }
    let session_id = format!("voice-session-{}", shared.snowflake());
    let token = format!("voice-token-{}", shared.snowflake());
    let mut state = shared.lock();
    let endpoint = state.user.voice_endpoint.clone();
    let vsu = match channel {
        None => {
            let old = state.user.voice.remove(&guild).map(|(_, s)| s);
            let ended: Vec<String> = state
                .user
                .streams
                .iter()
                .filter(|(_, s)| s.guild_id == guild)
                .map(|(k, _)| k.clone())
                .collect();
            for key in ended {
                state.user.streams.remove(&key);
                let delete =
                    json!({"stream_key": key, "unavailable": false, "reason": "user_requested"});
                to_user(&mut state, "STREAM_DELETE", &delete);
            }
            let vsu = voice_state_payload(guild, None, &old.unwrap_or_default(), d);
            to_user(&mut state, "VOICE_STATE_UPDATE", &vsu);
            vsu
        }
        Some(channel) => {
            state
                .user
                .voice
                .insert(guild, (channel, session_id.clone()));
            if let Some(calls) = &state.user.voice_calls {
                calls.lock().unwrap().insert(token.clone(), channel);
            }
            state.user.issued.push(IssuedVoiceToken {
                stream_key: None,
                server_id: guild.unwrap_or(channel),
                guild_id: guild,
                channel_id: channel,
                user_id: fixtures::STREAMER_USER_ID,
                session_id: session_id.clone(),
                token: token.clone(),
                endpoint: endpoint.clone(),
            });
            let vsu = voice_state_payload(guild, Some(channel), &session_id, d);
            to_user(&mut state, "VOICE_STATE_UPDATE", &vsu);
            // Only a DM call's server update names the channel.
            let server = match guild {
                Some(guild) => {
                    json!({"token": token, "guild_id": guild.to_string(), "endpoint": endpoint})
                }
                None => json!({
                    "token": token,
                    "guild_id": null,
                    "channel_id": channel.to_string(),
                    "endpoint": endpoint,
                }),
            };
            to_user(&mut state, "VOICE_SERVER_UPDATE", &server);
            vsu
        }
    };
    // The bot sees the streamer come and go, as every member of the guild would (and
    // nothing of a DM call).
    if guild.is_some_and(|g| shared.guilds.contains(&g))
        && let Some(bot) = state.session.as_mut().filter(|s| s.valid)
    {
        bot.push("VOICE_STATE_UPDATE", &vsu);
    }
}

fn stream_create(shared: &Shared, d: &Value) {
    if !check(shared, |c| c.stream_create(d)) {
        return;
    }
    let is_call = d["type"] == "call";
    let guild = snowflake(d, "guild_id");
    let Some(channel) = snowflake(d, "channel_id").filter(|_| guild.is_some() != is_call) else {
        shared.violation(format!(
            "stream create needs a channel, and a guild exactly when it is not a call: {d}"
        ));
        return;
    };
    let user = fixtures::STREAMER_USER_ID;
    let key = match guild {
        Some(guild) => format!("guild:{guild}:{channel}:{user}"),
        None => format!("call:{channel}:{user}"),
    };
    let rtc_server_id = shared.snowflake();
    let token = format!("stream-token-{}", shared.snowflake());
    let mut state = shared.lock();
    let Some(session_id) = state
        .user
        .voice
        .get(&guild)
        .filter(|(c, _)| *c == channel)
        .map(|(_, s)| s.clone())
    else {
        drop(state);
        shared.violation(format!(
            "STREAM_CREATE in channel {channel}, which the user has not joined"
        ));
        return;
    };
    // Permissions are a guild's; anyone in a call may go live in it.
    let perms = guild.map_or(fixtures::STREAM, |guild| {
        fixtures::channel_permissions(guild, channel, fixtures::STREAMER_USER_ID)
    });
    let refusal = state
        .user
        .stream_refusal
        .clone()
        .or_else(|| (perms & fixtures::STREAM == 0).then(|| "unauthorized".to_owned()));
    if let Some(reason) = refusal {
        let delete = json!({"stream_key": key, "unavailable": false, "reason": reason});
        to_user(&mut state, "STREAM_DELETE", &delete);
        return;
    }
    let endpoint = state.user.voice_endpoint.clone();
    state.user.streams.insert(
        key.clone(),
        FakeStream {
            guild_id: guild,
            rtc_server_id,
            paused: true,
        },
    );
    state.user.issued.push(IssuedVoiceToken {
        stream_key: Some(key.clone()),
        server_id: rtc_server_id,
        guild_id: guild,
        channel_id: channel,
        user_id: fixtures::STREAMER_USER_ID,
        session_id,
        token: token.clone(),
        endpoint: endpoint.clone(),
    });
    let create = json!({
        "stream_key": key,
        "rtc_server_id": rtc_server_id.to_string(),
        "region": REGION,
        "viewer_ids": [],
        "paused": true,
    });
    to_user(&mut state, "STREAM_CREATE", &create);
    let server = json!({"stream_key": key, "endpoint": endpoint, "token": token, "guild_id": null});
    to_user(&mut state, "STREAM_SERVER_UPDATE", &server);
}

fn stream_set_paused(shared: &Shared, d: &Value) {
    if !check(shared, |c| c.stream_set_paused(d)) {
        return;
    }
    let key = d["stream_key"].as_str().unwrap_or_default().to_owned();
    let paused = d["paused"].as_bool().unwrap_or_default();
    let mut state = shared.lock();
    let Some(stream) = state.user.streams.get_mut(&key) else {
        drop(state);
        shared.violation(format!("STREAM_SET_PAUSED for unknown stream {key}"));
        return;
    };
    stream.paused = paused;
    let update = json!({"stream_key": key, "region": REGION, "viewer_ids": [], "paused": paused});
    to_user(&mut state, "STREAM_UPDATE", &update);
}

fn stream_delete(shared: &Shared, d: &Value) {
    if !check(shared, |c| c.stream_key_only(d, "stream delete")) {
        return;
    }
    let key = d["stream_key"].as_str().unwrap_or_default().to_owned();
    let mut state = shared.lock();
    if state.user.streams.remove(&key).is_none() {
        drop(state);
        shared.violation(format!("STREAM_DELETE for unknown stream {key}"));
        return;
    }
    let delete = json!({"stream_key": key, "unavailable": false, "reason": "user_requested"});
    to_user(&mut state, "STREAM_DELETE", &delete);
}

/// Test controls and records for the user account.
impl FakeDiscord {
    /// The gateway's websocket URL (`ws://127.0.0.1:PORT`), for clients that are not given
    /// it over REST (the streamer's user client).
    pub fn gateway_url(&self) -> String {
        self.shared.gateway_url.clone()
    }

    /// Every payload the user's connections sent, in order: (op, d).
    pub fn user_ops(&self) -> Vec<(u64, Value)> {
        self.shared.lock().user.ops.clone()
    }

    /// The `d` of every payload with opcode `opcode` the user sent.
    pub fn user_ops_of(&self, opcode: u64) -> Vec<Value> {
        self.user_ops()
            .into_iter()
            .filter(|(op, _)| *op == opcode)
            .map(|(_, d)| d)
            .collect()
    }

    pub fn user_identify_count(&self) -> u32 {
        self.shared.lock().user.identifies
    }

    pub fn user_resume_count(&self) -> u32 {
        self.shared.lock().user.resumes
    }

    /// Every voice and stream token handed to the user, oldest first.
    pub fn voice_tokens(&self) -> Vec<IssuedVoiceToken> {
        self.shared.lock().user.issued.clone()
    }

    /// Where later `VOICE_SERVER_UPDATE`/`STREAM_SERVER_UPDATE`s point (`host:port`).
    pub fn set_voice_endpoint(&self, endpoint: &str) {
        endpoint.clone_into(&mut self.shared.lock().user.voice_endpoint);
    }

    /// Points voice at `voice` and tells it which tokens are for calls, so each connection
    /// gets Discord's DAVE group: the channel id for a call, `rtc_server_id - 1` for a stream.
    pub fn set_voice_server(&self, voice: &super::voice::FakeVoiceServer) {
        let mut state = self.shared.lock();
        voice.endpoint().clone_into(&mut state.user.voice_endpoint);
        state.user.voice_calls = Some(voice.call_tokens());
    }

    /// The bot's voice channel in a guild, as the fake sees it.
    pub fn bot_voice_channel(&self, guild: u64) -> Option<u64> {
        self.shared.lock().bot_voice.get(&guild).copied()
    }

    /// Every soundboard sound the bot played: (channel, request body).
    pub fn soundboard_sent(&self) -> Vec<(u64, Value)> {
        self.shared.lock().soundboard_sent.clone()
    }

    /// Every voice state update (op 4) the bot sent, oldest first.
    pub fn bot_voice_ops(&self) -> Vec<Value> {
        self.shared.lock().bot_voice_ops.clone()
    }

    /// The user's voice channel in a guild, as the fake sees it.
    pub fn user_voice_channel(&self, guild: u64) -> Option<u64> {
        self.shared
            .lock()
            .user
            .voice
            .get(&Some(guild))
            .map(|(c, _)| *c)
    }

    /// The DM or group DM call the user is in, as the fake sees it.
    pub fn user_call(&self) -> Option<u64> {
        self.shared.lock().user.voice.get(&None).map(|(c, _)| *c)
    }

    /// The user's live streams: (key, paused, `rtc_server_id`).
    pub fn user_streams(&self) -> Vec<(String, bool, u64)> {
        let mut out: Vec<_> = self
            .shared
            .lock()
            .user
            .streams
            .iter()
            .map(|(k, s)| (k.clone(), s.paused, s.rtc_server_id))
            .collect();
        out.sort();
        out
    }

    /// The account's password changed: its token stops working, and its live connection is
    /// closed with 4004 like Discord does.
    pub fn revoke_user_token(&self) {
        let mut state = self.shared.lock();
        state.user.revoked = true;
        if let Some(session) = state.user.session.as_mut() {
            session.valid = false;
            if let Some(conn) = session.conn.take() {
                let _ = conn.send(ConnCmd::Close(4004, "Authentication failed."));
            }
        }
    }

    /// Answers every later `STREAM_CREATE` with a `STREAM_DELETE` with this reason (`None` to
    /// stop refusing).
    pub fn refuse_streams(&self, reason: Option<&str>) {
        self.shared.lock().user.stream_refusal = reason.map(str::to_owned);
    }

    /// Stops (or restarts) answering the user's heartbeats: a zombie connection.
    pub fn ack_user_heartbeats(&self, ack: bool) {
        self.shared.lock().user.ack_heartbeats = ack;
    }

    /// Sends op 7 RECONNECT on the user's connection.
    pub fn request_user_reconnect(&self) {
        let state = self.shared.lock();
        if let Some(conn) = state.user.session.as_ref().and_then(|s| s.conn.as_ref()) {
            let _ = conn.send(ConnCmd::Send(json!({"op": 7, "d": null}).to_string()));
        }
    }

    /// Discord ends a live stream on its own (a moderator, a permission change).
    pub fn end_stream(&self, stream_key: &str, reason: &str) {
        let mut state = self.shared.lock();
        if state.user.streams.remove(stream_key).is_some() {
            let delete = json!({"stream_key": stream_key, "unavailable": false, "reason": reason});
            to_user(&mut state, "STREAM_DELETE", &delete);
        }
    }
}
