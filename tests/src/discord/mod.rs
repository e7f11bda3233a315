//! A loopback fake of Discord for end-to-end tests: REST (axum on 127.0.0.1) and gateway v10
//! (a websocket on 127.0.0.1). It records every request the bot makes, checks payloads
//! strictly (see [`schema`]), and lets a test play users: send messages, run slash commands,
//! press buttons, and break the connection.
//!
//! The gateway also takes a USER session (the streamer's Go Live account, see [`user`]): it
//! joins voice channels, creates streams and hands out voice tokens, under Discord's send
//! limit.

pub mod fixtures;
mod gateway;
mod rest;
pub mod schema;
mod user;
pub mod voice;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;

pub use fixtures::*;

/// One HTTP request the bot made, as received.
#[derive(Clone, Debug)]
pub struct Recorded {
    pub method: String,
    /// Path below `/api/v10`, e.g. `/channels/1/messages`.
    pub path: String,
    pub body: Value,
    /// Files uploaded with it (multipart), in form order.
    pub files: Vec<UploadedFile>,
    /// Set when the request was refused (bad token, schema violation, unknown route).
    pub status: u16,
    /// The `X-Audit-Log-Reason` header, as sent (percent-encoded).
    pub audit_log_reason: Option<String>,
}

/// One file of a multipart upload.
#[derive(Clone, Debug)]
pub struct UploadedFile {
    /// `files[0]`, ...
    pub field: String,
    pub filename: String,
    pub content_type: Option<String>,
    pub data: Vec<u8>,
}

impl Recorded {
    /// The message text of a create/edit/interaction response, wherever the payload keeps it.
    pub fn content(&self) -> Option<&str> {
        self.body
            .get("content")
            .or_else(|| self.body.get("data").and_then(|d| d.get("content")))
            .and_then(Value::as_str)
    }

    /// The embeds of a message payload, wherever the payload keeps them.
    pub fn embeds(&self) -> &[Value] {
        self.body
            .get("embeds")
            .or_else(|| self.body.get("data").and_then(|d| d.get("embeds")))
            .and_then(Value::as_array)
            .map_or(&[], Vec::as_slice)
    }

    pub fn allowed_mentions(&self) -> Option<&Value> {
        self.body.get("allowed_mentions").or_else(|| {
            self.body
                .get("data")
                .and_then(|d| d.get("allowed_mentions"))
        })
    }

    /// All text a person would read in this payload: content plus embed text.
    pub fn text(&self) -> String {
        let mut out = self.content().unwrap_or_default().to_owned();
        for e in self.embeds() {
            for key in ["title", "description"] {
                if let Some(s) = e.get(key).and_then(Value::as_str) {
                    out.push('\n');
                    out.push_str(s);
                }
            }
            for f in e
                .get("fields")
                .and_then(Value::as_array)
                .into_iter()
                .flatten()
            {
                for key in ["name", "value"] {
                    if let Some(s) = f.get(key).and_then(Value::as_str) {
                        out.push('\n');
                        out.push_str(s);
                    }
                }
            }
            if let Some(s) = e.pointer("/footer/text").and_then(Value::as_str) {
                out.push('\n');
                out.push_str(s);
            }
        }
        out
    }

    /// True for requests that put a message in front of users.
    pub fn is_message(&self) -> bool {
        (self.method == "POST"
            && self.path.starts_with("/channels/")
            && self.path.ends_with("/messages"))
            || (self.method == "POST" && self.path.starts_with("/interactions/"))
            || (self.method == "POST" && self.path.starts_with("/webhooks/"))
            || (self.method == "PATCH" && self.path.contains("/messages/"))
    }
}

/// A slash command or button press the fake sent, to match the bot's answer against.
#[derive(Clone, Debug)]
pub struct Interaction {
    pub id: u64,
    pub token: String,
}

impl Interaction {
    /// The callback path the bot answers on.
    pub fn callback_path(&self) -> String {
        format!("/interactions/{}/{}/callback", self.id, self.token)
    }
}

enum ConnCmd {
    Send(String),
    /// Drop the TCP connection without a close frame, like a network failure.
    Drop,
    /// Close with a code, as Discord does when it ends a session.
    Close(u16, &'static str),
}

/// Which kind of account a gateway session belongs to.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SessionKind {
    /// The bot (`Bot` token, intents, gateway v10).
    Bot,
    /// The streamer's user account (bare user token, gateway v9).
    User,
}

/// A voice or stream token the fake issued to the user account, for the voice fake to check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct IssuedVoiceToken {
    /// `None` for the call itself; the stream key for a Go Live stream.
    pub stream_key: Option<String>,
    /// What the voice identify must carry as `server_id`: the guild for a call (the channel
    /// for a DM call), the `rtc_server_id` for a stream.
    pub server_id: u64,
    /// `None` for a DM or group DM call.
    pub guild_id: Option<u64>,
    pub channel_id: u64,
    pub user_id: u64,
    /// The voice session id (from `VOICE_STATE_UPDATE`).
    pub session_id: String,
    pub token: String,
    pub endpoint: String,
}

#[derive(Clone, Debug)]
struct FakeStream {
    guild_id: Option<u64>,
    rtc_server_id: u64,
    paused: bool,
}

/// The user account's side of the fake.
struct UserState {
    session: Option<Session>,
    identifies: u32,
    resumes: u32,
    /// Every payload the user's connections sent: (op, d).
    ops: Vec<(u64, Value)>,
    /// guild -> (channel, voice session id)
    voice: HashMap<Option<u64>, (u64, String)>,
    streams: HashMap<String, FakeStream>,
    issued: Vec<IssuedVoiceToken>,
    revoked: bool,
    voice_endpoint: String,
    /// The voice server's call tokens: a call's DAVE group is its channel, which the fake
    /// voice server can't tell from identify (see [`FakeDiscord::set_voice_server`]).
    voice_calls: Option<voice::CallTokens>,
    /// Cleared to play a zombie connection: heartbeats go unanswered.
    ack_heartbeats: bool,
    /// When set, `STREAM_CREATE` is answered with `STREAM_DELETE` and this reason.
    stream_refusal: Option<String>,
}

struct Session {
    id: String,
    seq: u64,
    /// Every dispatch of this session, kept for replay on RESUME.
    events: Vec<(u64, String)>,
    conn: Option<mpsc::UnboundedSender<ConnCmd>>,
    valid: bool,
}

struct State {
    requests: Vec<Recorded>,
    violations: Vec<String>,
    session: Option<Session>,
    user: UserState,
    identifies: u32,
    resumes: u32,
    heartbeats: u32,
    /// Message id -> full message object.
    /// The bot's voice channel per guild, as its op 4s left it.
    bot_voice: HashMap<u64, u64>,
    /// Every op 4 the bot sent.
    bot_voice_ops: Vec<Value>,
    /// Every soundboard sound the bot sent: (channel, body).
    soundboard_sent: Vec<(u64, Value)>,
    messages: HashMap<u64, Value>,
    /// Interaction token -> (interaction id, responded, original message id).
    interactions: HashMap<String, InteractionState>,
    /// Registered commands: global (None) or per guild.
    commands: HashMap<Option<u64>, Vec<Value>>,
    /// Outages a test scripted: answered before authentication and routing, as a failing
    /// Discord edge would.
    faults: Vec<Fault>,
}

/// `count` more requests matching `method` and a path prefix (under /api/v10) get `status`.
pub(crate) struct Fault {
    pub(crate) method: String,
    pub(crate) path_prefix: String,
    pub(crate) status: u16,
    pub(crate) remaining: u32,
}

struct InteractionState {
    id: u64,
    channel_id: u64,
    responded: bool,
    original: Option<u64>,
    /// For component interactions: the message the component sits on.
    source_message: Option<u64>,
    created: std::time::Instant,
}

pub(crate) struct Shared {
    state: Mutex<State>,
    next_id: AtomicU64,
    gateway_url: String,
    heartbeat_interval_ms: u64,
    guilds: Vec<u64>,
    /// Discord's gateway send limit, enforced on user connections.
    send_limit: u32,
    send_window: Duration,
    /// `GET /oauth2/applications/@me`.
    application: Value,
    large_guilds: bool,
    interaction_deadline: Option<Duration>,
}

impl Shared {
    fn lock(&self) -> MutexGuard<'_, State> {
        // A panicking test thread must not hide the recorded requests from the others.
        self.state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn snowflake(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn violation(&self, v: String) {
        tracing::error!(violation = %v, "fake discord: protocol violation");
        self.lock().violations.push(v);
    }

    /// Queues a dispatch on the bot's session, sending it now if connected.
    fn dispatch(&self, event: &str, d: Value) {
        if !self.dispatch_to(SessionKind::Bot, event, d) {
            self.violation(format!("test dispatched {event} with no gateway session"));
        }
    }

    /// Queues a dispatch on a session, sending it now if connected. False if there is no
    /// valid session of that kind.
    fn dispatch_to(&self, kind: SessionKind, event: &str, d: Value) -> bool {
        let mut state = self.lock();
        let Some(session) = state.session_mut(kind).as_mut().filter(|s| s.valid) else {
            return false;
        };
        session.push(event, &d);
        true
    }
}

impl Session {
    fn push(&mut self, event: &str, d: &Value) {
        self.seq += 1;
        let text = json!({"op": 0, "t": event, "s": self.seq, "d": d}).to_string();
        self.events.push((self.seq, text.clone()));
        if let Some(conn) = &self.conn {
            let _ = conn.send(ConnCmd::Send(text));
        }
    }
}

impl State {
    fn new(voice_endpoint: String) -> Self {
        Self {
            requests: Vec::new(),
            violations: Vec::new(),
            session: None,
            user: UserState {
                session: None,
                identifies: 0,
                resumes: 0,
                ops: Vec::new(),
                voice: HashMap::new(),
                streams: HashMap::new(),
                issued: Vec::new(),
                revoked: false,
                voice_endpoint,
                voice_calls: None,
                stream_refusal: None,
                ack_heartbeats: true,
            },
            identifies: 0,
            resumes: 0,
            heartbeats: 0,
            bot_voice: HashMap::new(),
            bot_voice_ops: Vec::new(),
            soundboard_sent: Vec::new(),
            messages: HashMap::new(),
            interactions: HashMap::new(),
            commands: HashMap::new(),
            faults: Vec::new(),
        }
    }

    fn session_mut(&mut self, kind: SessionKind) -> &mut Option<Session> {
        match kind {
            SessionKind::Bot => &mut self.session,
            SessionKind::User => &mut self.user.session,
        }
    }
}

/// Knobs for a fake's behaviour.
#[derive(Clone, Debug)]
pub struct Options {
    /// HELLO's `heartbeat_interval`. Short in tests so latency is measured quickly.
    pub heartbeat_interval: Duration,
    /// Guilds the bot is in.
    pub guilds: Vec<u64>,
    /// `host:port` put in `VOICE_SERVER_UPDATE` and `STREAM_SERVER_UPDATE` (the fake voice
    /// server's address); see also [`FakeDiscord::set_voice_endpoint`].
    pub voice_endpoint: String,
    /// Discord's gateway send limit (120 per 60 s), enforced on user connections with close
    /// code 4008.
    pub gateway_send_limit: u32,
    pub gateway_send_window: Duration,
    /// Makes the application a team's, with this user as one of its developers (see
    /// [`fixtures::application`]).
    pub team_developer: Option<u64>,
    /// `GUILD_CREATE` without its member list, as Discord sends a large guild to a bot without
    /// the privileged `GUILD_MEMBERS` intent: the bot must ask REST for a member.
    pub large_guilds: bool,
    /// Whether the application has the Message Content intent switched on (its `flags`);
    /// off, `lounge doctor` must say how to turn it on.
    pub message_content: bool,
    /// Discord's window for an interaction's first answer (three seconds). Off by default:
    /// debug builds on a busy two-core CI machine can miss it for reasons of their own; tests
    /// of slow paths turn it on.
    pub interaction_deadline: Option<Duration>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            heartbeat_interval: Duration::from_secs(1),
            guilds: vec![GUILD_ID, OTHER_GUILD_ID],
            // The discard port: nothing listens unless a test sets a real voice fake.
            voice_endpoint: "127.0.0.1:9".to_owned(),
            gateway_send_limit: 120,
            gateway_send_window: Duration::from_mins(1),
            team_developer: None,
            large_guilds: false,
            message_content: true,
            interaction_deadline: None,
        }
    }
}

/// The running fake. Dropping it stops its servers.
pub struct FakeDiscord {
    shared: Arc<Shared>,
    rest_addr: SocketAddr,
    tasks: Vec<tokio::task::JoinHandle<()>>,
}

impl Drop for FakeDiscord {
    fn drop(&mut self) {
        for t in &self.tasks {
            t.abort();
        }
    }
}

const WAIT_STEP: Duration = Duration::from_millis(20);

impl FakeDiscord {
    pub async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    pub async fn start_with(options: Options) -> Self {
        let rest = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind REST");
        let ws = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind gateway");
        let rest_addr = rest.local_addr().expect("REST address");
        let gateway_url = format!("ws://{}", ws.local_addr().expect("gateway address"));
        let shared = Arc::new(Shared {
            state: Mutex::new(State::new(options.voice_endpoint)),
            next_id: AtomicU64::new(6_000_000_000_000_000_000),
            gateway_url,
            heartbeat_interval_ms: options.heartbeat_interval.as_millis() as u64,
            guilds: options.guilds,
            send_limit: options.gateway_send_limit,
            send_window: options.gateway_send_window,
            application: {
                let mut app = fixtures::application(options.team_developer);
                if !options.message_content {
                    app["flags"] = json!(0);
                }
                app
            },
            large_guilds: options.large_guilds,
            interaction_deadline: options.interaction_deadline,
        });
        let tasks = vec![
            tokio::spawn(rest::serve(rest, shared.clone())),
            tokio::spawn(gateway::serve(ws, shared.clone())),
        ];
        Self {
            shared,
            rest_addr,
            tasks,
        }
    }

    /// What to put in `discord.api_base`.
    pub fn api_base(&self) -> String {
        format!("http://{}", self.rest_addr)
    }

    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.lock().requests.clone()
    }

    pub fn violations(&self) -> Vec<String> {
        self.shared.lock().violations.clone()
    }

    /// Makes the next `count` requests of `method` whose path (under /api/v10) starts with
    /// `path_prefix` fail with `status`, as Discord does during an outage (5xx with a body
    /// that is not the usual error JSON).
    pub fn fail_requests(&self, method: &str, path_prefix: &str, status: u16, count: u32) {
        self.shared.lock().faults.push(Fault {
            method: method.to_owned(),
            path_prefix: path_prefix.to_owned(),
            status,
            remaining: count,
        });
    }

    /// Ends every outage [`FakeDiscord::fail_requests`] scripted: Discord is back.
    pub fn clear_faults(&self) {
        self.shared.lock().faults.clear();
    }

    /// How many requests of `method` under `path_prefix` were answered with a 5xx.
    pub fn failed_requests(&self, method: &str, path_prefix: &str) -> usize {
        self.shared
            .lock()
            .requests
            .iter()
            .filter(|r| r.method == method && r.path.starts_with(path_prefix) && r.status >= 500)
            .count()
    }

    /// Fails the test if the bot sent anything Discord would have rejected.
    pub fn assert_no_violations(&self) {
        let v = self.violations();
        assert!(
            v.is_empty(),
            "the bot sent payloads Discord would reject:\n{}",
            v.join("\n")
        );
    }

    pub fn identify_count(&self) -> u32 {
        self.shared.lock().identifies
    }

    pub fn resume_count(&self) -> u32 {
        self.shared.lock().resumes
    }

    pub fn heartbeat_count(&self) -> u32 {
        self.shared.lock().heartbeats
    }

    /// The commands the bot registered, globally (`None`) or in a guild.
    pub fn registered_commands(&self, guild: Option<u64>) -> Vec<Value> {
        self.shared
            .lock()
            .commands
            .get(&guild)
            .cloned()
            .unwrap_or_default()
    }

    /// Waits until `check` finds something, or panics with `what` and what was recorded.
    pub async fn wait_until<T>(
        &self,
        what: &str,
        timeout: Duration,
        mut check: impl FnMut(&Self) -> Option<T>,
    ) -> T {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            if let Some(found) = check(self) {
                return found;
            }
            if tokio::time::Instant::now() >= deadline {
                let recorded: Vec<String> = self
                    .requests()
                    .iter()
                    .map(|r| format!("{} {} {}", r.method, r.path, r.body))
                    .collect();
                panic!(
                    "timed out after {timeout:?} waiting for {what}\nrequests so far:\n{}\nviolations: {:?}",
                    recorded.join("\n"),
                    self.violations()
                );
            }
            tokio::time::sleep(WAIT_STEP).await;
        }
    }

    /// Waits for a request after the first `skip` recorded ones that matches `pred`.
    pub async fn wait_for_request(
        &self,
        skip: usize,
        timeout: Duration,
        pred: impl Fn(&Recorded) -> bool,
    ) -> Recorded {
        self.wait_until("a matching request", timeout, |f| {
            f.requests().into_iter().skip(skip).find(|r| pred(r))
        })
        .await
    }

    /// Waits until the bot has identified and registered its commands: ready for tests.
    pub async fn wait_ready(&self, timeout: Duration) {
        self.wait_until("the bot to identify and register commands", timeout, |f| {
            let s = f.shared.lock();
            (s.identifies > 0 && !s.commands.is_empty()).then_some(())
        })
        .await;
    }

    /// A user posts `content` in a guild channel. Returns the message id.
    pub fn send_message(&self, guild: u64, channel: u64, author: u64, content: &str) -> u64 {
        self.send_message_with(guild, channel, author, &json!({ "content": content }))
    }

    /// Like [`FakeDiscord::send_message`], with the message's other fields (`attachments`:
    /// `[{id, filename, size, url, proxy_url, content_type}]`, as Discord describes uploads).
    pub fn send_message_with(&self, guild: u64, channel: u64, author: u64, body: &Value) -> u64 {
        let id = self.shared.snowflake();
        let Some(mut member) = fixtures::member(guild, author) else {
            panic!("user {author} is not a member of guild {guild} in the fixture");
        };
        let user = member["user"].take();
        member
            .as_object_mut()
            .expect("member is an object")
            .remove("user");
        let mut msg = fixtures::message(id, channel, Some(guild), user, body, 0);
        msg["member"] = member;
        self.shared.lock().messages.insert(id, msg.clone());
        self.shared.dispatch("MESSAGE_CREATE", msg);
        id
    }

    /// A member joins `channel` (or leaves voice with `None`): the bot's gateway hears the
    /// `VOICE_STATE_UPDATE` every member of the guild would.
    pub fn member_voice(&self, guild: u64, channel: Option<u64>, user: u64) {
        let Some(member) = fixtures::member(guild, user) else {
            panic!("user {user} is not a member of guild {guild} in the fixture");
        };
        self.shared.dispatch(
            "VOICE_STATE_UPDATE",
            json!({
                "guild_id": guild.to_string(),
                "channel_id": channel.map(|c| c.to_string()),
                "user_id": user.to_string(),
                "member": member,
                "session_id": format!("member-voice-{user}"),
                "deaf": false,
                "mute": false,
                "self_deaf": false,
                "self_mute": false,
                "self_video": false,
                "self_stream": false,
                "suppress": false,
                "request_to_speak_timestamp": null,
            }),
        );
    }

    /// A user runs a slash command. `options` is Discord's `data.options` array.
    pub fn send_slash(
        &self,
        guild: u64,
        channel: u64,
        user: u64,
        name: &str,
        options: Value,
    ) -> Interaction {
        self.command_interaction(guild, channel, user, name, options, 2)
    }

    /// A user typing into an autocompleted option: `options` as for [`Self::send_slash`], the
    /// option being typed marked `"focused": true`. The bot answers with callback type 8.
    pub fn send_autocomplete(
        &self,
        guild: u64,
        channel: u64,
        user: u64,
        name: &str,
        options: Value,
    ) -> Interaction {
        self.command_interaction(guild, channel, user, name, options, 4)
    }

    fn command_interaction(
        &self,
        guild: u64,
        channel: u64,
        user: u64,
        name: &str,
        options: Value,
        kind: u8,
    ) -> Interaction {
        let command_id = {
            let state = self.shared.lock();
            let find = |list: Option<&Vec<Value>>| {
                list.and_then(|l| l.iter().find(|c| c["name"] == name))
                    .and_then(|c| c["id"].as_str().map(str::to_owned))
            };
            find(state.commands.get(&Some(guild))).or_else(|| find(state.commands.get(&None)))
        };
        let Some(command_id) = command_id else {
            panic!(
                "/{name} is not registered (registered: {:?})",
                self.registered_commands(None)
            );
        };
        let mut data = json!({"id": command_id, "name": name, "type": 1, "options": options, "guild_id": guild.to_string()});
        // Like Discord, resolve user, member, role and channel options (at any depth, so
        // subcommands' options too) into `data.resolved`.
        let mut resolved = Resolved::default();
        resolved.options(guild, &data["options"]);
        if let Some(r) = resolved.into_json() {
            data["resolved"] = r;
        }
        self.interaction(guild, channel, user, kind, data, None)
    }

    /// A user presses the button `custom_id` on the message the bot sent (`message_id`).
    pub fn press_button(
        &self,
        guild: u64,
        channel: u64,
        user: u64,
        message_id: u64,
        custom_id: &str,
    ) -> Interaction {
        let message = self.shared.lock().messages.get(&message_id).cloned();
        let Some(message) = message else {
            panic!("no message {message_id} to press a button on")
        };
        let data = json!({"custom_id": custom_id, "component_type": 2});
        self.interaction(guild, channel, user, 3, data, Some((message_id, message)))
    }

    /// A user picks `values` in the select menu `custom_id` on the bot's message.
    pub fn choose_in_select(
        &self,
        guild: u64,
        channel: u64,
        user: u64,
        message_id: u64,
        custom_id: &str,
        values: &[&str],
    ) -> Interaction {
        let message = self.shared.lock().messages.get(&message_id).cloned();
        let Some(message) = message else {
            panic!("no message {message_id} to pick in")
        };
        let data = json!({"custom_id": custom_id, "component_type": 3, "values": values});
        self.interaction(guild, channel, user, 3, data, Some((message_id, message)))
    }

    fn interaction(
        &self,
        guild: u64,
        channel: u64,
        user: u64,
        kind: u8,
        data: Value,
        message: Option<(u64, Value)>,
    ) -> Interaction {
        let id = self.shared.snowflake();
        let token = format!("interaction-token-{id}");
        let mut payload = fixtures::interaction(id, &token, guild, channel, user, kind, data);
        let source_message = message.map(|(mid, m)| {
            payload["message"] = m;
            mid
        });
        self.shared.lock().interactions.insert(
            token.clone(),
            InteractionState {
                id,
                channel_id: channel,
                responded: false,
                original: None,
                source_message,
                created: std::time::Instant::now(),
            },
        );
        self.shared.dispatch("INTERACTION_CREATE", payload);
        Interaction { id, token }
    }

    /// The message the bot's answer to an interaction created (its "@original"), once it exists.
    pub fn original_message(&self, interaction: &Interaction) -> Option<Value> {
        let state = self.shared.lock();
        let original = state.interactions.get(&interaction.token)?.original?;
        state.messages.get(&original).cloned()
    }

    /// A message by id, as it stands now (after edits).
    pub fn message(&self, id: u64) -> Option<Value> {
        self.shared.lock().messages.get(&id).cloned()
    }

    /// Messages that exist in `channel` now (created, not deleted), oldest first.
    pub fn channel_messages(&self, channel: u64) -> Vec<Value> {
        let state = self.shared.lock();
        let mut found: Vec<(u64, Value)> = state
            .messages
            .iter()
            .filter(|(_, m)| m["channel_id"] == serde_json::json!(channel.to_string()))
            .map(|(&id, m)| (id, m.clone()))
            .collect();
        found.sort_by_key(|(id, _)| *id);
        found.into_iter().map(|(_, m)| m).collect()
    }

    /// Drops the bot's gateway connection without a close frame (a network failure). The
    /// session stays valid, so the bot should RESUME.
    pub fn drop_connection(&self) {
        self.drop_connection_of(SessionKind::Bot);
    }

    /// Drops a session's gateway connection without a close frame; the session stays valid.
    pub fn drop_connection_of(&self, kind: SessionKind) {
        let mut state = self.shared.lock();
        if let Some(conn) = state
            .session_mut(kind)
            .as_ref()
            .and_then(|s| s.conn.as_ref())
        {
            let _ = conn.send(ConnCmd::Drop);
        }
    }

    /// Invalidates the bot's session and drops the connection: the bot's RESUME gets op 9
    /// and it must identify again.
    pub fn invalidate_session(&self) {
        self.invalidate_session_of(SessionKind::Bot);
    }

    /// Invalidates a session and drops its connection. For the user account Discord also
    /// forgets its voice states and streams with the session.
    pub fn invalidate_session_of(&self, kind: SessionKind) {
        let mut state = self.shared.lock();
        if let Some(session) = state.session_mut(kind).as_mut() {
            session.valid = false;
            if let Some(conn) = session.conn.take() {
                let _ = conn.send(ConnCmd::Drop);
            }
        }
        if kind == SessionKind::User {
            state.user.voice.clear();
            state.user.streams.clear();
        }
    }

    /// Whether the bot currently has a live gateway connection.
    pub fn connected(&self) -> bool {
        self.connected_as(SessionKind::Bot)
    }

    pub fn connected_as(&self, kind: SessionKind) -> bool {
        self.shared
            .lock()
            .session_mut(kind)
            .as_ref()
            .is_some_and(|s| s.valid && s.conn.is_some())
    }
}

/// The `resolved` map of an application command interaction.
#[derive(Default)]
struct Resolved {
    users: serde_json::Map<String, Value>,
    members: serde_json::Map<String, Value>,
    roles: serde_json::Map<String, Value>,
    channels: serde_json::Map<String, Value>,
}

impl Resolved {
    fn options(&mut self, guild: u64, options: &Value) {
        for o in options.as_array().into_iter().flatten() {
            let id: u64 = o["value"]
                .as_str()
                .and_then(|v| v.parse().ok())
                .unwrap_or(0);
            match o["type"].as_u64() {
                Some(1 | 2) => self.options(guild, &o["options"]),
                Some(6) => self.user(guild, id),
                Some(7) => self.channel(guild, id),
                Some(8) => self.role(guild, id),
                Some(9) => {
                    self.user(guild, id);
                    self.role(guild, id);
                }
                _ => {}
            }
        }
    }

    fn user(&mut self, guild: u64, id: u64) {
        if let Some(u) = fixtures::known_user(id) {
            self.users.insert(id.to_string(), u);
        }
        if let Some(mut m) = fixtures::member(guild, id) {
            m.as_object_mut().expect("member object").remove("user");
            m["permissions"] = json!(fixtures::member_permissions(guild, id).to_string());
            self.members.insert(id.to_string(), m);
        }
    }

    fn role(&mut self, guild: u64, id: u64) {
        let roles = fixtures::roles(guild);
        if let Some(r) = roles
            .as_array()
            .into_iter()
            .flatten()
            .find(|r| r["id"].as_str().and_then(|s| s.parse::<u64>().ok()) == Some(id))
        {
            self.roles.insert(id.to_string(), r.clone());
        }
    }

    fn channel(&mut self, guild: u64, id: u64) {
        if fixtures::guild_of_channel(&[guild], id) == Some(guild) {
            let c = fixtures::channel(id, guild);
            self.channels.insert(
                id.to_string(),
                json!({
                    "id": c["id"],
                    "name": c["name"],
                    "type": c["type"],
                    "permissions": "1071698660929",
                }),
            );
        }
    }

    fn into_json(self) -> Option<Value> {
        let mut out = serde_json::Map::new();
        for (key, map) in [
            ("users", self.users),
            ("members", self.members),
            ("roles", self.roles),
            ("channels", self.channels),
        ] {
            if !map.is_empty() {
                out.insert(key.to_owned(), Value::Object(map));
            }
        }
        (!out.is_empty()).then_some(Value::Object(out))
    }
}
